"""The layered rate network trained with exact backprop (MODEL.md 2.3): the
teacher's architecture and the backprop baseline."""

import numpy as np
from errormc.networks.compartments import (
    Dendrite,
    Gate,
    Nudging,
    Population,
    Projection,
    StateReadout,
)
from errormc.networks.initialization import draw_voltages
from errormc.networks.learning_rules import DendriticPrediction, TransposeTracking
from errormc.networks.neurons import DelayedRate

from .common import LayeredBaseline


def initial_state(layers, seed=0, backward="bp", weight_range=1.0, backward_range=1.0):
    """Initial weights and voltages of the ANN in the reference order (MODEL.md 3.8).

    Global-order draws: u_1..u_L, then the error units d_1..d_L; re-seeded:
    W_1..W_L, an auxiliary n_l x n_l matrix per area (range [0, 0]), [B_l
    (n_l x n_{l+1}) if ``fa``], a second auxiliary matrix per area. ``bp``:
    B_l = W_{l+1}^T. The model's own generator draws nothing.
    """
    layers = [int(n) for n in layers]
    L = len(layers) - 1
    out = draw_voltages(
        seed,
        [(f"u{l}", layers[l]) for l in range(1, L + 1)]
        + [(f"d{l}", layers[l]) for l in range(1, L + 1)],
    )
    rng = np.random.RandomState(seed)
    for l in range(1, L + 1):
        out[f"W{l}"] = rng.uniform(-weight_range, weight_range, (layers[l], layers[l - 1]))
    for l in range(1, L + 1):
        rng.uniform(0.0, 0.0, (layers[l], layers[l]))
    for l in range(1, L):
        if backward == "fa":
            out[f"B{l}"] = rng.uniform(-backward_range, backward_range, (layers[l], layers[l + 1]))
        else:
            out[f"B{l}"] = out[f"W{l + 1}"].T.copy()
    for l in range(1, L + 1):
        rng.uniform(0.0, 0.0, (layers[l], layers[l]))
    return out


def model_rng(seed, layers=None, backward="bp", wt_noise=0.0):
    """The ANN's private generator: a fresh RandomState(seed), no draws."""
    return np.random.RandomState(seed)


class ANN(LayeredBaseline):
    r"""Layered rate network trained with backprop (MODEL.md 2.3).

    Units without compartments or look-ahead (`.DelayedRate`): each layer replaces
    its voltage every step,

    .. math::

        u_l^{k+1} = \gamma W_l r_{l-1}^k,\quad r_l^k = \varphi_l(u_l^k),\quad
        \gamma = g_{bas}/(g_{bas} + g_l)

    Errors travel down through their own units, one step per layer:

    .. math::

        \delta_L^{k+1} = \varphi'_L(u_L^k) \odot (t^k - r_L^k),\quad
        \delta_l^{k+1} = \varphi'_l(u_l^k) \odot (B_l \delta_{l+1}^k)

    and W_l learns dW = dt eta delta_l^k (r_{l-1}^{k-1})^T (`.DendriticPrediction`
    with no basal term, postsynaptic factor = the error units). With a rate
    target, in ``bp`` mode B_l = W_{l+1}^T exactly (`.TransposeTracking` with no
    noise: the weight transport of backprop, non-local by design); ``fa``: fixed
    random B. Without a target no error pathway is built (inference).

    Parameters
    ----------
    layers, activation :
        As for `.LayeredBaseline`.
    weights : path or dict, optional, keyword only
        Initial weights (``W1..``, ``B1..``, optional ``u1..``, ``d1..``);
        default drawn with ``seed`` (`initial_state`).
    backward, eta, seed, input, target, nudging, plasticity, label, g_l, g_bas, ... :
        Keyword only, as for `.LayeredBaseline`.
    """

    name = "ann"

    def __init__(self, layers, activation="tanh", *, weights=None, **kwargs):
        super().__init__(layers, activation, **kwargs)
        L = self.n_areas
        g = self.conductances
        self.gain = g.g_bas / (g.g_bas + g.g_l)
        if weights is None:
            weights = initial_state(self.layers, self.seed, self.backward_mode)
        w = self.initial_weights = self._load_weights(
            weights, lambda n, n_up: {"B": (n, n_up)}, voltages=("u", "d"), optional=("u", "d")
        )

        self.units, self.errors, self.derivatives, self.inputs = [], [], [], []
        self.error_input = []
        learn = self.target is not None
        with self:
            for l in range(1, L + 1):
                n = self.layers[l]
                basal = Dendrite(n, label=f"input{l}")
                unit = Population(
                    n,
                    DelayedRate(self.activation[l - 1], w.get(f"u{l}")),
                    inputs=[(basal, self.gain)],
                    label=f"layer{l}",
                )
                self.voltage_neurons[f"u{l}"] = unit.neurons
                self.inputs.append(basal)
                self.units.append(unit)
            self.output = self.units[-1]

            # the error pathway: delta_L from the target, delta_l from above
            if learn:
                self.mismatch = Nudging(self.output, self.target, self.nudging, label="mismatch")
                for l in range(1, L + 1):
                    n = self.layers[l]
                    rho = StateReadout(self.units[l - 1], "derivative", label=f"rho{l}")
                    self.derivatives.append(rho)
                    if l == L:
                        drive = self.mismatch
                    else:
                        self.error_input.append(Dendrite(n, label=f"backprop{l}"))
                        drive = Gate(self.derivatives[-1], self.error_input[-1], label=f"gate{l}")
                    err = Population(
                        n,
                        DelayedRate("linear", w.get(f"d{l}")),
                        inputs=[(drive, 1.0)],
                        label=f"delta{l}",
                    )
                    self.voltage_neurons[f"d{l}"] = err.neurons
                    self.errors.append(err)

            for l in range(1, L + 1):
                pre = self.input_area if l == 1 else self.units[l - 2]
                rule = None
                if learn and self.eta[l - 1] > 0:
                    rule = DendriticPrediction(
                        self.eta[l - 1], 0.0, soma=self.errors[l - 1], plasticity=self.plasticity
                    )
                conn = Projection(
                    pre.neurons, self.inputs[l - 1], transform=w[f"W{l}"],
                    learning_rule_type=rule, label=f"W{l}",
                )
                self.forward[(l, l - 1)] = conn
                self.weight_connections[f"W{l}"] = conn
            self.backward = {}
            if learn:
                for l in range(1, L):
                    n = self.layers[l]
                    rule = None
                    if self.backward_mode == "bp":
                        rule = TransposeTracking(
                            self.forward[(l + 1, l)], np.zeros((n, self.layers[l + 1])),
                            plasticity=self.plasticity,
                        )
                    conn = Projection(
                        self.errors[l].neurons, self.error_input[l - 1], transform=w[f"B{l}"],
                        learning_rule_type=rule, label=f"B{l}",
                    )
                    self.backward[l] = conn
                    self.weight_connections[f"B{l}"] = conn
        self._connect_plasticity()
