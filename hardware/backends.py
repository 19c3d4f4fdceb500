"""One entry point for every backend: ``Simulator(network, backend)``.

``Simulator(net, backend)`` builds the *same* network object on

* ``"nengo"``: the Nengo reference simulator (``nengo.Simulator``),
* ``"jax"``: the compiled engine (`errormc.hardware.compiled`): the same model
  as the reference simulator, as one jitted JAX program (rate networks); a list
  of networks that differ only in their seed runs as one batched program
  (`errormc.hardware.compiled.BatchSimulator`), or
* ``"loihi"``: the nengo-loihi emulator (`errormc.hardware.loihi.simulator`),
  which applies the chip's discretisation and splits the model into on-chip
  blocks and host nodes; by default on the faster, bit-exact drop-in emulator
  (``emulator="fast"``; ``emulator="stock"`` runs nengo-loihi's own).

The time step is the network's own (a ``dt`` attribute, `network_dt`) unless
given. The returned simulator carries ``sim.placement``
(`errormc.hardware.loihi.placement`), a dict saying what runs where, what
crosses the host each step and which quantisation was applied, and
``sim.backend``. Networks with non-local weight reads (``bind_weight_reader``,
the ``bp`` backward projections of the spiking microcircuit) get a reader for
the chosen backend bound here.
"""

import time

import numpy as np
import nengo
from nengo.builder.ensemble import get_activities
from nengo.cache import NoDecoderCache

from errormc.networks.errors import ConfigError

from .loihi.placement import placement_report
from .loihi.simulator import chip_neuron_type, loihi_simulator

BACKENDS = ("nengo", "jax", "loihi")

__all__ = ["BACKENDS", "Simulator", "check_backend", "chip_neuron_type", "network_dt"]


def check_backend(backend, field="backend"):
    """Return ``backend`` if known, else raise a ConfigError naming it."""
    if backend not in BACKENDS:
        raise ConfigError(f"{field}: unknown {backend!r}; choose from {', '.join(BACKENDS)}")
    return backend


class NengoWeightReader:
    """Current decoders and tuning curves of a built `nengo.Simulator`."""

    def __init__(self, sim):
        self.sim = sim

    def decoders(self, conn):
        return np.array(self.sim.signals[self.sim.model.sig[conn]["weights"]])

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


def _readers(network):
    """Subnetworks that read weights through a backend (``bind_weight_reader``)."""
    return [net for net in [network] + list(network.all_networks)
            if hasattr(net, "bind_weight_reader")]


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
        Passed to the simulator (e.g. ``seed``; for ``loihi`` also ``emulator``
        ("fast" or "stock"), ``precompute``, ``remove_passthrough``).

    Returns
    -------
    sim : nengo.Simulator, errormc.hardware.compiled.Simulator or nengo_loihi.Simulator
        With ``sim.backend``, ``sim.build_time`` (s) and ``sim.placement`` (see
        `errormc.hardware.loihi.placement.placement_report`).
    """
    check_backend(backend)
    if dt is None:
        dt = network_dt(network[0] if isinstance(network, (list, tuple)) else network)
    if not np.isfinite(dt) or dt <= 0:
        raise ConfigError(f"dt: must be > 0, got {dt!r}")
    if backend == "jax":
        return _jax_simulator(network, dt, kwargs)
    readers = _readers(network)
    for net in readers:
        net.bind_weight_reader(None)  # a previous simulator's reader must not be called while building
    t0 = time.perf_counter()
    build_warnings = []
    if backend == "nengo":
        # nengo's operator optimiser merges operators in an order that depends
        # on object ids, so sums come out different in the last bit from one
        # process to the next; off by default, runs are bitwise reproducible
        # (and resumable) at ~15% of speed
        kwargs.setdefault("optimize", False)
        # no decoder cache: it pickles numpy objects into the user's home, which
        # breaks under another numpy and races between sweep workers
        model = nengo.builder.Model(dt=float(dt), decoder_cache=NoDecoderCache())
        sim = nengo.Simulator(network, dt=dt, progress_bar=progress_bar, model=model, **kwargs)
        reader = NengoWeightReader(sim)
    else:
        sim, reader, build_warnings = loihi_simulator(network, dt=dt, progress_bar=progress_bar,
                                                      **kwargs)
    sim.backend = backend
    sim.build_time = time.perf_counter() - t0
    for net in readers:
        net.bind_weight_reader(reader)
    sim.placement = placement_report(sim, network, backend, build_warnings)
    return sim


def _jax_simulator(network, dt, kwargs):
    """The compiled engine; JAX is imported only when it is used (~0.4 s)."""
    from . import compiled  # pylint: disable=import-outside-toplevel

    kwargs.pop("optimize", None)  # the operator graph is compiled as built
    batch = isinstance(network, (list, tuple))
    networks = list(network) if batch else [network]
    readers = [_readers(net) for net in networks]
    for nets in readers:
        for net in nets:
            net.bind_weight_reader(None)
    if batch:
        seed = kwargs.pop("seed", None)
        sim = compiled.BatchSimulator(networks, dt=dt, seeds=seed, **kwargs)
        views = sim.members
    else:
        sim = compiled.Simulator(network, dt=dt, **kwargs)
        views = [sim]
    for nets, view in zip(readers, views):
        for net in nets:
            net.bind_weight_reader(NengoWeightReader(view))
    report = placement_report(views[0], networks[0], "nengo")
    sim.placement = dict(report, backend="jax")
    return sim
