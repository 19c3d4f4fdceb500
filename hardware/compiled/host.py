"""Inputs evaluated on the host: Python code without input from the network.

A ``Node`` function of time or a ``Process`` without input (a presented data set,
a schedule of rows) depends on nothing the network computes, so its rows for a
whole chunk are produced before the chunk runs and fed to the compiled step
(`errormc.hardware.compiled.program.Context.host_input`), exactly as the
reference simulator would have produced them step by step: same times, same
random generators, same order of calls.
"""

import numpy as np
import nengo
from nengo.builder.processes import SimProcess
from nengo.exceptions import SimulationError

from errormc.networks.stimulus import StepRows


def step_times(first, n, dt):
    """The reference's time signal of steps ``first .. first + n - 1``: step * dt."""
    return np.arange(first, first + n, dtype=np.int64) * dt


class PyFuncSource:
    """A Node function ``f(t)`` (or ``f()``), called once per step.

    A function object with a method ``step_rows(t)`` (an array of step times ->
    the array of what ``f(t_k)`` would return, in order, with the same effect on
    its state) is called once per chunk instead.
    """

    def __init__(self, op, dt):
        self.fn, self.dt = op.fn, dt
        self.timed = op.t is not None
        self.size = op.output.size
        self.vectorised = getattr(self.fn, "step_rows", None)

    def rows(self, first, n):
        fn, dt, timed = self.fn, self.dt, self.timed
        if self.vectorised is not None:
            out = np.asarray(self.vectorised(step_times(first, n, dt)), dtype=float)
            out = out.reshape(n, self.size)
        else:
            out = np.empty((n, self.size))
            for k in range(n):
                out[k] = fn((first + k) * dt) if timed else fn()
        if not np.all(np.isfinite(out)):
            k = int(np.argmax(~np.isfinite(out).all(axis=1)))
            raise SimulationError(
                f"Function {fn!r} returned non-finite value {out[k]!r} at step {first + k}"
            )
        return out


class ProcessSource:
    """A Process without input, stepped with its own state and generator."""

    def __init__(self, op, dt, rng):
        self.dt = dt
        self.size = op.output.size
        state = {name: np.array(sig.initial_value, dtype=sig.dtype) for name, sig in op.state.items()}
        self.step = op.process.make_step((0,), op.output.shape, dt, rng, state)

    def rows(self, first, n):
        out = np.empty((n, self.size))
        for k in range(n):
            out[k] = self.step((first + k) * self.dt)
        return out


class PresentInputSource:
    """`nengo.processes.PresentInput`, vectorised: the row index of each step as
    its ``make_step`` computes it."""

    def __init__(self, op, dt, rng):
        p = op.process
        self.inputs = np.asarray(p.inputs, dtype=float).reshape(len(p.inputs), -1)
        self.period = float(p.presentation_time)
        self.dt = dt

    def rows(self, first, n):
        t = step_times(first, n, self.dt)
        i = ((t - self.dt) / self.period + 1e-7).astype(np.int64)
        return self.inputs[i % len(self.inputs)]


class StepRowsSource:
    """`errormc.networks.stimulus.StepRows`, vectorised: ``rows[row_index(step)]``
    of each step, read from the process when the chunk's rows are asked for (so
    that rows loaded between runs are presented, as by its ``make_step``)."""

    def __init__(self, op, dt, rng):
        self.process = op.process

    def rows(self, first, n):
        p = self.process
        steps = np.arange(first, first + n, dtype=np.int64)
        return p.rows[np.clip(steps - 1 - p.start, 0, len(p.rows) - 1)]


#: process type -> vectorised source (others step their own make_step)
SOURCES = {nengo.processes.PresentInput: PresentInputSource, StepRows: StepRowsSource}


class HostInputs:
    """Rows of every host-evaluated operator of one `Program`."""

    def __init__(self, program, seed):
        self.program = program
        self.reset(seed)

    def reset(self, seed):
        """New sources, drawing their generators as the reference simulator does:
        one draw per unseeded process, in step order, from ``RandomState(seed)``."""
        rng = np.random.RandomState(seed)
        host = {id(op) for op in self.program.host_ops}
        rngs = {}
        for op in self.program.operators:
            if isinstance(op, SimProcess):
                op_rng = op.process.get_rng(rng)
                if id(op) in host:
                    rngs[id(op)] = op_rng
        dt = self.program.dt
        self.sources = []
        for op in self.program.host_ops:
            if isinstance(op, SimProcess):
                source = SOURCES.get(type(op.process), ProcessSource)
                self.sources.append(source(op, dt, rngs[id(op)]))
            else:
                self.sources.append(PyFuncSource(op, dt))

    def rows(self, first, n):
        """Rows of steps ``first, ..., first + n - 1`` (1-based, as ``sim.n_steps``)."""
        return tuple(s.rows(first, n) for s in self.sources)
