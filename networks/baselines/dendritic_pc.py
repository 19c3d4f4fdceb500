"""Dendritic hierarchical predictive coding ("dPC", after Mikulasch et al.),
as the authors implemented it: a variant of Sacramento's microcircuit
(MODEL.md 2.2)."""

import warnings

import nengo

from errormc.networks.compartments import Population, Projection
from errormc.networks.neurons import Identity

from .common import ApicalSilencing
from .sacramento2018 import PyramidalHierarchy


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
    eta_Q (default: the paper's), there is no P, no g_nI, no eta_apical and no
    forward_rule.
    """

    name = "dpc"

    @staticmethod
    def hidden_arrays(n, n_up):
        return {"B": (n, n_up), "Q": (n, n), "Bnoise": (n, n_up)}

    def __init__(self, layers, activation="linear", **kwargs):
        names = activation.split(",") if isinstance(activation, str) else list(activation)
        if any(str(a).strip().lower() != "linear" for a in names):
            warnings.warn(
                f"dPC: activation {activation!r} replaced by linear (the model is linear, "
                "MODEL.md 2.2)",
                stacklevel=2,
            )
        super().__init__(layers, "linear", **kwargs)

        w = self.initial_weights
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
