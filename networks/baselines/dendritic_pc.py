"""Dendritic hierarchical predictive coding ("dPC", after Mikulasch et al.),
as the authors implemented it: a variant of Sacramento's microcircuit
(MODEL.md 2.2)."""

import warnings

import nengo

from errormc.networks.compartments import Population, Projection
from errormc.networks.connectivity import BACKWARD_MODES, check_mode
from errormc.networks.microcircuit import Conductances
from errormc.networks.neurons import Identity

from .common import ApicalSilencing, load_weights, per_layer
from .learning_rates import paper_eta
from .sacramento2018 import PyramidalHierarchy, initial_state


class DendriticPredictiveCoding(PyramidalHierarchy):
    r"""Dendritic predictive coding network (MODEL.md 2.2).

    Linear pyramidal cells (students are forced to linear units; a warning is
    issued for any other activation) with basal input b_l = W_l r_{l-1} and
    apical input

    .. math:: a_l^k = B_l r_{l+1}^k + Q_l r_l^{k-1}

    i.e. there are no interneuron dynamics: the "interneuron" signal of area l is
    the area's own rate one step earlier (a `.Identity` population behind a
    one-step synapse). In the self-predicting state
    Q_l = -c B_l W_{l+1}, so a_l is the top-down projection of the prediction
    error of the area above. Output cells are nudged towards a **voltage** target,
    somas and prospective voltages as in `.DendriticMicrocircuit`.

    Plasticity: forward, voltage variant of `.DendriticPrediction`
    (dW = dt eta (u_breve^k - c b^{k-1}) r_pre^{k-1 T}); lateral
    `.ApicalSilencing` dQ = -dt eta_Q a^{k-1} (r^{k-2})^T. ``bp`` mode (as
    published, non-local): B_l = W_{l+1}^T + N_l at every plastic step
    (`.TransposeTracking`), Q keeps learning (not locked to B).

    Parameters are those of `.DendriticMicrocircuit`, except: ``eta_lateral`` is
    eta_Q (default: the paper's), there is no P and no g_nI.
    """

    name = "dpc"

    def __init__(
        self,
        layers,
        activation="linear",
        backward="bp",
        eta=None,
        eta_lateral=None,
        self_predicting=True,
        weights=None,
        seed=0,
        wt_noise=0.5,
        input=None,
        target=None,
        nudging=1.0,
        plasticity=1.0,
        label=None,
        **kwargs,
    ):
        g = Conductances.pop_from(kwargs)
        super().__init__(label=label or "DendriticPredictiveCoding", seed=seed, **kwargs)
        names = activation.split(",") if isinstance(activation, str) else list(activation)
        if any(str(a).strip().lower() != "linear" for a in names):
            warnings.warn(
                f"dPC: activation {activation!r} replaced by linear (the model is linear, "
                "MODEL.md 2.2)",
                stacklevel=2,
            )
        self._setup(layers, "linear", seed, g, input, target, nudging, plasticity)
        L = self.n_areas
        self.backward_mode = check_mode(backward, BACKWARD_MODES, "backward")
        defaults = paper_eta(self.name, L)
        self.eta = per_layer(defaults["eta"] if eta is None else eta, L, "eta")
        self.eta_lateral = per_layer(
            defaults["eta_lateral"] if eta_lateral is None else eta_lateral, L - 1, "eta_lateral"
        ) if L > 1 else []

        if weights is None:
            weights = initial_state(
                self.layers, seed, self.backward_mode, wt_noise, self_predicting,
                conductances=self.conductances, model="dpc",
            )
        shapes = {f"W{l}": (self.layers[l], self.layers[l - 1]) for l in range(1, L + 1)}
        for l in range(1, L):
            n, n_up = self.layers[l], self.layers[l + 1]
            shapes.update({f"B{l}": (n, n_up), f"Q{l}": (n, n), f"Bnoise{l}": (n, n_up)})
        for l in range(1, L + 1):
            shapes[f"u{l}"] = (self.layers[l],)
        optional = [k for k in shapes if k[0] == "u" or k.startswith("Bnoise")]
        w = self.initial_weights = load_weights(weights, shapes, optional)
        if self.backward_mode == "bp":
            for l in range(1, L):
                if f"Bnoise{l}" not in w:
                    w[f"Bnoise{l}"] = w[f"B{l}"] - w[f"W{l + 1}"].T

        self._build_pyramidal(w)
        self._build_forward(w, activation_rule=False)
        self._build_top_down(w)
        self._build_lateral(w)
        self._connect_plasticity()

    def _build_lateral(self, w):
        self.delayed, self.lateral_Q = [], {}
        delay = nengo.LinearFilter([1], [1], analog=False)  # exactly one step
        with self:
            for l in range(1, self.n_areas):
                n = self.layers[l]
                delayed = Population(n, Identity(), label=f"previous_rates{l}")
                Projection(self.pyramidal[l - 1].neurons, delayed.neurons, synapse=delay)
                rate = self.eta_lateral[l - 1]
                self.lateral_Q[l] = Projection(
                    delayed.neurons,
                    self.apical[l - 1],
                    transform=w[f"Q{l}"],
                    learning_rule_type=(
                        ApicalSilencing(rate, plasticity=self.plasticity) if rate > 0 else None
                    ),
                    label=f"Q{l}",
                )
                self.delayed.append(delayed)
                self.weight_connections[f"Q{l}"] = self.lateral_Q[l]
