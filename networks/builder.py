"""Builders and operators of the rate microcircuits, registered with nengo's `Builder`.

Importing this module registers them; `errormc.networks` imports it.

A built rate network consists of nengo's own operators and the twelve operators below,
the model's equations. nengo's are: ``Reset`` of a summing compartment (a
`.Dendrite`, a `.DendriteStack`, the input of a `.Population` without
compartments), one ``DotInc`` / ``ElementwiseInc`` / ``Copy`` per `.Projection`
(``post += W pre``, ``post += w * pre``, ``post += pre``), the ``Copy`` that adds a
learning rule's delta to its weights at the start of the next step, a ``Copy`` into
a `.Stack` from a member built before it (none in the networks here), dPC's
one-step delay (a ``SimProcess`` of a ``LinearFilter`` synapse), and the input,
probe and time operators. Each operator here is a plain
`nengo.builder.Operator` with declared sets/incs/reads/updates; ``m`` is the
plasticity switch of a rule (``delta = 0`` where ``m = 0``), ``m_t`` the nudging
switch, ``m_r`` a soma reset switch, ``dt`` the time step. A compiled engine
implements these and nengo's ``Reset``, ``Copy``, ``DotInc``, ``ElementwiseInc``,
``TimeUpdate`` (plus, for dPC, the delay filter).

========================  ===================================================================
operator                  equation (per step)
========================  ===================================================================
`SimProspectiveRate`      ``u_breve = u_hist + (tau/dt)(u - u_hist)``, ``r = phi(u_breve)``
                          (``phi(u)`` if not prospective), ``rho = phi'(u_breve)``; ``u_hist = u``
`SimSomaticEuler`         ``u += dt (J - g_tot u)``, ``J = sum_k g_k x_k``
`SimResetProspectiveRate` `SimProspectiveRate` on ``u~ = (1 - m_r) u`` (and ``u_hist~ =
                          (1 - m_r) u_hist`` if the history resets too); ``u_hist = u~``
`SimResetSomaticEuler`    ``u~ = (1 - m_r) u``, ``u = u~ + dt (J - g_tot u~)``
`SimDelayedRate`          ``r = phi(u)``, ``rho = phi'(u)``
`SimReplace`              ``u = J``, ``J = sum_k g_k x_k``
`SimProduct`              ``d = x * y`` (the phi' gate of hidden error units)
`SimNudging`              ``n = m_t (rho * (t - r))`` (output error drive, rate target)
`SimTargetDrive`          ``J = m_t (g_bas b + g_ntgt t) + (1 - m_t) g_f b`` (voltage target)
`SimPreviousStepRule`     ``delta[R, C] = outer((dt eta m) post[R], pre_prev[C])`` per block
                          ``(R, C, eta)``, 0 elsewhere; then ``x_prev = x``, ``pre_prev = pre``;
                          ``post = u_breve - c x_prev`` ("voltage"),
                          ``phi(u_breve) - phi(c x_prev)`` ("rate") or ``-x_prev`` ("silencing")
`SimTransposeTracking`    ``delta[R, C] = m (s (N[R, C] + (I W[R', C'] I)^T) - B[R, C])`` per
                          tracked block ``(R, C, R', C')``, 0 elsewhere
`SimIdentityDecay`        ``delta = -dt eta m (P - s I)``
========================  ===================================================================

Every operator holds only signals, numbers, slices and neuron types, so a built
simulator pickles.
"""

import numpy as np
from nengo.builder import Builder, Operator, Signal
from nengo.builder.connection import BuiltConnection, slice_signal
from nengo.builder.ensemble import BuiltEnsemble
from nengo.builder.neurons import build_neurons
from nengo.builder.operator import Copy, DotInc, ElementwiseInc, Reset
from nengo.base import ObjView
from nengo.exceptions import BuildError
from nengo.connection import LearningRule
from nengo.ensemble import Neurons
from nengo.transforms import NoTransform

from . import activations
from .compartments import (
    Compartment,
    Dendrite,
    DendriteStack,
    Gate,
    Nudging,
    Population,
    Projection,
    Stack,
    TargetDrive,
)
from .learning_rules import DendriticPrediction, IdentityDecay, TransposeTracking
from .neurons import DelayedRate, Identity, ProspectiveRate

# --- operators ----------------------------------------------------------------------


def _soma_steps(gains, inputs, step_1, step_2, step_n):
    """The step function for ``J = g_1 x_1 + g_2 x_2 + ...`` (summed in the order the
    compartments are given): ``step_1(x_1)`` for one input with g = 1,
    ``step_2(g_1, x_1, g_2, x_2)`` for two, ``step_n(current)`` otherwise."""
    if len(inputs) == 1 and gains[0] == 1.0:
        return step_1(inputs[0])
    if len(inputs) == 2:
        return step_2(gains[0], inputs[0], gains[1], inputs[1])

    def current():
        J = gains[0] * inputs[0]
        for g, x in zip(gains[1:], inputs[1:]):
            J = J + g * x
        return J

    return step_n(current)


class SimProspectiveRate(Operator):
    """Rates and derivatives from the prospective voltage; history update.

    Implements ``u_breve = u_hist + (tau/dt)(u - u_hist)``, ``r = phi(u_breve)``
    (``phi(u)`` if not prospective), ``rho = phi'(u_breve)``, then ``u_hist = u``.

    1. sets ``[rates, prospective, derivative]``
    2. incs ``[]``
    3. reads ``[voltage]``
    4. updates ``[history]``
    """

    def __init__(self, neurons, voltage, history, rates, prospective, derivative, tag=None):
        super().__init__(tag=tag)
        self.neurons = neurons
        self.sets = [rates, prospective, derivative]
        self.incs = []
        self.reads = [voltage]
        self.updates = [history]

    def make_step(self, signals, dt, rng):
        u = signals[self.reads[0]]
        history = signals[self.updates[0]]
        rates, breve, rho = (signals[s] for s in self.sets)
        activation = self.neurons.activation
        # rates take the per-neuron slopes and offsets, derivatives stay nominal
        # (MODEL.md 1.5); without variability both come from one fused call
        phi, dphi = self.neurons.rate_function(), activations.dphi(activation)
        if self.neurons.slope is None and self.neurons.offset is None:
            phi_dphi = activations.phi_dphi(activation)
        else:
            def phi_dphi(x):
                return phi(x), dphi(x)
        lookahead = (1.0 / self.neurons.conductance) / dt

        def step_prospective_rate():
            breve[...] = history + lookahead * (u - history)
            rates[...], rho[...] = phi_dphi(breve)
            history[...] = u

        def step_nonprospective_rate():
            breve[...] = history + lookahead * (u - history)
            rates[...] = phi(u)
            rho[...] = dphi(breve)
            history[...] = u

        return step_prospective_rate if self.neurons.prospective else step_nonprospective_rate


class _SomaticUpdate(Operator):
    """A voltage update from the somatic current ``J = sum_k g_k x_k``.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[x_1, x_2, ...]``
    4. updates ``[voltage]``
    """

    def __init__(self, inputs, gains, voltage, tag=None):
        super().__init__(tag=tag)
        self.gains = tuple(float(g) for g in gains)
        self.sets = []
        self.incs = []
        self.reads = list(inputs)
        self.updates = [voltage]


class SimSomaticEuler(_SomaticUpdate):
    """Forward-Euler step of a leaky soma: ``u += dt (J - g_tot u)``, ``J = sum_k g_k x_k``.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[x_1, x_2, ...]``
    4. updates ``[voltage]``
    """

    def __init__(self, inputs, gains, voltage, conductance, tag=None):
        super().__init__(inputs, gains, voltage, tag=tag)
        self.conductance = conductance

    def make_step(self, signals, dt, rng):
        inputs = [signals[s] for s in self.reads]
        u = signals[self.updates[0]]
        gains = self.gains
        g = self.conductance

        def one(x):
            def step_somatic_euler():
                u[...] = u + dt * (x - g * u)

            return step_somatic_euler

        def two(g1, x1, g2, x2):
            def step_somatic_euler():
                u[...] = u + dt * ((g1 * x1 + g2 * x2) - g * u)

            return step_somatic_euler

        def many(current):
            def step_somatic_euler():
                u[...] = u + dt * (current() - g * u)

            return step_somatic_euler

        return _soma_steps(gains, inputs, one, two, many)


class SimResetProspectiveRate(Operator):
    """`SimProspectiveRate` of a soma that restarts from 0 where the reset switch is 1.

    Implements, with the reset switch ``m_r`` (one element) and the voltage read as
    ``u~ = (1 - m_r) u`` (`SimResetSomaticEuler` resets ``u`` itself):
    ``h = (1 - m_r) u_hist`` if ``reset_history`` else ``u_hist``,
    ``u_breve = h + (tau/dt)(u~ - h)``, ``r = phi(u_breve)`` (``phi(u~)`` if not
    prospective), ``rho = phi'(u_breve)``, then ``u_hist = u~``.

    1. sets ``[rates, prospective, derivative]``
    2. incs ``[]``
    3. reads ``[voltage, reset]``
    4. updates ``[history]``
    """

    def __init__(self, neurons, voltage, reset, history, rates, prospective, derivative,
                 reset_history=False, tag=None):
        super().__init__(tag=tag)
        self.neurons = neurons
        self.reset_history = bool(reset_history)
        self.sets = [rates, prospective, derivative]
        self.incs = []
        self.reads = [voltage, reset]
        self.updates = [history]

    def make_step(self, signals, dt, rng):
        u, reset = (signals[s] for s in self.reads)
        history = signals[self.updates[0]]
        rates, breve, rho = (signals[s] for s in self.sets)
        phi, dphi = self.neurons.rate_function(), activations.dphi(self.neurons.activation)
        lookahead = (1.0 / self.neurons.conductance) / dt
        prospective, reset_history = self.neurons.prospective, self.reset_history

        def step_reset_prospective_rate():
            keep = 1.0 - reset[0]
            soma = keep * u
            if reset_history:
                history[...] = keep * history
            breve[...] = history + lookahead * (soma - history)
            rates[...] = phi(breve if prospective else soma)
            rho[...] = dphi(breve)
            history[...] = soma

        return step_reset_prospective_rate


class SimResetSomaticEuler(Operator):
    """`SimSomaticEuler` from the reset voltage: ``u~ = (1 - m_r) u``,
    ``u = u~ + dt (J - g_tot u~)``, ``J = sum_k g_k x_k``.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[reset, x_1, x_2, ...]``
    4. updates ``[voltage]``
    """

    def __init__(self, reset, inputs, gains, voltage, conductance, tag=None):
        super().__init__(tag=tag)
        self.gains = tuple(float(g) for g in gains)
        self.conductance = conductance
        self.sets = []
        self.incs = []
        self.reads = [reset] + list(inputs)
        self.updates = [voltage]

    def make_step(self, signals, dt, rng):
        reset, *inputs = (signals[s] for s in self.reads)
        u = signals[self.updates[0]]
        g = self.conductance

        def one(x):
            def step_reset_somatic_euler():
                v = (1.0 - reset[0]) * u
                u[...] = v + dt * (x - g * v)

            return step_reset_somatic_euler

        def two(g1, x1, g2, x2):
            def step_reset_somatic_euler():
                v = (1.0 - reset[0]) * u
                u[...] = v + dt * ((g1 * x1 + g2 * x2) - g * v)

            return step_reset_somatic_euler

        def many(current):
            def step_reset_somatic_euler():
                v = (1.0 - reset[0]) * u
                u[...] = v + dt * (current() - g * v)

            return step_reset_somatic_euler

        return _soma_steps(self.gains, inputs, one, two, many)


class SimDelayedRate(Operator):
    """``r = phi(u)``, ``rho = phi'(u)``.

    1. sets ``[rates, derivative]``
    2. incs ``[]``
    3. reads ``[voltage]``
    4. updates ``[]``
    """

    def __init__(self, neurons, voltage, rates, derivative, tag=None):
        super().__init__(tag=tag)
        self.neurons = neurons
        self.sets = [rates, derivative]
        self.incs = []
        self.reads = [voltage]
        self.updates = []

    def make_step(self, signals, dt, rng):
        u = signals[self.reads[0]]
        rates, rho = (signals[s] for s in self.sets)
        phi = activations.phi(self.neurons.activation)
        dphi = activations.dphi(self.neurons.activation)

        def step_delayed_rate():
            rates[...] = phi(u)
            rho[...] = dphi(u)

        return step_delayed_rate


class SimReplace(_SomaticUpdate):
    """``u = J``, ``J = sum_k g_k x_k`` (the full-replacement step of the ANN).

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[x_1, x_2, ...]``
    4. updates ``[voltage]``
    """

    def make_step(self, signals, dt, rng):
        inputs = [signals[s] for s in self.reads]
        u = signals[self.updates[0]]

        def one(x):
            def step_replace():
                u[...] = x

            return step_replace

        def two(g1, x1, g2, x2):
            def step_replace():
                u[...] = g1 * x1 + g2 * x2

            return step_replace

        def many(current):
            def step_replace():
                u[...] = current()

            return step_replace

        return _soma_steps(self.gains, inputs, one, two, many)


class SimProduct(Operator):
    """``d = x * y`` (elementwise; the phi' gate ``d = (P rho) * (B eps)``).

    1. sets ``[d]``
    2. incs ``[]``
    3. reads ``[x, y]``
    4. updates ``[]``
    """

    def __init__(self, x, y, d, tag=None):
        super().__init__(tag=tag)
        self.sets = [d]
        self.incs = []
        self.reads = [x, y]
        self.updates = []

    def make_step(self, signals, dt, rng):
        x, y = (signals[s] for s in self.reads)
        d = signals[self.sets[0]]

        def step_product():
            np.multiply(x, y, out=d)

        return step_product


class SimNudging(Operator):
    """``n = m (rho * (t - r))``: the output error drive of a rate target.

    1. sets ``[n]``
    2. incs ``[]``
    3. reads ``[rho, t, r, m]``
    4. updates ``[]``
    """

    def __init__(self, derivative, target, rates, switch, out, tag=None):
        super().__init__(tag=tag)
        self.sets = [out]
        self.incs = []
        self.reads = [derivative, target, rates, switch]
        self.updates = []

    def make_step(self, signals, dt, rng):
        rho, t, r, m = (signals[s] for s in self.reads)
        out = signals[self.sets[0]]

        def step_nudging():
            out[...] = m[0] * (rho * (t - r))

        return step_nudging


class SimTargetDrive(Operator):
    """``J = m (g_bas b + g_ntgt t) + (1 - m) g_f b``: the drive of an output soma
    nudged towards a voltage target (``m = 1``: ``g_bas b + g_ntgt t``; ``m = 0``:
    ``g_f b``).

    1. sets ``[J]``
    2. incs ``[]``
    3. reads ``[b, t, m]``
    4. updates ``[]``
    """

    def __init__(self, basal, target, switch, out, g_bas, g_ntgt, free_gain, tag=None):
        super().__init__(tag=tag)
        self.g_bas, self.g_ntgt, self.free_gain = g_bas, g_ntgt, free_gain
        self.sets = [out]
        self.incs = []
        self.reads = [basal, target, switch]
        self.updates = []

    def make_step(self, signals, dt, rng):
        b, t, switch = (signals[s] for s in self.reads)
        out = signals[self.sets[0]]
        g_bas, g_ntgt, free = self.g_bas, self.g_ntgt, self.free_gain

        def step_target_drive():
            m = switch[0]
            if m == 1:
                out[...] = g_bas * b + g_ntgt * t
            elif m == 0:
                out[...] = free * b
            else:
                out[...] = m * (g_bas * b + g_ntgt * t) + (1 - m) * free * b

        return step_target_drive


#: postsynaptic terms of `SimPreviousStepRule`
POST_TERMS = ("voltage", "rate", "silencing")


class SimPreviousStepRule(Operator):
    """``delta[R, C] = outer((dt eta m) post[R], pre_prev[C])`` for each block
    ``(R, C, eta)`` (0 elsewhere); then remember the dendrite and the presynaptic
    rates for the next step.

    The shared form of the dendritic rules (MODEL.md 1.8, 2.1): the update of step
    k pairs a postsynaptic term built from the dendrite of step k-1 (and, where the
    rule has one, the current somatic term ``u_breve``) with the presynaptic rate
    of step k-1:

    * ``"voltage"``: ``post = u_breve - c x_prev``;
    * ``"rate"``: ``post = phi(u_breve) - phi(c x_prev)``;
    * ``"silencing"``: ``post = -x_prev`` (no soma).

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[plasticity, dendrite, pre] (+ [soma])``
    4. updates ``[delta, dendrite_prev, pre_prev]``
    """

    def __init__(self, plasticity, dendrite, pre, delta, dendrite_prev, pre_prev, blocks,
                 post="voltage", attenuation=0.0, activation=None, soma=None, tag=None):
        super().__init__(tag=tag)
        if post not in POST_TERMS:
            raise BuildError(f"post term {post!r}; choose from {', '.join(POST_TERMS)}")
        if (soma is None) != (post == "silencing"):
            raise BuildError(f"post term {post!r} {'needs' if soma is None else 'takes no'} soma")
        self.blocks = tuple(blocks)
        self.post = post
        self.attenuation = attenuation
        self.activation = activation
        self.sets = []
        self.incs = []
        self.reads = [plasticity, dendrite, pre] + ([] if soma is None else [soma])
        self.updates = [delta, dendrite_prev, pre_prev]

    def make_step(self, signals, dt, rng):
        plasticity, dendrite, pre = (signals[s] for s in self.reads[:3])
        soma = signals[self.reads[3]] if len(self.reads) > 3 else None
        delta, dendrite_prev, pre_prev = (signals[s] for s in self.updates)
        # views into the signals, valid for the simulator's life (reset is in place)
        blocks = [
            (rows, pre_prev[cols][None, :], delta[rows, cols], dt * eta)
            for rows, cols, eta in self.blocks
        ]
        whole = len(blocks) == 1 and self.blocks[0][:2] == (slice(None), slice(None))
        c = self.attenuation
        kind = self.post
        phi = activations.phi(self.activation) if kind == "rate" else None

        def post_term():
            if kind == "voltage":
                return soma - c * dendrite_prev
            if kind == "rate":
                return phi(soma) - phi(c * dendrite_prev)
            return -dendrite_prev

        def step_previous_step_rule():
            m = plasticity[0]
            if m != 0:
                post = post_term()
                if not whole:
                    delta[...] = 0
                for rows, pre_row, delta_block, rate in blocks:
                    # np.outer, without its Python-level reshaping
                    np.multiply(((rate * m) * post[rows])[:, None], pre_row, out=delta_block)
            else:
                delta[...] = 0
            dendrite_prev[...] = dendrite
            pre_prev[...] = pre

        return step_previous_step_rule


class SimTransposeTracking(Operator):
    """``delta[R, C] = m (s (N[R, C] + (I W[R', C'] I)^T) - B[R, C])`` for each
    tracked block ``(R, C, R', C')`` (0 elsewhere): B becomes the noisy transpose of W.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[plasticity, forward, backward]``
    4. updates ``[delta]``
    """

    def __init__(self, plasticity, forward, backward, delta, noise, blocks, scale=1.0, tag=None):
        super().__init__(tag=tag)
        self.noise = noise
        self.blocks = tuple(blocks)
        self.scale = scale
        self.sets = []
        self.incs = []
        self.reads = [plasticity, forward, backward]
        self.updates = [delta]

    def make_step(self, signals, dt, rng):
        plasticity, forward, backward = (signals[s] for s in self.reads)
        delta = signals[self.updates[0]]
        scale = self.scale
        whole = len(self.blocks) == 1 and self.blocks[0][:2] == (slice(None), slice(None))
        # views into the signals, valid for the simulator's life (reset is in place)
        blocks = []
        for rows, cols, w_rows, w_cols in self.blocks:
            B, W = backward[rows, cols], forward[w_rows, w_cols]
            r, c = min(B.shape[0], W.shape[1]), min(B.shape[1], W.shape[0])
            full = (r, c) == B.shape
            blocks.append((B, W.T[:r, :c], self.noise[rows, cols], delta[rows, cols], r, c, full))

        def step_transpose_tracking():
            m = plasticity[0]
            if m != 0:
                if not whole:
                    delta[...] = 0
                for B, WT, noise, delta_block, r, c, full in blocks:
                    if full:
                        target = noise + WT
                    else:
                        target = noise.copy()
                        target[:r, :c] += WT
                    if scale != 1.0:
                        target *= scale
                    delta_block[...] = m * (target - B)
            else:
                delta[...] = 0

        return step_transpose_tracking


class SimIdentityDecay(Operator):
    """``delta = -dt eta m (P - s I)``.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[plasticity, weights]``
    4. updates ``[delta]``
    """

    def __init__(self, plasticity, weights, delta, learning_rate, scale, tag=None):
        super().__init__(tag=tag)
        self.learning_rate = learning_rate
        self.scale = scale
        self.sets = []
        self.incs = []
        self.reads = [plasticity, weights]
        self.updates = [delta]

    def make_step(self, signals, dt, rng):
        plasticity, weights = (signals[s] for s in self.reads)
        delta = signals[self.updates[0]]
        target = self.scale * np.eye(*weights.shape)
        rate = dt * self.learning_rate

        def step_identity_decay():
            delta[...] = (-rate * plasticity[0]) * (weights - target)

        return step_identity_decay


# --- signals shared between builders -------------------------------------------------


def _initial_state(ens, key):
    """Initial value of the state ``key`` of ``ens``'s neurons (zeros if unknown)."""
    if isinstance(ens, Stack):
        return np.concatenate([_initial_state(m, key) for m in ens.members])
    initial = getattr(ens.neuron_type, "initial_state", None)
    state = initial(ens.n_neurons) if initial is not None else {}
    return np.array(state.get(key, np.zeros(ens.n_neurons)), dtype=float)


def initial_rates(ens):
    """The rates a population holds before its first step: ``phi(u0)`` for a somatic
    unit, 0 otherwise (the input area)."""
    if isinstance(ens, Stack):
        return np.concatenate([initial_rates(m) for m in ens.members])
    ntype = ens.neuron_type
    if hasattr(ntype, "activation") and hasattr(ntype, "initial_voltages"):
        return ntype.rate_function()(ntype.initial_voltages(ens.n_neurons))
    return np.zeros(ens.n_neurons)


def state_signal(model, ens, key):
    """The signal ``key`` (``"out"``, ``"prospective"``, ...) of ``ens.neurons``.

    Created here, with the state's initial value, if ``ens`` is not built yet; its
    builder then takes it over, so that a reader built first (a `.Stack`, a soma
    reading another population) needs no copy.
    """
    sig = model.sig[ens.neurons]
    if key not in sig:
        sig[key] = Signal(_initial_state(ens, key), name=f"{ens.neurons}.{key}")
    return sig[key]


def compartment_signal(model, obj):
    """The value of a `.Compartment` (created on first use; a `.Dendrite` is reset
    each step and sums what projects into it)."""
    sig = model.sig[obj]
    if "out" not in sig:
        x = Signal(shape=obj.size_out, name=f"{obj}.x")
        sig["in"] = sig["out"] = x
        if isinstance(obj, Dendrite):
            model.add_op(Reset(x))
    return sig["out"]


def node_output(model, obj):
    """Output signal of a built Node (or a slice of one)."""
    node, sl = (obj.obj, obj.slice) if isinstance(obj, ObjView) else (obj, slice(None))
    if "out" not in model.sig[node]:
        raise BuildError(f"{obj}: must be built before the objects that read it")
    return slice_signal(model, model.sig[node]["out"], sl)


def source_signal(model, obj):
    """What a soma, gate or drive reads from ``obj``."""
    if isinstance(obj, Compartment):
        return compartment_signal(model, obj)
    if isinstance(obj, Stack) and len(obj.members) == 1:
        return state_signal(model, obj.members[0], obj.state)
    if isinstance(obj, Nudging):
        return state_signal(model, obj, "out")
    return node_output(model, obj)


def soma_inputs(model, neurons):
    """``(signals, conductances)`` of the somatic current ``J = sum_k g_k x_k``."""
    ens = neurons.ensemble
    if isinstance(ens, Population) and ens.inputs:
        return [source_signal(model, obj) for obj, _ in ens.inputs], [g for _, g in ens.inputs]
    return [model.sig[neurons]["in"]], [1.0]


def _built_units(n):
    return BuiltEnsemble(
        eval_points=None,
        encoders=None,
        intercepts=None,
        max_rates=None,
        scaled_encoders=None,
        gain=np.ones(n),
        bias=np.zeros(n),
    )


# --- populations and compartments ---------------------------------------------------


@Builder.register(Population)
def build_population(model, pop):
    """Rates and the neuron type's state; no encoders, gain or bias."""
    if pop.reset is not None and not isinstance(pop.neuron_type, ProspectiveRate):
        raise BuildError(f"{pop}: only ProspectiveRate somas have a reset, not "
                         f"{type(pop.neuron_type).__name__}")
    sig = model.sig[pop.neurons]
    state_signal(model, pop, "out")
    if not pop.inputs:
        # without compartments J is the sum of the projections into the neurons;
        # an identity unit's rate *is* that sum
        identity = isinstance(pop.neuron_type, Identity)
        sig["in"] = sig["out"] if identity else Signal(shape=pop.n_neurons, name=f"{pop}.J")
        model.add_op(Reset(sig["in"]))
    model.build(pop.neuron_type, pop.neurons)
    model.params[pop] = _built_units(pop.n_neurons)


@Builder.register(Stack)
def build_stack(model, stack):
    """Alias (one member) or views into one signal (members built after the stack);
    a member built before the stack is copied in each step."""
    key = stack.state
    if len(stack.members) == 1:
        out = state_signal(model, stack.members[0], key)
    else:
        out = Signal(_initial_state(stack, key), name=f"{stack}.{key}")
        o = stack.offsets()
        for member, start, stop in zip(stack.members, o[:-1], o[1:]):
            sig = model.sig[member.neurons]
            if key in sig:
                model.add_op(Copy(sig[key], out, dst_slice=slice(start, stop)))
            else:
                sig[key] = out[start:stop]
    model.sig[stack.neurons]["out"] = out
    model.sig[stack.neurons][key] = out
    model.params[stack] = _built_units(stack.n_neurons)


@Builder.register(Dendrite)
def build_dendrite(model, dendrite):
    compartment_signal(model, dendrite)
    model.params[dendrite] = None


@Builder.register(DendriteStack)
def build_dendrite_stack(model, stack):
    """One summed signal whose slices are the members' values (members built after
    the stack); a member built before it receives its slice by a copy."""
    x = Signal(shape=stack.size_in, name=f"{stack}.x")
    model.add_op(Reset(x))
    o = stack.offsets()
    for member, start, stop in zip(stack.members, o[:-1], o[1:]):
        if not isinstance(member, Dendrite):
            raise BuildError(f"{stack}: member {member} is not a Dendrite")
        sig = model.sig[member]
        if "in" in sig:
            model.add_op(Copy(x, sig["in"], src_slice=slice(start, stop), inc=True))
        else:
            sig["in"] = sig["out"] = x[start:stop]
    model.sig[stack]["in"] = model.sig[stack]["out"] = x
    model.params[stack] = None


@Builder.register(Gate)
def build_gate(model, gate):
    x, y = source_signal(model, gate.x), source_signal(model, gate.y)
    if x.shape != y.shape:
        raise BuildError(f"{gate}: factors of shapes {x.shape} and {y.shape}")
    model.add_op(SimProduct(x, y, compartment_signal(model, gate), tag=f"{gate}.product"))
    model.params[gate] = None


@Builder.register(TargetDrive)
def build_target_drive(model, drive):
    model.add_op(
        SimTargetDrive(
            compartment_signal(model, drive.basal),
            node_output(model, drive.target),
            node_output(model, drive.nudging),
            compartment_signal(model, drive),
            drive.g_bas,
            drive.g_ntgt,
            drive.free_gain,
            tag=f"{drive}.target_drive",
        )
    )
    model.params[drive] = None


@Builder.register(Nudging)
def build_nudging(model, nudging):
    rep = nudging.representation
    out = state_signal(model, nudging, "out")
    model.add_op(
        SimNudging(
            state_signal(model, rep, "derivative"),
            node_output(model, nudging.target),
            state_signal(model, rep, "out"),
            node_output(model, nudging.nudging),
            out,
            tag=f"{nudging}.nudging",
        )
    )
    model.params[nudging] = _built_units(nudging.n_neurons)


# --- neuron types ---------------------------------------------------------------------


@Builder.register(ProspectiveRate)
def build_prospective_rate(model, neuron_type, neurons):
    """Two operators: rates from the current state, then the Euler step, so
    that populations can read each other's current-step rates without loops (the
    reset pair for a `.Population` with a ``reset`` switch)."""
    ens = neurons.ensemble
    sig = model.sig[neurons]
    u0 = neuron_type.initial_voltages(neurons.size_in)
    sig["voltage"] = Signal(u0.copy(), name=f"{neurons}.voltage")
    sig["history"] = Signal(u0.copy(), name=f"{neurons}.history")
    inputs, gains = soma_inputs(model, neurons)
    if getattr(ens, "reset", None) is not None:
        reset = node_output(model, ens.reset)
        if reset.shape != (1,):
            raise BuildError(f"{ens}: the reset switch has shape {reset.shape}, not (1,)")
        model.add_op(
            SimResetProspectiveRate(
                neuron_type,
                sig["voltage"],
                reset,
                sig["history"],
                state_signal(model, ens, "out"),
                state_signal(model, ens, "prospective"),
                state_signal(model, ens, "derivative"),
                reset_history=ens.reset_history,
                tag=f"{neurons}.rates",
            )
        )
        model.add_op(
            SimResetSomaticEuler(
                reset, inputs, gains, sig["voltage"], neuron_type.conductance,
                tag=f"{neurons}.soma",
            )
        )
        return
    model.add_op(
        SimProspectiveRate(
            neuron_type,
            sig["voltage"],
            sig["history"],
            state_signal(model, ens, "out"),
            state_signal(model, ens, "prospective"),
            state_signal(model, ens, "derivative"),
            tag=f"{neurons}.rates",
        )
    )
    model.add_op(
        SimSomaticEuler(
            inputs, gains, sig["voltage"], neuron_type.conductance, tag=f"{neurons}.soma"
        )
    )


@Builder.register(DelayedRate)
def build_delayed_rate(model, neuron_type, neurons):
    ens = neurons.ensemble
    sig = model.sig[neurons]
    if "prospective" in sig:
        raise BuildError(f"{neurons}: a DelayedRate's prospective signal is its voltage")
    u0 = neuron_type.initial_voltages(neurons.size_in)
    sig["voltage"] = Signal(u0.copy(), name=f"{neurons}.voltage")
    sig["prospective"] = sig["voltage"]
    inputs, gains = soma_inputs(model, neurons)
    model.add_op(
        SimDelayedRate(
            neuron_type,
            sig["voltage"],
            state_signal(model, ens, "out"),
            state_signal(model, ens, "derivative"),
            tag=f"{neurons}.rates",
        )
    )
    model.add_op(SimReplace(inputs, gains, sig["voltage"], tag=f"{neurons}.replace"))


@Builder.register(Identity)
def build_identity(model, neuron_type, neurons):
    """Nothing inside a `.Population` (its rate is its input); nengo's generic
    neuron operator in a plain Ensemble."""
    sig = model.sig[neurons]
    if sig["in"] is not sig["out"]:
        build_neurons(model, neuron_type, neurons)


# --- projections ----------------------------------------------------------------------


def _post_input(model, conn):
    post = conn.post_obj
    if isinstance(post, LearningRule):
        return model.sig[post]["in"]
    if isinstance(post, Compartment) and not isinstance(post, Dendrite):
        raise BuildError(f"{conn}: nothing may project into {post} (it is computed)")
    if isinstance(post, Dendrite):
        sig = compartment_signal(model, post)
    else:
        sig = model.sig[post].get("in")
    if sig is None:
        raise BuildError(f"{conn}: post object {post} has no input")
    sl = conn.post_slice
    if not (isinstance(sl, slice) and sl.step in (None, 1)):
        raise BuildError(f"{conn}: post slice {sl!r}; a Projection needs a contiguous slice")
    return sig[sl]


@Builder.register(Projection)
def build_projection(model, conn):
    """``post += W pre`` (``DotInc``), ``post += w * pre`` (``ElementwiseInc``) or
    ``post += pre`` (``Copy``) into the post object's input; learning rules as nengo
    builds them (a delta signal added to the weights)."""
    pre_obj = conn.pre_obj
    key = "out"
    if pre_obj not in model.sig or key not in model.sig[pre_obj]:
        raise BuildError(f"{conn}: pre object {pre_obj} is not built")
    model.sig[conn]["in"] = model.sig[pre_obj][key]
    pre = slice_signal(model, model.sig[pre_obj][key], conn.pre_slice)
    if conn.synapse is not None:
        pre = model.build(conn.synapse, pre, mode="update")
    post = _post_input(model, conn)
    model.sig[conn]["out"] = post
    weights = None
    if isinstance(conn.transform, NoTransform):
        model.add_op(Copy(pre, post, inc=True, tag=f"{conn}"))
    else:
        rng = np.random.RandomState(model.seeds[conn])
        weights = Signal(conn.transform.sample(rng=rng), readonly=True, name=f"{conn}.weights")
        op = DotInc if weights.ndim == 2 else ElementwiseInc
        model.add_op(op(weights, pre, post, tag=f"{conn}.weights"))
    model.sig[conn]["weights"] = weights
    if conn.learning_rule is not None:
        rules = conn.learning_rule
        rules = rules.values() if isinstance(rules, dict) else (
            rules if isinstance(rules, (list, tuple)) else [rules]
        )
        for rule in rules:
            model.build(rule)
        weights.readonly = False
        for block in conn._blocks:
            # the block's view of the rule's signals, for probes
            sig = model.sig[conn.learning_rule]
            model.sig[block.learning_rule]["delta"] = sig["delta"][block.rows, block.cols]
            model.sig[block.learning_rule]["plasticity"] = sig["plasticity"]
    model.params[conn] = BuiltConnection(
        eval_points=None,
        solver_info=None,
        transform=conn.transform,
        weights=None if weights is None else weights.initial_value,
    )


# --- learning rules -----------------------------------------------------------------


def _plasticity_input(model, rule):
    """The switch m: read from the rule's ``plasticity`` Node, or summed from what
    connects into the rule."""
    source = rule.learning_rule_type.plasticity
    if source is not None:
        plasticity = node_output(model, source)
        if plasticity.shape != (1,):
            raise BuildError(f"{rule}: plasticity {source} has shape {plasticity.shape}, not (1,)")
    else:
        plasticity = Signal(shape=1, name=f"{rule}.plasticity")
        model.add_op(Reset(plasticity))
        model.sig[rule]["in"] = plasticity
    model.sig[rule]["plasticity"] = plasticity
    return plasticity


def _pre_rates(model, conn):
    return model.sig[conn.pre_obj]["out"][conn.pre_slice]


def previous_step_buffers(model, rule, dendrite, pre, pre0=None):
    """Signals holding a rule's dendrite and presynaptic rates of the last step."""
    model.sig[rule]["dendrite_prev"] = Signal(shape=dendrite.shape, name=f"{rule}.dendrite_prev")
    model.sig[rule]["pre_prev"] = Signal(
        np.zeros(pre.shape) if pre0 is None else pre0, name=f"{rule}.pre_prev"
    )
    return model.sig[rule]["dendrite_prev"], model.sig[rule]["pre_prev"]


def _whole(rate):
    return ((slice(None), slice(None), rate),)


def _prospective(model, soma):
    if isinstance(soma, Stack):
        if soma.state != "prospective":
            raise BuildError(f"{soma}: a soma stack must read 'prospective', not {soma.state!r}")
        return model.sig[soma.neurons]["out"]
    return state_signal(model, soma, "prospective")


@Builder.register(DendriticPrediction)
def build_dendritic_prediction(model, rule_type, rule):
    conn = rule.connection
    if rule_type.soma is None:
        raise BuildError(f"{conn}: DendriticPrediction needs the post soma ('soma')")
    basal = model.sig[conn.post_obj]["in"]
    pre = _pre_rates(model, conn)
    pre0 = None
    if isinstance(conn.pre_obj, Neurons):
        # rates held before the first step (phi(u0) for a soma, 0 for the input area)
        pre0 = initial_rates(conn.pre_obj.ensemble)[conn.pre_slice]
    basal_prev, pre_prev = previous_step_buffers(model, rule, basal, pre, pre0)
    blocks = rule_type.blocks or _whole(rule_type.learning_rate)
    model.add_op(
        SimPreviousStepRule(
            _plasticity_input(model, rule),
            basal,
            pre,
            model.sig[rule]["delta"],
            basal_prev,
            pre_prev,
            blocks,
            post="voltage" if rule_type.activation is None else "rate",
            attenuation=rule_type.attenuation,
            activation=rule_type.activation,
            soma=_prospective(model, rule_type.soma),
            tag=f"{rule}.dendritic_prediction",
        )
    )


def rectangular_transpose(weights, shape):
    """``(I W I)^T`` cropped or zero-padded to ``shape`` (MODEL.md 1.9)."""
    out = np.zeros(shape)
    rows = min(shape[0], weights.shape[1])
    cols = min(shape[1], weights.shape[0])
    out[:rows, :cols] = weights.T[:rows, :cols]
    return out


@Builder.register(TransposeTracking)
def build_transpose_tracking(model, rule_type, rule):
    conn = rule.connection
    weights = model.sig[conn]["weights"]
    if rule_type.forward not in model.sig or "weights" not in model.sig[rule_type.forward]:
        raise BuildError(
            f"{conn}: the tracked forward connection {rule_type.forward} must be "
            "built first (create it before the backward connection)"
        )
    if rule_type.noise.shape != weights.shape:
        raise BuildError(
            f"{conn}: noise shape {rule_type.noise.shape} does not match the "
            f"backward weights {weights.shape}"
        )
    whole = slice(None)
    model.add_op(
        SimTransposeTracking(
            _plasticity_input(model, rule),
            model.sig[rule_type.forward]["weights"],
            weights,
            model.sig[rule]["delta"],
            rule_type.noise,
            rule_type.blocks or ((whole, whole, whole, whole),),
            scale=rule_type.scale,
            tag=f"{rule}.transpose_tracking",
        )
    )


@Builder.register(IdentityDecay)
def build_identity_decay(model, rule_type, rule):
    conn = rule.connection
    weights = model.sig[conn]["weights"]
    if weights.ndim != 2:
        raise BuildError(f"{conn}: IdentityDecay needs a full weight matrix")
    model.add_op(
        SimIdentityDecay(
            _plasticity_input(model, rule),
            weights,
            model.sig[rule]["delta"],
            rule_type.learning_rate,
            rule_type.scale,
            tag=f"{rule}.identity_decay",
        )
    )
