"""Somatic dynamics, activations and weights I/O against closed forms."""

import numpy as np
import pytest

from errormc.benchmarks.protocol import replay
from errormc.networks import activations
from errormc.networks.initialization import initial_state


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_derivatives_are_the_nominal_derivatives(name):
    x = np.linspace(-3, 3, 61) + 0.013  # avoid kinks at 0 and +-3
    h = 1e-6
    numeric = (activations.phi(name)(x + h) - activations.phi(name)(x - h)) / (2 * h)
    analytic = activations.dphi(name)(x)
    if name == "hard_sigmoid":
        numeric = numeric * 6  # the reference's derivative omits the 1/6 factor
    if name == "steep_tanh":
        # the DMS output keeps the derivative of the linear unit it replaced (MODEL.md 3.4)
        numeric = np.ones_like(x)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_prospective_voltage_is_previous_steady_state():
    """MODEL.md 1.4: u_breve^k = tau_R (g_bas b^{k-1} + g_api a^{k-1}); each area
    adds exactly one step of delay (pins Nengo's step semantics)."""
    rng = np.random.RandomState(1)
    layers = [3, 2]
    w = initial_state(layers, connectivity="layered", backward="bp", seed=4)
    T = 30
    inputs = rng.uniform(0, 1, (T, 3))
    targets = rng.uniform(-0.5, 0.5, (T, 2))
    r = replay(inputs, targets, np.zeros(T), layers=layers, weights=w, connectivity="layered")
    g_l, g_bas, g_api, g_ntgt = 0.03, 0.1, 0.06, 0.06
    tau = 1 / (g_l + g_bas + g_api)
    b = inputs @ w["W1"].T  # basal potential of step k (frozen weights)
    a = r["err_rates1"] @ w["BPI1"].T  # apical potential of step k
    expected = tau * (g_bas * b[:-1] + g_api * a[:-1])
    np.testing.assert_allclose(r["rep_prospective1"][1:], expected, atol=1e-12)
    # the first step shows the initial voltage (history buffer = initial voltage)
    np.testing.assert_allclose(r["rep_prospective1"][0], w["u1"])
    # the output error at k+1 is the steady state of step k's target drive
    P = w["WIP1"]
    rho = 1 - r["rep_rates1"] ** 2
    drive = (rho * (targets - r["rep_rates1"])) @ P.T
    np.testing.assert_allclose(
        r["err_rates1"][1:], g_ntgt / (g_l + g_ntgt) * drive[:-1], atol=1e-12
    )


def test_no_target_means_no_nudging():
    layers = [3, 2]
    w = initial_state(layers, connectivity="layered", seed=2)
    T = 50
    inputs = np.full((T, 3), 0.5)
    r = replay(inputs, np.full((T, 2), np.nan), np.zeros(T), layers=layers, weights=w, connectivity="layered")
    # error units relax from their initial voltage: e^{k} = e^0 (1 - dt g)^k, and
    # their prospective value is 0 from the second step on
    assert np.allclose(r["err_rates1"][1:], 0.0, atol=1e-12)


def test_weights_roundtrip(tmp_path):
    from errormc.networks.weights import load, save

    w = initial_state([4, 2, 1], seed=3)
    path = save(tmp_path / "w.npz", w)
    back = load(path, [4, 2, 1], [2, 1], "skip", "bp")
    for k in w:
        np.testing.assert_array_equal(back[k], w[k])
