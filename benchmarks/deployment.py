"""Presentation of samples to a pre-built spiking microcircuit, for the energy study.

Runs (`errormc run`, sweeps, benches) go through the one driver
(`errormc.benchmarks.experiment`); the energy study (`errormc.benchmarks.energy`)
attaches the Loihi activity counters to a network it builds itself, and presents
samples with the `Stream` here. One network object (`errormc.networks.SpikingErrorMicrocircuit`) is built once,
then trained and tested on the Nengo reference simulator and/or the nengo-loihi
emulator (`errormc.hardware.Simulator`). The host presents one sample every
``t_present`` seconds (Nengo seconds, dt = 0.001); during training the target
nudges the output errors (and learning happens) only after ``t_settle`` seconds
of each presentation, when the feed-forward pipeline has caught up with the new
input (the spiking counterpart of the rate model's L-step target delay). Test
passes run with nudging off (every error population inhibited: no nudging and no
learning) and read the output averaged over the last ``read_fraction`` of each
presentation.

`train_and_test` returns a flat metrics dict (JSON-serialisable).
"""

import time

import numpy as np
import nengo

from errormc.hardware.backends import Simulator, check_backend
from errormc.hardware.loihi.placement import quantisation_state
from errormc.networks.spiking import SpikingErrorMicrocircuit

from .metrics import accuracy, squared_errors
from .tasks.teacher_student import teacher_forward, teacher_seed, teacher_weights

# --- data ------------------------------------------------------------------------


def teacher_student_data(layers, n_train=40, n_test=20, seed=0, weight_range=1.0):
    """Teacher-student data (MODEL.md 3.1): x ~ U(0, 1), y = teacher(x).

    Uses the shared `errormc.benchmarks.tasks.teacher_student` teacher (seed order
    of the reference: teacher seed from ``seed``, its weights U(-1, 1), gain gamma,
    tanh), and draws ``n_train + n_test`` inputs from ``RandomState(teacher_seed)``.
    """
    layers = [int(n) for n in layers]
    s_t = teacher_seed(seed)
    weights = teacher_weights(layers, s_t, weight_range)
    x = np.random.RandomState(s_t).uniform(0.0, 1.0, (n_train + n_test, layers[0]))
    _, y = teacher_forward(x, weights, "tanh")
    return {
        "x_train": x[:n_train],
        "y_train": y[:n_train],
        "x_test": x[n_train:],
        "y_test": y[n_train:],
        "teacher_seed": s_t,
    }


# --- presentation --------------------------------------------------------------


class Stream:
    """Host-side schedule of inputs, targets and the nudging switch.

    ``load(x, y, learn, t0)`` starts presenting the rows of ``x``/``y`` at
    simulator time ``t0``, each for ``t_present`` s; with ``learn`` the nudging
    switch is 1 from ``t_settle`` s into each presentation, else 0.
    """

    def __init__(self, n_in, n_out, t_present=0.1, t_settle=0.03, dt=0.001):
        if not t_present > 0:
            raise ValueError(f"t_present: must be > 0, got {t_present!r}")
        if not 0 <= t_settle < t_present:
            raise ValueError(f"t_settle: must be in [0, t_present), got {t_settle!r}")
        self.t_present, self.t_settle, self.dt = float(t_present), float(t_settle), float(dt)
        self.x = np.zeros((1, n_in))
        self.y = np.zeros((1, n_out))
        self.learn = False
        self.t0 = 0.0

    def load(self, x, y, learn, t0):
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.learn, self.t0 = bool(learn), float(t0)

    def _phase(self, t):
        # t is the end of the current step; the first step of a run has t = t0 + dt
        s = t - self.t0 - 0.5 * self.dt
        i = int(s // self.t_present)
        return min(max(i, 0), len(self.x) - 1), s - i * self.t_present

    def input(self, t):
        return self.x[self._phase(t)[0]]

    def target(self, t):
        return self.y[self._phase(t)[0]]

    def nudging(self, t):
        if not self.learn:
            return 0.0
        return 1.0 if self._phase(t)[1] >= self.t_settle else 0.0


def make_spiking_network(layers, t_present=0.1, t_settle=0.03, dt=0.001, **net_kwargs):
    """A `SpikingErrorMicrocircuit` wired to a `Stream`, with an output probe.

    Returns ``(net, stream)``; ``net.output_probe`` reads the decoded output.
    """
    layers = [int(n) for n in (layers.split("-") if isinstance(layers, str) else layers)]
    stream = Stream(layers[0], layers[-1], t_present, t_settle, dt)
    net = SpikingErrorMicrocircuit(
        layers,
        input=stream.input,
        target=stream.target,
        nudging=stream.nudging,
        **net_kwargs,
    )
    with net:
        net.output_probe = nengo.Probe(net.output, synapse=0.01)
    return net, stream


def _readout(sim, probe, n0, n_samples, stream, read_fraction):
    k = int(round(stream.t_present / sim.dt))
    out = np.asarray(sim.data[probe][n0 : n0 + n_samples * k]).reshape(n_samples, k, -1)
    return out[:, -max(1, int(k * read_fraction)) :].mean(axis=1)


def evaluate(sim, net, stream, x, y, read_fraction=0.3):
    """One test pass (no nudging, no learning): outputs (n, n_L) and summed-square MSE."""
    stream.load(x, y, learn=False, t0=sim.time)
    n0 = len(sim.data[net.output_probe])
    sim.run_steps(len(x) * int(round(stream.t_present / sim.dt)))
    out = _readout(sim, net.output_probe, n0, len(x), stream, read_fraction)
    # MODEL.md 3.1 item 7: MSE at a step = sum_i (r_i - t_i)^2, averaged over samples
    return out, float(np.mean(squared_errors(out, y)))


def train_and_test(
    net, stream, data, backend="nengo", epochs=2, seed=0, classify=False,
    eval_every_epoch=True, read_fraction=0.3, sim_seed=None, emulator=None,
):
    """Train ``net`` on ``data`` on ``backend`` and test it; return a metrics dict.

    Keys: ``backend``, ``epochs``, ``n_train``, ``n_test``, ``test_mse_initial``,
    ``test_mse``, ``test_mse_per_epoch`` (after each epoch; only the last if
    ``eval_every_epoch`` is false), with ``classify`` also ``test_accuracy_initial``,
    ``test_accuracy`` (argmax of outputs vs labels), ``simulated_s``,
    ``wall_s`` (build + run), ``build_s``, ``train_wall_s``, ``steps_per_s``,
    ``placement`` and ``weight_saturation`` (loihi).
    """
    check_backend(backend)
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs: must be a positive integer, got {epochs!r}")
    rng = np.random.RandomState(seed)
    t_start = time.perf_counter()
    options = dict(emulator=emulator) if backend == "loihi" and emulator is not None else {}
    sim = Simulator(net, backend=backend, dt=stream.dt, seed=sim_seed if sim_seed is not None else seed,
                    **options)
    metrics = {"backend": backend, "epochs": int(epochs),
               "n_train": len(data["x_train"]), "n_test": len(data["x_test"]),
               "build_s": sim.build_time}
    labels = data.get("labels_test")

    train_wall = 0.0
    with sim:
        out, mse = evaluate(sim, net, stream, data["x_test"], data["y_test"], read_fraction)
        metrics["test_mse_initial"] = mse
        if classify:
            metrics["test_accuracy_initial"] = accuracy(out, labels)
        per_epoch, acc_epoch = [], []
        for epoch in range(int(epochs)):
            order = rng.permutation(len(data["x_train"]))
            stream.load(data["x_train"][order], data["y_train"][order], learn=True, t0=sim.time)
            t1 = time.perf_counter()
            sim.run_steps(len(order) * int(round(stream.t_present / sim.dt)))
            train_wall += time.perf_counter() - t1
            if eval_every_epoch or epoch == epochs - 1:
                out, mse = evaluate(sim, net, stream, data["x_test"], data["y_test"], read_fraction)
                per_epoch.append(mse)
                if classify:
                    acc_epoch.append(accuracy(out, labels))
        metrics["test_mse"] = per_epoch[-1]
        metrics["test_mse_per_epoch"] = per_epoch
        if classify:
            metrics["test_accuracy"] = acc_epoch[-1]
            metrics["test_accuracy_per_epoch"] = acc_epoch
        metrics["simulated_s"] = float(sim.time)
        metrics["weight_saturation"] = quantisation_state(sim, net)
    metrics["wall_s"] = time.perf_counter() - t_start
    metrics["train_wall_s"] = train_wall
    metrics["steps_per_s"] = metrics["simulated_s"] / stream.dt / max(metrics["wall_s"] - metrics["build_s"], 1e-9)
    metrics["placement"] = sim.placement
    return metrics


# --- tasks ---------------------------------------------------------------------
