"""The error microcircuit with spiking, population-coded areas (NEF), for deployment.

The rate model (`.ErrorMicrocircuit`) has one Nengo neuron per model unit. Here every
area's representation and error signals are carried by populations of spiking
neurons (LIF by default), so the same network description can run on the Nengo
reference simulator and, mapped to Loihi, on the nengo-loihi emulator.

Time scale
----------
Unlike the rate model (ms, dt = 0.01), this network lives in Nengo seconds
(dt = 0.001) with NEF synapses of ``tau`` ~ 10 ms: conductances only enter as the
dimensionless steady-state gains of MODEL.md 1.4,

    c     = g_bas / (g_l + g_bas + g_api)   (basal share of the soma),
    k_api = g_api / (g_l + g_bas + g_api)   (apical share),
    k_den = g_den / (g_l + g_den)           (hidden error units),
    k_tgt = g_ntgt / (g_l + g_ntgt)         (output error units).

Per area l (one population each; ``x_l`` is what the population represents)

    representation   u_l   = c b_l + k_api eps_l            (soma = basal + apical nudging)
    error (output)   eps_L = k_tgt phi'(u_L) * (t - phi(u_L))     (gated by ``nudging``)
    error (hidden)   eps_l = k_den phi'(u_l) * (B_l eps_{l+1})
    basal            b_l   = D_l a_{l-1}                    (decoded by learned decoders)

with a_{l-1} the spiking activities of the population below (the input population
for l = 1). The forward decoders D_l learn with PES,

    dD_l = kappa_l eps_l a_{l-1}^T                          (error x presynaptic activity),

which is the microcircuit's rule (MODEL.md 1.8: dW ~ apical error x presynaptic rate)
with the neuron activities of the area below as the presynaptic basis. The products
phi'(u) * x are computed inside 2-D populations (one per unit, an `nengo.networks.
EnsembleArray`), not on the host. The decoders are initialised to compute
``W_l phi(u_{l-1})`` (``W_1 r_0`` for the first area) with W drawn as in the rate
model, so ``bp`` backward weights start as the transpose of a known matrix.

Backward weights
----------------
``fa``: B_l fixed random (feedback alignment), local.
``bp``: B_l = W_{l+1}^T + N_l with W_{l+1} the *effective* linear forward mapping read
from the current learned decoders (least squares over the presynaptic population's
tuning curves) every ``bp_refresh`` seconds of simulated time. This reads the weights
of another connection: it is **non-local** and runs on the host, and it needs a
weight reader bound by the backend (`errormc.hardware.Simulator` does this; without
one, B stays at the transpose of the initial W plus noise).

Placement on Loihi (nengo-loihi 1.1)
------------------------------------
All ensembles (input, representation and error populations) go on chip. What
nengo-loihi forces onto the host, by design of this network:

* every learned connection is ``Ensemble -> Node`` (the ``basal`` nodes): on-chip
  PES learns decoders whose output leaves the chip (a learned ``Ensemble -> Ensemble``
  would push the post ensemble to the host);
* the error reaches PES through a host Node (``error_relay``): an ensemble feeding a
  learning rule directly would be moved to the host;
* the backward projections B (``backward`` nodes) and the target, nudging gate and
  input nodes are host Nodes (Nodes always are); values re-enter the chip through
  spike-encoding input populations.

So every area boundary crosses chip <-> host once per direction and step. On chip,
errors are scaled by ``pes_error_scale`` (100), rounded and clipped to +-127, and
learned weights are 8-bit with a per-synapse-group exponent: see
`errormc.hardware.loihi.placement`.
"""

import numpy as np
import nengo

from . import activations
from .connectivity import CONNECTIVITY_MODES, check_mode, forward_mask
from .microcircuit import Conductances, _node, parse_layers

BACKWARD_MODES = ("bp", "fa")

#: how the input population codes r_0: ``population``, every neuron sees all of
#: r_0 through a random unit encoder; ``per_input``, each neuron sees one input
#: dimension (encoder +e_i or -e_i), so an input value reaches only its own neurons
INPUT_CODINGS = ("population", "per_input")


def _check_positive(value, field, integer=False):
    if integer:
        if int(value) != value or value <= 0:
            raise ValueError(f"{field}: must be a positive integer, got {value!r}")
        return int(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{field}: must be > 0, got {value!r}")
    return float(value)


def per_input_encoders(n_inputs, neurons_per_input):
    """Encoders of a population in which each neuron sees one input dimension.

    Neuron ``k`` of the ``neurons_per_input`` neurons of input ``i`` has encoder
    ``(-1)^k e_i``: half of them fire for values above their intercept, half for
    values below.

    Returns
    -------
    (n_inputs * neurons_per_input, n_inputs) ndarray
    """
    n = n_inputs * neurons_per_input
    encoders = np.zeros((n, n_inputs))
    k = np.arange(n)
    encoders[k, k // neurons_per_input] = np.where(k % 2 == 0, 1.0, -1.0)
    return encoders


def _intercepts(dimensions):
    """Intercepts spread where a d-dimensional population's inputs fall.

    Projections of a typical input onto random unit encoders shrink like 1/sqrt(d),
    so with nengo's default U(-1, 1) most neurons of a high-dimensional population
    would be always on or always off; this keeps them in the range that varies.
    """
    # (and below 0.95: nengo-loihi cannot discretise neurons with higher intercepts)
    k = min(0.9, 2.0 / np.sqrt(dimensions))
    return nengo.dists.Uniform(-k, k)


class Relay:
    """Identity Node output. A Node with an output function is never removed by
    nengo-loihi's passthrough removal, which cannot route learned connections or
    error signals through removed nodes; it stays a host node."""

    def __call__(self, t, x):
        return x


class GatedProduct:
    """Decoded function of one 2-D error population: ``gain * phi'(s_u v0) * s_x v1``.

    ``v = [u / s_u, x / s_x]`` is what the population represents.
    """

    def __init__(self, activation, gain, u_scale, x_scale):
        self.dphi = activations.dphi(activation)
        self.gain, self.u_scale, self.x_scale = gain, u_scale, x_scale

    def __call__(self, v):
        return self.gain * self.dphi(self.u_scale * v[0]) * self.x_scale * v[1]


class ForwardFunction:
    """Initial function of a learned forward connection: ``W phi(x) + W o``."""

    def __init__(self, W, activation, offset=0.0):
        self.W = np.asarray(W, dtype=float)
        self.phi = activations.phi(activation)
        self.offset = offset

    def __call__(self, x):
        return self.W @ (self.phi(x) + self.offset)


class Coordinate:
    """Component ``i`` of ``f(u)`` (the decoded function of one x slot)."""

    def __init__(self, f, i):
        self.f, self.i = f, i

    def __call__(self, u):
        return self.f(u)[self.i]


class Complement:
    """Node output ``1 - x`` (the nudging gate: 1 inhibits every error population)."""

    def __call__(self, t, x):
        return 1.0 - x


class EffectiveForward:
    """``scale * D M``: the effective forward matrix from the current decoders ``D``
    of ``conn`` (read through ``reader``) and the fixed least-squares map ``M``."""

    def __init__(self, reader, conn, M, scale):
        self.reader, self.conn, self.M, self.scale = reader, conn, M, scale

    def __call__(self):
        return self.scale * (self.reader.decoders(self.conn) @ self.M)


class BackwardProjection:
    """Host Node output ``B eps`` of a backward projection (``bp`` or ``fa``).

    In ``bp`` mode ``B = W_eff^T + noise`` is refreshed every ``refresh`` seconds
    from ``source()``, the effective forward matrix (a callable bound by the
    backend; non-local). ``B`` starts at ``W_init^T + noise``.
    """

    def __init__(self, B, noise=None, refresh=None):
        self.B0 = np.array(B, dtype=float)
        self.B = self.B0.copy()
        self.noise = noise
        self.refresh = refresh
        self.source = None
        self.next_refresh = 0.0
        self.n_refreshes = 0

    def reset(self):
        """Back to the initial B, with no source (a new simulator binds one)."""
        self.B = self.B0.copy()
        self.source = None
        self.next_refresh = 0.0
        self.n_refreshes = 0

    def __call__(self, t, eps):
        if self.source is not None and self.refresh is not None and t >= self.next_refresh:
            self.B = self.source().T + self.noise
            self.next_refresh = t + self.refresh
            self.n_refreshes += 1
        return self.B @ eps


class SpikingArea(nengo.Network):
    """One area: a representation population and a population of error products.

    Attributes
    ----------
    representation : nengo.Ensemble
        Represents the somatic potential u (``n_units`` dimensions).
    basal : nengo.Node
        Host node holding the decoded forward input b (output of learned decoders).
    error : nengo.networks.EnsembleArray
        ``n_units`` 2-D populations representing ``[u_i / s_u, x_i / s_x]``; their
        decoded output ``error.output`` is eps = k phi'(u) * x.
    x_input : list of ObjView
        Where x (the mismatch ``t - r`` or the backward projection) arrives.
    error_relay : nengo.Node
        Host node through which eps reaches the PES rules and the area below.
    """

    def __init__(
        self,
        n_units,
        activation,
        conductances,
        is_output,
        neurons_per_unit,
        error_neurons,
        tau,
        rep_radius,
        error_scale,
        neuron_type,
        error_pairs=False,
        seed=None,
        label=None,
    ):
        super().__init__(label=label)
        g = conductances
        self.n_units = n_units
        self.activation = activation
        self.is_output = is_output
        self.rep_radius = rep_radius
        self.error_scale = error_scale
        gain = g.g_ntgt / g.output_error if is_output else g.g_den / g.hidden_error
        self.error_gain = gain
        with self:
            self.representation = nengo.Ensemble(
                neurons_per_unit * n_units,
                n_units,
                radius=rep_radius,
                intercepts=_intercepts(n_units),
                neuron_type=neuron_type,
                label="representation",
            )
            self.basal = nengo.Node(Relay(), size_in=n_units, label="basal")
            # soma = basal share of the forward input ...
            nengo.Connection(
                self.basal, self.representation, transform=g.attenuation, synapse=tau
            )
            # with error pairs, a second array of the same neurons (same seed) sees
            # -x; each decodes half the product and eps is their difference
            arrays = [("error", 1.0)] + ([("error_mirror", -1.0)] if error_pairs else [])
            product = GatedProduct(activation, gain / len(arrays), rep_radius, error_scale)
            if error_pairs:
                self.error_output = nengo.Node(size_in=n_units, label="eps")
            #: (array, sign of the x it sees)
            self.error_arrays = []
            for name, sign in arrays:
                array = nengo.networks.EnsembleArray(
                    error_neurons,
                    n_units,
                    ens_dimensions=2,
                    radius=np.sqrt(2),
                    neuron_type=neuron_type,
                    label=name,
                    seed=seed,
                )
                eps = array.add_output("eps", product)
                if error_pairs:
                    nengo.Connection(eps, self.error_output, transform=sign, synapse=None)
                else:
                    # (no node in between: the seeds nengo draws per network follow
                    # its connections, so the unpaired network stays as it was)
                    self.error_output = eps
                # ... the error units see u through the phi' transfer (P = I) ...
                for i in range(n_units):
                    nengo.Connection(
                        self.representation[i],
                        array.input[2 * i],
                        transform=1.0 / rep_radius,
                        synapse=tau,
                    )
                self.error_arrays.append((array, sign))
            self.error = self.error_arrays[0][0]
            self.x_input = [self.error.input[2 * i + 1] for i in range(n_units)]
            # ... and the apical dendrite nudges the soma with the area's error (Q = I)
            nengo.Connection(
                self.error_output,
                self.representation,
                transform=g.g_api / g.representation,
                synapse=tau,
            )
            self.error_relay = nengo.Node(Relay(), size_in=n_units, label="error_relay")
            nengo.Connection(self.error_output, self.error_relay, synapse=tau)

    def connect_x(self, pre, transform=1.0, function=None, synapse=None):
        """Connect ``pre`` (n_units-dim) into the x slots, scaled by 1/s_x
        (and by -1/s_x into a mirror array's)."""
        for array, sign in self.error_arrays:
            for i in range(self.n_units):
                # a function decodes unit i from all of pre; without one, pre[i] is it
                source, kwargs = ((pre, dict(function=Coordinate(function, i)))
                                  if function is not None else (pre[i], {}))
                nengo.Connection(source, array.input[2 * i + 1],
                                 transform=sign * transform / self.error_scale,
                                 synapse=synapse, **kwargs)

    @property
    def error_ensembles(self):
        """Every error population of the area (both arrays of a pair)."""
        return [ens for array, _ in self.error_arrays for ens in array.ensembles]


class SpikingErrorMicrocircuit(nengo.Network):
    """Spiking, population-coded error microcircuit (layered or skip).

    Parameters
    ----------
    layers : list of int or str
        ``[n_0, ..., n_L]`` (``"4-2-1"`` works too).
    neurons_per_unit : int
        Neurons per represented dimension in the input and representation
        populations.
    error_neurons : int
        Neurons of each unit's 2-D error population.
    activation : str or list of str
        phi per area (``"tanh"``; ``"tanh,linear"``).
    backward : "bp" or "fa"
        Backward weights: transpose of the effective forward mapping (non-local,
        refreshed every ``bp_refresh`` s) or fixed random.
    eta : float or list of float, optional
        PES learning rate per area (nengo's units: the update is
        ``-eta * dt / n_pre * E * a``); default 1e-2 for hidden areas, 1e-3 for
        the output area. Zero for an area: its forward decoders are fixed.
    error_gain : float or list of float, optional
        The error reaches PES multiplied by this and the rate divided by it: the
        same update on the reference simulator, but on Loihi (errors x 100,
        rounded to integers) small hidden errors are rounded away less. Default 1.
    hidden_learning : bool
        False switches off learning of every area but the output area.
    error_pairs : bool
        Each area's error products in a pair of arrays of the same neurons, one
        seeing x and one -x, each decoding half the product:

            eps = f(u, x) / 2 - f(u, -x) / 2 + (e(u, x) - e(u, -x)),

        so the decode error e of the product cancels where it is even in x; in
        particular eps is exactly 0 at x = 0, where a single array emits a
        standing error e(u, 0) (the NEF decode's bias, and on Loihi its spiking
        pathway's) that moves the forward weights. Twice the error neurons.
    input_coding : "population" or "per_input"
        How the input population codes r_0: every neuron sees all of it through
        a random unit encoder, or each neuron sees one input (encoders ``+-e_i``,
        ``neurons_per_unit`` per input, `per_input_encoders`): then a value sent
        into the population reaches only its own input's neurons, which on Loihi
        is ``neurons_per_unit`` synapses per input spike instead of all
        ``neurons_per_unit * n_0`` (`errormc.hardware.loihi.encoding`).
    tau : float
        Synaptic time constant (s) of the connections between populations.
    rep_radius : float
        Radius of the representation populations (range of u).
    error_scale : float or list of float
        Range of the x input of the error products (t - r, B eps), per area:
        the error populations represent ``x / error_scale``, so a smaller scale
        spends more of their range, and of their spikes, on a small error.
    init_range : float, optional
        Initial forward weights ``W_l ~ U(-w, w)``; default
        ``w = min(1, 2 / sqrt(n_{l-1}))``.
    wt_noise : float
        ``bp``: backward noise ``N ~ U(-wt_noise, wt_noise)``; ``fa``: B ~ U(-1, 1)
        scaled like the forward weights.
    neuron_type : nengo.neurons.NeuronType, optional
        Default ``nengo.LIF()``; on-chip choices are LIF / SpikingRectifiedLinear
        and their nengo-loihi variants (`errormc.hardware.backends.chip_neuron_type`).
    input, target, nudging : optional
        Node outputs (array, callable, Process) for the input rates r_0 in [0, 1],
        the target and the nudging switch (1: target drives the output errors and
        learning happens; 0: every error population is inhibited, so no nudging
        and no learning). ``input=None``: a passthrough node to connect into.
    """

    #: the simulator time step this network is made for (Nengo seconds, NEF synapses of ~10 ms);
    #: `errormc.hardware.Simulator` takes it unless given another
    dt = 0.001

    def __init__(
        self,
        layers,
        neurons_per_unit=50,
        error_neurons=100,
        activation="tanh",
        backward="bp",
        connectivity="layered",
        eta=None,
        error_gain=None,
        hidden_learning=True,
        error_pairs=False,
        input_coding="population",
        tau=0.01,
        pes_tau=0.01,
        rep_radius=1.5,
        error_scale=0.5,
        init_range=None,
        wt_noise=0.1,
        bp_refresh=0.05,
        neuron_type=None,
        seed=0,
        input=None,
        target=None,
        nudging=1.0,
        label=None,
        **kwargs,
    ):
        conductances = Conductances.pop_from(kwargs)
        super().__init__(label=label or "SpikingErrorMicrocircuit", seed=seed, **kwargs)
        self._reader = None
        self.layers = parse_layers(layers)
        L = self.n_areas = len(self.layers) - 1
        self.neurons_per_unit = _check_positive(neurons_per_unit, "neurons_per_unit", True)
        self.error_neurons = _check_positive(error_neurons, "error_neurons", True)
        self.activation = activations.per_area(activation, L)
        backward = str(backward).strip().lower()
        if backward not in BACKWARD_MODES:
            raise ValueError(f"backward: unknown mode {backward!r}; choose from bp, fa")
        self.backward_mode = backward
        self.connectivity = check_mode(connectivity, CONNECTIVITY_MODES, "connectivity")
        if eta is None:
            eta = [1e-2] * (L - 1) + [1e-3]
        if error_gain is None:
            error_gain = 1.0
        self.eta = self._per_area(eta, "eta", L, allow_zero=True)
        self.error_gain = self._per_area(error_gain, "error_gain", L, allow_zero=False)
        self.error_scale = self._per_area(error_scale, "error_scale", L, allow_zero=False)
        if not hidden_learning:
            self.eta[:-1] = 0.0
        self.hidden_learning = bool(hidden_learning)
        self.error_pairs = bool(error_pairs)
        self.input_coding = check_mode(input_coding, INPUT_CODINGS, "input_coding")
        for name, value in (("tau", tau), ("pes_tau", pes_tau), ("rep_radius", rep_radius),
                            ("bp_refresh", bp_refresh)):
            _check_positive(value, name)
        if not np.isfinite(wt_noise) or wt_noise < 0:
            raise ValueError(f"wt_noise: must be >= 0, got {wt_noise!r}")
        if init_range is not None:
            _check_positive(init_range, "init_range")
        self.conductances = conductances
        self.tau, self.pes_tau = float(tau), float(pes_tau)
        self.neuron_type = nengo.LIF() if neuron_type is None else neuron_type

        rng = np.random.RandomState(seed)
        self.initial_weights = {}
        for l in range(1, L + 1):
            w = init_range or min(1.0, 2.0 / np.sqrt(self.layers[l - 1]))
            self.initial_weights[f"W{l}"] = rng.uniform(-w, w, (self.layers[l], self.layers[l - 1]))
        for l in range(1, L):
            shape = (self.layers[l], self.layers[l + 1])
            if backward == "bp":
                self.initial_weights[f"Bnoise{l}"] = rng.uniform(-wt_noise, wt_noise, shape)
                self.initial_weights[f"B{l}"] = (
                    self.initial_weights[f"W{l + 1}"].T + self.initial_weights[f"Bnoise{l}"]
                )
            else:
                w = min(1.0, 2.0 / np.sqrt(self.layers[l]))
                self.initial_weights[f"B{l}"] = rng.uniform(-w, w, shape)

        # skip blocks (post area i, pre area j < i - 1), scaled by the primate table
        # (MODEL.md 1.11); drawn after the layered ones, so layered nets are unchanged
        self.skip_blocks = []
        if self.connectivity == "skip":
            mask = forward_mask(L, "skip")
            for i in range(3, L + 1):
                for j in range(1, i - 1):
                    if mask[i, j] > 0:
                        self.skip_blocks.append((i, j))
                        w = (init_range or min(1.0, 2.0 / np.sqrt(self.layers[j]))) * mask[i, j]
                        W = rng.uniform(-w, w, (self.layers[i], self.layers[j]))
                        self.initial_weights[f"W{i}_{j}"] = W
                        if backward == "bp":
                            noise = rng.uniform(-wt_noise, wt_noise, W.T.shape)
                            self.initial_weights[f"Bnoise{j}_{i}"] = noise
                            self.initial_weights[f"B{j}_{i}"] = W.T + noise
                        else:
                            self.initial_weights[f"B{j}_{i}"] = rng.uniform(-w, w, W.T.shape)
        self.skip_mask = forward_mask(L, self.connectivity)

        n0 = self.layers[0]
        with self:
            self.input = (
                nengo.Node(size_in=n0, label="input") if input is None else _node(input, n0, "input")
            )
            # the input population represents r_0 - 1/2 (rates in [0, 1] centred):
            # a cube of side 1, whose corners a radius of sqrt(n_0) / 2 holds; with
            # per-input coding each neuron sees one side of it
            if self.input_coding == "population":
                self.input_radius = np.sqrt(n0) / 2.0
                coding = dict(intercepts=_intercepts(n0))
            else:
                self.input_radius = 0.5
                coding = dict(intercepts=_intercepts(1),
                              encoders=per_input_encoders(n0, self.neurons_per_unit))
            self.input_area = nengo.Ensemble(
                self.neurons_per_unit * n0,
                n0,
                radius=self.input_radius,
                # nengo scales eval points by the radius: these are the cube's
                eval_points=nengo.dists.Uniform(-0.5 / self.input_radius, 0.5 / self.input_radius),
                neuron_type=self.neuron_type,
                label="input_area",
                **coding,
            )
            self.input_offset = nengo.Node(-0.5 * np.ones(n0), label="input_offset")
            nengo.Connection(self.input, self.input_area, synapse=None)
            nengo.Connection(self.input_offset, self.input_area, synapse=None)

            self.areas = []
            for l in range(1, L + 1):
                self.areas.append(
                    SpikingArea(
                        self.layers[l],
                        self.activation[l - 1],
                        self.conductances,
                        is_output=l == L,
                        neurons_per_unit=self.neurons_per_unit,
                        error_neurons=self.error_neurons,
                        tau=self.tau,
                        rep_radius=rep_radius,
                        error_scale=self.error_scale[l - 1],
                        neuron_type=self.neuron_type,
                        error_pairs=self.error_pairs,
                        # the two arrays of a pair must hold the same neurons; drawn
                        # apart from the weights, so they stay as they are
                        seed=(int(np.random.RandomState(None if seed is None else [seed, l])
                                      .randint(2**31)) if self.error_pairs else None),
                        label=f"area{l}",
                    )
                )
            out = self.areas[-1]
            phi_out = activations.phi(self.activation[-1])
            self.output = nengo.Node(Relay(), size_in=self.layers[-1], label="output")
            nengo.Connection(out.representation, self.output, function=phi_out, synapse=self.tau)
            #: where drivers read the output: the decoded rate, filtered like the
            #: network's own synapses
            self.readout = (self.output, self.tau)

            # target comparison: x_L = t - phi(u_L)
            self.target = None
            if target is not None:
                if isinstance(target, nengo.base.ObjView):
                    # the error slots take the target unit by unit: a slice of a
                    # slice is not a Nengo object, so a relay holds it
                    relay = nengo.Node(size_in=self.layers[-1], label="target")
                    nengo.Connection(target, relay, synapse=None)
                    target = relay
                self.target = _node(target, self.layers[-1], "target")
                out.connect_x(self.target, synapse=None)
                out.connect_x(out.representation, transform=-1.0, function=phi_out, synapse=self.tau)

            # nudging gate: nudging = 0 inhibits every error population
            self.nudging = _node(nudging, 1, "nudging")
            self.gate = nengo.Node(Complement(), size_in=1, label="gate")
            nengo.Connection(self.nudging, self.gate, synapse=None)
            for area in self.areas:
                for ens in area.error_ensembles:
                    nengo.Connection(
                        self.gate, ens.neurons, transform=-3.0 * np.ones((ens.n_neurons, 1)),
                        synapse=None,
                    )

            # forward projections: learned decoders into the basal nodes
            self.forward = {}
            self.learned = []
            for l in range(1, L + 1):
                pre = self.input_area if l == 1 else self.areas[l - 2].representation
                W = self.initial_weights[f"W{l}"]
                function = (
                    ForwardFunction(W, "linear", offset=0.5)
                    if l == 1
                    else ForwardFunction(W, self.activation[l - 2])
                )
                gain = self.error_gain[l - 1]
                rule = (
                    nengo.PES(learning_rate=self.eta[l - 1] / gain, pre_synapse=nengo.Lowpass(self.pes_tau))
                    if self.eta[l - 1] > 0
                    else None
                )
                conn = nengo.Connection(
                    pre,
                    self.areas[l - 1].basal,
                    function=function,
                    synapse=self.tau,
                    learning_rule_type=rule,
                    label=f"W{l}",
                )
                self.forward[l] = conn
                if rule is not None:
                    # PES lowers (decoded - target); eps points from r to t: feed -eps,
                    # amplified by error_gain (and eta divided by it): the same rule,
                    # but small hidden errors survive Loihi's integer error rounding
                    nengo.Connection(
                        self.areas[l - 1].error_relay, conn.learning_rule, transform=-gain,
                        synapse=None,
                    )
                    self.learned.append(conn)

            # skip projections: area j -> basal of area i, learned by PES from the
            # error of area i at the rate scaled by the block's anatomical strength
            self.skip_forward, self.skip_backward = {}, {}
            for i, j in self.skip_blocks:
                rate = self.eta[i - 1] * self.skip_mask[i, j]
                gain = self.error_gain[i - 1]
                rule = (nengo.PES(learning_rate=rate / gain, pre_synapse=nengo.Lowpass(self.pes_tau))
                        if rate > 0 else None)
                conn = nengo.Connection(
                    self.areas[j - 1].representation,
                    self.areas[i - 1].basal,
                    function=ForwardFunction(self.initial_weights[f"W{i}_{j}"], self.activation[j - 1]),
                    synapse=self.tau,
                    learning_rule_type=rule,
                    label=f"W{i}_{j}",
                )
                self.skip_forward[(i, j)] = conn
                if rule is not None:
                    nengo.Connection(self.areas[i - 1].error_relay, conn.learning_rule,
                                     transform=-gain, synapse=None)
                    self.learned.append(conn)
                if i <= L and j < L:
                    proj = BackwardProjection(
                        self.initial_weights[f"B{j}_{i}"],
                        noise=self.initial_weights.get(f"Bnoise{j}_{i}"),
                        refresh=bp_refresh if backward == "bp" else None,
                    )
                    node = nengo.Node(proj, size_in=self.layers[i], size_out=self.layers[j],
                                      label=f"B{j}_{i}")
                    nengo.Connection(self.areas[i - 1].error_relay, node, synapse=None)
                    self.areas[j - 1].connect_x(node, synapse=None)
                    self.skip_backward[(j, i)] = node

            # backward projections: host nodes B eps_{l+1} into the hidden error units
            self.backward = {}
            for l in range(1, L):
                B = self.initial_weights[f"B{l}"]
                proj = BackwardProjection(
                    B,
                    noise=self.initial_weights.get(f"Bnoise{l}"),
                    refresh=bp_refresh if backward == "bp" else None,
                )
                node = nengo.Node(
                    proj, size_in=self.layers[l + 1], size_out=self.layers[l], label=f"B{l}"
                )
                nengo.Connection(self.areas[l].error_relay, node, synapse=None)
                self.areas[l - 1].connect_x(node, synapse=None)
                self.backward[l] = node

    @staticmethod
    def _per_area(value, field, L, allow_zero):
        arr = np.asarray(value, dtype=float)
        arr = np.full(L, float(arr)) if arr.ndim == 0 else arr
        if arr.shape != (L,):
            raise ValueError(f"{field}: need one value or {L} values, got {np.asarray(value).tolist()}")
        bad = (arr < 0) if allow_zero else (arr <= 0)
        if np.any(~np.isfinite(arr)) or np.any(bad):
            raise ValueError(f"{field}: values must be {'>= 0' if allow_zero else '> 0'}, got {arr.tolist()}")
        return arr

    # --- non-local backward weights (bp) -----------------------------------------

    def _eval_points(self, l, n=1000):
        """Points in the space of the population below area l, and phi there."""
        rng = np.random.RandomState(1234 + l)
        if l == 1:
            z = rng.uniform(-0.5, 0.5, (n, self.layers[0]))
            return z, z + 0.5
        radius = self.areas[l - 2].rep_radius
        x = nengo.dists.UniformHypersphere().sample(n, self.layers[l - 1], rng=rng) * radius
        return x, activations.phi(self.activation[l - 2])(x)

    def bind_weight_reader(self, reader):
        """Let ``bp`` backward projections read the forward mapping (non-local).

        ``reader=None`` unbinds (B back to its initial value). ``reader`` offers ``decoders(conn)`` (current decoders, ``size_out x n_pre``
        up to one positive factor per connection) and ``activities(ens, x)`` (rates of
        ``ens`` at points ``x``). The effective matrix ``W_eff`` of forward
        connection l is the least-squares fit of ``D a(x) ~ W_eff phi(x) + c``.
        """
        projections = [(l, l + 1, node, self.forward[l + 1], f"W{l + 1}")
                       for l, node in self.backward.items()]
        projections += [(j, i, node, self.skip_forward[(i, j)], f"W{i}_{j}")
                        for (j, i), node in self.skip_backward.items()]
        for _, _, node, _, _ in projections:
            node.output.reset()
        self._reader = reader
        if self.backward_mode != "bp" or reader is None:
            return
        for l, post, node, conn, name in projections:
            if conn.learning_rule is None:
                continue  # a fixed forward mapping: B keeps its initial W^T + N
            x, phix = self._eval_points(l + 1)
            A = reader.activities(conn.pre_obj, x)
            features = np.hstack([phix, np.ones((len(x), 1))])
            # W_eff^T = pinv(features) A D^T  =>  W_eff = D (A^T pinv(features)^T)
            M = (A.T @ np.linalg.pinv(features).T)[:, : self.layers[l]]
            D0 = reader.decoders(conn)
            W0 = D0 @ M
            W_init = self.initial_weights[name]
            # one factor for the backend's weight units (exactly 1 on nengo when
            # the decoders solve W_init well)
            scale = float(np.sum(W0 * W_init) / max(np.sum(W0 * W0), 1e-12))

            node.output.source = EffectiveForward(reader, conn, M, scale)
            self.weight_scale = getattr(self, "weight_scale", {})
            self.weight_scale[name] = scale

    def get_weights(self, sim):
        """The learned forward decoders ``D{l}`` (``D{i}_{j}`` for skip blocks),
        ``size_out x n_pre``, and the current backward matrices ``B{l}``
        (``B{j}_{i}``), as the backend holds them (on Loihi: the chip's integer
        weights up to one factor per connection). Fixed forward decoders (an area
        that does not learn) are not read."""
        if self._reader is None or self._reader.sim is not sim:
            raise ValueError("sim: build this network with errormc.hardware.Simulator to "
                             "read its weights")
        out = {}
        learned = set(self.learned)
        for l, conn in self.forward.items():
            if conn in learned:
                out[f"D{l}"] = np.array(self._reader.decoders(conn))
        for (i, j), conn in self.skip_forward.items():
            if conn in learned:
                out[f"D{i}_{j}"] = np.array(self._reader.decoders(conn))
        for name, proj in self._projections():
            out[name] = np.array(proj.B)
        return out

    def _projections(self):
        """``(name, BackwardProjection)`` of every backward projection."""
        out = [(f"B{l}", node.output) for l, node in self.backward.items()]
        out += [(f"B{j}_{i}", node.output) for (j, i), node in self.skip_backward.items()]
        return out

    def host_state(self):
        """The state held outside the simulator's signals (the ``bp`` backward
        matrices and their refresh clocks), for checkpoints."""
        out = {}
        for name, proj in self._projections():
            out[f"{name}.B"] = np.array(proj.B)
            out[f"{name}.next_refresh"] = np.array(proj.next_refresh)
            out[f"{name}.n_refreshes"] = np.array(proj.n_refreshes)
        return out

    def restore_host_state(self, state):
        """Put back what `host_state` returned."""
        for name, proj in self._projections():
            proj.B = np.array(state[f"{name}.B"])
            proj.next_refresh = float(state[f"{name}.next_refresh"])
            proj.n_refreshes = int(state[f"{name}.n_refreshes"])

    def effective_weights(self, l):
        """The current backward matrix of hidden area l (B_l) as the network sees it."""
        return np.array(self.backward[l].output.B)
