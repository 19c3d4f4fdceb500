"""A built Nengo model as one pure JAX step, looped over chunks of steps.

`Layout` places every signal in its base array (views become slices or index
arrays); `Program` lowers each operator, in Nengo's step order, with its
registered implementation (`errormc.hardware.compiled.registry`) and composes
them into ``step(values) -> values``: the state of the reference simulator after
one ``Simulator.step``, with the probed signals. ``chunk(C, unroll)`` runs that
step ``n <= C`` times in a compiled loop (blocks of ``unroll`` steps); for a batch
of networks that differ only in their data it is ``vmap``-ed over a leading
member axis.

Signals that no operator writes (fixed weights, constants) and array parameters
of operators are *constants*: arguments of the compiled program, like the state
(one value per member in a batch), so that every network of one structure runs
the same compiled code.
"""

import numpy as np
import jax
import jax.numpy as jnp
from jax import lax
from nengo.exceptions import BuildError
from nengo.utils.graphs import toposort
from nengo.utils.simulator import operator_dependency_graph

from errormc.networks.errors import ConfigError

from .registry import Unsupported, describe, lookup


class Const:
    """Key of a constant array registered with ``Context.const``."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class View:
    """Where a signal lies in its flattened base: all of it, a slice, or indices."""

    def __init__(self, base, sig):
        self.base = base
        self.shape = tuple(sig.shape)
        base_size = int(np.prod(sig.base.shape)) if sig.base.shape else 1
        if not sig.is_view or (self.shape == tuple(sig.base.shape) and sig.elemoffset == 0
                               and sig.elemstrides == sig.base.elemstrides):
            self.kind, self.start, self.index = "full", 0, None
            return
        index = np.full(self.shape, sig.elemoffset, dtype=np.int64)
        for axis, stride in enumerate(sig.elemstrides):
            shape = [1] * len(self.shape)
            shape[axis] = self.shape[axis]
            index = index + stride * np.arange(self.shape[axis]).reshape(shape)
        flat = index.ravel()
        size = flat.size
        if size and np.array_equal(flat, np.arange(flat[0], flat[0] + size)):
            self.kind, self.start, self.index = "slice", int(flat[0]), None
            self.stop = self.start + size
        else:
            self.kind, self.start, self.index = "gather", 0, flat
        assert size == 0 or flat.max() < base_size

    def read(self, flat):
        if self.kind == "full":
            return flat.reshape(self.shape)
        if self.kind == "slice":
            return flat[self.start : self.stop].reshape(self.shape)
        return flat[self.index].reshape(self.shape)

    def write(self, flat, value):
        value = jnp.asarray(value, dtype=flat.dtype)
        if value.shape != self.shape:
            if value.size == int(np.prod(self.shape)):
                value = value.reshape(self.shape)  # e.g. (1, n) into (n,), as numpy's out[...] = y
            else:
                value = jnp.broadcast_to(value, self.shape)
        value = value.reshape(-1)
        if self.kind == "full":
            return value
        if self.kind == "slice":
            return lax.dynamic_update_slice(flat, value, (self.start,))
        return flat.at[self.index].set(value)


class Layout:
    """Base arrays of a model's signals, in order of first use by its operators."""

    def __init__(self, operators, extra=()):
        self.bases = []
        self._index = {}
        self._views = {}
        self.written = set()
        for op in operators:
            for sig in op.all_signals:
                self._add(sig)
            for sig in op.sets + op.incs + op.updates:
                self.written.add(self._index[sig.base])
        for sig in extra:
            self._add(sig)
        self.mutable = [i for i in range(len(self.bases)) if i in self.written]
        self.readonly = [i for i in range(len(self.bases)) if i not in self.written]

    def _add(self, sig):
        if sig.sparse:
            raise BuildError(f"jax backend: sparse signal {sig} is not supported")
        base = sig.base
        if base not in self._index:
            self._index[base] = len(self.bases)
            self.bases.append(base)

    def __contains__(self, sig):
        return sig.base in self._index

    def view(self, sig):
        view = self._views.get(sig)
        if view is None:
            view = self._views[sig] = View(self._index[sig.base], sig)
        return view

    def initial_values(self):
        """Flat initial value of every base (numpy)."""
        return [np.array(b.initial_value, dtype=b.dtype).reshape(-1) for b in self.bases]


class Frame:
    """The signal values during one traced step (see `errormc.hardware.compiled.registry`)."""

    def __init__(self, layout, values, consts, host_rows):
        self.layout = layout
        self.values = values
        self.consts = consts
        self.host_rows = host_rows

    def __getitem__(self, key):
        if isinstance(key, Const):
            return self.consts[key.index]
        view = self.layout.view(key)
        return view.read(self.values[view.base])

    def __setitem__(self, sig, value):
        view = self.layout.view(sig)
        self.values[view.base] = view.write(self.values[view.base], value)

    def inc(self, sig, value):
        self[sig] = self[sig] + value

    def host(self, index):
        """This step's row of host-evaluated input ``index``."""
        return self.host_rows[index]


class Context:
    """What an implementation may ask for while it lowers its operator."""

    def __init__(self, program):
        self.program = program
        self.dt = program.dt

    def const(self, value):
        """Register a constant array; ``s[key]`` reads it inside a step."""
        self.program.const_values.append(np.asarray(value))
        return Const(len(self.program.const_values) - 1)

    def host_input(self, op, output, inc=False):
        """Evaluate ``op`` (no network input) on the host ahead of each chunk; its
        value of a step is written into ``output`` at the operator's place."""
        index = len(self.program.host_ops)
        self.program.host_ops.append(op)

        if inc:
            def step_host_input(s):
                s.inc(output, s.host(index).reshape(output.shape))
        else:
            def step_host_input(s):
                s[output] = s.host(index).reshape(output.shape)

        return step_host_input


def step_order(model):
    """Indices into ``model.operators`` in the reference simulator's step order
    (its toposort of the dependency graph, ``optimize=False``)."""
    position = {op: i for i, op in enumerate(model.operators)}
    graph = operator_dependency_graph(model.operators)
    return [position[op] for op in toposort(graph) if hasattr(op, "make_step")]


def sample_period(sample_every, dt):
    """A probe's ``sample_every`` as a whole number of steps, or None (every
    step; a period that is not exactly whole in floating point is sampled on
    the host by nengo's own rule, ``n_steps % period < 1``)."""
    if sample_every is None:
        return None
    k = float(sample_every) / dt
    return int(k) if k == int(k) and k >= 1 else None


def sampled_rows(done_before, n, k):
    """How many step counts in ``done_before + 1 .. done_before + n`` divide by ``k``."""
    return (done_before + n) // k - done_before // k


class Program:
    """One model's operators as a JAX step function.

    Parameters
    ----------
    model : nengo.builder.Model
        A built model.
    order : list of int, optional
        Step order as indices into ``model.operators`` (default: `step_order`);
        a batch lowers every member in its first member's order.
    name : str
        What to call the network in errors.
    """

    def __init__(self, model, order=None, name="network"):
        self.model = model
        self.dt = float(model.dt)
        self.order = step_order(model) if order is None else list(order)
        self.operators = [model.operators[i] for i in self.order]
        self.probes = list(model.probes)
        probe_sigs = [model.sig[p]["in"] for p in self.probes]
        self.layout = Layout(model.operators, probe_sigs + [model.step])
        self.probe_sigs = probe_sigs
        #: steps between a probe's records (a whole number of steps: recorded
        #: in the program, as nengo does, at every step count it divides), or
        #: None: every step (a fractional ``sample_every`` is sampled on the host)
        self.periods = [sample_period(p.sample_every, self.dt) for p in self.probes]
        self._step_sig = model.step
        self.const_values = []
        self.host_ops = []
        ctx = Context(self)
        self.steps, missing, failed = [], {}, []
        for op in self.operators:
            lower = lookup(op)
            if lower is None:
                missing[describe(op)] = missing.get(describe(op), 0) + 1
                continue
            try:
                step = lower(op, ctx)
            except Unsupported as e:
                missing[e.what] = missing.get(e.what, 0) + 1
                continue
            except BuildError as e:
                failed.append(str(e))
                continue
            if step is not None:
                self.steps.append(step)
        if missing:
            ops = ", ".join(f"{k} x{n}" for k, n in sorted(missing.items()))
            raise ConfigError(
                f"backend: jax cannot run {name}: no JAX implementation of {ops}; "
                "use backend 'nengo'"
            )
        if failed:
            raise ConfigError(f"backend: jax cannot run {name}: {failed[0]}")

    # --- values ---------------------------------------------------------------------

    def initial_state(self):
        """(mutable, constants): flat initial values of written bases; readonly
        bases followed by the operators' constant arrays."""
        init = self.layout.initial_values()
        mutable = [init[i] for i in self.layout.mutable]
        consts = [init[i] for i in self.layout.readonly] + list(self.const_values)
        return mutable, consts

    # --- the step ---------------------------------------------------------------------

    def step(self, mutable, consts, host_rows):
        """One simulator step: (new mutable values, probed values)."""
        layout = self.layout
        n_readonly = len(layout.readonly)
        values = [None] * len(layout.bases)
        for i, v in zip(layout.mutable, mutable):
            values[i] = v
        for i, v in zip(layout.readonly, consts[:n_readonly]):
            values[i] = v
        frame = Frame(layout, values, consts[n_readonly:], host_rows)
        for step in self.steps:
            step(frame)
        new = [values[i] for i in layout.mutable]
        return new, [frame[s] for s in self.probe_sigs]

    def chunk(self, capacity, unroll=1):
        """``chunk(mutable, consts, xs, n) -> (mutable, probes)``: the first
        ``n <= capacity`` steps, ``n`` a run-time value, so that one program
        serves runs of any length. ``xs`` holds each step's host inputs,
        ``(capacity, ...)``. A probe's buffer has a row per step (rows past
        ``n`` unused), or with a period ``k`` (`periods`) a row per step count
        divisible by ``k`` (`sampled_rows` of them).

        Steps run in blocks of ``unroll`` (one loop iteration each, so that XLA
        fuses across steps), then one at a time for the last ``n % unroll``.
        """
        periods = self.periods
        # a sampled probe: at most capacity // k + 1 records, and one row more
        # for the steps after the last record, which write ahead
        probe_shapes = [((capacity if k is None else capacity // k + 2),) + tuple(s.shape)
                        for s, k in zip(self.probe_sigs, periods)]
        probe_dtypes = [s.dtype for s in self.probe_sigs]
        U = max(1, min(int(unroll), capacity))
        step_view = self.layout.view(self._step_sig)
        step_index = self.layout.mutable.index(step_view.base)

        def record(buffers, probed, i, done_before, count, sampled_only=False):
            """Write step ``i``'s probes; a sampled probe into the row of the
            next step count it divides (the last write there is that step's)."""
            out = []
            for b, p, k in zip(buffers, probed, periods):
                if k is None:
                    if sampled_only:
                        out.append(b)
                        continue
                    row = i
                else:
                    row = (count + k - 1) // k - done_before // k - 1
                out.append(lax.dynamic_update_index_in_dim(b, p.astype(b.dtype), row, 0))
            return out

        def run_chunk(mutable, consts, xs, n):
            done_before = step_view.read(mutable[step_index]).reshape(())

            def count_of(values):
                return step_view.read(values[step_index]).reshape(())

            def block(i, carry):
                values, buffers = carry
                start = i * U
                rows = [lax.dynamic_slice_in_dim(x, start, U) for x in xs]
                probed = []
                for j in range(U):
                    values, p = self.step(values, consts, tuple(r[j] for r in rows))
                    buffers = record(buffers, p, start + j, done_before, count_of(values),
                                     sampled_only=True)
                    probed.append(p)
                # the block's steps of every-step probes in one write
                buffers = [
                    b if k is not None else lax.dynamic_update_slice_in_dim(
                        b, jnp.stack([p[m] for p in probed]).astype(b.dtype), start, 0)
                    for m, (b, k) in enumerate(zip(buffers, periods))
                ]
                return values, buffers

            def single(k, carry):
                values, buffers = carry
                rows = tuple(lax.dynamic_index_in_dim(x, k, keepdims=False) for x in xs)
                values, probed = self.step(values, consts, rows)
                return values, record(buffers, probed, k, done_before, count_of(values))

            buffers = [jnp.zeros(s, d) for s, d in zip(probe_shapes, probe_dtypes)]
            carry = lax.fori_loop(0, n // U, block, (mutable, buffers))
            if U == 1:
                return carry
            return lax.fori_loop((n // U) * U, n, single, carry)

        return run_chunk

    def signature(self):
        """The traced step, as a hashable key, and its closed-over constants: two
        programs with equal keys and equal constants differ only in their data
        (their signal values and constant arrays) and share compiled code."""
        mutable, consts = self.initial_state()
        rows = tuple(np.zeros(op.output.size) for op in self.host_ops)
        closed = jax.make_jaxpr(self.step)(mutable, consts, rows)
        shapes = tuple((np.shape(v), np.asarray(v).dtype.str) for v in mutable + consts)
        key = (str(closed.jaxpr), shapes, len(self.probes), tuple(self.periods))
        return key, [np.asarray(c) for c in closed.consts]
