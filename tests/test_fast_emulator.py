"""The fast emulator equals nengo-loihi's stock emulator, bit for bit, step by step."""

import copy

import nengo
import numpy as np
import pytest

from errormc.benchmarks.experiment import spiking_network
from errormc.benchmarks.protocol import Session
from errormc.hardware.loihi.compat import emulator_interface
from errormc.hardware.loihi.emulator import FastEmulator, FastSynapseState

EmulatorInterface = emulator_interface.EmulatorInterface

nengo.rc.set("decoder_cache", "enabled", "False")


def _state(emu):
    comp, syn = emu.compartment, emu.synapses
    state = {name: getattr(comp, name).copy()
             for name in ("input", "current", "voltage", "spiked", "ref_count", "spike_count")}
    for k, trace in enumerate(syn.traces.values()):
        state[f"trace{k}"] = trace.copy()
    for k, synapse in enumerate(syn.slices):
        state[f"weights{k}"] = np.concatenate([np.ravel(w) for w in synapse.weights])
    for k, err in enumerate(syn.pes_errors.values()):
        state[f"pes_error{k}"] = err.copy()
    return state


class _Chip:
    """What an emulator reads of a built model, deep-copied: each emulator gets
    its own blocks (weights are updated in place)."""

    def __init__(self, model):
        self.blocks, self.inputs, self.probes = copy.deepcopy((model.blocks, model.inputs, model.probes))
        self.dt, self.pes_error_scale = model.dt, model.pes_error_scale


def _emulators(layers, seed, **kwargs):
    """Stock and fast emulators of one built model (nengo-loihi orders blocks by
    object identity, so two builds need not agree on block order)."""
    sizes = [int(n) for n in layers.split("-")]
    with Session(spiking_network(layers=sizes, seed=seed, **kwargs), sizes[0], sizes[-1],
                 backend="loihi", seed=seed, sim_options={"emulator": "stock"}) as session:
        model = session.sim.model
    return EmulatorInterface(_Chip(model), seed=seed), FastEmulator(_Chip(model), seed=seed)


@pytest.mark.parametrize("layers, wide, coding", [("2-1", None, "population"),
                                                  ("3-2-1", None, "population"),
                                                  ("3-2-1", 0, "population"),
                                                  ("3-2-1", None, "per_input")])
def test_fast_equals_stock_step_by_step_with_learning(layers, wide, coding, monkeypatch):
    """Host spikes and PES errors drawn at random each step drive both emulators;
    every state array and every weight agrees after every step (``wide=0``: every
    fixed synapse group's input as a dense product, `FastSynapseState.WIDE`;
    ``per_input``: the host's input spikes through sparse synapse groups)."""
    if wide is not None:
        monkeypatch.setattr(FastSynapseState, "WIDE", wide)
    stock, fast = _emulators(layers, seed=3, neurons_per_unit=10, error_neurons=20,
                             input_coding=coding)
    if coding == "per_input":  # each input spike reads its own input's 10 synapses
        blocks = stock.synapses.block_map
        fanouts = {np.shape(i)[-1] for s in stock.synapses.slices if s.label == "node_encoders"
                   and "input_area" in str(blocks[s].label) for i in s.indices}
        assert fanouts == {10}, fanouts
    assert bool(fast.synapses._wide) == (wide is not None)
    if wide is not None:  # the float32 product (scale g) is among them
        assert any(scale is not None for _, _, _, scale, _, _ in fast.synapses._wide)
    assert isinstance(fast.synapses, FastSynapseState)
    assert not isinstance(stock.synapses, FastSynapseState)
    assert stock.synapses.pes_errors, "no learning synapses"
    drive = np.random.RandomState(1)
    w0 = _state(fast)
    with stock, fast:
        for step in range(300):
            spikes = {k: np.flatnonzero(drive.rand(inp.n_neurons) < 0.2)
                      for k, inp in enumerate(stock.inputs)}
            errors = [drive.uniform(-1.5, 1.5, e.shape) for e in stock.synapses.pes_errors.values()]
            for emu in (stock, fast):
                emu.host2chip(
                    [(inp, emu.t + 1, spikes[k]) for k, inp in enumerate(emu.inputs)],
                    [(syn, emu.t, e) for syn, e in zip(emu.synapses.pes_errors, errors)],
                )
                emu.step()
            a, b = _state(stock), _state(fast)
            assert a.keys() == b.keys()
            for key in a:
                assert np.array_equal(a[key], b[key]), (step, key)
        # the stochastic-rounding RNG stream was consumed alike: the next draw agrees
        assert stock.rng.rand() == fast.rng.rand()
    assert any(not np.array_equal(w0[k], b[k]) for k in b if k.startswith("weights")), \
        "no weight changed: the test would not see a weight-update mismatch"
    assert any(np.any(b[k]) for k in b if k.startswith("trace"))
    assert np.any(b["spike_count"] > 0)


def test_fast_emulator_is_the_default_and_stock_is_selectable():
    factory = spiking_network(layers=[2, 1], seed=0, neurons_per_unit=5, error_neurons=10)
    with Session(factory, 2, 1, backend="loihi") as session:
        assert isinstance(session.sim.sims["emulator"], FastEmulator)
    with pytest.raises(ValueError, match="emulator: unknown 'turbo'"):
        Session(factory, 2, 1, backend="loihi", sim_options={"emulator": "turbo"})


def test_integer_decay_equals_nengo_loihi():
    """``sign(x) floor(|x| (2^12 - offset - d) / 2^12)`` on random values of both signs."""
    from errormc.hardware.loihi.compat import discretize
    from errormc.hardware.loihi.emulator import FastCompartmentState

    rng = np.random.RandomState(0)
    x = rng.randint(-2**23, 2**23, size=20000).astype(np.int32)
    d = rng.randint(0, 4096, size=20000).astype(np.int32)
    for offset in (0, 1):
        r = (2**12 - offset - d).astype(np.int64)
        assert np.array_equal(FastCompartmentState._decay(x, r), discretize.decay_int(x, d, offset=offset))


def test_float_decay_equals_nengo_loihi():
    """``trunc(x r / 2^12)`` in float64, as `FastCompartmentState` computes it,
    equals ``decay_int`` over the whole range of the chip's currents and voltages."""
    from errormc.hardware.loihi.compat import discretize

    rng = np.random.RandomState(1)
    x = np.concatenate([rng.randint(-2**23, 2**23, size=50000),
                        [-2**23, 2**23 - 1, -1, 0, 1]]).astype(np.int32)
    d = np.concatenate([rng.randint(0, 4096, size=50000), [0, 4095, 4095, 0, 1]]).astype(np.int32)
    for offset in (0, 1):
        f = (2**12 - offset - d) / 4096.0
        assert np.array_equal(np.trunc(x * f).astype(np.int32), discretize.decay_int(x, d, offset=offset))


def _run_session(emulator, layers, steps, seed):
    sizes = [int(n) for n in layers.split("-")]
    drive = np.random.RandomState(2)
    inputs = drive.uniform(-1, 1, (steps, sizes[0]))
    targets = drive.uniform(-1, 1, (steps, sizes[-1]))
    factory = spiking_network(layers=sizes, seed=seed, neurons_per_unit=10, error_neurons=20)
    with Session(factory, sizes[0], sizes[-1], backend="loihi", seed=seed,
                 sim_options={"emulator": emulator}) as session:
        out = session.run(inputs, targets, learn=np.ones(steps, dtype=bool))
        emu = session.sim.sims["emulator"]
        weights = [np.array(w) for synapse in emu.synapses.slices for w in synapse.weights]
        return out, weights, emu


@pytest.mark.parametrize("layers", ["2-1", "3-2-1"])
def test_fast_simulator_equals_stock_simulator(layers):
    """Whole nengo-loihi simulators, host included, with learning: the fast
    emulator and its step loop (`FastStepRunner`: host <-> chip transfers, probes
    read from the state) give the stock emulator's probed outputs and final
    weights exactly."""
    from errormc.hardware.loihi.emulator import FastStepRunner

    stock_out, stock_w, stock_emu = _run_session("stock", layers, 400, seed=4)
    fast_out, fast_w, fast_emu = _run_session("fast", layers, 400, seed=4)
    assert isinstance(fast_emu, FastEmulator) and fast_emu.probes.live
    assert not isinstance(stock_emu, FastEmulator)
    assert stock_out.keys() == fast_out.keys()
    for key in stock_out:
        assert np.array_equal(stock_out[key], fast_out[key]), key
    assert np.any(stock_out["output"] != 0)
    # weights: the two builds may order blocks differently; compare as multisets
    key = lambda ws: sorted((w.shape, w.tobytes()) for w in ws)
    assert key(stock_w) == key(fast_w)
