"""One run: config -> network -> backend -> protocol -> metrics -> results directory.

Long runs checkpoint into their results directory every ``checkpoint_every``
samples (and on SIGINT/SIGTERM) and continue from there with `resume`; a
divergence guard stops a run whose weights become non-finite or exceed
``weight_bound``, keeping the last good checkpoint.
"""

import contextlib
import os
import signal
import time
from functools import partial

import numpy as np

from . import models
from .checkpoint import read_checkpoint, restore_simulator_state, write_checkpoint
from .config import RunConfig
from .protocol import ProtocolState, Session, TeacherStudentProtocol
from .results import RunDirectory
from .tasks.digits import (
    ClassificationTask,
    accuracy_at_sample_ends,
    load_digits_task,
    load_mnist,
)
from .tasks import cartpole, dms
from .tasks.teacher_student import TeacherStudentTask

CHECKPOINT = "checkpoint.npz"
FAILED = "failed.json"
#: steps between guard checks (and the granularity of checkpoints and interrupts)
GUARD_SAMPLES = 10


class Interrupted(Exception):
    """A run stopped by SIGINT/SIGTERM after writing a checkpoint."""


class Diverged(FloatingPointError):
    """A run whose weights or voltages left the allowed range."""


def _progress_bar(total, desc, enabled, initial=0):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="epoch",
                disable=not enabled, leave=False)


def rate_task(config):
    """The per-step task of a rate-network run (teacher-student or digits); settling defaults to one pass over the training set,
    at most the paper's 2000 steps. Teacher and data derive from ``task_seed``
    (the paper: the first seed of its list, for every student) or else ``seed``."""
    P = config.steps_per_sample
    settle = config.settle_steps
    if config.task == "digits":
        return ClassificationTask(
            _classification_data(config), config.layer_sizes(), config.seed,
            steps_per_sample=P, settle_steps=10 * P if settle is None else settle,
        )
    if settle is None:
        settle = min(config.n_samples * P, 2000)
    return TeacherStudentTask(
        config.layer_sizes(),
        config.seed if config.task_seed is None else config.task_seed,
        n_samples=config.n_samples,
        steps_per_sample=P,
        settle_steps=settle,
        activation=config.activation,
        g_l=config.g_l,
        g_bas=config.g_bas,
    )


def _classification_data(config):
    """Digits (bundled) or MNIST (``config.data``), ``n_samples`` training images."""
    if config.data is not None:
        return load_mnist(config.data, n_train=config.n_samples, n_test=config.n_test)
    return load_digits_task(config.seed, n_train=config.n_samples, n_test=config.n_test)


def _session(config):
    if config.backend != "nengo":
        raise ValueError(
            f"backend: {config.backend!r} cannot run the rate network (its neuron "
            "types and learning rules have no Loihi mapping); use --network spiking"
        )
    layers = config.layer_sizes()
    build = models.get(config.model).network(config)
    return Session(build, layers[0], layers[-1], dt=config.dt)


def _protocol(config, task, epochs):
    spec = models.get(config.model)
    return TeacherStudentProtocol(
        task,
        epochs,
        config.protocol,
        rng=spec.shuffle_rng(config),
        target_kind=spec.target_kind,
        score_target=None if spec.score_target is None else partial(spec.score_target, config),
    )


def divergence(weights, layers, bound):
    """``None``, or a message naming the first array that is non-finite or beyond
    ``bound``, and the area it belongs to."""
    offsets = np.cumsum([0] + list(layers))
    for name, value in weights.items():
        bad = ~np.isfinite(value) | (np.abs(np.nan_to_num(value)) > bound)
        if not np.any(bad):
            continue
        index = np.unravel_index(np.argmax(bad), value.shape)
        if name == "W":  # skip mode: the row's block is the post area
            area = int(np.searchsorted(offsets, index[0], side="right") - 1)
        else:
            digits = "".join(c for c in name if c.isdigit())
            area = int(digits) if digits else None
        what = "NaN or inf" if not np.isfinite(value[index]) else f"|value| > {bound:g}"
        where = f"area {area}" if area is not None else "the network"
        return f"{name} of {where} has {what} (element {tuple(int(i) for i in index)})"
    return None


@contextlib.contextmanager
def _interrupt_flag():
    """Turn SIGINT/SIGTERM into a flag checked between chunks (main thread only)."""
    flag = {"signal": None}

    def handler(signum, frame):  # noqa: ARG001
        flag["signal"] = signum

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread (e.g. a sweep worker)
            break
    try:
        yield flag
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class Guard:
    """Called after every chunk: divergence check, periodic checkpoints, interrupts."""

    def __init__(self, config, session, directory, flag, wall_before, t0):
        self.config = config
        self.session = session
        self.directory = directory
        self.flag = flag
        self.every = config.checkpoint_every * config.steps_per_sample
        self.last = None
        self.count = 0
        self.wall_before = wall_before
        self.t0 = t0

    def checkpoint(self, state):
        if self.directory is None:
            return None
        wall = self.wall_before + time.perf_counter() - self.t0
        self.count += 1
        return write_checkpoint(
            self.directory.file(CHECKPOINT), self.session.sim, self.session.model, state,
            extra={"wall_s": wall, "checkpoints": self.count},
        )

    def __call__(self, state):
        weights = self.session.weights()
        problem = divergence(weights, self.config.layer_sizes(), self.config.weight_bound)
        if problem is not None:
            raise Diverged(f"the run diverged at step {state.steps}: {problem}")
        if self.last is None:
            self.last = state.steps
        if self.flag["signal"] is not None:
            path = self.checkpoint(state)
            raise Interrupted(
                f"interrupted at step {state.steps}"
                + (f"; checkpoint in {path}" if path else "")
            )
        if self.every > 0 and state.steps - self.last >= self.every:
            self.checkpoint(state)
            self.last = state.steps


def run_rate(config, progress=False, directory=None, checkpoint=None):
    """Train a rate network on its task; return metrics and final weights.

    ``test_mse_initial`` is the untrained control (the same protocol with
    plasticity off for one epoch, as the paper's "untrained" runs).
    ``checkpoint`` (from `read_checkpoint`) continues an interrupted run.
    """
    t0 = time.perf_counter()
    task = rate_task(config)
    protocol = _protocol(config, task, config.epochs)
    state, wall_before = None, 0.0
    with _session(config) as session, _interrupt_flag() as flag:
        if checkpoint is not None:
            sim_arrays, proto_arrays, info = checkpoint
            restore_simulator_state(session.sim, session.model, sim_arrays)
            state = ProtocolState.from_arrays(proto_arrays, info)
            wall_before = info.get("wall_s", 0.0)
        bar = _progress_bar(config.epochs, "teacher-student", progress,
                            initial=state.epoch if state else 0)

        def report(epoch, val_mse):
            bar.update(1)
            if val_mse is not None:
                bar.set_postfix(val_mse=f"{val_mse:.3g}")

        guard = Guard(config, session, directory, flag, wall_before, t0)
        try:
            trained = protocol.run(
                session, progress=report, state=state,
                chunk_steps=GUARD_SAMPLES * config.steps_per_sample, on_chunk=guard,
            )
        except FloatingPointError as e:
            if isinstance(e, Diverged):
                raise
            # numpy raised inside a simulator step (nengo runs with invalid="raise")
            problem = divergence(session.weights(), config.layer_sizes(), config.weight_bound)
            raise Diverged(
                f"the run diverged at step {session.sim.n_steps}: {problem or e}"
            ) from None
        bar.close()
        steps = trained["steps"]
        weights = session.weights()
        problem = divergence(weights, config.layer_sizes(), config.weight_bound)
        if problem is not None:
            raise Diverged(f"the run diverged by its last step: {problem}")
    with _session(config) as session:
        untrained = _protocol(config, task, 1).run(session, plastic=False)
        steps += session.steps
    wall = wall_before + time.perf_counter() - t0
    metrics = {"task": config.task}
    if config.task == "digits":
        P = config.steps_per_sample
        for key, result in (("test_accuracy_initial", untrained), ("test_accuracy", trained)):
            metrics[key] = accuracy_at_sample_ends(result["test_outputs"], result["test_targets"], P)
    metrics.update({
        "test_mse_initial": untrained["test_mse"],
        "test_mse_final": trained["test_mse"],
        "test_mse_final_all_steps": trained["test_mse_all_steps"],
        "val_mse": trained["val_mse"],
        "val_epochs": trained["val_epochs"],
        "epochs": config.epochs,
        "steps": steps,
        "wall_s": wall,
        "steps_per_s": steps / wall,
        "resumed": checkpoint is not None,
    })
    return metrics, weights


def _finish(config, directory, metrics, weights):
    from .plots import learning_curve

    directory.write_arrays("weights_final.npz", weights)
    directory.write_figure(
        "learning_curve.png",
        learning_curve(metrics, title=f"{config.model} {config.layers} seed {config.seed}"),
    )
    directory.write_metrics(metrics)
    for name in (CHECKPOINT, FAILED):
        if os.path.exists(directory.file(name)):
            os.remove(directory.file(name))


def run_standalone(config, progress=False):
    """A task with its own protocol (``dms``, ``cartpole``): metrics and weights.

    These runs are short enough not to checkpoint; the validation curve is
    written under the generic names too (``val_mse``, ``val_epochs``).
    """
    bar = _progress_bar(config.epochs, config.task, progress)

    def report(epoch, value):
        bar.update(1)
        if value is not None:
            bar.set_postfix(val=f"{value:.3g}")

    module = {"dms": dms, "cartpole": cartpole}[config.task]
    metrics, weights = module.run(config, progress=report)
    bar.close()
    if config.task == "dms":
        metrics["val_mse"] = metrics["val_mse_per_epoch"]
        metrics["val_epochs"] = list(range(len(metrics["val_mse"])))
        metrics["test_mse_final"] = metrics["test_mse"]
    return metrics, weights


def _execute(config, directory, progress, checkpoint=None):
    if config.task in ("dms", "cartpole"):
        if checkpoint is not None:
            raise ValueError(f"resume: {config.task} runs do not checkpoint; run again")
        metrics, weights = run_standalone(config, progress)
        if directory is not None:
            _finish(config, directory, metrics, weights)
        return metrics
    if config.network == "spiking":
        if checkpoint is not None:
            raise ValueError("resume: spiking runs are short and do not checkpoint; run again")
        return run_spiking(config, directory)
    try:
        metrics, weights = run_rate(config, progress, directory, checkpoint)
    except Diverged as e:
        if directory is not None:
            directory.write_json(FAILED, {"error": str(e), "kind": "diverged"})
        raise
    if directory is not None:
        _finish(config, directory, metrics, weights)
    return metrics


def run_spiking(config, directory=None):
    """The spiking microcircuit on its backend (`errormc.benchmarks.deployment`)."""
    from . import deployment
    from .plots import learning_curve

    layers = config.layer_sizes()
    if config.task == "digits":
        metrics = deployment.run_digits(
            backend=config.backend, seed=config.seed, epochs=config.epochs,
            hidden=layers[1:-1], data=_classification_data(config),
        )
    else:
        metrics = deployment.run_teacher_student(
            layers=layers, backend=config.backend, seed=config.seed,
            n_train=config.n_samples, n_test=config.n_test or 20, epochs=config.epochs,
        )
    # the same name as rate runs; the validation curve is the per-epoch test MSE
    metrics["test_mse_final"] = metrics["test_mse"]
    metrics["val_mse"] = metrics.get("test_mse_per_epoch", [])
    metrics["val_epochs"] = list(range(len(metrics["val_mse"])))
    if directory is not None:
        directory.write_json("placement.json", metrics["placement"])
        directory.write_figure("learning_curve.png", learning_curve(
            metrics, title=f"spiking {config.layers} on {config.backend}"))
        directory.write_metrics({k: v for k, v in metrics.items() if k != "placement"})
    return metrics


def run(config, out=None, progress=False):
    """Run ``config`` (a `.RunConfig` or a dict of its fields) and write ``out``.

    Returns the metrics dict. ``out`` receives ``config.toml`` (resolved, first),
    ``metrics.json``, ``weights_final.npz``, ``learning_curve.png``, and while the
    run is under way ``checkpoint.npz``.
    """
    if not isinstance(config, RunConfig):
        config = RunConfig.from_dict(config)
    directory = None
    if out is not None:
        directory = RunDirectory(out)
        directory.write_config(config)
    return _execute(config, directory, progress)


def resume(out, progress=False):
    """Continue the run in directory ``out`` from its last checkpoint."""
    directory = RunDirectory(out)
    config_path = directory.file("config.toml")
    if not os.path.isfile(config_path):
        raise ValueError(f"resume: {out!r} has no config.toml; is it a run directory?")
    config = RunConfig.from_toml(config_path)
    if os.path.isfile(directory.file("metrics.json")) and not os.path.exists(
        directory.file(CHECKPOINT)
    ):
        raise ValueError(f"resume: the run in {out!r} has already finished")
    return _execute(config, directory, progress, read_checkpoint(directory.file(CHECKPOINT)))
