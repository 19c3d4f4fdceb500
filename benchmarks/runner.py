"""One run: config -> network -> backend -> protocol -> metrics -> results directory."""

import time
from functools import partial

import numpy as np

from . import models
from .config import RunConfig
from .protocol import Session, TeacherStudentProtocol
from .results import RunDirectory
from .tasks.teacher_student import TeacherStudentTask


def _progress_bar(total, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", disable=not enabled, leave=False)


def teacher_student_task(config):
    """The task of a config; settling defaults to one pass over the training set,
    at most the paper's 2000 steps."""
    P = config.steps_per_sample
    settle = config.settle_steps
    if settle is None:
        settle = min(config.n_samples * P, 2000)
    return TeacherStudentTask(
        config.layer_sizes(),
        config.seed,
        n_samples=config.n_samples,
        steps_per_sample=P,
        settle_steps=settle,
        activation=config.activation,
        g_l=config.g_l,
        g_bas=config.g_bas,
    )


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


def run_teacher_student(config, progress=False):
    """Train on the teacher-student task; return metrics and final weights.

    ``test_mse_initial`` is the untrained control (the same protocol with
    plasticity off for one epoch, as the paper's "untrained" runs).
    """
    t0 = time.perf_counter()
    task = teacher_student_task(config)
    with _session(config) as session:
        bar = _progress_bar(config.epochs, "teacher-student", progress)

        def report(epoch, val_mse):
            bar.update(1)
            if val_mse is not None:
                bar.set_postfix(val_mse=f"{val_mse:.3g}")

        trained = _protocol(config, task, config.epochs).run(session, progress=report)
        bar.close()
        steps = session.steps
        weights = session.weights()
    with _session(config) as session:
        untrained = _protocol(config, task, 1).run(session, plastic=False)
        steps += session.steps
    wall = time.perf_counter() - t0
    metrics = {
        "task": config.task,
        "test_mse_initial": untrained["test_mse"],
        "test_mse_final": trained["test_mse"],
        "test_mse_final_all_steps": trained["test_mse_all_steps"],
        "val_mse": trained["val_mse"],
        "val_epochs": trained["val_epochs"],
        "epochs": config.epochs,
        "steps": steps,
        "wall_s": wall,
        "steps_per_s": steps / wall,
    }
    return metrics, weights


def check_finite(metrics, weights):
    """A diverged run is an error that names what diverged."""
    for name, value in weights.items():
        if not np.all(np.isfinite(value)):
            raise FloatingPointError(f"the run diverged: weights {name!r} contain NaN or inf")
    for name in ("test_mse_final", "test_mse_initial"):
        value = metrics.get(name)
        if value is not None and not np.isfinite(value):
            raise FloatingPointError(f"the run diverged: {name} is {value}")


def run(config, out=None, progress=False):
    """Run ``config`` (a `.RunConfig` or a dict of its fields) and write ``out``.

    Returns the metrics dict. ``out`` receives ``config.toml`` (resolved),
    ``metrics.json``, ``weights_final.npz`` and ``learning_curve.png``.
    """
    if not isinstance(config, RunConfig):
        config = RunConfig.from_dict(config)
    if config.task != "teacher-student":
        raise ValueError(f"task: {config.task!r} is not available for the rate errormc runner")
    metrics, weights = run_teacher_student(config, progress=progress)
    check_finite(metrics, weights)
    if out is not None:
        from .plots import learning_curve

        directory = RunDirectory(out)
        directory.write_config(config)
        directory.write_arrays("weights_final.npz", weights)
        directory.write_figure(
            "learning_curve.png",
            learning_curve(metrics, title=f"{config.model} {config.layers} seed {config.seed}"),
        )
        directory.write_metrics(metrics)
    return metrics
