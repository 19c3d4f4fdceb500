"""Checkpoints of a running simulation: simulator signals plus protocol state.

Every stateful signal of a built model (voltages, history buffers, learned
weights, learning-rule buffers and deltas, synapse and process states, time and
step) is saved under its position in the model's operator list, so a fresh build
of the same network can take it back bit for bit; networks that keep state in
Python objects (``host_state()``) add it.
"""

import json
import os

import numpy as np

from errormc.networks.errors import ConfigError


def stateful_signals(sim, network=None):  # noqa: ARG001 - kept for symmetry with restore
    """``{name: Signal}`` of every writable base signal of ``sim``.

    Signals are named by their order of first use in the model's operator list,
    which a fresh build of the same network reproduces: voltages, history buffers,
    learned weights, learning-rule buffers, synapse filter states, process states,
    time and step.
    """
    signals = {}
    seen = set()
    for op in sim.model.operators:
        for sig in op.all_signals:
            base = sig.base
            if base.readonly or base in seen or base not in sim.signals:
                continue
            seen.add(base)
            signals[f"{len(signals):05d}"] = base
    return signals


def _host_networks(network):
    """Subnetworks holding state outside the simulator (``host_state()``)."""
    return [net for net in [network] + list(network.all_networks)
            if hasattr(net, "host_state")]


def simulator_state(sim, network):
    """Copies of all stateful signal values, and of the host state of networks
    that keep some in Python objects (e.g. the spiking ``bp`` backward matrices)."""
    state = {name: np.array(sim.signals[sig], copy=True)
             for name, sig in stateful_signals(sim, network).items()}
    for i, net in enumerate(_host_networks(network)):
        state.update({f"host{i}/{k}": v for k, v in net.host_state().items()})
    return state


def restore_simulator_state(sim, network, state):
    """Write saved values back into a freshly built simulator of the same network."""
    signals = stateful_signals(sim, network)
    missing = sorted(set(signals) - {k for k in state if "/" not in k})
    if missing:
        raise ConfigError(
            f"checkpoint: does not match this network (no saved value for {missing[0]}, "
            f"{len(missing)} in all)"
        )
    for name, sig in signals.items():
        value = state[name]
        if value.shape != sim.signals[sig].shape:
            raise ConfigError(
                f"checkpoint: signal {name} has shape {value.shape}, the network "
                f"expects {sim.signals[sig].shape}"
            )
        sim.signals[sig][...] = value
    for i, net in enumerate(_host_networks(network)):
        prefix = f"host{i}/"
        net.restore_host_state({k[len(prefix):]: v for k, v in state.items()
                                if k.startswith(prefix)})
    sim._probe_step_time()  # pylint: disable=protected-access


def write_checkpoint(path, sim, network, protocol_state, extra=None):
    """Write one checkpoint file atomically: simulator and protocol state."""
    arrays = {f"sim/{k}": v for k, v in simulator_state(sim, network).items()}
    proto_arrays, info = protocol_state.to_arrays()
    arrays.update({f"protocol/{k}": v for k, v in proto_arrays.items()})
    info = dict(info, **(extra or {}))
    arrays["info"] = np.array(json.dumps(info))
    tmp = f"{path}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def read_checkpoint(path):
    """``(simulator arrays, protocol arrays, info)`` from a checkpoint file."""
    if not os.path.isfile(path):
        raise ConfigError(f"resume: no checkpoint at {path!r}")
    with np.load(path, allow_pickle=False) as data:
        sim = {k[4:]: data[k] for k in data.files if k.startswith("sim/")}
        proto = {k[9:]: data[k] for k in data.files if k.startswith("protocol/")}
        info = json.loads(str(data["info"]))
    return sim, proto, info
