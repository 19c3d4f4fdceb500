"""Build a network on the nengo-loihi emulator (``nengo_loihi.Simulator(target="sim")``).

The emulator applies the chip's discretisation (8-bit weights with exponents,
integer errors scaled by ``pes_error_scale``, Loihi LIF dynamics) and splits the
model into on-chip blocks and host nodes. ``emulator="fast"`` (the default) runs
it on `errormc.hardware.loihi.emulator.FastEmulator`, a vectorised drop-in that
gives the stock emulator's spike rasters, compartment states and weights bit for
bit; ``emulator="stock"`` runs nengo-loihi's own ``EmulatorInterface``.
"""

import contextlib
import warnings

import numpy as np
from nengo.builder.ensemble import get_activities

from errormc.networks.errors import ConfigError

from .compat import VERSION_WARNING, emulator_interface, nengo_loihi, simulator_module
from .discretisation import chip_model
from .emulator import FastEmulator, FastStepRunner
from .encoding import host_to_chip_encoding
from .learning import pes_radius_correction
from .readout import signed_readouts

EMULATORS = ("fast", "stock")


def chip_neuron_type(name="lif"):
    """nengo-loihi's Loihi variant of an on-chip neuron type.

    With these, decoders are solved for the chip's own tuning curves on both
    backends, so the two backends share identical decoders.
    """
    types = {
        "lif": nengo_loihi.neurons.LoihiLIF,
        "spikingrectifiedlinear": nengo_loihi.neurons.LoihiSpikingRectifiedLinear,
        "relu": nengo_loihi.neurons.LoihiSpikingRectifiedLinear,
    }
    key = str(name).strip().lower()
    if key not in types:
        raise ConfigError(f"neuron_type: unknown {name!r}; choose from {', '.join(types)}")
    return types[key]()


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
            raise ConfigError(f"conn: {conn} is not learned; its decoders are not read back")
        probe = model.needs_sender[conn.learning_rule].error_target
        return model.objs[model.nengo_probe_conns[probe]]["decoders"]

    def decoders(self, conn):
        syn = self.synapse(conn)
        W = np.vstack([np.asarray(w, dtype=float).reshape(1, -1) for w in syn.weights])
        d = W.shape[1] // 2
        return ((W[:, :d] - W[:, d:]) / 2.0).T

    def activities(self, ens, x):
        return get_activities(self.sim.data[ens], ens, x)


@contextlib.contextmanager
def _emulator_class(cls):
    """nengo_loihi.Simulator builds ``nengo_loihi.simulator.EmulatorInterface``;
    point that name at ``cls`` while one simulator is built."""
    module = simulator_module
    original = module.EmulatorInterface
    module.EmulatorInterface = cls
    try:
        yield
    finally:
        module.EmulatorInterface = original


def loihi_simulator(network, dt=0.001, progress_bar=False, emulator="fast", discretisation=None,
                    **kwargs):
    """``(sim, reader, build_warnings)`` for ``network`` on the nengo-loihi emulator.

    The chip model carries `errormc.hardware.loihi.discretisation.DISCRETISATION`
    (``discretisation``: overrides, for measuring alternatives); host inputs and
    PES errors enter the chip as `errormc.hardware.loihi.encoding` builds them.
    Build warnings are returned as strings (they become fields of the placement
    report); those that are neither a quantisation notice nor a known nengo-loihi
    notice are re-emitted.
    """
    if emulator not in EMULATORS:
        raise ConfigError(f"emulator: unknown {emulator!r}; choose from {', '.join(EMULATORS)}")
    cls = FastEmulator if emulator == "fast" else emulator_interface.EmulatorInterface
    with (warnings.catch_warnings(record=True) as caught, _emulator_class(cls),
          host_to_chip_encoding(), pes_radius_correction(), signed_readouts()):
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=VERSION_WARNING)
        model = chip_model(dt, label=f"{network}, dt={dt:f}", **(discretisation or {}))
        sim = nengo_loihi.Simulator(network, dt=dt, target="sim", progress_bar=progress_bar,
                                    model=model, **kwargs)
    for w in caught:
        message = str(w.message)
        if not (is_quantisation_warning(message) or is_known_loihi_notice(message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if emulator == "fast":
        FastStepRunner.install(sim)
    sim.emulator_kind = emulator
    return sim, LoihiWeightReader(sim), [str(w.message) for w in caught]


def is_known_loihi_notice(message):
    """nengo-loihi notices that hold for every network here: LIF voltages start
    at 0 on chip, and its emulator fills integer decay arrays with a NaN
    placeholder (emulator/interface.py) before it sets them."""
    keys = ("does not support initial values", "invalid value encountered in cast")
    return any(k in message for k in keys)


def is_quantisation_warning(message):
    keys = ("Lost", "bits", "Clipping", "precomputable", "progress bar", "weight")
    return any(k in message for k in keys)
