"""JAX implementations of errormc's own operators and neuron types
(`errormc.networks.builder`), each the arithmetic of its ``make_step``: the same
operations in the same order, in float64, so that results equal the reference
simulator's (bitwise where the elementary functions agree).

Where a ``make_step`` branches on the plasticity switch (``m != 0``) or on a
nudging switch (``m == 1``, ``m == 0``), both branches are computed and the
right one selected with ``jnp.where``: the selected value is the one numpy
computes.
"""

import numpy as np
import jax.numpy as jnp

from errormc.networks import activations as np_activations
from errormc.networks.builder import (
    SimDelayedRate,
    SimIdentityDecay,
    SimNudging,
    SimPreviousStepRule,
    SimProduct,
    SimProspectiveRate,
    SimReplace,
    SimResetProspectiveRate,
    SimResetSomaticEuler,
    SimSomaticEuler,
    SimTargetDrive,
    SimTransposeTracking,
)
from errormc.networks.neurons import Identity

from . import activations
from .registry import implements, implements_neurons, unsupported

# --- somatic currents and neuron dynamics -----------------------------------------------


def soma_current(s, gains, inputs):
    """``J = g_1 x_1 + g_2 x_2 + ...``, summed in the order of the compartments."""
    current = s[inputs[0]] * gains[0]
    for g, x in zip(gains[1:], inputs[1:]):
        current = current + s[x] * g
    return current


def rate_function(neurons, ctx):
    """JAX twin of ``neurons.rate_function()``: ``f(s (x - o))`` for logistic and
    tanh, ``s f(x - o)`` for the others (MODEL.md 1.5); per-neuron slopes and
    offsets are constants of the program (members of a batch may differ)."""
    name = np_activations.canonical_name(neurons.activation)
    f = activations.phi(name)
    if neurons.slope is None and neurons.offset is None:
        return f
    slope = None if neurons.slope is None else ctx.const(np.asarray(neurons.slope, dtype=float))
    offset = None if neurons.offset is None else ctx.const(np.asarray(neurons.offset, dtype=float))

    def lookup(s, key, default):
        return default if key is None else s[key]

    if name in np_activations.INNER_SLOPE:
        return lambda s, x: f(lookup(s, slope, 1.0) * (x - lookup(s, offset, 0.0)))
    return lambda s, x: lookup(s, slope, 1.0) * f(x - lookup(s, offset, 0.0))


@implements(SimProspectiveRate)
def prospective_rate(op, ctx):
    """``u_breve = u_hist + (tau/dt)(u - u_hist)``, ``r = phi(u_breve)`` (or
    ``phi(u)``), ``rho = phi'(u_breve)``, ``u_hist = u``."""
    (u,), (history,) = op.reads, op.updates
    rates, breve, rho = op.sets
    rate, dphi, lookahead, prospective = _prospective_parts(op.neurons, ctx)

    def step_prospective_rate(s):
        u_now, u_hist = s[u], s[history]
        if prospective:
            b = (u_now - u_hist) * lookahead + u_hist
            x = b
        else:
            b = u_hist + lookahead * (u_now - u_hist)
            x = u_now
        s[breve] = b
        s[rates] = rate(s, x)
        s[rho] = dphi(b)
        s[history] = u_now

    return step_prospective_rate


def _prospective_parts(neurons, ctx):
    """``(rate(s, x), phi', tau/dt, prospective)`` of prospective rate neurons:
    the nominal phi, or the per-neuron slopes and offsets (`rate_function`)."""
    if neurons.slope is None and neurons.offset is None:
        phi = activations.phi(neurons.activation)

        def rate(s, x):  # noqa: ARG001 - the nominal phi reads no signal
            return phi(x)
    else:
        rate = rate_function(neurons, ctx)
    lookahead = (1.0 / neurons.conductance) / ctx.dt
    return rate, activations.dphi(neurons.activation), lookahead, neurons.prospective


@implements(SimSomaticEuler)
def somatic_euler(op, ctx):
    """``u += dt (J - g_tot u)``, ``J = sum_k g_k x_k``."""
    inputs, (u,) = op.reads, op.updates
    gains, g, dt = op.gains, op.conductance, ctx.dt
    single = len(inputs) == 1 and gains[0] == 1.0

    def step_somatic_euler(s):
        current = s[inputs[0]] if single else soma_current(s, gains, inputs)
        u_now = s[u]
        s[u] = u_now + (current - u_now * g) * dt

    return step_somatic_euler


@implements(SimResetProspectiveRate)
def reset_prospective_rate(op, ctx):
    """`prospective_rate` on the reset voltage ``u~ = (1 - m_r) u``:
    ``h = (1 - m_r) u_hist`` (if the history resets, else ``u_hist``),
    ``u_breve = h + (tau/dt)(u~ - h)``, ``r = phi(u_breve)`` (or ``phi(u~)``),
    ``rho = phi'(u_breve)``, ``u_hist = u~``; ``m_r`` is this step's row of the
    reset switch."""
    (u, reset), (history,) = op.reads, op.updates
    rates, breve, rho = op.sets
    rate, dphi, lookahead, prospective = _prospective_parts(op.neurons, ctx)
    reset_history = op.reset_history

    def step_reset_prospective_rate(s):
        keep = 1.0 - s[reset][0]
        soma = keep * s[u]
        h = keep * s[history] if reset_history else s[history]
        b = h + lookahead * (soma - h)
        x = b if prospective else soma
        s[breve] = b
        s[rates] = rate(s, x)
        s[rho] = dphi(b)
        s[history] = soma

    return step_reset_prospective_rate


@implements(SimResetSomaticEuler)
def reset_somatic_euler(op, ctx):
    """``u~ = (1 - m_r) u``, ``u = u~ + dt (J - g_tot u~)``, ``J = sum_k g_k x_k``."""
    (reset, *inputs), (u,) = op.reads, op.updates
    gains, g, dt = op.gains, op.conductance, ctx.dt
    single = len(inputs) == 1 and gains[0] == 1.0

    def step_reset_somatic_euler(s):
        current = s[inputs[0]] if single else soma_current(s, gains, inputs)
        v = (1.0 - s[reset][0]) * s[u]
        s[u] = v + dt * (current - g * v)

    return step_reset_somatic_euler


@implements(SimDelayedRate)
def delayed_rate(op, ctx):
    """``r = phi(u)``, ``rho = phi'(u)`` (nominal phi, as the operator)."""
    (u,), (rates, rho) = op.reads, op.sets
    phi = activations.phi(op.neurons.activation)
    dphi = activations.dphi(op.neurons.activation)

    def step_delayed_rate(s):
        s[rates] = phi(s[u])
        s[rho] = dphi(s[u])

    return step_delayed_rate


@implements(SimReplace)
def replace(op, ctx):
    """``u = J``, ``J = sum_k g_k x_k``."""
    inputs, (u,) = op.reads, op.updates
    gains = op.gains

    def step_replace(s):
        s[u] = soma_current(s, gains, inputs)

    return step_replace


@implements_neurons(Identity)
def identity_neurons(op, ctx):
    """Rate equal to the input current."""
    J, out = op.J, op.output

    def step_identity(s):
        s[out] = s[J]

    return step_identity


# --- compartments -------------------------------------------------------------------------


@implements(SimProduct)
def product(op, ctx):
    """``d = x * y``."""
    (x, y), (d,) = op.reads, op.sets

    def step_product(s):
        s[d] = s[x] * s[y]

    return step_product


@implements(SimNudging)
def nudging(op, ctx):
    """``n = m (rho * (t - r))``."""
    (rho, t, r, m), (out,) = op.reads, op.sets

    def step_nudging(s):
        s[out] = s[m][0] * (s[rho] * (s[t] - s[r]))

    return step_nudging


@implements(SimTargetDrive)
def target_drive(op, ctx):
    """``J = m (g_bas b + g_ntgt t) + (1 - m) g_f b``, with the operator's exact
    branches for m = 1 and m = 0."""
    (b, t, switch), (out,) = op.reads, op.sets
    g_bas, g_ntgt, free = op.g_bas, op.g_ntgt, op.free_gain

    def step_target_drive(s):
        m, basal = s[switch][0], s[b]
        nudged = g_bas * basal + g_ntgt * s[t]
        free_drive = free * basal
        mixed = m * nudged + (1 - m) * free * basal
        s[out] = jnp.where(m == 1, nudged, jnp.where(m == 0, free_drive, mixed))

    return step_target_drive


# --- learning rules ------------------------------------------------------------------------


def block_slices(blocks, shapes, op):
    """Each block's ``(start, stop)`` of rows and of columns in the matrices of
    ``shapes`` (the operator takes views: contiguous slices)."""
    out = []
    for block in blocks:
        bounds = []
        for index, n in zip(block, [dim for shape in shapes for dim in shape]):
            if not isinstance(index, slice) or index.indices(n)[2] != 1:
                raise unsupported(f"has a block index {index!r} that is not a contiguous slice", op)
            start, stop, _ = index.indices(n)
            bounds.append((start, max(start, stop)))
        out.append(bounds)
    return out


def is_whole(blocks):
    return len(blocks) == 1 and tuple(blocks[0][:2]) == (slice(None), slice(None))


@implements(SimPreviousStepRule)
def previous_step_rule(op, ctx):
    """``delta[R, C] = outer((dt eta m) post[R], pre_prev[C])`` per block (0 when
    m = 0 and outside the blocks); then remember the dendrite and the presynaptic
    rates.

    Each block is written into zeros by a scatter, later blocks over earlier ones
    as the operator writes them (measured: faster for one network than a full
    matrix of rates and a mask, and as fast in a batch).
    """
    plasticity, dendrite, pre = op.reads[:3]
    soma = op.reads[3] if len(op.reads) > 3 else None
    delta, dendrite_prev, pre_prev = op.updates
    shape = tuple(delta.shape)
    whole = is_whole(op.blocks)
    blocks = [(rows, cols, ctx.dt * eta) for (rows, cols), (_, _, eta)
              in zip(block_slices(op.blocks, [shape], op), op.blocks)]
    c, kind = op.attenuation, op.post
    phi = activations.phi(op.activation) if kind == "rate" else None

    def post_term(s):
        if kind == "voltage":
            return s[soma] - c * s[dendrite_prev]
        if kind == "rate":
            return phi(s[soma]) - phi(c * s[dendrite_prev])
        return -s[dendrite_prev]

    def step_previous_step_rule(s):
        m = s[plasticity][0]
        post, pre_rates = post_term(s), s[pre_prev]
        if whole:
            ((_, _, rate),) = blocks
            new = ((rate * m) * post)[:, None] * pre_rates[None, :]
        else:
            new = jnp.zeros(shape)
            for (r0, r1), (c0, c1), rate in blocks:
                block = ((rate * m) * post[r0:r1])[:, None] * pre_rates[None, c0:c1]
                new = new.at[r0:r1, c0:c1].set(block)
        s[delta] = jnp.where(m != 0, new, 0.0)
        s[dendrite_prev] = s[dendrite]
        s[pre_prev] = s[pre]

    return step_previous_step_rule


@implements(SimTransposeTracking)
def transpose_tracking(op, ctx):
    """``delta[R, C] = m (s (N[R, C] + (I W[R', C'] I)^T) - B[R, C])`` per tracked
    block (0 when m = 0 and outside the blocks).

    The tracked blocks are one gather of W's entries (a constant index of the
    entry of W each entry of B follows, if any) and a mask of the entries they
    cover: entry (i, j) is ``m (s (N_ij + W_kl) - B_ij)``, the operator's
    arithmetic (``N_ij`` alone where the cropped transpose does not reach).
    """
    plasticity, forward, backward = op.reads
    (delta,) = op.updates
    scale = op.scale
    shape = tuple(delta.shape)
    noise = np.array(op.noise, dtype=float)
    source = np.zeros(shape, dtype=np.int64)  # flat index into W
    follows = np.zeros(shape, dtype=bool)  # entries of B that follow an entry of W
    mask = np.zeros(shape, dtype=bool)  # entries of B in a tracked block
    flat = np.arange(int(np.prod(forward.shape))).reshape(forward.shape)
    for rows, cols, w_rows, w_cols in block_slices(
            op.blocks, [tuple(backward.shape), tuple(forward.shape)], op):
        (r0, r1), (c0, c1) = rows, cols
        WT = flat[w_rows[0]:w_rows[1], w_cols[0]:w_cols[1]].T
        r, c = min(r1 - r0, WT.shape[0]), min(c1 - c0, WT.shape[1])
        mask[r0:r1, c0:c1] = True
        follows[r0:r1, c0:c1] = False
        follows[r0:r0 + r, c0:c0 + c] = True
        source[r0:r1, c0:c1] = 0
        source[r0:r0 + r, c0:c0 + c] = WT[:r, :c]
    noise = ctx.const(np.where(mask, noise, 0.0))

    def step_transpose_tracking(s):
        m = s[plasticity][0]
        tracked = s[forward].reshape(-1)[source]
        target = jnp.where(follows, s[noise] + tracked, s[noise])
        if scale != 1.0:
            target = target * scale
        s[delta] = jnp.where((m != 0) & mask, m * (target - s[backward]), 0.0)

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
