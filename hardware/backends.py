"""One entry point for every backend: ``Simulator(network, backend)``.

``Simulator(net, backend)`` builds the *same* network object on

* ``"nengo"``: the Nengo reference simulator (``nengo.Simulator``), or
* ``"loihi"``: the nengo-loihi emulator (`errormc.hardware.loihi.simulator`),
  which applies the chip's discretisation and splits the model into on-chip
  blocks and host nodes; by default on the faster, bit-exact drop-in emulator
  (``emulator="fast"``; ``emulator="stock"`` runs nengo-loihi's own).

The returned simulator carries ``sim.placement``
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

from errormc.networks.errors import ConfigError

from .loihi.placement import placement_report
from .loihi.simulator import chip_neuron_type, loihi_simulator

BACKENDS = ("nengo", "loihi")

__all__ = ["BACKENDS", "Simulator", "check_backend", "chip_neuron_type"]


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


def Simulator(network, backend="nengo", dt=0.001, progress_bar=False, **kwargs):
    """Build ``network`` on the chosen backend.

    Parameters
    ----------
    network : nengo.Network
    backend : "nengo" or "loihi"
        ``nengo``: the Nengo reference simulator. ``loihi``: the nengo-loihi
        emulator (``target="sim"``), with its chip constraints.
    dt : float
        Simulator time step (the rate microcircuit uses ms, dt = 0.01; the spiking
        microcircuit seconds, dt = 0.001).
    **kwargs
        Passed to the simulator (e.g. ``seed``; for ``loihi`` also ``emulator``
        ("fast" or "stock"), ``precompute``, ``remove_passthrough``).

    Returns
    -------
    sim : nengo.Simulator or nengo_loihi.Simulator
        With ``sim.backend``, ``sim.build_time`` (s) and ``sim.placement`` (see
        `errormc.hardware.loihi.placement.placement_report`).
    """
    check_backend(backend)
    if not np.isfinite(dt) or dt <= 0:
        raise ConfigError(f"dt: must be > 0, got {dt!r}")
    bind = getattr(network, "bind_weight_reader", None)
    if bind is not None:
        bind(None)  # a previous simulator's reader must not be called while building
    t0 = time.perf_counter()
    build_warnings = []
    if backend == "nengo":
        # nengo's operator optimiser merges operators in an order that depends
        # on object ids, so sums come out different in the last bit from one
        # process to the next; off by default, runs are bitwise reproducible
        # (and resumable) at ~15% of speed
        kwargs.setdefault("optimize", False)
        sim = nengo.Simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
        reader = NengoWeightReader(sim)
    else:
        sim, reader, build_warnings = loihi_simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
    sim.backend = backend
    sim.build_time = time.perf_counter() - t0
    if bind is not None:
        bind(reader)
    sim.placement = placement_report(sim, network, backend, build_warnings)
    return sim
