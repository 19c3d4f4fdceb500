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
from .compartments import (
    DendriteStack,
    Dendrite,
    DerivativeReadout,
    Gate,
    Nudging,
    Population,
    Projection,
    Stack,
)
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
from .errors import ConfigError
from .neurons import Identity, ProspectiveRate

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

    @classmethod
    def pop_from(cls, kwargs):
        """Conductances from the ``g_l``, ``g_bas``, ... entries of a network's
        keyword arguments (removed from ``kwargs``; missing ones take the defaults
        above). The networks take them this way so the defaults live here only."""
        return cls(**{name: kwargs.pop(name) for name in cls.names if name in kwargs})


class Area(nengo.Network):
    """One cortical area: representation and error units with their dendrites.

    Attributes
    ----------
    representation : Population
        Representation units (`.ProspectiveRate`, total conductance
        g_l + g_bas + g_api); their somatic input is g_bas b + g_api a.
    derivative : DerivativeReadout
        phi'(u_breve) of the representation units.
    basal, apical : Dendrite
        Basal dendrite b (forward input) and apical dendrite a = Q eps.
    error : Population
        Error units (`.ProspectiveRate`, linear by default); hidden areas: input
        g_den d; the output area: g_ntgt P n.
    top_down : Dendrite
        Hidden areas: where backward projections from higher areas arrive.
    dendrite : Gate or Dendrite
        Hidden areas: the error dendrite d = (P rho) * top_down (phi' transfer) or
        d = top_down.
    mismatch : Nudging
        Output area with a target: n = m rho * (t - r).
    lateral_P, lateral_Q : Projection
        The phi' transfer / target comparison through P, and error -> apical (Q).

    ``prospective=False`` makes the representation rates phi(u) (MODEL.md 1.12);
    ``reset`` (a one-dimensional switch) restarts the representation somas from 0
    where it is 1 (`.Population`).
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
        target=None,
        nudging=None,
        plasticity=None,
        rep_variability=(None, None),
        error_variability=(None, None),
        prospective=True,
        reset=None,
        reset_history=False,
        label=None,
    ):
        super().__init__(label=label)
        g = conductances
        self.is_output = is_output
        self.n_units, self.n_errors = n_units, n_errors
        self.learned = []

        def decay(scale=1.0):
            if eta_lateral > 0:
                return IdentityDecay(eta_lateral, scale=scale, plasticity=plasticity)
            return None

        with self:
            self.basal = Dendrite(n_units, label="basal")
            self.apical = Dendrite(n_units, label="apical")
            self.representation = Population(
                n_units,
                ProspectiveRate(activation, g.representation, prospective, initial_voltage=u0,
                                slope=rep_variability[0], offset=rep_variability[1]),
                inputs=[(self.basal, g.g_bas), (self.apical, g.g_api)],
                reset=reset,
                reset_history=reset_history,
                label="representation",
            )
            self.derivative = DerivativeReadout(self.representation, label="derivative")
            error_type = ProspectiveRate(
                error_activation,
                g.output_error if is_output else g.hidden_error,
                initial_voltage=e0,
                slope=error_variability[0],
                offset=error_variability[1],
            )
            self.lateral_P = None
            self.mismatch = None
            self.top_down = self.dendrite = None
            if is_output:
                self.error = Population(n_errors, error_type, label="error")
                if target is not None:
                    self.mismatch = Nudging(self.representation, target, nudging, label="mismatch")
                    self.lateral_P = Projection(
                        self.mismatch.neurons,
                        self.error.neurons,
                        transform=g.g_ntgt * P,
                        learning_rule_type=decay(g.g_ntgt),
                    )
            else:
                self.top_down = Dendrite(n_errors, label="top_down")
                self.dendrite = self.top_down
                if phi_transfer:
                    lateral = Dendrite(n_errors, label="lateral")
                    self.dendrite = Gate(lateral, self.top_down, label="dendrite")
                    self.lateral_P = Projection(
                        self.derivative.neurons, lateral, transform=P, learning_rule_type=decay()
                    )
                self.error = Population(
                    n_errors, error_type, inputs=[(self.dendrite, g.g_den)], label="error"
                )
            self.lateral_Q = Projection(
                self.error.neurons, self.apical, transform=Q, learning_rule_type=decay()
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
    g_l, g_bas, g_api, g_den, g_ntgt : float, keyword only
        Conductances (1/ms); defaults of `.Conductances`.
    weights : str, path or dict, optional
        Initial weights and voltages (`errormc.networks.weights`); default: drawn
        with ``seed`` in the reference order (`.initial_state`).
    seed : int
        Seed of the initial weights and voltages.
    wt_noise, lateral_noise, weight_range : float
        Initialisation: sigma of the ``bp`` noise, spread of the lateral weights,
        forward weights U(-weight_range, weight_range).
    slope_std, offset_std : float
        Per-neuron variability of the activation (MODEL.md 1.5, 3.6): unit i gets
        slope 1 + N(0, slope_std^2) and offset N(0, offset_std^2), drawn after
        the weights in the reference order; the derivative stays nominal.
    variability_on : "rep" or "error"
        Which units vary: the representation units of every area (the paper's
        published runs), or instead the error units' activation psi (our reading
        of Fig. 5's error-unit condition, which the published code cannot run).
    rep_prospective : bool
        False: representation rates are phi(u), not phi(u_breve) (MODEL.md 1.12;
        the DMS task), so the slow somas carry memory.
    reset : optional
        A node spec or Nengo object: where it is 1, every area's representation
        somas restart from 0 (the DMS task's per-trial reset, `.Population`).
    reset_history : bool
        With ``reset``: also clear the somas' history buffer.
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

    Attributes
    ----------
    areas : list of Area
    input_area : Population
        The input rates r_0 (`.Identity` units).
    forward, backward : dict of Projection
        ``layered``: one projection per matrix, ``{(i, j): W_i}`` (post area i, pre
        block j) and ``{(j, i): B_j}`` (error dendrites of area j, errors of area i).
        ``skip``: the same keys map to `.ProjectionBlock`s (rows, columns and, for
        probes, ``learning_rule``) of two projections, ``projections["W"]`` from the
        stacked rates ``[r_0; ...; r_{L-1}]`` into the stacked basal dendrites and
        ``projections["B"]`` from the stacked errors into the stacked top-down
        dendrites (MODEL.md 1.9), one matrix each.
    learned : list of Projection
        Projections with a learning rule (each reads ``plasticity``).
    """

    #: the simulator time step this network is made for (one Nengo time unit is 1 ms (MODEL.md 5));
    #: `errormc.hardware.Simulator` takes it unless given another
    dt = 0.01

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
        weights=None,
        seed=0,
        wt_noise=0.5,
        lateral_noise=0.3,
        weight_range=1.0,
        slope_std=0.0,
        offset_std=0.0,
        variability_on="rep",
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
        conductances = Conductances.pop_from(kwargs)
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
        self.conductances = conductances
        if eta is None:
            eta = DEFAULT_ETA.get(L, [0.1] * L)
        self.eta = learning_rate_matrix(eta, L, self.connectivity, eta_fill)
        if not np.isfinite(eta_lateral) or eta_lateral < 0:
            raise ValueError(f"eta_lateral: must be >= 0, got {eta_lateral!r}")
        for name, value in (("wt_noise", wt_noise), ("lateral_noise", lateral_noise)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name}: must be >= 0, got {value!r}")
        self.phi_transfer = bool(phi_transfer)
        for name, value in (("weight_range", weight_range), ("slope_std", slope_std),
                            ("offset_std", offset_std)):
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"{name}: must be >= 0, got {value!r}")
        if variability_on not in ("rep", "error"):
            raise ConfigError(f"variability_on: {variability_on!r} is not one of rep, error")

        variability = None
        if slope_std > 0 or offset_std > 0:
            sizes = self.layers[1:] if variability_on == "rep" else self.errors
            variability = (sizes, slope_std, offset_std)
        drawn = None
        if weights is None or variability is not None:
            drawn = initial_state(
                self.layers,
                self.errors,
                self.connectivity,
                self.backward_mode,
                seed=seed,
                weight_range=weight_range,
                wt_noise=wt_noise,
                lateral_noise=lateral_noise,
                variability=variability,
            )
        if weights is None:
            weights = drawn
        unit_variability = [((None, None), (None, None))] * L
        if variability is not None:
            varied = [(drawn[f"slope{l}"], drawn[f"offset{l}"]) for l in range(1, L + 1)]
            none = [(None, None)] * L
            unit_variability = list(zip(varied, none) if variability_on == "rep"
                                    else zip(none, varied))
        self.initial_weights = weights_io.load(
            weights, self.layers, self.errors, self.connectivity, self.backward_mode
        )
        w = self.initial_weights

        with self:
            if input is None:
                self.input = nengo.Node(size_in=self.layers[0], label="input")
            else:
                self.input = _node(input, self.layers[0], "input")
            self.plasticity = _node(plasticity, 1, "plasticity")
            self.tracking = self.plasticity if tracking is None else _node(tracking, 1, "tracking")
            self.reset = None if reset is None else _node(reset, 1, "reset")
            self.target = None if target is None else _node(target, self.layers[-1], "target")
            self.nudging = None if target is None else _node(nudging, 1, "nudging")
            # a sub-network, so that stacks of this network are built before it
            with nengo.Network(label="input_area"):
                self.input_area = Population(self.layers[0], Identity(), label="input_area")
            Projection(self.input, self.input_area.neurons)

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
                        target=self.target if l == L else None,
                        nudging=self.nudging if l == L else None,
                        plasticity=self.plasticity,
                        rep_variability=unit_variability[l - 1][0],
                        error_variability=unit_variability[l - 1][1],
                        prospective=rep_prospective,
                        reset=self.reset,
                        reset_history=reset_history,
                        label=f"area{l}",
                    )
                )
            if self.connectivity == "skip":
                self._build_skip(w)
            else:
                self._build_layered(w)

            projections = (
                self.projections.values()
                if self.connectivity == "skip"
                else list(self.forward.values()) + list(self.backward.values())
            )
            self.learned = [c for c in projections if c.learning_rule_type]
            for area in self.areas:
                self.learned += area.learned

        self.output = self.areas[-1].representation

    # --- forward and backward weights --------------------------------------------------

    def _forward_rule(self, rate, soma, blocks=None):
        return DendriticPrediction(
            rate,
            self.conductances.attenuation,
            soma=soma,
            blocks=blocks,
            plasticity=self.plasticity,
        )

    def _kept_forward_blocks(self, w):
        """Forward blocks (i, j) with weights, a connection or a learning rate."""
        mask = forward_mask(self.n_areas, self.connectivity)
        return [
            (i, j)
            for i, j in forward_blocks(self.n_areas, self.connectivity)
            if mask[i, j] != 0 or self.eta[i - 1, j] != 0 or np.any(self.forward_block(w, i, j))
        ]

    def _kept_backward_blocks(self, w, tracked):
        """Backward blocks (j, i) with weights or (bp) a tracked forward block."""
        return [
            (j, i)
            for j, i in self._backward_blocks()
            if (self.backward_mode == "bp" and (i, j) in tracked)
            or np.any(self.backward_block(w, j, i))
        ]

    def _build_layered(self, w):
        """One projection per weight matrix W_l, B_l."""
        self.forward, self.backward = {}, {}
        self.projections = {}
        for i, j in self._kept_forward_blocks(w):
            pre = self.input_area if j == 0 else self.areas[j - 1].representation
            rate = self.eta[i - 1, j]
            self.forward[(i, j)] = Projection(
                pre.neurons,
                self.areas[i - 1].basal,
                transform=self.forward_block(w, i, j),
                learning_rule_type=(
                    self._forward_rule(rate, self.areas[i - 1].representation) if rate > 0 else None
                ),
                label=f"W[{i},{j}]",
            )
        for j, i in self._kept_backward_blocks(w, self.forward):
            rule = None
            if self.backward_mode == "bp" and (i, j) in self.forward:
                rule = TransposeTracking(
                    self.forward[(i, j)], self._backward_noise(w, j, i), plasticity=self.tracking
                )
            self.backward[(j, i)] = Projection(
                self.areas[i - 1].error.neurons,
                self.areas[j - 1].top_down,
                transform=self.backward_block(w, j, i),
                learning_rule_type=rule,
                label=f"B[{j},{i}]",
            )

    def _build_skip(self, w):
        """One projection for W (stacked rates -> stacked basal dendrites) and one
        for B (stacked errors -> stacked top-down dendrites), MODEL.md 1.9."""
        areas = self.areas
        rates = Stack([self.input_area] + [a.representation for a in areas[:-1]], label="rates")
        basal = DendriteStack([a.basal for a in areas], label="basal")
        p, q = rates.offsets(), basal.offsets()
        forward_slices = {
            (i, j): (slice(q[i - 1], q[i]), slice(p[j], p[j + 1]))
            for i, j in self._kept_forward_blocks(w)
        }
        W = np.zeros((q[-1], p[-1]))
        blocks = []
        for (i, j), (rows, cols) in forward_slices.items():
            W[rows, cols] = self.forward_block(w, i, j)
            if self.eta[i - 1, j] > 0:
                blocks.append((rows, cols, float(self.eta[i - 1, j])))
        rule = None
        if blocks:
            soma = Stack([a.representation for a in areas], "prospective", label="prospective")
            rule = self._forward_rule(1.0, soma, blocks)
        W = Projection(rates.neurons, basal, transform=W, learning_rule_type=rule, label="W")
        self.projections = {"W": W}
        self.forward = {ij: W.block(*sl) for ij, sl in forward_slices.items()}
        self.backward, backward_slices = {}, {}
        if self.n_areas == 1:
            return
        errors = Stack([a.error for a in areas], label="errors")
        top_down = DendriteStack([a.top_down for a in areas[:-1]], label="top_down")
        e = errors.offsets()
        B = np.zeros((e[-2], e[-1]))
        noise = np.zeros_like(B)
        tracked = []
        for j, i in self._kept_backward_blocks(w, forward_slices):
            rows, cols = slice(e[j - 1], e[j]), slice(e[i - 1], e[i])
            backward_slices[(j, i)] = (rows, cols)
            B[rows, cols] = self.backward_block(w, j, i)
            if self.backward_mode == "bp" and (i, j) in forward_slices:
                noise[rows, cols] = self._backward_noise(w, j, i)
                tracked.append((rows, cols) + forward_slices[(i, j)])
        rule = None
        if tracked:
            rule = TransposeTracking(
                self.projections["W"], noise, blocks=tracked, plasticity=self.tracking
            )
        B = Projection(errors.neurons, top_down, transform=B, learning_rule_type=rule, label="B")
        self.projections["B"] = B
        self.backward = {ji: B.block(*sl) for ji, sl in backward_slices.items()}

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
            matrices = {name: value(conn) for name, conn in self.projections.items()}
            for (i, j), block in self.forward.items():
                w["W"][o[i] : o[i + 1], o[j] : o[j + 1]] = matrices["W"][block.rows, block.cols]
            for (j, i), block in self.backward.items():
                w["B"][e[j - 1] : e[j], e[i - 1] : e[i]] = matrices["B"][block.rows, block.cols]
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
