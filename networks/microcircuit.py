"""The error microcircuit (MODEL.md section 1) as a Nengo network.

Each cortical area holds a population of representation units (basal and apical
dendrites, prospective soma) and a population of error units. Error units of
hidden areas receive the error of the areas above through backward weights,
gated by the phi' of their representation units; the output area's error units
compare output rates with the target. Representation units receive their area's
errors on their apical dendrites, and forward weights learn, at every step, from
that apical error times the presynaptic rate.

One model unit is one Nengo neuron. All connections are instantaneous
(``synapse=None``); the one-step delay per area lives in the somatic dynamics of
`.ProspectiveRate`, so the network is the reference's pipeline exactly.
"""

import numpy as np
import nengo

from . import activations, weights as weights_io
from .compartments import DerivativeReadout, Nudging, Product
from .connectivity import (
    BACKWARD_MODES,
    CONNECTIVITY_MODES,
    check_mode,
    forward_blocks,
    forward_mask,
    learning_rate_matrix,
)
from .builder import rectangular_transpose
from .initialization import initial_state
from .learning_rules import DendriticPrediction, IdentityDecay, TransposeTracking
from .neurons import Identity, ProspectiveRate, ResettableRate, SomaReset

#: Forward learning rates per area of the paper's Fig. 3 errormc runs, by depth
#: (MODEL.md 3.2); other depths default to 0.1 per area.
DEFAULT_ETA = {
    1: [1.0],
    2: [2.0, 0.2],
    3: [1.0, 0.2, 0.05],
    4: [2.0, 0.5, 0.125, 0.03125],
    5: [1.0, 0.2, 0.1, 0.05, 0.01],
}


def parse_layers(layers, field="layers"):
    """``"8-4-2-1"`` or a sequence -> list of positive ints with at least two entries."""
    if isinstance(layers, str):
        parts = [p for p in layers.replace(",", "-").split("-") if p.strip()]
        try:
            layers = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"{field}: {layers!r} is not a list of sizes like 8-4-2-1") from None
    layers = list(layers)
    if len(layers) < 2:
        raise ValueError(f"{field}: need at least two layers (input and output), got {layers}")
    for n in layers:
        if int(n) != n or n <= 0:
            raise ValueError(f"{field}: sizes must be positive integers, got {n!r} in {layers}")
    return [int(n) for n in layers]


def unit_kwargs(n):
    """Ensemble arguments for units driven through ``.neurons`` (gain 1, bias 0)."""
    return dict(gain=np.ones(n), bias=np.zeros(n), encoders=np.ones((n, 1)))


class Conductances:
    """Conductances (1/ms) of MODEL.md 1.2 and the quantities derived from them."""

    names = ("g_l", "g_bas", "g_api", "g_den", "g_ntgt")

    def __init__(self, g_l=0.03, g_bas=0.1, g_api=0.06, g_den=0.1, g_ntgt=0.06):
        for name, value in zip(self.names, (g_l, g_bas, g_api, g_den, g_ntgt)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name}: conductance must be >= 0, got {value!r}")
            setattr(self, name, float(value))
        for name, value in (
            ("g_l + g_bas + g_api", self.representation),
            ("g_l + g_den", self.hidden_error),
            ("g_l + g_ntgt", self.output_error),
        ):
            if value <= 0:
                raise ValueError(f"{name}: total conductance must be > 0, got {value}")

    @property
    def representation(self):
        return self.g_l + self.g_bas + self.g_api

    @property
    def hidden_error(self):
        return self.g_l + self.g_den

    @property
    def output_error(self):
        return self.g_l + self.g_ntgt

    @property
    def attenuation(self):
        """c = g_bas / (g_l + g_bas + g_api), the basal share of the soma."""
        return self.g_bas / self.representation

    def as_dict(self):
        return {name: getattr(self, name) for name in self.names}


class Area(nengo.Network):
    """One cortical area: representation and error units with their dendrites.

    Attributes
    ----------
    representation : nengo.Ensemble
        Representation units (`.ProspectiveRate`, total conductance
        g_l + g_bas + g_api); their input is g_bas b + g_api a.
    derivative : DerivativeReadout
        phi'(u_breve) of the representation units.
    basal, apical : nengo.Node
        Basal dendrite b (forward input) and apical dendrite a = Q eps.
    error : nengo.Ensemble
        Error units (`.ProspectiveRate`, linear by default).
    top_down : nengo.Node or ObjView
        Where backward projections from higher areas arrive (hidden areas).
    mismatch : nengo.Node
        Output area only: ``[rho; t; r; m] -> m rho * (t - r)`` (`.Nudging`).
    lateral_P, lateral_Q : nengo.Connection
        The phi' transfer / target comparison through P, and error -> apical (Q).
    reset : SomaReset or None
        ``resettable`` areas: 1 restarts the representation somas from 0.
    """

    def __init__(
        self,
        n_units,
        n_errors,
        activation,
        error_activation,
        conductances,
        is_output,
        P,
        Q,
        u0=None,
        e0=None,
        phi_transfer=True,
        eta_lateral=0.0,
        plasticity=None,
        prospective=True,
        resettable=False,
        reset_history=False,
        label=None,
    ):
        super().__init__(label=label)
        g = conductances
        self.is_output = is_output
        self.n_units, self.n_errors = n_units, n_errors
        self.learned = []
        with self:
            if resettable:
                rep_type = ResettableRate(activation, g.representation, prospective,
                                          reset_history, initial_voltage=u0)
            else:
                rep_type = ProspectiveRate(activation, g.representation, prospective,
                                           initial_voltage=u0)
            self.representation = nengo.Ensemble(
                n_units,
                1,
                neuron_type=rep_type,
                label="representation",
                **unit_kwargs(n_units),
            )
            # the input that restarts the somas (resettable areas only)
            self.reset = SomaReset(self.representation) if resettable else None
            self.derivative = DerivativeReadout(self.representation, label="derivative")
            self.error = nengo.Ensemble(
                n_errors,
                1,
                neuron_type=ProspectiveRate(
                    error_activation,
                    g.output_error if is_output else g.hidden_error,
                    initial_voltage=e0,
                ),
                label="error",
                **unit_kwargs(n_errors),
            )
            self.basal = nengo.Node(size_in=n_units, label="basal")
            self.apical = nengo.Node(size_in=n_units, label="apical")
            nengo.Connection(
                self.basal, self.representation.neurons, transform=g.g_bas, synapse=None
            )
            nengo.Connection(
                self.apical, self.representation.neurons, transform=g.g_api, synapse=None
            )
            self.lateral_Q = nengo.Connection(
                self.error.neurons,
                self.apical,
                transform=Q,
                synapse=None,
                learning_rule_type=IdentityDecay(eta_lateral) if eta_lateral > 0 else None,
            )
            self.lateral_P = None
            if is_output:
                self.top_down = None
                self.mismatch = nengo.Node(Nudging(n_units), label="mismatch")
                nengo.Connection(
                    self.derivative.neurons, self.mismatch[:n_units], synapse=None
                )
                nengo.Connection(
                    self.representation.neurons, self.mismatch[2 * n_units : 3 * n_units], synapse=None
                )
                source = self.mismatch
                if eta_lateral > 0:
                    # Nengo's learning rules need a neural presynaptic object
                    source = nengo.Ensemble(
                        n_units, 1, neuron_type=Identity(), label="target_drive", **unit_kwargs(n_units)
                    ).neurons
                    nengo.Connection(self.mismatch, source, synapse=None)
                self.lateral_P = nengo.Connection(
                    source,
                    self.error.neurons,
                    transform=g.g_ntgt * P,
                    synapse=None,
                    learning_rule_type=(
                        IdentityDecay(eta_lateral, scale=g.g_ntgt) if eta_lateral > 0 else None
                    ),
                )
            else:
                self.mismatch = None
                if phi_transfer:
                    self.dendrite = nengo.Node(Product(n_errors), label="dendrite")
                    self.lateral_P = nengo.Connection(
                        self.derivative.neurons,
                        self.dendrite[:n_errors],
                        transform=P,
                        synapse=None,
                        learning_rule_type=IdentityDecay(eta_lateral) if eta_lateral > 0 else None,
                    )
                    self.top_down = self.dendrite[n_errors:]
                else:
                    self.dendrite = nengo.Node(size_in=n_errors, label="dendrite")
                    self.top_down = self.dendrite
                nengo.Connection(
                    self.dendrite, self.error.neurons, transform=g.g_den, synapse=None
                )
        for conn in (self.lateral_P, self.lateral_Q):
            if conn is not None and conn.learning_rule_type is not None:
                self.learned.append(conn)


def _node(spec, size_out, label):
    """A Node for ``spec``: an existing Nengo object is used as is."""
    if isinstance(spec, (nengo.Node, nengo.base.ObjView)):
        return spec
    return nengo.Node(spec, size_out=size_out, label=label)


class ErrorMicrocircuit(nengo.Network):
    """A hierarchy of cortical areas with error neurons (MODEL.md section 1).

    Parameters
    ----------
    layers : list of int or str
        ``[n_0, n_1, ..., n_L]``: input size and representation units per area
        (``"8-4-2-1"`` works too).
    errors : list of int, optional
        Error units per area ``[m_1, ..., m_L]`` (default: as many as
        representation units; rectangular identities couple them otherwise).
    activation : str or list of str
        phi, one for all areas or one per area (``"tanh,linear"``).
    error_activation : str or list of str
        psi of the error units (linear in every published experiment).
    connectivity : "layered" or "skip"
        ``skip``: all-to-all forward blocks over the concatenated rates and an
        upper-triangular backward matrix, with the primate connectivity table
        for initialisation and learning rates (MODEL.md 1.9, 1.11).
    backward : "bp" or "fa"
        ``bp``: backward weights follow the transposed forward weights plus fixed
        noise (`.TransposeTracking`; non-local, the idealised case). ``fa``:
        fixed random backward weights (feedback alignment).
    eta : float, list or array, optional
        Forward learning rates per post area (or an L x L block matrix); in skip
        mode scaled by the anatomical strengths (``eta_fill="scaled"``).
    eta_lateral : float
        Rate of the decay of P and Q towards identity (0: fixed, as published).
    phi_transfer : bool
        Gate hidden error units by P phi'(u_breve) (MODEL.md 1.6).
    g_l, g_bas, g_api, g_den, g_ntgt : float
        Conductances (1/ms).
    weights : str, path or dict, optional
        Initial weights and voltages (`errormc.networks.weights`); default: drawn
        with ``seed`` in the reference order (`.initial_state`).
    seed : int
        Seed of the initial weights and voltages.
    wt_noise, lateral_noise : float
        Initialisation: sigma of the ``bp`` noise, spread of the lateral weights.
    rep_prospective : bool
        False: representation rates are phi(u), not phi(u_breve) (MODEL.md 1.12;
        the DMS task), so the slow somas carry memory.
    reset : optional
        A node spec or Nengo object: where it is 1, every area's representation
        somas restart from 0 (`.ResettableRate`; the DMS task's per-trial reset).
    reset_history : bool
        With ``reset``: also clear the somas' history buffer (see `.ResettableRate`).
    tracking : optional
        The switch of the ``bp`` backward weights' refresh (`.TransposeTracking`);
        default: the plasticity switch. The DMS script refreshes them at every
        step while its forward weights learn only on a trial's last frame.
    input, target, nudging, plasticity : optional
        Node outputs (array, callable, Process) or Nengo objects driving the input
        area, the target, the nudging switch (1: the target drives the output error
        units, 0: no target at this step) and the plasticity switch (1 plastic, 0
        frozen). ``input=None`` gives a passthrough node to connect into;
        ``target=None`` builds no target pathway (inference).
    """

    def __init__(
        self,
        layers,
        errors=None,
        activation="tanh",
        error_activation="linear",
        connectivity="skip",
        backward="bp",
        eta=None,
        eta_fill="scaled",
        eta_lateral=0.0,
        phi_transfer=True,
        g_l=0.03,
        g_bas=0.1,
        g_api=0.06,
        g_den=0.1,
        g_ntgt=0.06,
        weights=None,
        seed=0,
        wt_noise=0.5,
        lateral_noise=0.3,
        input=None,
        target=None,
        nudging=1.0,
        plasticity=1.0,
        rep_prospective=True,
        reset=None,
        reset_history=False,
        tracking=None,
        label=None,
        **kwargs,
    ):
        super().__init__(label=label or "ErrorMicrocircuit", seed=seed, **kwargs)
        self.layers = parse_layers(layers)
        L = self.n_areas = len(self.layers) - 1
        self.errors = list(self.layers[1:]) if errors is None else parse_layers(
            [1] + list(errors), "errors"
        )[1:]
        if len(self.errors) != L:
            raise ValueError(f"errors: {len(self.errors)} sizes for {L} areas")
        self.activation = activations.per_area(activation, L)
        self.error_activation = activations.per_area(error_activation, L, "error_activation")
        self.connectivity = check_mode(connectivity, CONNECTIVITY_MODES, "connectivity")
        self.backward_mode = check_mode(backward, BACKWARD_MODES, "backward")
        self.conductances = Conductances(g_l, g_bas, g_api, g_den, g_ntgt)
        if eta is None:
            eta = DEFAULT_ETA.get(L, [0.1] * L)
        self.eta = learning_rate_matrix(eta, L, self.connectivity, eta_fill)
        if not np.isfinite(eta_lateral) or eta_lateral < 0:
            raise ValueError(f"eta_lateral: must be >= 0, got {eta_lateral!r}")
        for name, value in (("wt_noise", wt_noise), ("lateral_noise", lateral_noise)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name}: must be >= 0, got {value!r}")
        self.phi_transfer = bool(phi_transfer)

        if weights is None:
            weights = initial_state(
                self.layers,
                self.errors,
                self.connectivity,
                self.backward_mode,
                seed=seed,
                wt_noise=wt_noise,
                lateral_noise=lateral_noise,
            )
        self.initial_weights = weights_io.load(
            weights, self.layers, self.errors, self.connectivity, self.backward_mode
        )
        w = self.initial_weights

        with self:
            if input is None:
                self.input = nengo.Node(size_in=self.layers[0], label="input")
            else:
                self.input = _node(input, self.layers[0], "input")
            self.input_area = nengo.Ensemble(
                self.layers[0],
                1,
                neuron_type=Identity(),
                label="input_area",
                **unit_kwargs(self.layers[0]),
            )
            nengo.Connection(self.input, self.input_area.neurons, synapse=None)
            self.plasticity = _node(plasticity, 1, "plasticity")
            self.target = None if target is None else _node(target, self.layers[-1], "target")

            self.areas = []
            for l in range(1, L + 1):
                self.areas.append(
                    Area(
                        self.layers[l],
                        self.errors[l - 1],
                        self.activation[l - 1],
                        self.error_activation[l - 1],
                        self.conductances,
                        is_output=l == L,
                        P=w[f"WIP{l}"],
                        Q=w[f"BPI{l}"],
                        u0=w.get(f"u{l}"),
                        e0=w.get(f"e{l}"),
                        phi_transfer=self.phi_transfer,
                        eta_lateral=eta_lateral,
                        prospective=rep_prospective,
                        resettable=reset is not None,
                        reset_history=reset_history,
                        label=f"area{l}",
                    )
                )
            self.reset = None
            if reset is not None:
                self.reset = _node(reset, 1, "reset")
                for area in self.areas:
                    nengo.Connection(self.reset, area.reset, synapse=None)
            output = self.areas[-1]
            self.nudging = None
            if self.target is not None:
                n_out = self.layers[-1]
                nengo.Connection(self.target, output.mismatch[n_out : 2 * n_out], synapse=None)
                self.nudging = _node(nudging, 1, "nudging")
                nengo.Connection(self.nudging, output.mismatch[-1:], synapse=None)

            self.forward = {}
            for i, j in forward_blocks(L, self.connectivity):
                block = self.forward_block(w, i, j)
                rate = self.eta[i - 1, j]
                mask = forward_mask(L, self.connectivity)[i, j]
                if mask == 0 and rate == 0 and not np.any(block):
                    continue
                pre = self.input_area if j == 0 else self.areas[j - 1].representation
                self.forward[(i, j)] = nengo.Connection(
                    pre.neurons,
                    self.areas[i - 1].basal,
                    transform=block,
                    synapse=None,
                    learning_rule_type=(
                        DendriticPrediction(
                            rate,
                            self.conductances.attenuation,
                            soma=self.areas[i - 1].representation,
                        )
                        if rate > 0
                        else None
                    ),
                    label=f"W[{i},{j}]",
                )

            self.backward = {}
            for j, i in self._backward_blocks():
                block = self.backward_block(w, j, i)
                tracked = self.forward.get((i, j))
                rule = None
                if self.backward_mode == "bp" and tracked is not None:
                    rule = TransposeTracking(tracked, self._backward_noise(w, j, i))
                elif not np.any(block):
                    continue
                self.backward[(j, i)] = nengo.Connection(
                    self.areas[i - 1].error.neurons,
                    self.areas[j - 1].top_down,
                    transform=block,
                    synapse=None,
                    learning_rule_type=rule,
                    label=f"B[{j},{i}]",
                )

            self.learned = [c for c in self.forward.values() if c.learning_rule_type]
            self.learned += [c for c in self.backward.values() if c.learning_rule_type]
            for area in self.areas:
                self.learned += area.learned
            tracked = {id(c) for c in self.backward.values()}
            self.tracking = self.plasticity if tracking is None else _node(tracking, 1, "tracking")
            for conn in self.learned:
                switch = self.tracking if id(conn) in tracked else self.plasticity
                nengo.Connection(switch, conn.learning_rule, synapse=None)

        self.output = output.representation

    # --- weight layout -------------------------------------------------------------

    def _rep_offsets(self):
        return np.concatenate([[0], np.cumsum(self.layers)]).astype(int)

    def _err_offsets(self):
        return np.concatenate([[0], np.cumsum(self.errors)]).astype(int)

    def forward_block(self, w, i, j):
        """Block (post area i, pre block j) of the forward weights in ``w``."""
        if self.connectivity == "layered":
            return w[f"W{i}"]
        o = self._rep_offsets()
        return w["W"][o[i] : o[i + 1], o[j] : o[j + 1]]

    def _backward_blocks(self):
        L = self.n_areas
        if self.connectivity == "layered":
            return [(j, j + 1) for j in range(1, L)]
        return [(j, i) for j in range(1, L) for i in range(j, L + 1)]

    def backward_block(self, w, j, i):
        """Block (error dendrites of area j, errors of area i) of the backward weights."""
        if self.connectivity == "layered":
            return w[f"B{j}"]
        o = self._err_offsets()
        block = w["B"][o[j - 1] : o[j], o[i - 1] : o[i]]
        return np.triu(block) if i == j else block

    def _backward_noise(self, w, j, i):
        """The fixed noise of ``bp`` mode for block (j, i); without a stored noise,
        what the initial backward weights hold beyond the transpose."""
        name = "Bnoise" if self.connectivity == "skip" else f"Bnoise{j}"
        shape = (self.errors[j - 1], self.errors[i - 1])
        if name in w:
            if self.connectivity == "layered":
                return w[name]
            o = self._err_offsets()
            return w[name][o[j - 1] : o[j], o[i - 1] : o[i]]
        return self.backward_block(w, j, i) - rectangular_transpose(
            self.forward_block(w, i, j), shape
        )

    # --- reading weights back from a simulator ---------------------------------

    def get_weights(self, sim):
        """Current weights and somatic voltages from ``sim``, in the file format."""
        w = {k: np.array(v, copy=True) for k, v in self.initial_weights.items()}

        def value(conn):
            return np.array(sim.signals[sim.model.sig[conn]["weights"]], copy=True)

        if self.connectivity == "skip":
            o, e = self._rep_offsets(), self._err_offsets()
            for (i, j), conn in self.forward.items():
                w["W"][o[i] : o[i + 1], o[j] : o[j + 1]] = value(conn)
            for (j, i), conn in self.backward.items():
                w["B"][e[j - 1] : e[j], e[i - 1] : e[i]] = value(conn)
        else:
            for (i, j), conn in self.forward.items():
                w[f"W{i}"] = value(conn)
            for (j, i), conn in self.backward.items():
                w[f"B{j}"] = value(conn)
        g_ntgt = self.conductances.g_ntgt
        for l, area in enumerate(self.areas, start=1):
            w[f"BPI{l}"] = value(area.lateral_Q)
            if area.lateral_P is not None:
                P = value(area.lateral_P)
                if not area.is_output:
                    w[f"WIP{l}"] = P
                elif g_ntgt > 0:
                    w[f"WIP{l}"] = P / g_ntgt
            neurons = sim.model.sig
            w[f"u{l}"] = np.array(sim.signals[neurons[area.representation.neurons]["voltage"]])
            w[f"e{l}"] = np.array(sim.signals[neurons[area.error.neurons]["voltage"]])
        return w

    def save_weights(self, path, sim):
        """Write the current weights (and voltages) of ``sim`` to ``path`` (.npz)."""
        return weights_io.save(path, self.get_weights(sim))
