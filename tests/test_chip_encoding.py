"""What the emulator build does to values entering the chip (errormc.hardware.loihi.encoding).

The truths are the values the host sends (a sum of host inputs, a constant PES
error) and the Nengo reference simulator's PES rate.
"""

import nengo
import numpy as np
import pytest

from errormc.hardware.backends import Simulator, chip_neuron_type
from errormc.hardware.loihi.compat import decode_neurons
from errormc.hardware.loihi.discretisation import chip_model
from errormc.hardware.loihi.encoding import LEARN_EPOCH, EpochAverage, HeterogeneousDecodeNeurons
from errormc.networks.errors import ConfigError

nengo.rc.set("decoder_cache", "enabled", "False")


@pytest.fixture(autouse=True)
def no_decoder_cache():
    nengo.rc.set("decoder_cache", "enabled", "False")


def _host_sum(discretisation, parts=(1.5, -1.0), t=0.6):
    """Decoded value of an on-chip ensemble (radius 1) fed by one host Node per
    part: the mean and standard deviation over the last 0.4 s."""
    with nengo.Network(seed=1) as net:
        ens = nengo.Ensemble(200, 1, neuron_type=chip_neuron_type("lif"))
        for x in parts:
            nengo.Connection(nengo.Node(x), ens, synapse=None)
        probe = nengo.Probe(ens, synapse=0.01)
    sim = Simulator(net, backend="loihi", dt=0.001, seed=0, discretisation=discretisation)
    with sim:
        sim.run(t)
    y = sim.data[probe][200:, 0]
    return y.mean(), y.std()


def test_host_inputs_beyond_the_radius_are_not_clipped():
    # 1.5 - 1.0: each part is encoded on its own, so nengo-loihi's one pair
    # (range 1) clips 1.5 to 1 and the ensemble sees ~0, not 0.5
    clipped, _ = _host_sum(dict(input_pairs=1, input_range=1.0))
    kept, _ = _host_sum(dict(input_pairs=2, input_range=2.0))
    assert abs(clipped) < 0.15, clipped
    assert kept == pytest.approx(0.5, abs=0.08)


def _host_readout(value, discretisation=None, t=0.3):
    """Mean of a value decoded by an on-chip ensemble (radius 1, representing
    0.5) onto a host Node, over the last 50 ms."""
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(100, 1, neuron_type=chip_neuron_type("lif"))
        nengo.Connection(nengo.Node(0.5), ens, synapse=None)
        post = nengo.Node(lambda t, x: x, size_in=1)
        nengo.Connection(ens, post, function=lambda x: 2 * value * x, synapse=0.01)
        probe = nengo.Probe(post, synapse=0.02)
    kwargs = {} if discretisation is None else dict(discretisation=discretisation)
    sim = Simulator(net, backend="loihi", dt=0.001, seed=0, **kwargs)
    with sim:
        sim.run(t)
    return sim.data[probe][-50:, 0].mean()


def test_values_leaving_the_chip_wrap_beyond_a_few_radii_unless_the_readout_threshold_is_raised():
    # nengo-loihi's non-spiking readout compartments reset when one step's input
    # passes vth_nonspiking (10): a decoded 4.5 radii came back as 2.35 from
    # nengo-loihi's rectified pair, 3.45 from the signed one (only the positive
    # compartment resets); with 20 it comes back whole, and small values stay as
    # they were
    for value in (0.25, 2.5):
        assert _host_readout(value) == pytest.approx(value, rel=0.05)
    for signed in (True, False):
        assert _host_readout(4.5, dict(readout_signed=signed)) < 0.8 * 4.5
    for value in (0.25, 4.5):
        assert _host_readout(value, dict(vth_nonspiking=20.0)) == pytest.approx(value, rel=0.05)


def test_more_pairs_per_dimension_quantise_finer():
    # the same range, the spike quantum R / K halves with K = 2
    _, one = _host_sum(dict(input_pairs=1, input_range=2.0), parts=(0.3,))
    mean, two = _host_sum(dict(input_pairs=2, input_range=2.0), parts=(0.3,))
    assert mean == pytest.approx(0.3, abs=0.05)
    assert two < 0.8 * one, (one, two)


def _pes_drift(backend, error, discretisation=None, radius=1.0):
    """Change per second of a learned decoded output under a constant error (the
    pre population of ``radius`` represents 0.3 of it)."""
    with nengo.Network(seed=3) as net:
        ens = nengo.Ensemble(100, 1, radius=radius, neuron_type=chip_neuron_type("lif"))
        nengo.Connection(nengo.Node(0.3 * radius), ens, synapse=None)
        post = nengo.Node(lambda t, x: x, size_in=1)
        conn = nengo.Connection(ens, post, function=lambda x: 0.0, synapse=0.01,
                                learning_rule_type=nengo.PES(1e-3, pre_synapse=nengo.Lowpass(0.01)))
        relay = nengo.Node(lambda t, x: x, size_in=1)
        nengo.Connection(nengo.Node(-error), relay, synapse=None)
        nengo.Connection(relay, conn.learning_rule, synapse=None)
        probe = nengo.Probe(post, synapse=0.05)
    kwargs = {} if discretisation is None else dict(discretisation=discretisation)
    sim = Simulator(net, backend=backend, dt=0.001, seed=0, **kwargs)
    with sim:
        sim.run(1.5)
    y = sim.data[probe][:, 0]
    return (y[-1] - y[500]) / 1.0


def test_stochastic_error_rounding_learns_errors_below_the_chip_step():
    # |error| = 0.003 < 1 / (2 pes_error_scale) = 0.005
    reference = _pes_drift("nengo", 0.003)
    assert reference > 0.02
    assert _pes_drift("loihi", 0.003, dict(pes_error_rounding="nearest", pes_error_step=1)) == 0.0
    for step in (1, 4):  # 0.3 chip units sent as 0 / 1 or 0 / 4, at random
        assert _pes_drift("loihi", 0.003, dict(pes_error_rounding="stochastic",
                                               pes_error_step=step)) == pytest.approx(
            reference, rel=0.25)


def test_pes_moves_a_decoded_output_at_the_reference_rate_whatever_the_pre_radius():
    # nengo-loihi learns the decoders it scaled by 1 / radius at the unscaled rate:
    # uncorrected, the chip's output moves radius times as fast as the reference's
    for radius in (0.5, 2.0):
        reference = _pes_drift("nengo", 0.02, radius=radius)
        assert reference > 0.02
        assert _pes_drift("loihi", 0.02, radius=radius) == pytest.approx(reference, rel=0.15)
        uncorrected = _pes_drift("loihi", 0.02, dict(pes_radius_correction=False), radius=radius)
        assert uncorrected == pytest.approx(radius * reference, rel=0.15)


def test_the_host_sends_the_mean_error_of_the_learning_epoch():
    # e(t) = step number: the mean of the last four steps, by hand, and of the
    # steps so far while fewer than four have passed (the history starts at 0)
    with nengo.Network() as net:
        ramp = nengo.Node(lambda t: round(t / 0.001))
        mean = nengo.Node(EpochAverage(LEARN_EPOCH, 1), size_in=1)
        nengo.Connection(ramp, mean, synapse=None)
        probe = nengo.Probe(mean, synapse=None)
    with nengo.Simulator(net, dt=0.001, progress_bar=False) as sim:
        sim.run_steps(8)
    steps = np.arange(1, 9)
    expect = [np.mean([k for k in range(n - 3, n + 1) if k >= 1] + [0] * max(0, 4 - n))
              for n in steps]
    np.testing.assert_allclose(sim.data[probe][:, 0], expect)
    # on the chip a constant error is its own mean: PES moves at the reference rate
    reference = _pes_drift("nengo", 0.02)
    assert _pes_drift("loihi", 0.02, dict(pes_error_average=True)) == pytest.approx(
        reference, rel=0.1)


def test_ten_heterogeneous_decode_pairs_are_nengo_loihis_preset():
    ours = HeterogeneousDecodeNeurons(10, dt=0.001)
    preset = decode_neurons.Preset10DecodeNeurons(dt=0.001)
    np.testing.assert_array_equal(ours.gain, preset.gain)
    np.testing.assert_array_equal(ours.bias, preset.bias)
    assert ours.scale == preset.scale
    # four times the pairs with the same profile: four times the spikes per value
    assert HeterogeneousDecodeNeurons(40, dt=0.001).scale == pytest.approx(preset.scale / 4, rel=0.01)


def test_bad_settings_are_named():
    for key, value in (("input_pairs", 0), ("input_range", -1.0), ("pes_error_rounding", "up"),
                       ("pes_wgt", 3), ("decode_pairs", 0), ("decode_pairs", 2.5),
                       ("vth_nonspiking", 0.0), ("pes_error_step", 0), ("pes_error_step", 1.5)):
        with pytest.raises(ConfigError, match=key):
            chip_model(0.001, **{key: value})
    # rounded to the nearest multiple of 4, errors below 0.02 would never reach the chip
    with pytest.raises(ConfigError, match="pes_error_step 4 needs pes_error_rounding"):
        chip_model(0.001, pes_error_rounding="nearest")
