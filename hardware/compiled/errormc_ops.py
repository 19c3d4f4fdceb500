"""JAX implementations of errormc's own operators, neuron types and processes
(`errormc.networks.builder`, `errormc.networks.compartments`,
`errormc.networks.baselines.common`), each the arithmetic of its ``make_step``."""

import functools
import types

import numpy as np
import jax
import jax.numpy as jnp

from errormc.networks.baselines.common import OutputDrive, SimDelayedRate, SimReplace
from errormc.networks.builder import (
    SimIdentityDecay,
    SimPreviousStepRule,
    SimProspectiveRate,
    SimSomaticEuler,
    SimTransposeTracking,
)
from errormc.networks.compartments import Nudging, Product
from errormc.networks.neurons import Identity

from . import activations
from .registry import implements, implements_neurons, implements_process, unsupported

# --- neuron dynamics ---------------------------------------------------------------


@implements(SimProspectiveRate)
def prospective_rate(op, ctx):
    """``u_breve = u_hist + (tau/dt)(u - u_hist)``, ``r = phi(u_breve)`` (or
    ``phi(u)``), ``rho = phi'(u_breve)``, ``u_hist = u``."""
    (u,), (history,) = op.reads, op.updates
    rates, breve, rho = op.sets
    phi = activations.phi(op.neurons.activation)
    dphi = activations.dphi(op.neurons.activation)
    lookahead = (1.0 / op.neurons.conductance) / ctx.dt
    prospective = op.neurons.prospective

    def step_prospective_rate(s):
        u_now, u_hist = s[u], s[history]
        b = u_hist + lookahead * (u_now - u_hist)
        s[breve] = b
        s[rates] = phi(b if prospective else u_now)
        s[rho] = dphi(b)
        s[history] = u_now

    return step_prospective_rate


@implements(SimSomaticEuler)
def somatic_euler(op, ctx):
    """``u += dt (J - g_tot u)``."""
    (J,), (u,) = op.reads, op.updates
    dt, g = ctx.dt, op.conductance

    def step_somatic_euler(s):
        s[u] = s[u] + dt * (s[J] - g * s[u])

    return step_somatic_euler


@implements(SimDelayedRate)
def delayed_rate(op, ctx):
    """``r = phi(u)``, ``rho = phi'(u)``."""
    (u,), (rates, rho) = op.reads, op.sets
    phi = activations.phi(op.neurons.activation)
    dphi = activations.dphi(op.neurons.activation)

    def step_delayed_rate(s):
        s[rates] = phi(s[u])
        s[rho] = dphi(s[u])

    return step_delayed_rate


@implements(SimReplace)
def replace(op, ctx):
    """``u = J``."""
    (J,), (u,) = op.reads, op.updates

    def step_replace(s):
        s[u] = s[J]

    return step_replace


@implements_neurons(Identity)
def identity_neurons(op, ctx):
    """Rate equal to the input current."""
    J, out = op.J, op.output

    def step_identity(s):
        s[out] = s[J]

    return step_identity


# --- learning rules ------------------------------------------------------------------


def jax_twin(fn):
    """``fn`` with the numpy activation functions it closes over (or is bound to,
    for a ``functools.partial``) replaced by their JAX twins: the post terms of
    `SimPreviousStepRule` are such functions of an attenuation and an activation."""

    def twin(value):
        return activations.TWINS.get(value, value) if callable(value) else value

    if isinstance(fn, functools.partial):
        return functools.partial(jax_twin(fn.func), *map(twin, fn.args),
                                 **{k: twin(v) for k, v in fn.keywords.items()})
    if not isinstance(fn, types.FunctionType) or not fn.__closure__:
        return twin(fn)
    cells = tuple(types.CellType(twin(c.cell_contents)) for c in fn.__closure__)
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, cells)


@implements(SimPreviousStepRule)
def previous_step_rule(op, ctx):
    """``delta = dt eta m post(soma, dendrite_prev) pre_prev^T`` (0 when m = 0);
    then remember the dendrite and the presynaptic rates."""
    plasticity, dendrite, pre = op.reads[:3]
    soma = op.reads[3] if len(op.reads) > 3 else None
    delta, dendrite_prev, pre_prev = op.updates
    rate = ctx.dt * op.learning_rate
    post = jax_twin(op.post)
    try:
        jax.eval_shape(
            post,
            None if soma is None else jax.ShapeDtypeStruct(soma.shape, soma.dtype),
            jax.ShapeDtypeStruct(dendrite_prev.shape, dendrite_prev.dtype),
        )
    except Exception as e:  # numpy code that cannot be traced, or a wrong shape
        raise unsupported(f"post term {op.post!r} cannot be traced by JAX: {e}", op) from e

    def step_previous_step_rule(s):
        m = s[plasticity][0]
        term = (rate * m) * post(None if soma is None else s[soma], s[dendrite_prev])
        s[delta] = jnp.where(m != 0, jnp.outer(term, s[pre_prev]), 0.0)
        s[dendrite_prev] = s[dendrite]
        s[pre_prev] = s[pre]

    return step_previous_step_rule


@implements(SimTransposeTracking)
def transpose_tracking(op, ctx):
    """``delta = m ((I W I)^T + N - B)`` (0 when m = 0)."""
    plasticity, forward, backward = op.reads
    (delta,) = op.updates
    noise = ctx.const(op.noise)
    scale = op.scale
    rows = min(backward.shape[0], forward.shape[1])
    cols = min(backward.shape[1], forward.shape[0])

    def step_transpose_tracking(s):
        m = s[plasticity][0]
        shape = backward.shape
        top = s[forward].T[:rows, :cols]
        target = s[noise] + jnp.pad(top, ((0, shape[0] - rows), (0, shape[1] - cols)))
        if scale != 1.0:
            target = target * scale
        s[delta] = jnp.where(m != 0, m * (target - s[backward]), 0.0)

    return step_transpose_tracking


@implements(SimIdentityDecay)
def identity_decay(op, ctx):
    """``delta = -dt eta m (P - s I)``."""
    plasticity, weights = op.reads
    (delta,) = op.updates
    target = ctx.const(op.scale * np.eye(*weights.shape))
    rate = ctx.dt * op.learning_rate

    def step_identity_decay(s):
        s[delta] = (-rate * s[plasticity][0]) * (s[weights] - s[target])

    return step_identity_decay


# --- compartments (processes) ------------------------------------------------------------


@implements_process(Product)
def product(op, ctx):
    """``y = x[0:n] * x[n:2n] * ...``."""
    n, k = op.process.size, op.process.factors
    return lambda s, x: jnp.prod(x.reshape(k, n), axis=0)


@implements_process(Nudging)
def nudging(op, ctx):
    """``y = m rho (t - r)`` from ``x = [rho; t; r; m]``."""
    n = op.process.size
    return lambda s, x: x[-1] * (x[:n] * (x[n : 2 * n] - x[2 * n : 3 * n]))


@implements_process(OutputDrive)
def output_drive(op, ctx):
    """``J = m (g_bas b + g_ntgt t) + (1 - m) g_free b`` from ``x = [b; t; m]``,
    with the reference's exact branches for m = 1 and m = 0."""
    p = op.process
    n, g_bas, g_ntgt, free = p.size, p.g_bas, p.g_ntgt, p.free_gain

    def step_output_drive(s, x):
        m, b = x[-1], x[:n]
        nudged = g_bas * b + g_ntgt * x[n : 2 * n]
        mixed = m * nudged + (1 - m) * free * b
        return jnp.where(m == 1, nudged, jnp.where(m == 0, free * b, mixed))

    return step_output_drive
