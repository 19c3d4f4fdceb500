"""Driving a network with per-step inputs, targets and plasticity.

A `Schedule` feeds one row per simulator step to the network's input, target and
plasticity nodes; `Session` builds a network around a schedule on a backend and
runs phases of given arrays; `replay` is the simplest use: one phase, every
per-step quantity recorded.
"""

import numpy as np
import nengo

from errormc.hardware.backends import Simulator


class Schedule:
    """Per-step rows ``[input, target, nudging, plasticity]`` for a network's nodes.

    Called once per simulator step (as a Node output); ``load`` sets the arrays
    of the next phase. A NaN target row becomes target 0 with nudging off.
    """

    def __init__(self, n_in, n_out):
        self.n_in, self.n_out = n_in, n_out
        self.size = n_in + n_out + 2
        self._rows = np.zeros((1, self.size))
        self._k = 0

    def load(self, inputs, targets=None, learn=None):
        inputs = np.asarray(inputs, dtype=float)
        T = len(inputs)
        rows = np.zeros((T, self.size))
        rows[:, : self.n_in] = inputs
        if targets is not None:
            present = ~np.isnan(np.asarray(targets, dtype=float)).any(axis=1)
            rows[present, self.n_in : self.n_in + self.n_out] = np.asarray(targets)[present]
            rows[:, -2] = present
        rows[:, -1] = 1.0 if learn is None else np.asarray(learn, dtype=float)
        self._rows = rows
        self._k = 0
        return T

    def __call__(self, t):
        row = self._rows[min(self._k, len(self._rows) - 1)]
        self._k += 1
        return row

    def connect(self, node):
        """Slices of ``node`` (a Node with this schedule as output) per role."""
        n_in, n_out = self.n_in, self.n_out
        return dict(
            input=node[:n_in],
            target=node[n_in : n_in + n_out],
            nudging=node[-2:-1],
            plasticity=node[-1:],
        )


def check_stimulus(inputs, targets, learn, n_in, n_out):
    """Validate stimulus arrays; raise ValueError naming the field and value."""
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim != 2 or inputs.shape[1] != n_in:
        raise ValueError(f"inputs: shape {inputs.shape}, expected (T, {n_in})")
    if not np.all(np.isfinite(inputs)):
        bad = np.argwhere(~np.isfinite(inputs))[0]
        raise ValueError(f"inputs: NaN or inf at step {bad[0]}, unit {bad[1]}")
    T = len(inputs)
    if targets is not None:
        targets = np.asarray(targets, dtype=float)
        if targets.shape != (T, n_out):
            raise ValueError(f"targets: shape {targets.shape}, expected ({T}, {n_out})")
        partial = np.isnan(targets).any(axis=1) & ~np.isnan(targets).all(axis=1)
        if np.any(partial) or np.any(np.isinf(targets)):
            step = int(np.argmax(partial | np.isinf(targets).any(axis=1)))
            raise ValueError(
                f"targets: step {step} is partly NaN or inf; a target row is either "
                "all numbers or all NaN (no target)"
            )
    if learn is not None:
        learn = np.asarray(learn)
        if learn.shape != (T,):
            raise ValueError(f"learn: shape {learn.shape}, expected ({T},)")
        learn = learn.astype(bool)
    return inputs, targets, learn


class Session:
    """A network wired to a `Schedule` and built on a backend.

    Parameters
    ----------
    network : callable
        ``network(input=..., target=..., plasticity=...) -> nengo.Network`` with
        attributes ``layers`` and ``output`` (e.g. a partial of
        `.ErrorMicrocircuit`).
    n_in, n_out : int
    dt : float
    backend : str
    record : callable, optional
        ``record(net) -> {name: (obj, attr)}`` of extra probes.
    """

    def __init__(self, network, n_in, n_out, dt=0.01, backend="nengo", record=None):
        self.schedule = Schedule(n_in, n_out)
        with nengo.Network(label="session") as self.model:
            node = nengo.Node(self.schedule, size_out=self.schedule.size, label="schedule")
            self.net = network(**self.schedule.connect(node))
            self.probes = {"output": nengo.Probe(self.net.output.neurons, synapse=None)}
            for name, (obj, attr) in (record(self.net) if record else {}).items():
                self.probes[name] = nengo.Probe(obj, attr, synapse=None)
        self.sim = Simulator(self.model, backend=backend, dt=dt)
        self.steps = 0

    def run(self, inputs, targets=None, learn=None, progress=None):
        """Run one phase; return the probed data of its steps."""
        T = self.schedule.load(inputs, targets, learn)
        self.sim.clear_probes()
        self.sim.run_steps(T)
        self.steps += T
        return {name: np.array(self.sim.data[p]) for name, p in self.probes.items()}

    def weights(self):
        return self.net.get_weights(self.sim)

    def close(self):
        self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def replay(inputs, targets=None, learn=None, dt=0.01, backend="nengo", **network):
    """Drive an error microcircuit step by step; no shuffling, no settling.

    Parameters
    ----------
    inputs : (T, n_in) array
    targets : (T, n_out) array, optional
        NaN rows mean no target (no nudging) at that step.
    learn : (T,) bool array, optional
        Plasticity on at that step (default: on).
    dt : float
    **network
        Arguments of `.ErrorMicrocircuit` (layers, weights, connectivity, ...).

    Returns
    -------
    dict
        ``output_rates[T, n_out]``; per area l ``rep_rates{l}``,
        ``rep_prospective{l}``, ``err_rates{l}``, each as computed during that step
        (MODEL.md 1.7); and the final weights in the weights-file names.
    """
    from errormc.networks import ErrorMicrocircuit, parse_layers

    layers = parse_layers(network["layers"])
    inputs, targets, learn = check_stimulus(inputs, targets, learn, layers[0], layers[-1])

    def record(net):
        out = {}
        for l, area in enumerate(net.areas, start=1):
            out[f"rep_rates{l}"] = (area.representation.neurons, "output")
            out[f"rep_prospective{l}"] = (area.representation.neurons, "prospective")
            out[f"err_rates{l}"] = (area.error.neurons, "output")
        return out

    def build(**nodes):
        return ErrorMicrocircuit(**dict(network, **nodes))

    with Session(build, layers[0], layers[-1], dt, backend, record) as session:
        data = session.run(inputs, targets, learn)
        result = {"output_rates": data.pop("output")}
        result.update(data)
        result.update(session.weights())
    return result
