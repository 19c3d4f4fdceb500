"""One run: config -> task and network -> backend -> the one driver -> results directory.

Every network (the rate error microcircuit, the comparison models, the spiking
microcircuit) on every backend goes through the same steps: a task
(`errormc.benchmarks.tasks`), a network factory (`.models`), a `Session` on the
backend and the `TeacherStudentProtocol` (`errormc.benchmarks.protocol`), scored
with the same metric names.

Long runs checkpoint into their results directory every ``checkpoint_every``
samples (and on SIGINT/SIGTERM) and continue from there with `resume`; a
divergence guard stops a run whose weights become non-finite or exceed
``weight_bound``, keeping the last good checkpoint. On the Loihi emulator no
checkpoint is written: nengo-loihi offers no way to put a saved chip state back
into a new emulator, so a Loihi run is not resumable (configs refuse
``checkpoint_every`` there).
"""

import contextlib
import os
import signal
import time
from functools import partial

import numpy as np
from tqdm.auto import tqdm

from errormc.benchmarks.alignment import alignment_scan, record_updates
from errormc.benchmarks.plots import learning_curve
from errormc.benchmarks import experiment
from errormc.benchmarks.protocol import Batch, ProtocolState, TeacherStudentProtocol
from errormc.benchmarks.tasks import cartpole, dms
from errormc.benchmarks.tasks.digits import (
    ClassificationTask,
    load_digits_task,
    load_mnist,
)
from errormc.benchmarks.tasks.genmnist import GenMNISTTask
from errormc.benchmarks.tasks.teacher_student import TeacherStudentTask
from errormc.networks.errors import ConfigError

from . import models
from .checkpoint import read_checkpoint, restore_simulator_state, write_checkpoint
from .config import STANDALONE_TASKS, RunConfig
from .results import (
    CHECKPOINT, FAILED, METRICS, PREVIOUS_CHECKPOINT, PROGRESS, RunDirectory, prepare_out,
    start_working_dir,
    working_dir,
)

#: samples between guard checks (and the granularity of checkpoints and interrupts);
#: the compiled backend runs ten times longer chunks (each call costs a dispatch)
GUARD_SAMPLES = 10
GUARD_SAMPLES_COMPILED = 100


class Interrupted(Exception):
    """A run stopped by SIGINT/SIGTERM (after writing a checkpoint where it can)."""


class Diverged(FloatingPointError):
    """A run whose weights or voltages left the allowed range.

    ``step`` is the simulation step at which the guard saw it (None: unknown).
    A diverged run is a result of its settings, not a crash: a sweep records
    the step with the failure and a figure can show it (`errormc.runs.sweep`).
    """

    def __init__(self, message, step=None):
        super().__init__(message)
        self.step = step

    def __reduce__(self):
        # keep the step across processes (a Dask worker's result)
        return type(self), (str(self), self.step)


def task_for(config):
    """The per-step task of a run (teacher-student or digits). Teacher and data
    derive from ``task_seed`` (the paper: the first seed of its list, for every
    student) or else ``seed``."""
    P = config.steps_per_sample
    if config.task == "genmnist":
        return GenMNISTTask(config.layer_sizes(), config.seed, data=config.data,
                            steps_per_sample=P, settle_steps=config.settle_steps)
    if config.task == "digits":
        if config.data is not None:
            data = load_mnist(config.data, n_train=config.n_samples, n_test=config.n_test)
        else:
            data = load_digits_task(config.seed, n_train=config.n_samples, n_test=config.n_test)
        return ClassificationTask(data, config.layer_sizes(), config.seed,
                                  steps_per_sample=P, settle_steps=config.settle_steps)
    return TeacherStudentTask(
        config.layer_sizes(),
        config.seed if config.task_seed is None else config.task_seed,
        n_samples=config.n_samples,
        steps_per_sample=P,
        settle_steps=config.settle_steps,
        activation=config.activation,
        g_l=config.g_l,
        g_bas=config.g_bas,
        n_test=config.n_test,
    )


def protocol_for(config, task, epochs):
    """The driver with the config's protocol; the spiking network reads filtered
    outputs, is nudged only once its pipeline has caught up with a sample, and
    is tested untrained in the same simulation."""
    if config.network == "spiking":
        return experiment.spiking_protocol(task, epochs, config.seed, config.protocol,
                                           onset_steps=config.onset_steps,
                                           readout=config.readout_steps)
    spec = models.get(config.model)
    return TeacherStudentProtocol(
        task,
        epochs,
        config.protocol,
        rng=spec.shuffle_rng(config),
        target_kind=spec.target_kind,
        score_target=None if spec.score_target is None else partial(spec.score_target, config),
        test_skip=getattr(task, "test_skip", 10),
    )


def divergence(weights, layers, bound=None):
    """``None``, or a message naming the first array that is non-finite or beyond
    ``bound`` (if given), and the area it belongs to."""
    offsets = np.cumsum([0] + list(layers))
    bound = np.inf if bound is None else bound
    for name, value in weights.items():
        value = np.asarray(value, dtype=float)
        bad = ~np.isfinite(value) | (np.abs(np.nan_to_num(value)) > bound)
        if not np.any(bad):
            continue
        index = np.unravel_index(np.argmax(bad), value.shape)
        if name == "W":  # skip mode: the row's block is the post area
            area = int(np.searchsorted(offsets, index[0], side="right") - 1)
        else:
            digits = "".join(c for c in name.split("_")[0] if c.isdigit())
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

    def __init__(self, config, directory, flag, wall_before, keep_previous=False):
        self.config = config
        self.directory = directory if config.checkpoint_every > 0 else None
        self.flag = flag
        self.every = config.checkpoint_every * config.steps_per_sample
        self.last = None
        self.count = 0
        self.wall_before = wall_before
        self.t0 = time.perf_counter()
        self.session = None
        self.steps = 0
        # a batch's members checkpoint one after another: each keeps its previous
        # checkpoint too, so that a kill between two of them leaves a common step
        self.keep_previous = keep_previous

    def problem(self):
        """What is wrong with the current weights, or None."""
        if self.session is None:
            return None
        return divergence(self.session.weights(), self.config.layer_sizes(),
                          self.config.weight_bound)

    def checkpoint(self, state):
        if self.directory is None:
            return None
        wall = self.wall_before + time.perf_counter() - self.t0
        self.count += 1
        path = self.directory.file(CHECKPOINT)
        if self.keep_previous and os.path.exists(path):
            os.replace(path, self.directory.file(PREVIOUS_CHECKPOINT))
        return write_checkpoint(
            path, self.session.sim, self.session.model, state,
            extra={"wall_s": wall, "checkpoints": self.count},
        )

    def __call__(self, session, state):
        self.session, self.steps = session, state.steps
        problem = self.problem()
        if problem is not None:
            raise Diverged(f"the run diverged at step {state.steps}: {problem}", state.steps)
        if self.last is None:
            self.last = state.steps
        if self.flag["signal"] is not None:
            path = self.checkpoint(state)
            raise Interrupted(
                f"interrupted at step {state.steps}"
                + ("; checkpoint written" if path else "; no checkpoint on this backend")
            )
        if self.every > 0 and state.steps - self.last >= self.every:
            self.checkpoint(state)
            self.last = state.steps


def guard_chunk(config):
    """Steps between guard checks: `GUARD_SAMPLES` samples (ten times more on the
    compiled backend), at most ``checkpoint_every`` samples."""
    samples = GUARD_SAMPLES_COMPILED if config.backend == "jax" else GUARD_SAMPLES
    if config.checkpoint_every:
        samples = min(samples, config.checkpoint_every)
    return samples * config.steps_per_sample


def describe(config):
    """What a run is, for progress bars and summaries."""
    network = config.model if config.network == "rate" else "spiking errormc"
    return f"{config.task} {network} {config.layers} on {config.backend}"


def _progress_bar(config, enabled):
    return tqdm(total=config.epochs, desc=describe(config), unit="epoch",
                disable=not enabled, leave=False)


def _epoch_report(bar, directories, epochs):
    """``report(epoch, val_mse)`` after each epoch: the progress bar, and the
    progress record of each run directory (what a sweep's bar reads)."""

    def report(epoch, val_mse):
        bar.update(1)
        if val_mse is not None:
            bar.set_postfix(val_mse=f"{val_mse:.3g}")
        for directory in directories:
            directory.write_progress(epoch + 1, epochs)

    return report


def train(config, progress=False, directory=None, checkpoint=None):
    """Train the config's network on its task; return metrics and final weights.

    ``test_mse_initial`` is the untrained network's score: for rate networks the
    paper's untrained control (the same protocol with plasticity off for one
    epoch, a separate run), for the spiking network a test pass before training.
    ``checkpoint`` (from `read_checkpoint`) continues an interrupted run.
    Tasks with their own protocol (``dms``, ``cartpole``) run it instead
    (`train_standalone`).
    """
    if config.task in STANDALONE_TASKS:
        if checkpoint is not None:
            raise ConfigError(f"resume: {config.task} runs do not checkpoint; run again "
                              "with --force")
        return train_standalone(config, progress, directory)
    task = task_for(config)
    protocol = protocol_for(config, task, config.epochs)
    if config.compare is not None and checkpoint is not None:
        raise ConfigError("compare: a run with --compare bp keeps its weight snapshots in "
                          "memory and cannot resume; run it again with --force")
    wall_before = checkpoint[2].get("wall_s", 0.0) if checkpoint is not None else 0.0
    bar = _progress_bar(config, progress)

    report = _epoch_report(bar, [] if directory is None else [directory], config.epochs)

    def restore(session):
        sim_arrays, proto_arrays, info = checkpoint
        restore_simulator_state(session.sim, session.model, sim_arrays)
        state = ProtocolState.from_arrays(proto_arrays, info)
        bar.update(state.epoch)
        return state

    snapshots = []

    def snapshot(session, index, state):  # noqa: ARG001
        snapshots.append(session.weight_state())

    def compare(session, trained):
        """MODEL.md 2.4: replay the last training sequence from every snapshot."""
        x, t = trained["last_train"]
        return alignment_scan(Batch.of(session), [config], [snapshots], [x], [t],
                              config.steps_per_sample,
                              skip=task.settle_steps // config.snapshot_every)[0]

    with _interrupt_flag() as flag:
        guard = Guard(config, directory, flag, wall_before)
        try:
            metrics, weights, info = experiment.train(
                models.network_factory(config), task, protocol, config.dt,
                backend=config.backend, seed=config.seed,
                sim_options={} if config.emulator is None else {"emulator": config.emulator},
                untrained=None if protocol.initial_test else protocol_for(config, task, 1),
                progress=report,
                chunk_steps=guard_chunk(config),
                on_chunk=guard, restore=None if checkpoint is None else restore,
                snapshot_every=config.snapshot_every if config.compare else 0,
                on_snapshot=snapshot, after=compare if config.compare else None,
                record=(record_updates(config.steps_per_sample, config.dt)
                        if config.compare else None),
            )
        except FloatingPointError as e:
            if isinstance(e, Diverged):
                raise
            # numpy raised inside a simulator step (nengo runs with invalid="raise")
            problem = guard.problem()
            raise Diverged(f"the run diverged at step {guard.steps}: {problem or e}",
                           guard.steps) from None
        finally:
            bar.close()
    problem = divergence(weights, config.layer_sizes(), config.weight_bound)
    if problem is not None:
        raise Diverged(f"the run diverged by its last step: {problem}", guard.steps)
    metrics = dict(task=config.task, network=config.network, model=config.model,
                   backend=config.backend, layers=config.layers, **metrics)
    metrics["wall_s"] += wall_before
    metrics["steps_per_s"] = metrics["steps"] / metrics["wall_s"]
    metrics["resumed"] = info["resumed"]
    if config.network == "spiking" and info["placement"] is not None:
        metrics["placement"] = info["placement"]
    return metrics, weights


def train_standalone(config, progress=False, directory=None):
    """A task with its own protocol: `errormc.benchmarks.tasks.dms.run` or
    ``cartpole.run``; metrics and final weights.

    These runs are minutes long and do not checkpoint. The DMS validation curve
    is written under the generic names too (``val_mse``, ``val_epochs``,
    ``test_mse_final``).
    """
    bar = _progress_bar(config, progress)

    report = _epoch_report(bar, [] if directory is None else [directory], config.epochs)

    module = {"dms": dms, "cartpole": cartpole}[config.task]
    try:
        metrics, weights = module.run(config, progress=report)
    finally:
        bar.close()
    if config.task == "dms":
        metrics["val_mse"] = metrics["val_mse_per_epoch"]
        metrics["val_epochs"] = list(range(len(metrics["val_mse"])))
        metrics["test_mse_final"] = metrics["test_mse"]
    metrics = dict(network=config.network, model=config.model, backend=config.backend,
                   layers=config.layers, **metrics)
    metrics["steps_per_s"] = metrics["steps"] / metrics["wall_s"]
    return metrics, weights


def _finish(config, directory, metrics, weights):
    directory.write_arrays("weights_final.npz", weights)
    directory.write_figure(
        "learning_curve.png",
        learning_curve(metrics, title=f"{describe(config)}, seed {config.seed}"),
    )
    if "placement" in metrics:
        directory.write_json("placement.json", metrics["placement"])
    directory.write_metrics({k: v for k, v in metrics.items() if k != "placement"})
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT, FAILED, PROGRESS):
        if os.path.exists(directory.file(name)):
            os.remove(directory.file(name))


def _execute(config, directory, progress, checkpoint=None):
    try:
        metrics, weights = train(config, progress, directory, checkpoint)
    except Diverged as e:
        if directory is None:
            raise
        directory.write_json(FAILED, {"error": str(e), "kind": "diverged", "step": e.step})
        raise Diverged(f"{e} (recorded in {directory.file(FAILED)})", e.step) from None
    if directory is not None:
        _finish(config, directory, metrics, weights)
    return metrics


def run(config, out=None, progress=False, force=False):
    """Run ``config`` (a `.RunConfig` or a dict of its fields) and write ``out``.

    Returns the metrics dict. ``out`` receives ``config.toml`` (resolved),
    ``metrics.json``, ``weights_final.npz``, ``learning_curve.png``. The run is
    written in its working directory ``.NAME.running`` beside ``out`` (with
    ``checkpoint.npz`` while under way) and renamed to ``out`` when complete: a
    finished ``out`` is refused unless ``force`` (and then replaced only by a
    complete new run); an interrupted or failed run stays in the working
    directory, for `resume` or inspection.
    """
    if not isinstance(config, RunConfig):
        config = RunConfig.from_dict(config)
    if out is None:
        return _execute(config, None, progress)
    with prepare_out(out, force) as directory:
        directory.write_config(config)
        return _execute(config, directory, progress)


def batchable(config):
    """Whether a run can join a seed batch: a rate run on the compiled backend with
    the generic protocol (the backprop comparison included)."""
    return (config.backend == "jax" and config.network == "rate"
            and config.task in ("teacher-student", "digits", "genmnist"))


def seed_key(config):
    """What runs of one seed batch share: everything but the seed."""
    values = config.to_dict()
    values.pop("seed")
    return tuple(sorted((k, str(v)) for k, v in values.items()))


def run_batch(configs, outs, progress=False):
    """Runs that differ only in their seed, as one batched program on the jax
    backend; each writes its own results directory (as `run` does).

    Each run checkpoints into its working directory every ``checkpoint_every``
    samples; a batch run again after a crash continues from there when every
    member has a checkpoint of the same step, and starts over otherwise (so does
    a batch with the backprop comparison, whose weight snapshots live in memory).

    Returns, per run, its metrics, or the `Diverged` error of a run whose weights
    left the allowed range by its last step (recorded in its working directory;
    the other runs finish).
    """
    configs = [c if isinstance(c, RunConfig) else RunConfig.from_dict(c) for c in configs]
    if len({seed_key(c) for c in configs}) != 1 or not all(batchable(c) for c in configs):
        raise ConfigError("batch: runs of one batch must be rate runs on the jax backend "
                          "that differ only in their seed")
    first = configs[0]
    compare = first.compare is not None
    saved = None if compare or first.checkpoint_every == 0 else _batch_checkpoints(outs)
    if saved is None:
        directories = [start_working_dir(out, force=True) for out in outs]
        for config, directory in zip(configs, directories):
            directory.write_config(config)
    else:
        directories = [RunDirectory(working_dir(out)) for out in outs]
    wall_before = 0.0 if saved is None else saved[0][2].get("wall_s", 0.0)
    tasks = [task_for(c) for c in configs]
    protocols = [protocol_for(c, t, c.epochs) for c, t in zip(configs, tasks)]
    untrained = [protocol_for(c, t, 1) for c, t in zip(configs, tasks)]
    bar = _progress_bar(first, progress)

    report = _epoch_report(bar, directories, first.epochs)

    def restore(member, session):
        sim_arrays, proto_arrays, info = saved[member]
        restore_simulator_state(session.sim, session.model, sim_arrays)
        state = ProtocolState.from_arrays(proto_arrays, info)
        if member == 0:
            bar.update(state.epoch)
        return state

    snapshots = [[] for _ in configs]

    def snapshot(member, session, index, state):  # noqa: ARG001
        snapshots[member].append(session.weight_state())

    def scan(batch, trained):
        """MODEL.md 2.4 for every member, the replays in lockstep."""
        x, t = zip(*(r["last_train"] for r in trained))
        return alignment_scan(batch, configs, snapshots, x, t, first.steps_per_sample,
                              skip=tasks[0].settle_steps // first.snapshot_every)

    with _interrupt_flag() as flag:
        guards = [Guard(c, None if compare else d, flag, wall_before, keep_previous=True)
                  for c, d in zip(configs, directories)]
        try:
            results = experiment.train_batch(
                [models.network_factory(c) for c in configs], tasks, protocols, first.dt,
                [c.seed for c in configs], untrained=untrained, progress=report,
                chunk_steps=guard_chunk(first),
                on_chunk=lambda member, session, state: guards[member](session, state),
                restore=None if saved is None else restore,
                snapshot_every=first.snapshot_every if compare else 0,
                on_snapshot=snapshot if compare else None, after=scan if compare else None,
                record=record_updates(first.steps_per_sample, first.dt) if compare else None,
            )
        finally:
            bar.close()
    out = []
    for config, path, guard, (metrics, weights) in zip(configs, outs, guards, results):
        metrics = dict(task=config.task, network=config.network, model=config.model,
                       backend=config.backend, layers=config.layers,
                       resumed=saved is not None, **metrics)
        metrics["wall_s"] += wall_before
        problem = divergence(weights, config.layer_sizes(), config.weight_bound)
        try:
            with prepare_out(path, resume=True) as directory:
                if problem is not None:
                    directory.write_json(FAILED, {"error": problem, "kind": "diverged",
                                                  "step": guard.steps})
                    raise Diverged(f"the run diverged by its last step: {problem} "
                                   f"(recorded in {directory.file(FAILED)})", guard.steps)
                _finish(config, directory, metrics, weights)
        except Diverged as e:
            out.append(e)
            continue
        out.append(metrics)
    return out


def _batch_checkpoints(outs):
    """The checkpoints of every run of a batch at the latest step all of them
    hold (each keeps its last two), or None."""
    held = []
    for out in outs:
        paths = [os.path.join(working_dir(out), name) for name in (CHECKPOINT, PREVIOUS_CHECKPOINT)]
        saved = [read_checkpoint(p) for p in paths if os.path.isfile(p)]
        held.append({info["steps"]: (sim, proto, info) for sim, proto, info in saved})
    common = set.intersection(*(set(h) for h in held)) if held else set()
    if not common:
        return None
    step = max(common)
    return [h[step] for h in held]


def resume(out, progress=False):
    """Continue the run of directory ``out`` from its last checkpoint (kept in its
    working directory, `errormc.runs.results.working_dir`, until it finishes)."""
    work = working_dir(out)
    if not os.path.isdir(work):
        if os.path.isfile(os.path.join(out, METRICS)):
            raise ConfigError(f"resume: the run in {out!r} has already finished")
        raise ConfigError(f"resume: no unfinished run of {out!r} (no config.toml in {work!r})")
    directory = RunDirectory(work)
    config_path = directory.file("config.toml")
    if not os.path.isfile(config_path):
        raise ConfigError(f"resume: {work!r} has no config.toml; is it a run directory?")
    config = RunConfig.from_toml(config_path)
    if config.backend == "loihi":
        raise ConfigError(f"resume: {out!r} ran on the Loihi emulator, whose state cannot "
                          "be restored; run it again with --force")
    checkpoint = read_checkpoint(directory.file(CHECKPOINT))
    with prepare_out(out, resume=True) as directory:
        return _execute(config, directory, progress, checkpoint)


def unfinished(out):
    """Whether ``out`` has an unfinished run with a checkpoint to continue."""
    return os.path.isfile(os.path.join(working_dir(out), CHECKPOINT))
