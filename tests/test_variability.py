"""Per-neuron activation variability (MODEL.md 1.5, 3.6, 3.8 step 3): the draws
in the authors' order, the varied rates with nominal derivatives, and the
error-unit arm."""

from functools import partial

import numpy as np
import pytest

from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import Session
from errormc.networks import ErrorMicrocircuit

LAYERS, ERRORS, SEED = [10, 6, 4], [5, 4], 11


def _reference_draws(seed, sigma, sizes):
    """MODEL.md 3.8: re-seeded generator, W_1, W_2, P_1, P_2, Q_1, Q_2, B_1 (rep
    sizes), then all slopes, then all offsets."""
    rng = np.random.RandomState(seed)
    rng.uniform(-0.1, 0.1, (6, 10)), rng.uniform(-0.1, 0.1, (4, 6))
    rng.uniform(size=(5, 6)), rng.uniform(size=(4, 4))
    rng.uniform(size=(6, 5)), rng.uniform(size=(4, 4))
    rng.uniform(size=(6, 4))
    slopes = [1 + rng.normal(0, sigma, n) for n in sizes]
    offsets = [rng.normal(0, sigma, n) for n in sizes]
    return slopes, offsets


def _network(arm, sigma=0.4):
    config = RunConfig(task="genmnist", layers="10-6-4", errors="5-4", seed=SEED,
                       slope_std=sigma, offset_std=sigma, variability_on=arm)
    return config, partial(ErrorMicrocircuit, **config.network_kwargs())


def _record(net):
    out = {}
    for l, area in enumerate(net.areas, start=1):
        for pop in ("representation", "error"):
            neurons = getattr(area, pop).neurons
            for key in ("output", "prospective", "derivative"):
                out[f"{pop}{l}.{key}"] = (neurons, key)
    return out


@pytest.mark.parametrize("arm", ["rep", "error"])
def test_draws_rates_and_nominal_derivatives(arm):
    config, build = _network(arm)
    sizes = LAYERS[1:] if arm == "rep" else ERRORS
    slopes, offsets = _reference_draws(SEED, 0.4, sizes)
    rng = np.random.RandomState(0)
    x = np.repeat(rng.uniform(0, 1, (3, 10)), 20, axis=0)
    t = np.repeat(rng.uniform(0, 1, (3, 4)), 20, axis=0)
    with Session(build, 10, 4, record=_record) as session:
        data = session.run(x, t, np.zeros(len(x)))
        net = session.net
    for l in (1, 2):
        varied, nominal = ("representation", "error") if arm == "rep" else ("error", "representation")
        ntype = getattr(net.areas[l - 1], varied).neuron_type
        np.testing.assert_array_equal(ntype.slope, slopes[l - 1])
        np.testing.assert_array_equal(ntype.offset, offsets[l - 1])
        assert getattr(net.areas[l - 1], nominal).neuron_type.slope is None
        s, o = slopes[l - 1], offsets[l - 1]
        u = data[f"{varied}{l}.prospective"]
        if varied == "representation":  # logistic: 1 / (1 + exp(-s (u - o)))
            expected = 1 / (1 + np.exp(-s * (u - o)))
            y = 1 / (1 + np.exp(-u))
            np.testing.assert_allclose(data[f"{varied}{l}.derivative"], y * (1 - y), rtol=1e-12)
        else:  # linear error units: s (e - o)
            expected = s * (u - o)
        np.testing.assert_allclose(data[f"{varied}{l}.output"], expected, rtol=1e-12, atol=1e-15)
        u = data[f"{nominal}{l}.prospective"]
        nominal_rate = 1 / (1 + np.exp(-u)) if nominal == "representation" else u
        np.testing.assert_allclose(data[f"{nominal}{l}.output"], nominal_rate, rtol=1e-12)


def _learning_without_a_target(offset_std):
    """Error-unit slopes (sigma 0.4) and offsets (``offset_std``), no target:
    the weights before and after 40 steps of learning (after 40 without, so
    that the initial voltages' one-step transient is not learned), and the
    network."""
    config = RunConfig(task="genmnist", layers="10-6-4", errors="5-4", seed=SEED,
                       slope_std=0.4, offset_std=offset_std, variability_on="error")
    x = np.full((40, 10), 0.5)
    with Session(partial(ErrorMicrocircuit, **config.network_kwargs()), 10, 4) as session:
        session.run(x, None, np.zeros(len(x)))
        before = session.weights_after_step()
        session.run(x, None, np.ones(len(x)))
        return before, session.weights_after_step(), session.net


def test_error_unit_slopes_keep_a_network_without_target_still():
    """Without a target every error is zero, and psi(0) = s * 0 keeps it so:
    the forward weights do not move (what is left of the transient is rounding)."""
    before, after, _ = _learning_without_a_target(0.0)
    for name in ("W1", "W2"):
        np.testing.assert_allclose(after[name], before[name], rtol=0, atol=1e-12)


def test_error_unit_offsets_leave_a_standing_error_that_moves_the_weights():
    """The output error units emit psi(0) = -s o every step, so the output
    area's forward weights move by Q_2 (-s o) x (c sum_k r_1^k) (MODEL.md 1.8:
    the apical potential Q eps drives the forward plasticity), a rank-one
    increment. With a target the output area may settle where its error cancels
    the offset; a hidden area's n standing errors, reached only through B from
    the output's few, in general cannot (Fig. 5's error arm diverges at full
    scale)."""
    before, after, net = _learning_without_a_target(0.4)
    error_units = net.areas[1].error.neuron_type
    standing = net.initial_weights["BPI2"] @ (-error_units.slope * error_units.offset)
    v = (after["W2"] - before["W2"]) / standing[:, None]  # c sum_k r_1^k, the same for every row
    np.testing.assert_allclose(v, np.broadcast_to(v[0], v.shape), rtol=1e-9)
    assert np.all(v > 0)


def test_the_two_arms_differ():
    from errormc.runs.runner import train as run_rate

    mse = {}
    for arm in ("rep", "error"):
        config = RunConfig(task="genmnist", layers="10-20-64", seed=3, epochs=2,
                           slope_std=0.3, offset_std=0.3, variability_on=arm)
        mse[arm] = run_rate(config)[0]["test_mse_final"]
    assert mse["rep"] != mse["error"]


def test_bad_values_name_the_field():
    from errormc.networks.errors import ConfigError

    for kwargs, field in ((dict(slope_std=-0.1), "slope_std"), (dict(offset_std=float("nan")), "offset_std"),
                          (dict(variability_on="both"), "variability_on"),
                          (dict(model="ann", slope_std=0.1), "slope_std")):
        with pytest.raises(ConfigError, match=field):
            RunConfig(**kwargs)
