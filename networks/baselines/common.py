"""Pieces the comparison models share: a learning rule with its builder and the
layered-network scaffolding (nodes, weights I/O).

* `ApicalSilencing`: ``Delta Q = -dt eta a^{k-1} (pre^{k-1})^T``, the
  interneuron-to-apical rule of Sacramento et al. (rule 3) and of dPC.
* `LayeredBaseline`: input area, plasticity, target and nudging nodes, weights in
  and out.

The ANN unit (`.DelayedRate`) and the voltage-target drive of output pyramidal
cells (`.TargetDrive`) live with the other neuron types and compartments.
"""

import numpy as np
import nengo
from nengo.builder import Builder
from nengo.params import Default, NumberParam

from errormc.networks import activations
from errormc.networks.builder import (
    SimPreviousStepRule,
    _plasticity_input,
    _pre_rates,
    _whole,
    previous_step_buffers,
)
from errormc.networks.compartments import Population, Projection
from errormc.networks.connectivity import BACKWARD_MODES, check_mode
from errormc.networks.learning_rules import SwitchedRule
from errormc.networks.microcircuit import Conductances, _node, parse_layers
from errormc.networks.neurons import DelayedRate, Identity  # noqa: F401 - DelayedRate re-exported
from errormc.networks.weights import load_arrays, save

from .learning_rates import paper_eta


# --- learning rule ------------------------------------------------------------------


class ApicalSilencing(SwitchedRule):
    r"""Lateral weights that cancel the apical potential (anti-Hebbian).

    For a connection from presynaptic signals :math:`x` into an apical dendrite
    :math:`a` (its ``post``, a Node summing all apical inputs),

    .. math:: \Delta Q^k = -dt\,\eta\,m^k\, a^{k-1} (x^{k-1})^T

    Sacramento et al.'s interneuron-to-pyramidal rule (MODEL.md 2.1 rule 3;
    x = interneuron rates) and dPC's lateral rule (2.2; x = the area's rates of
    the previous step, so the factor is :math:`r^{k-2}`). Local: the synapse
    sees its dendrite and its presynaptic input.
    """

    learning_rate = NumberParam("learning_rate", low=0, readonly=True, default=1.0)

    def __init__(self, learning_rate=Default, plasticity=None):
        super().__init__(learning_rate, plasticity)


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
            _whole(rule_type.learning_rate),
            post="silencing",
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
    required = {k: v for k, v in shapes.items() if k not in optional}
    return load_arrays(source, required, {k: shapes[k] for k in optional if k in shapes}, field)


class LayeredBaseline(nengo.Network):
    """Scaffolding of the layered comparison models: input area, plasticity,
    target and nudging nodes; weights in and out.

    The parameters every comparison model takes are defined and checked here,
    once; the models pass them on as keywords (as Nengo's networks pass
    ``label`` and ``seed`` on to `nengo.Network`).

    Parameters
    ----------
    layers : list of int or str
        Sizes n_0 (input) ... n_L (output), or ``"8-4-2-1"``.
    activation : str or list
        phi per area.
    backward : "bp" or "fa", keyword only
        Top-down weights that track the forward ones (``bp``) or fixed random
        ones (``fa``).
    eta : float or list, optional, keyword only
        Forward learning rates per area (default: the paper's for the model and
        depth, `.paper_eta`, MODEL.md 3.2).
    seed : int, keyword only
    input, target, nudging, plasticity : optional, keyword only
        As for `.ErrorMicrocircuit`.
    label : str, optional, keyword only
        Default: the class name.
    g_l, g_bas, g_api, g_den, g_ntgt : float, keyword only
        Conductances (1/ms); defaults of `.Conductances`.
    **kwargs
        Passed to `nengo.Network` (``add_to_container``).

    Subclasses fill ``self.weight_connections`` (name -> connection),
    ``self.voltage_neurons`` (name -> neurons) and ``self.forward``
    ({(l, l-1): connection}), and set ``self.output``.
    """

    #: the simulator time step this network is made for (one Nengo time unit is 1 ms (MODEL.md 5));
    #: `errormc.hardware.Simulator` takes it unless given another
    dt = 0.01

    def __init__(self, layers, activation, *, backward="bp", eta=None, seed=0, input=None,
                 target=None, nudging=1.0, plasticity=1.0, label=None, **kwargs):
        g = Conductances.pop_from(kwargs)
        super().__init__(label=label or type(self).__name__, seed=seed, **kwargs)
        self.layers = parse_layers(layers)
        self.n_areas = len(self.layers) - 1
        self.activation = activations.per_area(activation, self.n_areas)
        self.conductances = g
        self.weight_connections = {}
        self.voltage_neurons = {}
        self.forward = {}
        n0 = self.layers[0]
        with self:
            if input is None:
                self.input = nengo.Node(size_in=n0, label="input")
            else:
                self.input = _node(input, n0, "input")
            self.input_area = Population(n0, Identity(), label="input_area")
            Projection(self.input, self.input_area.neurons)
            self.plasticity = _node(plasticity, 1, "plasticity")
            self.target = None if target is None else _node(target, self.layers[-1], "target")
            self.nudging = None
            if self.target is not None:
                self.nudging = _node(nudging, 1, "nudging")
        self.backward_mode = check_mode(backward, BACKWARD_MODES, "backward")
        self.eta = self._paper_rates("eta", eta, self.n_areas)

    def _paper_rates(self, field, rates, n):
        """``rates`` (None: the paper's ``field`` for this model and depth,
        MODEL.md 3.2) as one rate for each of ``n`` layers; ``[]`` if n = 0."""
        if n == 0:
            return []
        if rates is None:
            rates = paper_eta(self.name, self.n_areas)[field]
        return per_layer(rates, n, field)

    def _load_weights(self, weights, hidden, voltages, optional):
        """Validated initial weights (`load_weights`): W_l (n_l x n_{l-1}) of
        every area, ``hidden(n_l, n_{l+1})`` ({prefix: shape}) of every hidden
        area l, then a vector n_l per area for each prefix in ``voltages``; the
        names that start with one of ``optional`` may be missing."""
        sizes, L = self.layers, self.n_areas
        shapes = {f"W{l}": (sizes[l], sizes[l - 1]) for l in range(1, L + 1)}
        for l in range(1, L):
            shapes.update({f"{k}{l}": s for k, s in hidden(sizes[l], sizes[l + 1]).items()})
        for prefix in voltages:
            shapes.update({f"{prefix}{l}": (sizes[l],) for l in range(1, L + 1)})
        return load_weights(weights, shapes, [k for k in shapes if k.startswith(tuple(optional))])

    def _connect_plasticity(self):
        # every rule reads ``self.plasticity`` (passed at construction)
        self.learned = [
            c for c in self.model_connections() if c.learning_rule_type is not None
        ]

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
        return save(path, self.get_weights(sim))
