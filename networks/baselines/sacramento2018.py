"""The dendritic cortical microcircuit of Sacramento et al. (2018), MODEL.md 2.1.

Pyramidal cells with basal and apical dendrites in every area, interneurons in
every hidden area that learn to predict the pyramidal cells of the area above,
and the four plasticity rules of the paper. Errors are not represented by
dedicated units: they are the apical mismatch between top-down pyramidal input
(through B) and the interneurons' cancelling input (through Q).
"""

import numpy as np

from errormc.networks.compartments import (
    Dendrite,
    Population,
    Projection,
    StateReadout,
    TargetDrive,
)
from errormc.networks.initialization import draw_voltages
from errormc.networks.learning_rules import DendriticPrediction, TransposeTracking
from errormc.networks.microcircuit import Conductances
from errormc.networks.neurons import ProspectiveRate

from .common import ApicalSilencing, LayeredBaseline, per_layer


def _sizes(layers):
    layers = [int(n) for n in layers]
    return layers, len(layers) - 1


def initial_state(
    layers,
    seed=0,
    backward="bp",
    wt_noise=0.5,
    self_predicting=True,
    weight_range=1.0,
    lateral_range=1.0,
    backward_range=1.0,
    conductances=None,
    model="sacramento2018",
):
    """Initial weights and voltages of Sacramento's microcircuit (``model=
    "sacramento2018"``) or of dPC (``"dpc"``), in the reference order (MODEL.md 3.8)
    from private generators.

    Global-order draws: pyramidal voltages u_1..u_L, interneuron voltages
    v_1..v_{L-1} (n_{l+1} each); re-seeded: W_1..W_L, P_1..P_{L-1}
    (n_{l+1} x n_l), [B_1..B_{L-1} (n_l x n_{l+1}) if ``fa``], Q_1..Q_{L-1}
    (n_l x n_{l+1}); ``bp``: the model's generator RandomState(seed) draws the
    fixed noise N_l (n_l x n_{l+1}) and B_l = W_{l+1}^T + N_l. The self-predicting
    state then overwrites P and Q (MODEL.md 2.1, 2.2).

    Returns a dict: ``W1..``, ``B1..``, ``Bnoise1..`` (bp), ``Q1..``, ``P1..``
    (Sacramento only), ``u1..``, ``v1..`` (Sacramento only).
    """
    layers, L = _sizes(layers)
    g = conductances or Conductances()
    out = draw_voltages(
        seed,
        [(f"u{l}", layers[l]) for l in range(1, L + 1)]
        + [(f"v{l}", layers[l + 1]) for l in range(1, L)],
    )
    interneurons = {f"v{l}": out.pop(f"v{l}") for l in range(1, L)}

    rng = np.random.RandomState(seed)
    for l in range(1, L + 1):
        out[f"W{l}"] = rng.uniform(-weight_range, weight_range, (layers[l], layers[l - 1]))
    P = [rng.uniform(-lateral_range, lateral_range, (layers[l + 1], layers[l])) for l in range(1, L)]
    B = []
    if backward == "fa":
        B = [rng.uniform(-backward_range, backward_range, (layers[l], layers[l + 1]))
             for l in range(1, L)]
    Q = [rng.uniform(-lateral_range, lateral_range, (layers[l], layers[l + 1])) for l in range(1, L)]
    if backward == "bp":
        R = np.random.RandomState(seed)
        for l in range(1, L):
            noise = R.uniform(-wt_noise, wt_noise, (layers[l], layers[l + 1]))
            out[f"Bnoise{l}"] = noise
            B.append(out[f"W{l + 1}"].T + noise)
    for l in range(1, L):
        out[f"B{l}"] = B[l - 1]

    c_hidden = g.g_bas / (g.g_l + g.g_bas + g.g_api)
    c_output = g.g_bas / (g.g_l + g.g_bas)
    for l in range(1, L):
        c = c_output if l == L - 1 else c_hidden
        W_above = out[f"W{l + 1}"]
        if model == "dpc":
            if self_predicting:
                out[f"Q{l}"] = -c * B[l - 1] @ W_above
            else:
                out[f"Q{l}"] = Q[l - 1] @ P[l - 1]
        else:
            if self_predicting:
                out[f"Q{l}"] = -B[l - 1]
                out[f"P{l}"] = (c * (g.g_l + g.g_den) / g.g_den) * W_above
            else:
                out[f"Q{l}"] = Q[l - 1]
                out[f"P{l}"] = P[l - 1]
    if model != "dpc":
        out.update(interneurons)
    return out


def model_rng(seed, layers, backward="bp", wt_noise=0.5):
    """The model's private generator after its construction draws (it shuffles
    the data in the reference protocol, MODEL.md 3.8 step 4)."""
    layers, L = _sizes(layers)
    R = np.random.RandomState(seed)
    if backward == "bp":
        for l in range(1, L):
            R.uniform(-wt_noise, wt_noise, (layers[l], layers[l + 1]))
    return R


class PyramidalHierarchy(LayeredBaseline):
    """Pyramidal areas with basal, apical and target compartments (shared by
    Sacramento's microcircuit and dPC); subclasses add the lateral circuitry.

    Takes the parameters of `.LayeredBaseline` and those the two models share
    (see `.DendriticMicrocircuit`): ``eta_lateral``, ``self_predicting``,
    ``wt_noise`` and ``weights``, keyword only. Subclasses give the arrays of a
    hidden area beyond W and u (``hidden_arrays(n_l, n_{l+1})``, {prefix: shape})
    and which of them may be missing (``optional_arrays``).
    """

    optional_arrays = ("u", "Bnoise")

    def __init__(self, layers, activation, *, eta_lateral=None, self_predicting=True,
                 wt_noise=0.5, weights=None, **kwargs):
        super().__init__(layers, activation, **kwargs)
        L = self.n_areas
        self.eta_lateral = self._paper_rates("eta_lateral", eta_lateral, L - 1)
        if weights is None:
            weights = initial_state(
                self.layers, self.seed, self.backward_mode, wt_noise, self_predicting,
                conductances=self.conductances, model=self.name,
            )
        w = self.initial_weights = self._load_weights(
            weights, self.hidden_arrays, ("u",), self.optional_arrays
        )
        if self.backward_mode == "bp":
            # weights given without the fixed noise: it is what B holds beyond W^T
            for l in range(1, L):
                if f"Bnoise{l}" not in w:
                    w[f"Bnoise{l}"] = w[f"B{l}"] - w[f"W{l + 1}"].T

    def _build_pyramidal(self, w):
        g = self.conductances
        L = self.n_areas
        self.pyramidal, self.basal, self.apical = [], [], []
        g_hidden = g.g_l + g.g_bas + g.g_api
        g_out = g.g_l + g.g_bas + g.g_ntgt
        free_gain = g_out * g.g_bas / (g.g_l + g.g_bas)
        with self:
            for l in range(1, L + 1):
                n = self.layers[l]
                is_output = l == L
                basal = Dendrite(n, label=f"basal{l}")
                apical = None
                if not is_output:
                    apical = Dendrite(n, label=f"apical{l}")
                    inputs = [(basal, g.g_bas), (apical, g.g_api)]
                elif self.target is None:
                    inputs = [(basal, free_gain)]
                else:
                    drive = TargetDrive(
                        basal, self.target, self.nudging, g.g_bas, g.g_ntgt, free_gain,
                        label="target_drive",
                    )
                    inputs = [(drive, 1.0)]
                pyr = Population(
                    n,
                    ProspectiveRate(
                        self.activation[l - 1],
                        g_out if is_output else g_hidden,
                        initial_voltage=w.get(f"u{l}"),
                    ),
                    inputs=inputs,
                    label=f"pyramidal{l}",
                )
                self.voltage_neurons[f"u{l}"] = pyr.neurons
                self.pyramidal.append(pyr)
                self.basal.append(basal)
                self.apical.append(apical)
        self.output = self.pyramidal[-1]

    def basal_attenuation(self, l):
        """c_l: g_bas/(g_l+g_bas+g_api) for hidden areas, g_bas/(g_l+g_bas) for
        the output (MODEL.md 2.1)."""
        g = self.conductances
        if l == self.n_areas:
            return g.g_bas / (g.g_l + g.g_bas)
        return g.g_bas / (g.g_l + g.g_bas + g.g_api)

    def _build_forward(self, w, activation_rule):
        with self:
            for l in range(1, self.n_areas + 1):
                pre = self.input_area if l == 1 else self.pyramidal[l - 2]
                rate = self.eta[l - 1]
                rule = None
                if rate > 0:
                    rule = DendriticPrediction(
                        rate,
                        self.basal_attenuation(l),
                        soma=self.pyramidal[l - 1],
                        activation=self.activation[l - 1] if activation_rule else None,
                        plasticity=self.plasticity,
                    )
                conn = Projection(
                    pre.neurons,
                    self.basal[l - 1],
                    transform=w[f"W{l}"],
                    learning_rule_type=rule,
                    label=f"W{l}",
                )
                self.forward[(l, l - 1)] = conn
                self.weight_connections[f"W{l}"] = conn

    def _build_top_down(self, w):
        self.top_down = {}
        with self:
            for l in range(1, self.n_areas):
                rule = None
                if self.backward_mode == "bp":
                    rule = TransposeTracking(
                        self.forward[(l + 1, l)], w[f"Bnoise{l}"], plasticity=self.plasticity
                    )
                conn = Projection(
                    self.pyramidal[l].neurons,
                    self.apical[l - 1],
                    transform=w[f"B{l}"],
                    learning_rule_type=rule,
                    label=f"B{l}",
                )
                self.top_down[l] = conn
                self.weight_connections[f"B{l}"] = conn


class DendriticMicrocircuit(PyramidalHierarchy):
    r"""Sacramento et al. (2018): dendritic error microcircuit (MODEL.md 2.1).

    Per area l: pyramidal cells (soma, basal b = W r_{l-1}, apical
    a = B r_{l+1} + Q iota); per hidden area: n_{l+1} interneurons with
    dendrite d = P r_l, nudged by the prospective voltage of the pyramidal cells
    above and firing iota = phi_{l+1}(v_breve). The output pyramidal cells are
    nudged towards a **voltage** target. Every population is a prospective rate
    unit (`.ProspectiveRate`), so the network is the same one-step-per-area
    pipeline as the error microcircuit.

    Plasticity (each a `LearningRuleType` with a registered builder):

    1. forward, `.DendriticPrediction` with ``activation`` (the variant used by the
       paper): dW = dt eta (phi(u_breve^k) - phi(c b^{k-1})) r_pre^{k-1 T};
    2. pyramidal -> interneuron, the same rule on the interneurons:
       dP = dt eta_P (iota^k - phi((g_den/(g_l+g_den)) d^{k-1})) r^{k-1 T};
    3. interneuron -> apical, `.ApicalSilencing`: dQ = -dt eta_Q a^{k-1} iota^{k-1 T}
       (only with ``backward="fa"``; in ``bp`` mode Q is locked to -B);
    4. top-down B: fixed (``fa``) or, in ``bp`` mode, B = W_{l+1}^T + N and
       Q = -B at every plastic step (`.TransposeTracking`, not local: the
       idealised case of the paper's comparison).

    As specified: learning runs continuously (no phases), but in ``bp`` mode the
    top-down weights are a non-local copy of the forward weights, and Q is set
    from B (non-local) rather than learned. The self-predicting state
    (``self_predicting=True``, all published runs) initialises P and Q so that the
    apical potentials vanish without a target.

    Parameters
    ----------
    layers : list of int or str
    activation : str or list
        phi per area (tanh in the paper); interneurons of area l use phi_{l+1}.
    backward : "bp" or "fa"
    eta : list of float, optional
        Forward learning rates per area (default: the paper's, MODEL.md 3.2).
    eta_lateral : float or list, optional
        eta_P per hidden area (default: the paper's).
    eta_apical : float or list
        eta_Q per hidden area (0: fixed; ignored in ``bp`` mode).
    self_predicting : bool
        Start in the self-predicting state.
    forward_rule : "activation" or "voltage"
        The forward rule compares phi(u_breve) with phi(c b) (the paper's
        variant) or the voltages u_breve and c b.
    g_nI : float
        Conductance (1/ms) nudging the interneurons.
    g_l, g_bas, g_api, g_den, g_ntgt : float, keyword only
        Conductances (1/ms); defaults of `.Conductances`.
    weights : path or dict, optional
        Initial weights (``W1..``, ``B1..``, ``P1..``, ``Q1..``, optional
        ``Bnoise1..``, ``u1..``, ``v1..``); default drawn with ``seed``.
    seed : int
    wt_noise : float
        sigma of the fixed noise of ``bp`` mode.
    input, target, nudging, plasticity, label :
        As for `.LayeredBaseline`.

    All but ``layers`` and ``activation`` are keyword only.
    """

    name = "sacramento2018"
    optional_arrays = ("u", "v", "Bnoise")

    @staticmethod
    def hidden_arrays(n, n_up):
        return {"B": (n, n_up), "P": (n_up, n), "Q": (n, n_up), "Bnoise": (n, n_up), "v": (n_up,)}

    def __init__(self, layers, activation="tanh", *, eta_apical=0.0, forward_rule="activation",
                 g_nI=0.06, **kwargs):
        if forward_rule not in ("activation", "voltage"):
            raise ValueError(f"forward_rule: {forward_rule!r}; choose activation or voltage")
        super().__init__(layers, activation, **kwargs)
        L = self.n_areas
        self.g_nI = float(g_nI)
        self.eta_apical = per_layer(eta_apical, L - 1, "eta_apical") if L > 1 else []

        w = self.initial_weights
        self._build_pyramidal(w)
        self._build_forward(w, forward_rule == "activation")
        self._build_top_down(w)
        self._build_interneurons(w)
        self._connect_plasticity()

    def _build_interneurons(self, w):
        g = self.conductances
        self.interneurons, self.lateral_P, self.lateral_Q = [], {}, {}
        g_int = g.g_l + g.g_den + self.g_nI
        with self:
            for l in range(1, self.n_areas):
                n_up = self.layers[l + 1]
                act = self.activation[l]  # interneurons use the activation of area l + 1
                dendrite = Dendrite(n_up, label=f"interneuron_dendrite{l}")
                above = StateReadout(self.pyramidal[l], "prospective", label=f"nudge{l}")
                inter = Population(
                    n_up,
                    ProspectiveRate(act, g_int, initial_voltage=w.get(f"v{l}")),
                    inputs=[(dendrite, g.g_den), (above, self.g_nI)],
                    label=f"interneurons{l}",
                )
                self.voltage_neurons[f"v{l}"] = inter.neurons
                rate = self.eta_lateral[l - 1]
                self.lateral_P[l] = Projection(
                    self.pyramidal[l - 1].neurons,
                    dendrite,
                    transform=w[f"P{l}"],
                    learning_rule_type=(
                        DendriticPrediction(
                            rate, g.g_den / (g.g_l + g.g_den), soma=inter, activation=act,
                            plasticity=self.plasticity,
                        )
                        if rate > 0
                        else None
                    ),
                    label=f"P{l}",
                )
                if self.backward_mode == "bp":
                    rule = TransposeTracking(
                        self.forward[(l + 1, l)], w[f"Bnoise{l}"], scale=-1.0,
                        plasticity=self.plasticity,
                    )
                elif self.eta_apical[l - 1] > 0:
                    rule = ApicalSilencing(self.eta_apical[l - 1], plasticity=self.plasticity)
                else:
                    rule = None
                self.lateral_Q[l] = Projection(
                    inter.neurons,
                    self.apical[l - 1],
                    transform=w[f"Q{l}"],
                    learning_rule_type=rule,
                    label=f"Q{l}",
                )
                self.interneurons.append(inter)
                self.weight_connections[f"P{l}"] = self.lateral_P[l]
                self.weight_connections[f"Q{l}"] = self.lateral_Q[l]
