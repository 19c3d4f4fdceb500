"""Pieces the comparison models share: neuron types, compartments, a learning
rule with its builder, and the layered-network scaffolding (nodes, weights I/O).

* `DelayedRate`: the ANN unit, ``r^k = phi(u^k)``, ``u^{k+1} = g J^k`` (full
  replacement each step, no look-ahead, MODEL.md 2.3).
* `OutputDrive`: the somatic drive of Sacramento/dPC output pyramidal cells,
  target-nudged (voltage target) or free (MODEL.md 2.1).
* `ApicalSilencing`: ``Delta Q = -dt eta a^{k-1} (pre^{k-1})^T``, the
  interneuron-to-apical rule of Sacramento et al. (rule 3) and of dPC.
"""

import os

import numpy as np
import nengo
from nengo.builder import Builder, Operator, Signal
from nengo.learning_rules import LearningRuleType
from nengo.params import Default, IntParam, NumberParam

from errormc.networks import activations
from errormc.networks.builder import (
    SimPreviousStepRule,
    _plasticity_input,
    _pre_rates,
    previous_step_buffers,
)
from errormc.networks.microcircuit import Conductances, _node, parse_layers, unit_kwargs
from errormc.networks.neurons import Identity, SomaticRate

# --- neuron type: the ANN's delayed rate unit -------------------------------------


class DelayedRate(SomaticRate):
    r"""Rate unit without look-ahead whose voltage is replaced every step.

    .. math:: r^k = \varphi(u^k),\quad \rho^k = \varphi'(u^k),\quad u^{k+1} = J^k

    so a layer responds to its input with exactly one step of delay (the ANN of
    MODEL.md 2.3; the gain gamma lives on the input connection). Its
    ``prospective`` signal is the voltage itself.
    """

    state = {"voltage": 0.0, "derivative": 0.0}
    spiking = False
    negative = True

    def __init__(self, activation="tanh", initial_voltage=None):
        super().__init__()
        self.activation = activations.canonical_name(activation)
        self.initial_voltage = initial_voltage

    def step(self, dt, J, output, **state):
        output[...] = activations.phi(self.activation)(J)


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


class SimReplace(Operator):
    """``u = J`` (the full-replacement step of the ANN).

    1. sets ``[]``
    2. incs ``[]``
    3. reads ``[J]``
    4. updates ``[voltage]``
    """

    def __init__(self, J, voltage, tag=None):
        super().__init__(tag=tag)
        self.sets = []
        self.incs = []
        self.reads = [J]
        self.updates = [voltage]

    def make_step(self, signals, dt, rng):
        J = signals[self.reads[0]]
        u = signals[self.updates[0]]

        def step_replace():
            u[...] = J

        return step_replace


@Builder.register(DelayedRate)
def build_delayed_rate(model, neuron_type, neurons):
    n = neurons.size_in
    u0 = neuron_type.initial_voltages(n)
    sig = model.sig[neurons]
    sig["voltage"] = Signal(u0.copy(), name=f"{neurons}.voltage")
    sig["prospective"] = sig["voltage"]
    sig["derivative"] = Signal(
        activations.dphi(neuron_type.activation)(u0), name=f"{neurons}.derivative"
    )
    model.add_op(
        SimDelayedRate(
            neuron_type, sig["voltage"], sig["out"], sig["derivative"], tag=f"{neurons}.rates"
        )
    )
    model.add_op(SimReplace(sig["in"], sig["voltage"], tag=f"{neurons}.replace"))


# --- compartments -----------------------------------------------------------------


class OutputDrive(nengo.Process):
    r"""Somatic drive of an output pyramidal population with a voltage target.

    Input ``[b; t; m]``; output

    .. math:: J = m\,(g_{bas} b + g_{ntgt} t) + (1 - m)\, g_O \frac{g_{bas}}{g_l + g_{bas}} b

    with :math:`g_O = g_l + g_{bas} + g_{ntgt}`, so that a soma of total
    conductance :math:`g_O` is nudged towards the target when ``m = 1`` and
    relaxes to the attenuated basal potential otherwise (MODEL.md 2.1).
    """

    size = IntParam("size", low=1, readonly=True)
    g_bas = NumberParam("g_bas", readonly=True)
    g_ntgt = NumberParam("g_ntgt", readonly=True)
    free_gain = NumberParam("free_gain", readonly=True)

    def __init__(self, size, g_bas, g_ntgt, free_gain, **kwargs):
        self.size = size
        self.g_bas = g_bas
        self.g_ntgt = g_ntgt
        self.free_gain = free_gain
        super().__init__(default_size_in=2 * size + 1, default_size_out=size, **kwargs)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        n, g_bas, g_ntgt, free = self.size, self.g_bas, self.g_ntgt, self.free_gain

        def step_output_drive(t, x):
            m = x[-1]
            b = x[:n]
            if m == 1:
                return g_bas * b + g_ntgt * x[n : 2 * n]
            if m == 0:
                return free * b
            return m * (g_bas * b + g_ntgt * x[n : 2 * n]) + (1 - m) * free * b

        return step_output_drive


# --- learning rule ------------------------------------------------------------------


class ApicalSilencing(LearningRuleType):
    r"""Lateral weights that cancel the apical potential (anti-Hebbian).

    For a connection from presynaptic signals :math:`x` into an apical dendrite
    :math:`a` (its ``post``, a Node summing all apical inputs),

    .. math:: \Delta Q^k = -dt\,\eta\,m^k\, a^{k-1} (x^{k-1})^T

    Sacramento et al.'s interneuron-to-pyramidal rule (MODEL.md 2.1 rule 3;
    x = interneuron rates) and dPC's lateral rule (2.2; x = the area's rates of
    the previous step, so the factor is :math:`r^{k-2}`). Local: the synapse
    sees its dendrite and its presynaptic input.
    """

    modifies = "decoders"
    probeable = ("delta", "plasticity")

    learning_rate = NumberParam("learning_rate", low=0, readonly=True, default=1.0)

    def __init__(self, learning_rate=Default):
        super().__init__(learning_rate, size_in=1)


def _apical_silencing(soma, apical_prev):
    # the apical potential of the last step, with the sign that silences it
    return -apical_prev


@Builder.register(ApicalSilencing)
def build_apical_silencing(model, rule_type, rule):
    conn = rule.connection
    apical = model.sig[conn.post_obj]["in"]
    pre = _pre_rates(model, conn)
    apical_prev, pre_prev = previous_step_buffers(model, rule, apical, pre)
    model.add_op(
        SimPreviousStepRule(
            _plasticity_input(model, rule),
            apical,
            pre,
            model.sig[rule]["delta"],
            apical_prev,
            pre_prev,
            rule_type.learning_rate,
            _apical_silencing,
            tag=f"{rule}.apical_silencing",
        )
    )


# --- scaffolding --------------------------------------------------------------------


def per_layer(values, n, field):
    """One value per layer from a scalar or a sequence of length ``n``."""
    if values is None:
        return None
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.shape != (n,):
        raise ValueError(f"{field}: {arr.size} values for {n} layers; give one or one per layer")
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{field}: learning rates must be finite and >= 0, got {arr.tolist()}")
    return [float(v) for v in arr]


def load_weights(source, shapes, optional=(), field="init_weights"):
    """Read and validate a weights dict or ``.npz``: ``shapes`` maps the required
    names to shapes; names in ``optional`` may be missing."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ValueError(f"{field}: file {path!r} does not exist")
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.array(data[k]) for k in data.files}
        where = f"{field} {path!r}"
    else:
        arrays = {k: np.asarray(v) for k, v in dict(source).items()}
        where = field
    out = {}
    for name, shape in shapes.items():
        if name not in arrays:
            if name in optional:
                continue
            raise ValueError(
                f"{where}: missing array {name!r} (expected shape {shape}; has "
                f"{sorted(arrays) or 'no arrays'})"
            )
        value = np.asarray(arrays[name], dtype=float)
        if value.shape != tuple(shape):
            raise ValueError(f"{where}: array {name!r} has shape {value.shape}, expected {shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{where}: array {name!r} contains NaN or inf")
        out[name] = value
    return out


class LayeredBaseline(nengo.Network):
    """Scaffolding of the layered comparison models: input area, plasticity,
    target and nudging nodes; weights in and out.

    Subclasses fill ``self.weight_connections`` (name -> connection),
    ``self.voltage_neurons`` (name -> neurons) and ``self.forward``
    ({(l, l-1): connection}), and set ``self.output``.
    """

    #: the simulator time step this network is made for (one Nengo time unit is 1 ms (MODEL.md 5));
    #: `errormc.hardware.Simulator` takes it unless given another
    dt = 0.01

    def _setup(self, layers, activation, seed, g, input, target, nudging, plasticity):
        self.layers = parse_layers(layers)
        self.n_areas = len(self.layers) - 1
        self.activation = activations.per_area(activation, self.n_areas)
        self.conductances = Conductances(*(g[k] for k in Conductances.names))
        self.g_nI = float(g.get("g_nI", 0.06))
        self.seed = seed
        self.weight_connections = {}
        self.voltage_neurons = {}
        self.forward = {}
        n0 = self.layers[0]
        with self:
            if input is None:
                self.input = nengo.Node(size_in=n0, label="input")
            else:
                self.input = _node(input, n0, "input")
            self.input_area = nengo.Ensemble(
                n0, 1, neuron_type=Identity(), label="input_area", **unit_kwargs(n0)
            )
            nengo.Connection(self.input, self.input_area.neurons, synapse=None)
            self.plasticity = _node(plasticity, 1, "plasticity")
            self.target = None if target is None else _node(target, self.layers[-1], "target")
            self.nudging = None
            if self.target is not None:
                self.nudging = _node(nudging, 1, "nudging")

    def _connect_plasticity(self):
        self.learned = [
            c for c in self.model_connections() if c.learning_rule_type is not None
        ]
        with self:
            for conn in self.learned:
                nengo.Connection(self.plasticity, conn.learning_rule, synapse=None)

    def model_connections(self):
        return list(self.weight_connections.values())

    def get_weights(self, sim):
        """Current weights and somatic voltages from ``sim`` (dict of arrays)."""
        w = {k: np.array(v, copy=True) for k, v in self.initial_weights.items()}
        for name, conn in self.weight_connections.items():
            w[name] = np.array(sim.signals[sim.model.sig[conn]["weights"]], copy=True)
        for name, neurons in self.voltage_neurons.items():
            w[name] = np.array(sim.signals[sim.model.sig[neurons]["voltage"]], copy=True)
        return w

    def save_weights(self, path, sim):
        from errormc.networks.weights import save

        return save(path, self.get_weights(sim))
