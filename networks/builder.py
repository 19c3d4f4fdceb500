"""Builder functions and operators for the microcircuit's neuron types,
compartments and learning rules, registered with nengo's `Builder`.

Importing this module registers them; `errormc.networks` imports it.
"""

import numpy as np
from nengo.builder import Builder, Operator, Signal
from nengo.builder.ensemble import BuiltEnsemble
from nengo.builder.operator import Reset

from . import activations
from .compartments import StateReadout
from .learning_rules import DendriticPrediction, IdentityDecay, TransposeTracking
from .neurons import ProspectiveRate, ResettableRate, SomaReset


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
        phi = activations.phi(self.neurons.activation)
        dphi = activations.dphi(self.neurons.activation)
        lookahead = (1.0 / self.neurons.conductance) / dt
        prospective = self.neurons.prospective

        def step_prospective_rate():
            breve[...] = history + lookahead * (u - history)
            rates[...] = phi(breve if prospective else u)
            rho[...] = dphi(breve)
            history[...] = u

        return step_prospective_rate


class SimSomaticEuler(Operator):
    """Forward-Euler step of a leaky soma: ``u += dt (J - g_tot u)``.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[J]``
    4. updates ``[voltage]``
    """

    def __init__(self, J, voltage, conductance, tag=None):
        super().__init__(tag=tag)
        self.conductance = conductance
        self.sets = []
        self.incs = []
        self.reads = [J]
        self.updates = [voltage]

    def make_step(self, signals, dt, rng):
        J = signals[self.reads[0]]
        u = signals[self.updates[0]]
        g = self.conductance

        def step_somatic_euler():
            u[...] = u + dt * (J - g * u)

        return step_somatic_euler


@Builder.register(ProspectiveRate)
def build_prospective_rate(model, neuron_type, neurons):
    """Two operators: rates from the current state, then the Euler step, so
    that populations can read each other's current-step rates without loops."""
    n = neurons.size_in
    u0 = neuron_type.initial_voltages(n)
    sig = model.sig[neurons]
    sig["voltage"] = Signal(u0.copy(), name=f"{neurons}.voltage")
    sig["history"] = Signal(u0.copy(), name=f"{neurons}.history")
    sig["prospective"] = Signal(u0.copy(), name=f"{neurons}.prospective")
    sig["derivative"] = Signal(
        activations.dphi(neuron_type.activation)(u0), name=f"{neurons}.derivative"
    )
    model.add_op(
        SimProspectiveRate(
            neuron_type,
            sig["voltage"],
            sig["history"],
            sig["out"],
            sig["prospective"],
            sig["derivative"],
            tag=f"{neurons}.rates",
        )
    )
    model.add_op(
        SimSomaticEuler(
            sig["in"], sig["voltage"], neuron_type.conductance, tag=f"{neurons}.soma"
        )
    )


@Builder.register(StateReadout)
def build_state_readout(model, ens):
    """Alias the source population's state signal; adds no operator."""
    source = model.sig[ens.source.neurons]
    if ens.state not in source:
        raise ValueError(
            f"{ens}: source {ens.source} has no {ens.state!r} signal; its neuron type "
            "must create it and it must be built first"
        )
    n = ens.n_neurons
    model.sig[ens]["in"] = Signal(shape=ens.dimensions, name=f"{ens}.in")
    model.sig[ens]["out"] = source[ens.state]
    model.sig[ens.neurons]["in"] = Signal(shape=n, name=f"{ens}.neuron_in")
    model.sig[ens.neurons]["out"] = source[ens.state]
    model.params[ens] = BuiltEnsemble(
        eval_points=None,
        encoders=None,
        intercepts=None,
        max_rates=None,
        scaled_encoders=None,
        gain=np.ones(n),
        bias=np.zeros(n),
    )


def _plasticity_input(model, rule):
    plasticity = Signal(shape=1, name=f"{rule}.plasticity")
    model.add_op(Reset(plasticity))
    model.sig[rule]["in"] = plasticity
    model.sig[rule]["plasticity"] = plasticity
    return plasticity


def _pre_rates(model, conn):
    return model.sig[conn.pre_obj]["out"][conn.pre_slice]


class SimPreviousStepRule(Operator):
    """``delta = dt eta m post(soma, dendrite_prev) pre_prev^T``; then remember the
    dendrite and the presynaptic rates for the next step.

    The shared form of the dendritic rules (MODEL.md 1.8, 2.1): the update of step
    k pairs a postsynaptic term built from the dendrite of step k-1 (and, where the
    rule has one, the current somatic term) with the presynaptic rate of step k-1.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[plasticity, dendrite, pre] (+ [soma])``
    4. updates ``[delta, dendrite_prev, pre_prev]``
    """

    def __init__(self, plasticity, dendrite, pre, delta, dendrite_prev, pre_prev,
                 learning_rate, post, soma=None, tag=None):
        super().__init__(tag=tag)
        self.learning_rate = learning_rate
        self.post = post
        self.sets = []
        self.incs = []
        self.reads = [plasticity, dendrite, pre] + ([] if soma is None else [soma])
        self.updates = [delta, dendrite_prev, pre_prev]

    def make_step(self, signals, dt, rng):
        plasticity, dendrite, pre = (signals[s] for s in self.reads[:3])
        soma = signals[self.reads[3]] if len(self.reads) > 3 else None
        delta, dendrite_prev, pre_prev = (signals[s] for s in self.updates)
        rate = dt * self.learning_rate
        post = self.post

        def step_previous_step_rule():
            m = plasticity[0]
            if m != 0:
                np.outer((rate * m) * post(soma, dendrite_prev), pre_prev, out=delta)
            else:
                delta[...] = 0
            dendrite_prev[...] = dendrite
            pre_prev[...] = pre

        return step_previous_step_rule


def dendritic_prediction_error(attenuation, activation=None):
    """``u_breve - c b_prev`` (voltage form) or ``phi(u_breve) - phi(c b_prev)``."""
    c = attenuation
    if activation is None:
        return lambda breve, basal_prev: breve - c * basal_prev
    phi = activations.phi(activation)
    return lambda breve, basal_prev: phi(breve) - phi(c * basal_prev)


def previous_step_buffers(model, rule, dendrite, pre, pre0=None):
    """Signals holding a rule's dendrite and presynaptic rates of the last step."""
    model.sig[rule]["dendrite_prev"] = Signal(shape=dendrite.shape, name=f"{rule}.dendrite_prev")
    model.sig[rule]["pre_prev"] = Signal(
        np.zeros(pre.shape) if pre0 is None else pre0, name=f"{rule}.pre_prev"
    )
    return model.sig[rule]["dendrite_prev"], model.sig[rule]["pre_prev"]


@Builder.register(DendriticPrediction)
def build_dendritic_prediction(model, rule_type, rule):
    conn = rule.connection
    if rule_type.soma is None:
        raise ValueError(f"{conn}: DendriticPrediction needs the post soma ('soma')")
    soma = model.sig[rule_type.soma.neurons]
    basal = model.sig[conn.post_obj]["in"]
    pre = _pre_rates(model, conn)
    # rates held before the first step (phi(u0) for a soma, 0 for the input area)
    pre0 = None
    if "derivative" in model.sig[conn.pre_obj]:
        ntype = conn.pre_obj.ensemble.neuron_type
        u0 = ntype.initial_voltages(conn.pre_obj.size_out)
        pre0 = activations.phi(ntype.activation)(u0)[conn.pre_slice]
    basal_prev, pre_prev = previous_step_buffers(model, rule, basal, pre, pre0)
    model.add_op(
        SimPreviousStepRule(
            _plasticity_input(model, rule),
            basal,
            pre,
            model.sig[rule]["delta"],
            basal_prev,
            pre_prev,
            rule_type.learning_rate,
            dendritic_prediction_error(rule_type.attenuation, rule_type.activation),
            soma=soma["prospective"],
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


class SimTransposeTracking(Operator):
    """``delta = m ((I W I)^T + N - B)``: B becomes the noisy transpose of W.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[plasticity, forward, backward]``
    4. updates ``[delta]``
    """

    def __init__(self, plasticity, forward, backward, delta, noise, scale=1.0, tag=None):
        super().__init__(tag=tag)
        self.noise = noise
        self.scale = scale
        self.sets = []
        self.incs = []
        self.reads = [plasticity, forward, backward]
        self.updates = [delta]

    def make_step(self, signals, dt, rng):
        plasticity, forward, backward = (signals[s] for s in self.reads)
        delta = signals[self.updates[0]]
        noise = self.noise
        scale = self.scale
        rows = min(backward.shape[0], forward.shape[1])
        cols = min(backward.shape[1], forward.shape[0])

        def step_transpose_tracking():
            if plasticity[0] != 0:
                target = noise.copy()
                target[:rows, :cols] += forward.T[:rows, :cols]
                if scale != 1.0:
                    target *= scale
                delta[...] = plasticity[0] * (target - backward)
            else:
                delta[...] = 0

        return step_transpose_tracking


@Builder.register(TransposeTracking)
def build_transpose_tracking(model, rule_type, rule):
    conn = rule.connection
    weights = model.sig[conn]["weights"]
    if rule_type.forward not in model.sig or "weights" not in model.sig[rule_type.forward]:
        raise ValueError(
            f"{conn}: the tracked forward connection {rule_type.forward} must be "
            "built first (create it before the backward connection)"
        )
    if rule_type.noise.shape != weights.shape:
        raise ValueError(
            f"{conn}: noise shape {rule_type.noise.shape} does not match the "
            f"backward weights {weights.shape}"
        )
    model.add_op(
        SimTransposeTracking(
            _plasticity_input(model, rule),
            model.sig[rule_type.forward]["weights"],
            weights,
            model.sig[rule]["delta"],
            rule_type.noise,
            scale=rule_type.scale,
            tag=f"{rule}.transpose_tracking",
        )
    )


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


@Builder.register(IdentityDecay)
def build_identity_decay(model, rule_type, rule):
    conn = rule.connection
    weights = model.sig[conn]["weights"]
    if weights.ndim != 2:
        raise ValueError(f"{conn}: IdentityDecay needs a full weight matrix")
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


class SimResettableRate(Operator):
    """`SimProspectiveRate` on the voltage ``(1 - m) u``, m the reset input.

    1. sets ``[rates, prospective, derivative]``
    2. incs ``[]``
    3. reads ``[voltage, reset]``
    4. updates ``[history]``
    """

    def __init__(self, neurons, voltage, reset, history, rates, prospective, derivative,
                 tag=None):
        super().__init__(tag=tag)
        self.neurons = neurons
        self.sets = [rates, prospective, derivative]
        self.incs = []
        self.reads = [voltage, reset]
        self.updates = [history]

    def make_step(self, signals, dt, rng):
        u, reset = (signals[s] for s in self.reads)
        history = signals[self.updates[0]]
        rates, breve, rho = (signals[s] for s in self.sets)
        phi = activations.phi(self.neurons.activation)
        dphi = activations.dphi(self.neurons.activation)
        lookahead = (1.0 / self.neurons.conductance) / dt
        prospective = self.neurons.prospective
        reset_history = self.neurons.reset_history

        def step_resettable_rate():
            keep = 1.0 - reset[0]
            soma = keep * u
            if reset_history:
                history[...] *= keep
            breve[...] = history + lookahead * (soma - history)
            rates[...] = phi(breve if prospective else soma)
            rho[...] = dphi(breve)
            history[...] = soma

        return step_resettable_rate


class SimResettableEuler(Operator):
    """Forward-Euler step from the reset voltage: ``u = v + dt (J - g v)``,
    ``v = (1 - m) u``.

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[J, reset]``
    4. updates ``[voltage]``
    """

    def __init__(self, J, reset, voltage, conductance, tag=None):
        super().__init__(tag=tag)
        self.conductance = conductance
        self.sets = []
        self.incs = []
        self.reads = [J, reset]
        self.updates = [voltage]

    def make_step(self, signals, dt, rng):
        J, reset = (signals[s] for s in self.reads)
        u = signals[self.updates[0]]
        g = self.conductance

        def step_resettable_euler():
            soma = (1.0 - reset[0]) * u
            u[...] = soma + dt * (J - g * soma)

        return step_resettable_euler


@Builder.register(ResettableRate)
def build_resettable_rate(model, neuron_type, neurons):
    """As `build_prospective_rate`, plus the one-dimensional ``reset`` input that a
    `SomaReset` writes into (zero unless something is connected)."""
    n = neurons.size_in
    u0 = neuron_type.initial_voltages(n)
    sig = model.sig[neurons]
    sig["voltage"] = Signal(u0.copy(), name=f"{neurons}.voltage")
    sig["history"] = Signal(u0.copy(), name=f"{neurons}.history")
    sig["prospective"] = Signal(u0.copy(), name=f"{neurons}.prospective")
    sig["derivative"] = Signal(
        activations.dphi(neuron_type.activation)(u0), name=f"{neurons}.derivative"
    )
    sig["reset"] = Signal(shape=1, name=f"{neurons}.reset")
    model.add_op(Reset(sig["reset"]))
    model.add_op(
        SimResettableRate(
            neuron_type, sig["voltage"], sig["reset"], sig["history"], sig["out"],
            sig["prospective"], sig["derivative"], tag=f"{neurons}.rates",
        )
    )
    model.add_op(
        SimResettableEuler(
            sig["in"], sig["reset"], sig["voltage"], neuron_type.conductance,
            tag=f"{neurons}.soma",
        )
    )


@Builder.register(SomaReset)
def build_soma_reset(model, node):
    """Alias the target's reset signal as this node's input and output."""
    target = model.sig[node.target.neurons]
    if "reset" not in target:
        raise ValueError(
            f"{node}: target {node.target} must be built first (create the "
            "SomaReset after its population, in the same network)"
        )
    model.sig[node]["in"] = target["reset"]
    model.sig[node]["out"] = target["reset"]
    model.params[node] = None
