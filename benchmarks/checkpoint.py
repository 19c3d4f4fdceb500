"""Checkpoints of a running simulation: simulator signals plus protocol state.

Every stateful signal of a built model (voltages, history buffers, learned
weights, learning-rule buffers and deltas, process states, time and step) is
saved under a name derived from where its object sits in the network, so a
fresh build of the same network can take it back bit for bit.
"""

import json
import os

import nengo
import numpy as np


def _objects(network):
    """Every object of ``network`` that can own signals, in construction order."""
    for ens in network.ensembles:
        yield ens
        yield ens.neurons
    for node in network.nodes:
        yield node
        if isinstance(node.output, nengo.Process):
            yield node.output
    for conn in network.connections:
        yield conn
        rules = conn.learning_rule
        if rules is None:
            continue
        if isinstance(rules, dict):
            rules = [rules[k] for k in sorted(rules)]
        elif not isinstance(rules, (list, tuple)):
            rules = [rules]
        yield from rules
    for probe in network.probes:
        yield probe
    for sub in network.networks:
        yield from _objects(sub)


def stateful_signals(sim, network):
    """``{name: Signal}`` of every writable signal of ``network`` in ``sim``."""
    signals = {"time": sim.model.time, "step": sim.model.step}
    for i, obj in enumerate(_objects(network)):
        if obj not in sim.model.sig:
            continue
        for key, sig in sim.model.sig[obj].items():
            # signals no operator uses were never allocated
            if isinstance(sig, nengo.builder.Signal) and not sig.readonly and sig in sim.signals:
                signals[f"{i}.{type(obj).__name__}.{key}"] = sig
    return signals


def simulator_state(sim, network):
    """Copies of all stateful signal values."""
    return {name: np.array(sim.signals[sig], copy=True)
            for name, sig in stateful_signals(sim, network).items()}


def restore_simulator_state(sim, network, state):
    """Write saved values back into a freshly built simulator of the same network."""
    signals = stateful_signals(sim, network)
    missing = sorted(set(signals) - set(state))
    if missing:
        raise ValueError(
            f"checkpoint: does not match this network (no saved value for {missing[0]}, "
            f"{len(missing)} in all)"
        )
    for name, sig in signals.items():
        value = state[name]
        if value.shape != sim.signals[sig].shape:
            raise ValueError(
                f"checkpoint: signal {name} has shape {value.shape}, the network "
                f"expects {sim.signals[sig].shape}"
            )
        sim.signals[sig][...] = value
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
        raise ValueError(f"resume: no checkpoint at {path!r}")
    with np.load(path, allow_pickle=False) as data:
        sim = {k[4:]: data[k] for k in data.files if k.startswith("sim/")}
        proto = {k[9:]: data[k] for k in data.files if k.startswith("protocol/")}
        info = json.loads(str(data["info"]))
    return sim, proto, info
