"""One entry point for both backends; with placement.py, the only place nengo_loihi is imported.

nengo-loihi 1.1 was released for nengo <= 3.2 and warns on import under nengo 4;
the models used here were checked against nengo 4.1, so that one warning is
silenced here, and nowhere else.

``Simulator(net, backend)`` builds the *same* network object on

* ``"nengo"``: the Nengo reference simulator (``nengo.Simulator``), or
* ``"jax"``: the compiled engine (`errormc.hardware.compiled`): the same model
  as the reference simulator, as one jitted JAX program (rate networks); a list
  of networks that differ only in their seed runs as one batched program
  (`errormc.hardware.compiled.BatchSimulator`), or
* ``"loihi"``: the nengo-loihi emulator (``nengo_loihi.Simulator(target="sim")``),
  which applies the chip's discretisation (8-bit weights with exponents, integer
  errors scaled by ``pes_error_scale``, Loihi LIF dynamics) and splits the model
  into on-chip blocks and host nodes.

The returned simulator carries ``sim.placement`` (`errormc.hardware.placement`),
a dict saying what runs where and which quantisation was applied, and
``sim.backend``. Networks with non-local weight reads (``bind_weight_reader``,
the ``bp`` backward projections of the spiking microcircuit) get a reader for
the chosen backend bound here.
"""

import time
import warnings

import numpy as np
import nengo
from nengo.builder.ensemble import get_activities
from nengo.cache import NoDecoderCache

from errormc.networks.errors import ConfigError

BACKENDS = ("nengo", "jax", "loihi")

_VERSION_WARNING = ".*has not been tested with your `nengo` version.*"


def import_nengo_loihi():
    """Import nengo_loihi without its nengo-version warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_VERSION_WARNING)
        import nengo_loihi  # pylint: disable=import-outside-toplevel
    return nengo_loihi


def check_backend(backend, field="backend"):
    """Return ``backend`` if known, else raise a ConfigError naming it."""
    if backend not in BACKENDS:
        raise ConfigError(f"{field}: unknown {backend!r}; choose from {', '.join(BACKENDS)}")
    return backend


def chip_neuron_type(name="lif"):
    """nengo-loihi's Loihi variant of an on-chip neuron type.

    With these, decoders are solved for the chip's own tuning curves on both
    backends, so the two backends share identical decoders.
    """
    nengo_loihi = import_nengo_loihi()
    types = {
        "lif": nengo_loihi.neurons.LoihiLIF,
        "spikingrectifiedlinear": nengo_loihi.neurons.LoihiSpikingRectifiedLinear,
        "relu": nengo_loihi.neurons.LoihiSpikingRectifiedLinear,
    }
    key = str(name).strip().lower()
    if key not in types:
        raise ValueError(f"neuron_type: unknown {name!r}; choose from {', '.join(types)}")
    return types[key]()


class NengoWeightReader:
    """Current decoders and tuning curves of a built `nengo.Simulator`."""

    def __init__(self, sim):
        self.sim = sim

    def decoders(self, conn):
        return np.array(self.sim.signals[self.sim.model.sig[conn]["weights"]])

    def activities(self, ens, x):
        return get_activities(self.sim.data[ens], ens, x)


class LoihiWeightReader:
    """Current (integer) learned decoders inside the nengo-loihi emulator.

    A learned ``Ensemble -> Node`` connection becomes, on chip, a synapse group from
    the pre neurons into ``2 d`` non-spiking decode compartments holding
    ``[+D^T, -D^T]`` (one column pair per output dimension), discretised to
    integers with one weight exponent; the emulator updates these integers in
    place. ``(W[:, :d] - W[:, d:]) / 2`` is therefore proportional to ``D^T``; the
    factor is calibrated by the caller (one per connection).
    """

    def __init__(self, sim):
        self.sim = sim

    def synapse(self, conn):
        model = self.sim.model
        if conn.learning_rule is None:
            raise ValueError(f"conn: {conn} is not learned; its decoders are not read back")
        probe = model.needs_sender[conn.learning_rule].error_target
        return model.objs[model.nengo_probe_conns[probe]]["decoders"]

    def decoders(self, conn):
        syn = self.synapse(conn)
        W = np.vstack([np.asarray(w, dtype=float).reshape(1, -1) for w in syn.weights])
        d = W.shape[1] // 2
        return ((W[:, :d] - W[:, d:]) / 2.0).T

    def activities(self, ens, x):
        return get_activities(self.sim.data[ens], ens, x)


def network_dt(network):
    """The time step ``network`` (or one of its subnetworks) declares as ``dt``.

    Raises a `ConfigError` if none does, or if two declare different steps.
    """
    declared = {
        float(net.dt) for net in [network] + list(network.all_networks)
        if getattr(net, "dt", None) is not None
    }
    if len(declared) > 1:
        raise ConfigError(f"dt: the network's parts declare different time steps "
                          f"{sorted(declared)}; pass dt explicitly")
    if not declared:
        raise ConfigError("dt: the network declares no time step (a `dt` attribute); "
                          "pass dt explicitly")
    return declared.pop()


def Simulator(network, backend="nengo", dt=None, progress_bar=False, **kwargs):
    """Build ``network`` on the chosen backend.

    Parameters
    ----------
    network : nengo.Network (or, on ``jax``, a list of them: seeds batched)
    backend : "nengo", "jax" or "loihi"
        ``nengo``: the Nengo reference simulator. ``jax``: the compiled engine.
        ``loihi``: the nengo-loihi emulator (``target="sim"``), with its chip
        constraints.
    dt : float, optional
        Simulator time step. Default: the one the network declares (`network_dt`;
        the rate microcircuit lives in ms, dt = 0.01, the spiking microcircuit in
        seconds, dt = 0.001); a network that declares none needs it given.
    **kwargs
        Passed to the simulator (e.g. ``seed``; for ``loihi`` also ``precompute``,
        ``remove_passthrough``).

    Returns
    -------
    sim : nengo.Simulator or nengo_loihi.Simulator
        With ``sim.backend``, ``sim.build_time`` (s) and ``sim.placement`` (see
        `errormc.hardware.placement.placement_report`).
    """
    from .placement import placement_report  # pylint: disable=import-outside-toplevel

    check_backend(backend)
    if dt is None:
        dt = network_dt(network[0] if isinstance(network, (list, tuple)) else network)
    if not np.isfinite(dt) or dt <= 0:
        raise ConfigError(f"dt: must be > 0, got {dt!r}")
    if backend == "jax":
        return _jax_simulator(network, dt, kwargs)
    readers = [net for net in [network] + list(network.all_networks)
               if hasattr(net, "bind_weight_reader")]
    for net in readers:
        net.bind_weight_reader(None)  # a previous simulator's reader must not be called while building
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=_VERSION_WARNING)
        if backend == "nengo":
            # nengo's operator optimiser merges operators in an order that depends
            # on object ids, so sums come out different in the last bit from one
            # process to the next; off by default, runs are bitwise reproducible
            # (and resumable) at ~15% of speed
            kwargs.setdefault("optimize", False)
            # no decoder cache: it pickles numpy objects into the user's home, which
            # breaks under another numpy and races between sweep workers
            model = nengo.builder.Model(dt=float(dt), decoder_cache=NoDecoderCache())
            sim = nengo.Simulator(network, dt=dt, progress_bar=progress_bar, model=model,
                                  **kwargs)
            reader = NengoWeightReader(sim)
        else:
            nengo_loihi = import_nengo_loihi()
            sim = nengo_loihi.Simulator(
                network, dt=dt, target="sim", progress_bar=progress_bar, **kwargs
            )
            reader = LoihiWeightReader(sim)
    build_warnings = [str(w.message) for w in caught]
    # re-emit what is neither a quantisation notice nor a known nengo-loihi build
    # notice: both become fields of the placement report
    for w in caught:
        message = str(w.message)
        if not (_is_quantisation_warning(message) or _is_known_loihi_notice(message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    sim.backend = backend
    sim.build_time = time.perf_counter() - t0
    for net in readers:
        net.bind_weight_reader(reader)
    sim.placement = placement_report(sim, network, backend, build_warnings)
    return sim


def _jax_simulator(network, dt, kwargs):
    """The compiled engine; JAX is imported only when it is used (~0.4 s)."""
    from . import compiled  # pylint: disable=import-outside-toplevel
    from .placement import placement_report  # pylint: disable=import-outside-toplevel

    kwargs.pop("optimize", None)  # the operator graph is compiled as built
    batch = isinstance(network, (list, tuple))
    networks = list(network) if batch else [network]
    binds = [getattr(net, "bind_weight_reader", None) for net in networks]
    for bind in binds:
        if bind is not None:
            bind(None)
    if batch:
        seed = kwargs.pop("seed", None)
        sim = compiled.BatchSimulator(networks, dt=dt, seeds=seed, **kwargs)
        views = sim.members
    else:
        sim = compiled.Simulator(network, dt=dt, **kwargs)
        views = [sim]
    for bind, view in zip(binds, views):
        if bind is not None:
            bind(NengoWeightReader(view))
    report = placement_report(views[0], networks[0], "nengo")
    sim.placement = dict(report, backend="jax")
    return sim


def _is_known_loihi_notice(message):
    """nengo-loihi notices that hold for every network here: LIF voltages start
    at 0 on chip, and its emulator fills integer decay arrays with a NaN
    placeholder (emulator/interface.py) before it sets them."""
    keys = ("does not support initial values", "invalid value encountered in cast")
    return any(k in message for k in keys)


def _is_quantisation_warning(message):
    keys = ("Lost", "bits", "Clipping", "precomputable", "progress bar", "weight")
    return any(k in message for k in keys)
