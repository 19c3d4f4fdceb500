"""Learned readouts on the chip: the on/off weight columns and how they are read
(errormc.hardware.loihi.readout, encoding.StochasticErrorRounding).

The truths are nengo-loihi's PES arithmetic, ``(x_1 e) >> 2`` (a floor, at most
-1/2 of a product unit on the columns' mean per update, none when ``x_1 e`` is a
multiple of 4), and the decoded value of unperturbed weights.
"""

import nengo
import numpy as np
import pytest

from errormc.hardware.backends import Simulator, chip_neuron_type
from errormc.hardware.loihi.encoding import LEARN_EPOCH, PES_FLOOR_FREE_STEP
from errormc.hardware.loihi.simulator import LoihiWeightReader


@pytest.fixture(autouse=True)
def no_decoder_cache():
    nengo.rc.set("decoder_cache", "enabled", "False")


def _learned_readout(error, value=0.0, n_neurons=400):
    """A pre population (representing 0.3) decoded onto a host Node by a PES
    connection that computes ``value``, under a constant ``error``."""
    with nengo.Network(seed=3) as net:
        ens = nengo.Ensemble(n_neurons, 1, neuron_type=chip_neuron_type("lif"))
        nengo.Connection(nengo.Node(0.3), ens, synapse=None)
        post = nengo.Node(lambda t, x: x, size_in=1)
        conn = nengo.Connection(ens, post, function=lambda x: value, synapse=0.01,
                                learning_rule_type=nengo.PES(1e-3, pre_synapse=nengo.Lowpass(0.01)))
        relay = nengo.Node(lambda t, x: x, size_in=1)
        nengo.Connection(nengo.Node(-error), relay, synapse=None)
        nengo.Connection(relay, conn.learning_rule, synapse=None)
        probe = nengo.Probe(post, synapse=0.02)
    return net, conn, probe


def _mantissas(syn):
    """The learned synapses' on and off columns in units of one mantissa step."""
    W = np.vstack([np.asarray(w, dtype=float).reshape(1, -1) for w in syn.weights])
    cfg = syn.synapse_cfg
    return W / 2 ** (cfg.real_weight_exp + cfg.shift_bits), cfg.shift_bits


@pytest.mark.parametrize("step", [1, PES_FLOOR_FREE_STEP])
def test_the_chips_pes_floor_drifts_the_on_off_columns_together_unless_errors_are_multiples_of_4(
        step):
    # error 0.013: 1.3 chip units, sent as 1 (nearest) or as 0 / 4 at random
    rounding = "nearest" if step == 1 else "stochastic"
    net, conn, _ = _learned_readout(0.013)
    T = 3.0
    sim = Simulator(net, backend="loihi", dt=0.001, seed=0,
                    discretisation=dict(pes_error_rounding=rounding, pes_error_step=step))
    with sim:
        syn = LoihiWeightReader(sim).synapse(conn)
        W0, shift = _mantissas(syn)
        sim.run(T)
        W, _ = _mantissas(syn)
    drift = (W - W0).mean(axis=1)  # the columns' mean, per pre neuron
    moved = np.abs(W - W0).sum(axis=1) > 0
    mean, se = drift[moved].mean(), drift[moved].std() / np.sqrt(moved.sum())
    assert moved.sum() > 50
    if step == 1:
        # floored: down, by at most 1/2 product unit (2^-(7 + shift) steps) per update
        n_updates = round(T / 0.001) // LEARN_EPOCH
        assert mean < -5 * se, (mean, se)
        assert mean > -0.5 * n_updates * 2.0 ** -(7 + shift) - 5 * se
    else:
        assert abs(mean) < 4 * se, (mean, se)


@pytest.mark.parametrize("signed", [True, False])
def test_a_signed_readout_reads_the_on_off_difference_whatever_the_common_mode(signed):
    # the same decoders with both columns lowered by 8 mantissa steps, learning off
    outputs = []
    for common in (0, -8):
        net, conn, probe = _learned_readout(0.0, value=0.2)
        sim = Simulator(net, backend="loihi", dt=0.001, seed=0, emulator="stock",
                        discretisation=dict(readout_signed=signed))
        with sim:
            syn = LoihiWeightReader(sim).synapse(conn)
            cfg = syn.synapse_cfg
            for w in syn.weights:
                w += common * 2 ** (cfg.real_weight_exp + cfg.shift_bits)
            sim.run(0.3)
        outputs.append(sim.data[probe][-100:, 0].mean())
    assert outputs[0] == pytest.approx(0.2, abs=0.02)
    if signed:
        assert outputs[1] == pytest.approx(outputs[0], abs=0.005), outputs
    else:
        # rectified: a dead zone of the common mode's size around 0
        assert outputs[1] < 0.5 * outputs[0], outputs


def test_signed_readout_compartments_hold_the_lowest_voltage_the_chip_allows():
    net, conn, _ = _learned_readout(0.0)
    # nengo-loihi's Compartment: "vmin : float or int (range [-2**23 + 1, 0])"
    for signed, vmin in ((True, -(2 ** 23) + 1), (False, 0)):
        sim = Simulator(net, backend="loihi", dt=0.001, seed=0,
                        discretisation=dict(readout_signed=signed))
        with sim:
            syn = LoihiWeightReader(sim).synapse(conn)
            block, = [b for b in sim.model.blocks if syn in b.synapses]
            assert block.compartment.vmin == vmin
