"""How values from host Nodes enter the chip: several phase-staggered on/off pairs per dimension.

nengo-loihi 1.1 encodes every value ``x`` that a host Node sends to an on-chip
ensemble with one on/off pair of integrate-and-fire neurons per dimension
(``Model.node_neurons``, run on the host), rates

    r_on = (1 + x) / (2 dt),   r_off = (1 - x) / (2 dt),

in units of the post ensemble's radius: the chip receives ``x`` as the spike
count difference, one spike per neuron and step at most. So ``|x| > 1``
saturates (in the 2-1 teacher-student task the input rate ``r_0 / radius``
reaches 1.41: 30% of the inputs were clipped) and the signal is quantised to
one spike, ``1 / (1000 Hz tau)`` of the range after a synapse ``tau``.

`PairedInputNeurons` keeps the rule and changes two numbers: ``x`` is first
divided by a range ``R`` (nothing below ``|x| = R`` saturates) and carried by
``K`` pairs per dimension, each still up to one spike per step, whose voltages
start at ``k / K`` (k = 0 .. K-1), so their spikes interleave: the chip sums

    x_chip = (R / K) sum_k (s_on,k - s_off,k) dt,

the same mean ``x`` with a quantum ``R / K`` instead of 1. Every pair has its
own input axon on the chip (the route nengo-loihi 1.1 leaves unimplemented,
``NotImplementedError`` for input neurons with more than one pair), so no axon
carries more than one spike per step; `build_host_to_chip` builds it, and
`host_to_chip_encoding` puts it in place while one model is built. Host Nodes
into neurons (the nudging gate, values in [0, 1]) keep nengo-loihi's own pair:
their weights are not per-pair encoders.

The PES error takes the same road, through host Nodes: `StochasticErrorRounding`
and `EpochAverage` are what the host may do to it before it is sent. On the
chip, decoded connections between ensembles pass through decode neurons,
nengo-loihi's `Preset10DecodeNeurons` or `HeterogeneousDecodeNeurons` with
more pairs.

The choice of ``K`` and ``R``, and of those options, is
`errormc.hardware.loihi.discretisation`'s.
"""

import contextlib
import copy

import numpy as np
import nengo
import scipy.sparse

from .compat import connection_builder, decode_neurons, discretize


class PairedInputNeurons(decode_neurons.OnOffDecodeNeurons):
    """``pairs`` phase-staggered on/off pairs per dimension over ``[-value_range, value_range]``.

    Parameters
    ----------
    pairs : int
        K, on/off pairs per dimension; each fires up to ``1 / dt``.
    value_range : float
        R, the largest ``|x|`` (in units of the post ensemble's radius) that
        does not saturate.
    dt : float
    """

    def __init__(self, pairs, value_range, dt=0.001):
        super().__init__(pairs_per_dim=int(pairs), dt=dt, rate=1.0 / dt, is_input=True)
        self.value_range = float(value_range)
        # r_on,k = (1 + x / R) / (2 dt): intercept -R, 1 / dt at x = R
        self.gain = self.gain / self.value_range
        # each spike carries R / K of the value (scale = 1 / (dt rate K) = 1 / K before)
        self.scale = self.scale * self.value_range

    def __str__(self):
        return (f"{type(self).__name__}(pairs={self.pairs_per_dim}, "
                f"value_range={self.value_range:g}, dt={self.dt:g})")

    def get_ensemble(self, dim, add_to_container=True):
        """The host population: ``[on(dim), off(dim)]`` repeated per pair, voltages
        of pair k starting at k / K."""
        K = self.pairs_per_dim
        n = 2 * dim * K
        voltage = np.repeat(np.arange(K) / K, 2 * dim)
        return nengo.Ensemble(
            n, dim,
            neuron_type=nengo.SpikingRectifiedLinear(initial_state={"voltage": voltage}),
            encoders=np.vstack([np.eye(dim), -np.eye(dim)] * K),
            gain=np.repeat(self.gain[::2], 2 * dim),
            bias=np.repeat(self.bias[::2], 2 * dim),
            add_to_container=add_to_container,
        )

    def get_post_encoders(self, encoders):
        """One row per host neuron, in `get_ensemble`'s order; sparse where the
        post neurons see only some of the dimensions (per-input coding).

        Loihi keeps a synapse group's weights in a sparse format, one stored
        synapse per target (nengo-loihi's ``compression=3``): a post neuron that
        does not see a dimension needs no synapse from its spikes, and a spike
        reads only the synapses it has. (nengo-loihi's own single pair over
        range 1, `_default_input_neurons`, keeps its dense encoder synapses.)
        """
        encoders = encoders * self.scale
        rows = np.vstack([encoders.T, -encoders.T] * self.pairs_per_dim)
        if np.count_nonzero(rows) < rows.size:
            return scipy.sparse.csr_matrix(rows)
        return rows


def build_host_to_chip(model, conn):
    """nengo-loihi's host -> chip build with ``model.node_neurons`` pairs per dimension.

    The same objects as ``nengo_loihi.builder.connection.build_host_to_chip``
    (host transform, on/off population on the host, spike input on the chip,
    ``model.decode_tau`` on the chip side), with ``2 K`` spike-input axons per
    dimension instead of 2.
    """
    encoder = model.node_neurons
    if (not isinstance(encoder, PairedInputNeurons) or not isinstance(conn.post_obj, nengo.Ensemble)
            or encoder.pairs_per_dim == 1 and encoder.value_range == 1.0):
        with _node_neurons(model, _default_input_neurons(model, encoder)):
            return _ORIGINAL_BUILD_HOST_TO_CHIP(model, conn)

    cb = connection_builder
    rng = np.random.RandomState(model.seeds[conn])
    host = model.host_model(cb.base_obj(conn.pre))
    if not cb.is_transform_type(conn.transform, ("Dense", "NoTransform")):
        raise cb.BuildError(f"{conn}: nengo-loihi does not yet support "
                            f"'{type(conn.transform).__name__}' transforms on host to chip connections")
    # the host applies the transform, in units of the post radius
    weights = cb.sample_transform(conn, rng=rng) / conn.post_obj.radius
    if cb.is_transform_type(conn.transform, "NoTransform"):
        transform = weights
    else:
        transform = copy.copy(conn.transform)
        type(transform).init.data[transform] = weights
    dim = conn.size_out
    n_axons = 2 * dim * encoder.pairs_per_dim

    receive = cb.ChipReceiveNode(n_axons, size_out=dim, add_to_container=False,
                                 label=None if conn.label is None else f"{conn.label}_node")
    model.builder.build(model, receive)
    receive2post = nengo.Connection(receive, conn.post, transform=1.0, synapse=model.decode_tau,
                                    add_to_container=False,
                                    label=None if conn.label is None else f"{conn.label}_chip")
    cb._inherit_seed(model, receive2post, model, conn)
    cb._inherit_config(model, receive2post, model, conn)
    cb.build_chip_connection(model, receive2post)

    ens = encoder.get_ensemble(dim, add_to_container=False)
    ens.label = None if conn.label is None else f"{conn.label}_ens"
    cb._inherit_seed(host, ens, model, conn)
    host.build(ens)
    model.connection_decode_neurons[conn] = ens
    pre2ens = nengo.Connection(
        conn.pre, ens, function=conn.function, solver=conn.solver, eval_points=conn.eval_points,
        scale_eval_points=conn.scale_eval_points, synapse=conn.synapse, transform=transform,
        add_to_container=False, label=None if conn.label is None else f"{conn.label}_enc",
    )
    cb._inherit_seed(host, pre2ens, model, conn)
    host.build(pre2ens)

    send = cb.HostSendNode(n_axons, add_to_container=False,
                           label=None if conn.label is None else f"{conn.label}_send")
    host.build(send)
    ens2send = nengo.Connection(ens.neurons, send, synapse=None, add_to_container=False,
                                label=None if conn.label is None else f"{conn.label}_host")
    cb._inherit_seed(host, ens2send, model, conn)
    model.host2chip_senders[send] = receive
    host.build(ens2send)


#: steps per PES update on the chip (``nengo_loihi.block.Synapse.set_learning``:
#: ``train_epoch 2^learn_epoch_k``, fixed by nengo-loihi 1.1 at 2 2^1)
LEARN_EPOCH = 4

#: the largest error the chip receives (``scale_pes_errors``: clipped to +-127)
ERROR_LIMIT = 127

#: the error step that leaves nothing for the chip's PES product to floor: the
#: product ``x_1 e`` of pre-trace and error is shifted by ``LEARN_FRAC + lr_exp -
#: overflow`` bits (``emulator/interface.py``), with nengo-loihi's learning rate
#: pinned at ``2^lr_exp = 2^-7`` and ``overflow = learn_overflow_bits(2)``: 2 bits
#: to the right, so errors on multiples of 4 make it exact
PES_FLOOR_FREE_STEP = 2 ** (discretize.learn_overflow_bits(n_factors=2)
                            - (discretize.LEARN_FRAC - 7))

_ORIGINAL_BUILD_HOST_TO_CHIP = connection_builder.build_host_to_chip
_ORIGINAL_BUILD_HOST_TO_LEARNING_RULE = connection_builder.build_host_to_learning_rule


class StochasticErrorRounding:
    """Host Node output: the PES error on the chip's integer grid, rounded at random.

    nengo-loihi sends ``round(s e)`` (``s = pes_error_scale``), so an error below
    ``1 / (2 s)`` never reaches the chip and learning stops short of it. This
    sends ``e' = q round_p(s e / q) / s`` on multiples of ``q`` (``step``) with

        round_p(y) = floor(y) + [frac(y) > u],   u ~ U(0, 1),   E[round_p(y)] = y,

    clipped to the multiples of ``q`` within the chip's +-127, which
    nengo-loihi's own rounding leaves unchanged (``s e'`` is an integer): the
    chip's error is unbiased down to any size. With ``q = 4`` (`PES_FLOOR_FREE_STEP`)
    the chip's PES product ``(x_1 e) >> 2`` is exact for every pre-trace ``x_1``:
    nothing is floored, so the weights' on/off columns do not drift together
    (`errormc.hardware.loihi.readout`). ``u`` depends only on the step and
    ``seed``, so a run resumed from a checkpoint draws the same.
    """

    def __init__(self, scale, seed, dt, step=1):
        # step: checked where the user sets it (discretisation.chip_model)
        self.scale, self.seed, self.dt = float(scale), int(seed), float(dt)
        self.step = int(step)
        self.limit = (ERROR_LIMIT // self.step) * self.step

    def __call__(self, t, e):
        step = int(round(t / self.dt))
        u = np.random.default_rng([self.seed, step]).random(len(e))
        y = self.scale * np.asarray(e, dtype=float) / self.step
        low = np.floor(y)
        k = np.clip(self.step * (low + (y - low > u)), -self.limit, self.limit)
        return k / self.scale


class EpochAverage(nengo.Process):
    """Host process: the mean PES error of the last learning epoch.

    The chip applies PES once per learning epoch of ``E`` steps (nengo-loihi 1.1:
    ``E = train_epoch 2^learn_epoch_k = 4``), with the rate times ``E`` and the
    error it last received, so one step's error stands for all ``E``: its noise
    enters the weights ``E`` times over (nengo-loihi's ``update_pes_errors``
    leaves "need to average" as a to-do). Sending

        e'(t) = (1 / E) sum_{j=0}^{E-1} e(t - j)

    makes the update at the epoch's end the epoch's summed PES increment, as on
    the reference simulator, at no cost to the chip (the host computes the
    error anyway).
    """

    def __init__(self, epoch, size, **kwargs):
        super().__init__(default_size_in=size, default_size_out=size, **kwargs)
        self.epoch = int(epoch)

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        return {"history": np.zeros((self.epoch,) + tuple(shape_in))}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        history = state["history"]

        def step_epoch_average(t, e):  # noqa: ARG001 - one call per step, in order
            history[1:] = history[:-1].copy()
            history[0] = e
            return history.mean(axis=0)

        return step_epoch_average


def build_host_to_learning_rule(model, conn):
    """nengo-loihi's host -> learning rule build, with the error on the host
    averaged over the learning epoch (`EpochAverage`, where
    ``model.pes_error_average``) and then rounded at random
    (`StochasticErrorRounding` on multiples of ``model.pes_error_step``, where
    ``model.pes_error_rounding`` is ``"stochastic"``) before it is sent."""
    average = getattr(model, "pes_error_average", False)
    stochastic = getattr(model, "pes_error_rounding", "nearest") == "stochastic"
    if not (average or stochastic):
        return _ORIGINAL_BUILD_HOST_TO_LEARNING_RULE(model, conn)
    cb = connection_builder
    if not cb.is_transform_type(conn.transform, ("Dense", "NoTransform")):
        raise cb.BuildError(f"{conn}: nengo-loihi does not yet support "
                            f"'{type(conn.transform).__name__}' transforms on host to chip "
                            "learning rule connections")
    dim = conn.size_out
    host = model.host_model(cb.base_obj(conn.pre))
    send = cb.HostSendNode(dim, add_to_container=False,
                           label=None if conn.label is None else f"{conn.label}_send")
    host.build(send)
    stages = []
    if average:
        stages.append(("average", EpochAverage(LEARN_EPOCH, dim)))
    if stochastic:
        stages.append(("rounding", StochasticErrorRounding(
            model.pes_error_scale, model.seeds[conn], model.dt,
            step=getattr(model, "pes_error_step", 1))))
    pre, first = conn.pre, True
    for name, output in stages:
        node = nengo.Node(output, size_in=dim, add_to_container=False,
                          label=None if conn.label is None else f"{conn.label}_{name}")
        cb._inherit_seed(host, node, model, conn)
        host.build(node)
        if first:
            into = nengo.Connection(
                pre, node, function=conn.function, solver=conn.solver,
                eval_points=conn.eval_points, scale_eval_points=conn.scale_eval_points,
                synapse=conn.synapse, transform=conn.transform, label=conn.label,
                add_to_container=False)
        else:
            into = nengo.Connection(pre, node, synapse=None, add_to_container=False)
        cb._inherit_seed(host, into, model, conn)
        host.build(into)
        pre, first = node, False
    into_send = nengo.Connection(pre, send, synapse=None, add_to_container=False)
    cb._inherit_seed(host, into_send, model, conn)
    host.build(into_send)
    model.host2chip_pes_senders[send] = model.needs_sender[conn.post_obj]


def _default_input_neurons(model, encoder):
    if isinstance(encoder, PairedInputNeurons):
        return decode_neurons.OnOffDecodeNeurons(dt=model.dt, is_input=True)
    return encoder


@contextlib.contextmanager
def _node_neurons(model, encoder):
    original = model.node_neurons
    model.node_neurons = encoder
    try:
        yield
    finally:
        model.node_neurons = original


@contextlib.contextmanager
def host_to_chip_encoding():
    """While one nengo-loihi model is built, host -> chip connections go through
    `build_host_to_chip` (nengo-loihi's own build where ``model.node_neurons`` is
    not a `PairedInputNeurons`)."""
    connection_builder.build_host_to_chip = build_host_to_chip
    connection_builder.build_host_to_learning_rule = build_host_to_learning_rule
    try:
        yield
    finally:
        connection_builder.build_host_to_chip = _ORIGINAL_BUILD_HOST_TO_CHIP
        connection_builder.build_host_to_learning_rule = _ORIGINAL_BUILD_HOST_TO_LEARNING_RULE


class HeterogeneousDecodeNeurons(decode_neurons.OnOffDecodeNeurons):
    """``K`` heterogeneous on/off pairs per dimension for on-chip decoded connections.

    nengo-loihi's `Preset10DecodeNeurons` carries every decoded on-chip value
    (here: ``u`` and ``phi(u)`` into the error populations, the apical ``eps``)
    on 10 pairs per dimension with intercepts from -1.171 to 0.484 and maximum
    rates from 171 to 75 Hz. This spreads the same profile over ``K`` pairs
    (``K = 10``: `Preset10DecodeNeurons` itself), so that with a decode
    filter ``tau`` the value is carried by about ``K / 10`` times as many spikes,

        x_chip = s sum_k (s_on,k - s_off,k),   s = 1.02 / (dt sum_k r_k(1)),

    with no neuron faster than Preset10's: the quantum ``s`` shrinks as ``1 / K``
    and the chip pays ``K / 10`` times the decode synaptic operations.
    """

    #: Preset10's profile (nengo-loihi's hyperopt values) and output scaling
    INTERCEPTS = (-1.171, 0.484)
    MAX_RATES = (171.186, 74.620)
    SCALE_FACTOR = 1.02

    def __init__(self, pairs, dt=0.001):
        super().__init__(pairs_per_dim=int(pairs), dt=dt)
        intercepts = np.linspace(*self.INTERCEPTS, self.pairs_per_dim)
        max_rates = np.linspace(*self.MAX_RATES, self.pairs_per_dim)
        gain, bias = self.neuron_type.gain_bias(max_rates, intercepts)
        total = np.sum(self.neuron_type.rates(1.0, gain, bias, dt=dt))
        self.scale = self.SCALE_FACTOR / (self.dt * total)
        self.gain = gain.repeat(2)
        self.bias = bias.repeat(2)

    def __str__(self):
        return f"{type(self).__name__}(pairs={self.pairs_per_dim}, dt={self.dt:0.3g})"
