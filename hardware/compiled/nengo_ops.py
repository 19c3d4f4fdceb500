"""JAX implementations of Nengo's own operators (``nengo.builder.operator``,
``SimNeurons``, ``SimProcess``, ``SimPyFunc``, ``SimProbe``).

Each follows the operator's ``make_step`` in the reference simulator. Python
code in the network (a ``Node`` function, a ``Process`` without a JAX
implementation) cannot be compiled; where it has no input from the network, its
value depends only on time, so it runs on the host ahead of each compiled chunk
and its rows are fed to the step (`Context.host_input`). With an input it is a
build error naming it.
"""

import numpy as np
import jax.numpy as jnp
import nengo
from nengo.builder.neurons import SimNeurons
from nengo.builder.operator import Copy, DotInc, ElementwiseInc, Reset, SimPyFunc, TimeUpdate
from nengo.builder.probe import SimProbe
from nengo.builder.processes import SimProcess

from .registry import NEURONS, PROCESSES, implements, implements_process, unsupported


@implements(TimeUpdate)
def time_update(op, ctx):
    step, t = op.step, op.time
    dt = ctx.dt

    def step_time_update(s):
        s[step] = s[step] + 1
        s[t] = s[step] * dt

    return step_time_update


@implements(Reset)
def reset(op, ctx):
    dst, value = op.dst, op.value

    def step_reset(s):
        s[dst] = value

    return step_reset


@implements(Copy)
def copy(op, ctx):
    src, dst, inc = op.src, op.dst, op.inc
    def indices(index, sig):
        if index is None:
            return None
        index = np.asarray(index)
        if index.dtype.kind == "b":
            return np.flatnonzero(index)
        return np.where(index < 0, index + sig.shape[0], index)

    src_index, dst_index = indices(op.src_slice, src), indices(op.dst_slice, dst)
    if dst_index is not None and not inc and len(np.unique(dst_index)) < len(dst_index):
        raise unsupported("has repeated indices in dst_slice without inc", op)

    def step_copy(s):
        x = s[src] if src_index is None else s[src][src_index]
        if dst_index is None:
            if inc:
                s.inc(dst, x)
            else:
                s[dst] = x
        elif inc:
            s[dst] = s[dst].at[dst_index].add(x)  # repeated indices add up, as np.add.at
        else:
            s[dst] = s[dst].at[dst_index].set(x)

    return step_copy


#: matrix-vector products up to this many weights are written as a product and
#: a sum, which XLA fuses with their neighbours; a dot is one call of its own
SMALL_DOT = 4096


@implements(DotInc)
def dot_inc(op, ctx):
    A, X, Y = op.A, op.X, op.Y
    reshape = op.reshape
    fused = A.ndim == 2 and X.ndim == 1 and A.size <= SMALL_DOT

    def step_dot_inc(s):
        if fused:
            y = jnp.sum(s[A] * s[X][None, :], axis=1)
        else:
            y = jnp.dot(s[A], s[X])
        s.inc(Y, y.reshape(Y.shape) if reshape else y)

    return step_dot_inc


@implements(ElementwiseInc)
def elementwise_inc(op, ctx):
    A, X, Y = op.A, op.X, op.Y

    def step_elementwise_inc(s):
        s.inc(Y, s[A] * s[X])

    return step_elementwise_inc


@implements(SimProbe)
def sim_probe(op, ctx):
    return None  # marks a signal as read; probed values are collected after each step


@implements(SimNeurons)
def sim_neurons(op, ctx):
    lower = NEURONS.get(type(op.neurons))
    if lower is None:
        raise unsupported("has no JAX implementation of its neuron type", op)
    return lower(op, ctx)


@implements(SimProcess)
def sim_process(op, ctx):
    lower = PROCESSES.get(type(op.process))
    if lower is None:
        if op.input is not None:
            raise unsupported("has an input and no JAX implementation of its process", op)
        return ctx.host_input(op, op.output, inc=op.mode == "inc")
    f = lower(op, ctx)
    x_sig, out, mode = op.input, op.output, op.mode

    def step_process(s):
        y = f(s, None if x_sig is None else s[x_sig])
        if mode == "inc":
            s.inc(out, y)
        else:
            s[out] = y

    return step_process


@implements(SimPyFunc)
def sim_py_func(op, ctx):
    if op.x is not None:
        raise unsupported(
            "is a Python function of a network signal; it cannot be compiled", op
        )
    if op.output is None:
        raise unsupported("is a Python function without output (side effects only)", op)
    return ctx.host_input(op, op.output)


@implements_process(nengo.LinearFilter, nengo.Lowpass, nengo.Alpha)
def linear_filter(op, ctx):
    """The state-space step nengo's ``LinearFilter.make_step`` chooses, same
    arithmetic: no state (``y = d u``), one state (``X = a X + b u``), no
    passthrough, or the general form."""
    A, B, C, D = op.process._get_ss(ctx.dt)  # pylint: disable=protected-access
    X_sig = op.state.get("X")
    if A.size == 0:
        d = D.item()
        return lambda s, u: d * u
    extra = (1,) * (len(X_sig.shape) - 1)
    if len(A) == 1 and np.all(D == 0):
        a, b = A.item(), C.item() * B.item()

        def one_state(s, u):
            s[X_sig] = a * s[X_sig] + b * u
            return s[X_sig][0]

        return one_state
    A_, C_ = ctx.const(A), ctx.const(C)
    B_ = ctx.const(B.reshape((B.shape[0],) + extra))
    d = D.item()
    no_d = d == 0

    def dot(M, X):
        return jnp.tensordot(M, X, axes=[[1], [0]])

    def general(s, u):
        X = s[X_sig]
        if no_d:
            X = dot(s[A_], X) + s[B_] * u
            s[X_sig] = X
            return dot(s[C_], X)[0]
        y = dot(s[C_], X)[0] + d * u
        s[X_sig] = dot(s[A_], X) + s[B_] * u
        return y

    return general
