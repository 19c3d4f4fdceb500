"""One training run from its parts: the driver every run and study goes through.

``train(factory, task, protocol, ...)`` builds the network on a backend (a
`Session`), runs the `TeacherStudentProtocol` on it, scores the untrained
network, and returns metrics under one set of names for every network, model,
task and backend. The run machinery (`errormc.runs.runner`) adds results
directories, checkpoints and the divergence guard through its hooks; studies
(`errormc bench backends`, energy) call it directly.

Metric names
------------
``test_mse_initial`` (untrained), ``test_mse_final``, ``test_mse_final_all_steps``,
``val_mse`` and ``val_epochs`` (validation passes), with classification also
``test_accuracy_initial`` and ``test_accuracy``; ``steps``, ``wall_s``,
``steps_per_s``, ``simulated_s`` (steps x dt).

The spiking network has one way onto a session and one way of being presented
with samples, for runs and studies alike: `spiking_network` and
`spiking_protocol`.
"""

import time
from functools import partial

import nengo
import numpy as np

from errormc.networks.spiking import SpikingErrorMicrocircuit

from .protocol import Batch, Session, TeacherStudentProtocol
from .tasks.digits import ClassificationTask, accuracy_at_sample_ends

#: how the spiking network is presented with samples (Nengo seconds, dt = 1 ms):
#: 100 ms per sample, nudged after 30 ms (when its filtered pipeline has caught up)
SPIKING_PRESENTATION = dict(steps_per_sample=100, onset_steps=30)
#: the spiking network's output is read over the last 30% of a presentation
READOUT_FRACTION = 0.3


def readout_steps(steps_per_sample):
    """Steps at the end of a presentation over which a spiking output is read."""
    return max(1, int(READOUT_FRACTION * steps_per_sample))


def _both(t, x):  # noqa: ARG001
    """Node output: 1 where both switches are on."""
    return x[0] * x[1]


def _spiking(network, input, target, nudging, plasticity):
    # nudging on only where the session is plastic too
    switch = nengo.Node(_both, size_in=2, label="nudging and plasticity")
    nengo.Connection(nudging, switch[0], synapse=None)
    nengo.Connection(plasticity, switch[1], synapse=None)
    return SpikingErrorMicrocircuit(input=input, target=target, nudging=switch, **network)


def spiking_network(**network):
    """``factory(**session_nodes)``: the spiking microcircuit on a `Session`'s nodes.

    ``network`` are the arguments of `.SpikingErrorMicrocircuit` (``layers``,
    ``seed``, ...). Its learning is gated by its nudging switch (no nudging, no
    error, no PES update); that switch is on where the session has a target
    *and* plasticity on, so plasticity off stops learning with the target still
    shown (the onset of a sample, `spiking_protocol`). Run configs refuse the
    reference protocol (plasticity on without a target) for this network.
    """
    return partial(_spiking, network)


def spiking_protocol(task, epochs, seed, protocol="clean", onset_steps=None, readout=None,
                     validation=True):
    """How the spiking network is presented with ``task``'s samples.

    Plasticity, hence nudging, is off for the first ``onset_steps`` steps of
    every training sample (default `SPIKING_PRESENTATION`'s), while the filtered
    pipeline catches up with the new input; the targets are shown throughout
    and not delayed (the synapses filter instead); a sample's output is its mean over the last ``readout``
    steps (default: `readout_steps` of the presentation); the
    untrained network is tested first in the same simulation; the shuffles
    draw from ``RandomState(seed)``. ``validation=False`` leaves out the
    validation passes (a study that only trains and tests).
    """
    P = task.steps_per_sample
    onset = SPIKING_PRESENTATION["onset_steps"] if onset_steps is None else onset_steps
    return TeacherStudentProtocol(
        task, epochs, protocol, rng=np.random.RandomState(seed), target_delay=0,
        onset_steps=onset, readout_steps=readout or readout_steps(P),
        initial_test=True, validation=validation,
    )


def train(factory, task, protocol, dt, backend="nengo", seed=None, untrained=None,
          progress=None, chunk_steps=None, on_chunk=None, restore=None, on_build=None,
          snapshot_every=0, on_snapshot=None, after=None, sim_options=None, record=None):
    """Train ``factory``'s network on ``task`` with ``protocol``.

    Parameters
    ----------
    factory : callable
        ``factory(**session_nodes) -> nengo.Network`` (see `Session`).
    task : TeacherStudentTask or ClassificationTask
    protocol : TeacherStudentProtocol
    dt : float
    backend : str
    seed : int, optional
        Simulator seed.
    untrained : TeacherStudentProtocol, optional
        The untrained control, run in a fresh session with plasticity off (the
        paper's rate runs). Without it the protocol must test before training
        (``initial_test``).
    progress : callable, optional
        ``progress(epoch, val_mse)`` after each epoch.
    chunk_steps : int, optional
        Run in chunks of this many steps, calling ``on_chunk(session, state)``
        after each (checkpoints, guards, interrupts).
    restore : callable, optional
        ``restore(session) -> ProtocolState``: continue a run (after putting its
        simulator state back).
    on_build : callable, optional
        ``on_build(session)`` once the network is built (e.g. to attach counters).
    snapshot_every, on_snapshot : optional
        Call ``on_snapshot(session, index, state)`` every ``snapshot_every`` steps
        (weight snapshots of the backprop comparison, MODEL.md 2.4).
    after : callable, optional
        ``after(session, trained) -> dict`` of further metrics, computed on the
        trained session before it closes (its steps count in ``steps``).
    sim_options : dict, optional
        Passed to the backend's simulator (e.g. the Loihi ``emulator``).
    record : callable, optional
        Extra probes of the trained network (`Session`), e.g. for ``after``.

    Returns
    -------
    metrics : dict
    weights : dict
        The trained network's weights (``get_weights``).
    info : dict
        ``placement`` (the backend's report) and ``resumed``.
    """
    t0 = time.perf_counter()
    layers = task.layers
    sim_options = sim_options or {}
    with Session(factory, layers[0], layers[-1], dt=dt, backend=backend, seed=seed,
                 sim_options=sim_options, record=record) as session:
        if on_build is not None:
            on_build(session)
        state = restore(session) if restore is not None else None
        trained = protocol.run(
            session, progress=progress, state=state, chunk_steps=chunk_steps,
            on_chunk=None if on_chunk is None else (lambda s: on_chunk(session, s)),
            snapshot_every=snapshot_every,
            on_snapshot=None if on_snapshot is None else (
                lambda index, s: on_snapshot(session, index, s)),
        )
        weights = session.weights()
        info = {"placement": getattr(session.sim, "placement", None),
                "resumed": state is not None}
        before = session.steps
        extra = after(session, trained) if after is not None else {}
        steps = trained["steps"] + session.steps - before
    if trained["initial"] is not None:
        initial = trained["initial"]
    else:
        if untrained is None:
            raise ValueError("untrained: the protocol has no initial test; give a control")
        with Session(factory, layers[0], layers[-1], dt=dt, backend=backend,
                     seed=seed, sim_options=sim_options) as control:
            initial = untrained.run(control, plastic=False)
            steps += control.steps
    wall = time.perf_counter() - t0
    metrics = {}
    if isinstance(task, ClassificationTask):
        P, k = task.steps_per_sample, protocol.readout_steps or 1
        for key, result in (("test_accuracy_initial", initial), ("test_accuracy", trained)):
            metrics[key] = accuracy_at_sample_ends(
                result["test_outputs"], result["test_targets"], P, k)
    metrics.update({
        "test_mse_initial": initial["test_mse"],
        "test_mse_final": trained["test_mse"],
        "test_mse_final_all_steps": trained["test_mse_all_steps"],
        "val_mse": trained["val_mse"],
        "val_epochs": trained["val_epochs"],
        "epochs": protocol.epochs,
        "steps": steps,
        "simulated_s": steps * dt,
        "wall_s": wall,
        "steps_per_s": steps / wall,
    })
    metrics.update(extra)
    return metrics, weights, info


def train_batch(factories, tasks, protocols, dt, seeds, untrained=None, backend="jax",
                progress=None, snapshot_every=0, on_snapshot=None, after=None,
                chunk_steps=None, on_chunk=None, restore=None, record=None):
    """`train` for runs that differ only in their seed, batched on a compiled backend.

    ``factories``, ``tasks``, ``protocols`` and ``seeds`` hold one entry per run
    (its own initial weights, data order and shuffles); ``untrained`` the
    protocols of the untrained controls, run as a second batch. Returns one
    ``(metrics, weights)`` pair per run, under `train`'s names.

    ``on_snapshot(member, session, index, state)`` is called every
    ``snapshot_every`` steps for each member; ``after(batch, trained) -> list of
    dict`` (one per member) computes further metrics on the trained batch
    before it closes (its steps count in ``steps``). ``chunk_steps``,
    ``on_chunk(member, session, state)`` and ``restore(member, session) ->
    ProtocolState`` are `train`'s, for each member; so is ``record``.
    """
    t0 = time.perf_counter()
    layers = tasks[0].layers
    with Batch(factories, layers[0], layers[-1], dt, seeds, backend, record=record) as batch:
        states = ([restore(i, s) for i, s in enumerate(batch.sessions)] if restore is not None
                  else [None] * len(protocols))
        generators = [
            p.chunks(progress=progress if i == 0 else None, state=states[i],
                     chunk_steps=chunk_steps, snapshot_every=snapshot_every,
                     on_chunk=None if on_chunk is None else (
                         lambda s, i=i: on_chunk(i, batch.sessions[i], s)),
                     on_snapshot=None if on_snapshot is None else (
                         lambda index, s, i=i: on_snapshot(i, batch.sessions[i], index, s)))
            for i, p in enumerate(protocols)
        ]
        trained = batch.run(generators)
        weights = [s.weights() for s in batch.sessions]
        before = [s.steps for s in batch.sessions]
        extra = after(batch, trained) if after is not None else [{} for _ in trained]
        steps = [r["steps"] + s.steps - b for r, s, b in zip(trained, batch.sessions, before)]
    if untrained is None:
        initial = [r["initial"] for r in trained]
    else:
        with Batch(factories, layers[0], layers[-1], dt, seeds, backend) as batch:
            initial = batch.run([p.chunks(plastic=False) for p in untrained])
        steps = [s + r["steps"] for s, r in zip(steps, initial)]
    wall = time.perf_counter() - t0
    out = []
    for task, protocol, result, first, n, w, more in zip(tasks, protocols, trained, initial,
                                                         steps, weights, extra):
        metrics = {}
        if isinstance(task, ClassificationTask):
            P, k = task.steps_per_sample, protocol.readout_steps or 1
            for key, r in (("test_accuracy_initial", first), ("test_accuracy", result)):
                metrics[key] = accuracy_at_sample_ends(r["test_outputs"], r["test_targets"], P, k)
        metrics.update({
            "test_mse_initial": first["test_mse"],
            "test_mse_final": result["test_mse"],
            "test_mse_final_all_steps": result["test_mse_all_steps"],
            "val_mse": result["val_mse"],
            "val_epochs": result["val_epochs"],
            "epochs": protocol.epochs,
            "steps": n,
            "simulated_s": n * dt,
            # the batch's wall time, shared by its runs
            "wall_s": wall,
            "batch": len(tasks),
            "steps_per_s": n * len(tasks) / wall,
        })
        metrics.update(more)
        out.append((metrics, w))
    return out
