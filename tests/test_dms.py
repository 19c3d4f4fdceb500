"""Delayed match-to-sample (Fig. 2b): trials, resettable non-prospective somas,
the one-update-per-trial schedule, and the authors' check values."""

import json
import os

import nengo
import numpy as np
import pytest

from nengo.exceptions import BuildError

from errormc.benchmarks.protocol import Session, TrialProtocol
from errormc.benchmarks.tasks import dms
from errormc.networks import activations
from errormc.networks.compartments import Population
from errormc.networks.errors import ConfigError
from errormc.networks.neurons import Identity, ProspectiveRate
from errormc.runs.config import RunConfig

CHECKS = os.path.join(os.path.dirname(__file__), "data", "checks_dms_cartpole.json")


def checks():
    with open(CHECKS) as f:
        return json.load(f)["dms"]


def test_trials_follow_the_generator():
    inputs, targets = dms.trials(50, 42)
    rng = np.random.default_rng(42)
    for x, t in zip(inputs, targets):
        # draws per trial: delay, first, second stimulus
        delay, s1, s2 = rng.integers(50, 250), rng.choice([-1, 1]), rng.choice([-1, 1])
        assert len(x) == 750 + delay
        assert np.all(x[:250] == 0) and np.all(x[250:500] == s1)
        assert np.all(x[500 : 500 + delay] == 0) and np.all(x[500 + delay :] == s2)
        assert t == (1.0 if s1 == s2 else -1.0)


def test_steep_tanh_keeps_the_unit_derivative():
    x = np.array([0.0, 0.5, 1.0])
    assert np.allclose(activations.phi("steep_tanh")(x), np.tanh(20 * (x - 0.5)))
    assert np.all(activations.dphi("steep_tanh")(x) == 1.0)


def soma_trace(reset_history, steps=8, reset_at=4, J=0.3, g=0.46):
    """One non-prospective unit with constant input J and a reset at one step."""
    with nengo.Network() as net:
        reset = nengo.Node(lambda t: float(round(t / 0.01) == reset_at + 1))
        # a sub-network: the reset switch is built before the population
        with nengo.Network():
            ens = Population(1, ProspectiveRate("tanh", g, prospective=False,
                                                initial_voltage=[0.7]),
                             reset=reset, reset_history=reset_history)
        nengo.Connection(nengo.Node([J]), ens.neurons, synapse=None)
        probes = {k: nengo.Probe(ens.neurons, k) for k in ("output", "prospective", "voltage")}
    with nengo.Simulator(net, dt=0.01, progress_bar=False) as sim:
        sim.run_steps(steps)
    return {k: sim.data[p][:, 0] for k, p in probes.items()}


@pytest.mark.parametrize("reset_history", [False, True])
def test_reset_soma_against_hand_computed_euler(reset_history):
    J, g, dt, reset_at = 0.3, 0.46, 0.01, 4
    data = soma_trace(reset_history, J=J, g=g, reset_at=reset_at)
    u, h = 0.7, 0.7
    for k in range(8):
        if k == reset_at:
            u = 0.0
            h = 0.0 if reset_history else h
        breve = h + (1 / g) / dt * (u - h)
        assert np.isclose(data["output"][k], np.tanh(u), atol=1e-13)  # non-prospective
        assert np.isclose(data["prospective"][k], breve, atol=1e-10)
        h, u = u, u + dt * (J - g * u)
        assert np.isclose(data["voltage"][k], u, atol=1e-13)


def test_soma_reset_needs_a_prospective_rate_population():
    with nengo.Network() as net:
        reset = nengo.Node([0.0])
        with nengo.Network():
            Population(2, Identity(), reset=reset)
    with pytest.raises(BuildError, match="reset"):
        nengo.Simulator(net, progress_bar=False)


def small_trials():
    x1 = np.r_[np.zeros(5), np.ones(6)]
    x2 = np.r_[np.zeros(4), -np.ones(5)]
    return [x1, x2], np.array([1.0, -1.0])


def test_one_update_per_trial_and_backward_weights_follow_every_step():
    config = RunConfig(task="dms", seed=3)
    inputs, targets = small_trials()
    stage, extra = TrialProtocol.arrays(inputs, targets, train=True)
    assert list(extra) == [11, 21]  # the extra step repeats each trial's last frame

    def record(net):
        return {"W2": (net.forward[(2, 1)], "weights"), "B1": (net.backward[(1, 2)], "weights")}

    with Session(dms.network(config), 1, 1, record=record,
                 extras=("reset", "tracking")) as session:
        data = session.run(stage.pop("inputs"), stage.pop("targets"), stage.pop("learn"),
                           **stage)
        noise = session.net.initial_weights["Bnoise1"]
    W, B = data["W2"], data["B1"]
    changed = np.flatnonzero(np.any(np.diff(W, axis=0) != 0, axis=(1, 2))) + 1
    # a delta computed at the extra step k is in the weights read at step k + 1
    assert list(changed) == [12]  # the second trial's update is after the last step
    # B is the noisy transpose of the forward weights of the step before
    for k in range(1, len(W)):
        assert np.allclose(B[k], W[k - 1].T + noise, atol=1e-15)


def test_reference_noise_is_the_models_default_generator():
    w = dms.initial_weights(RunConfig(task="dms", seed=5))
    noise = np.random.RandomState(123).uniform(-0.5, 0.5, (2, 1))
    assert np.array_equal(w["Bnoise1"], noise)
    assert np.allclose(w["B1"], w["W2"].T + noise)
    assert all(not np.any(w[k]) for k in ("u1", "u2", "e1", "e2"))
    clean = dms.initial_weights(RunConfig(task="dms", seed=5, protocol="clean"))
    assert not np.array_equal(clean["Bnoise1"], noise)


def test_dms_defaults_and_bad_values():
    config = RunConfig(task="dms")
    assert (config.layers, config.epochs, config.protocol) == ("1-2-1", 10, "reference")
    assert (config.g_l, config.activation, config.eta) == (0.3, "soft_relu,steep_tanh",
                                                           "4000,4000")
    with pytest.raises(ConfigError, match="layers"):
        RunConfig(task="dms", layers="2-2-1")
    with pytest.raises(ConfigError, match="variant"):
        RunConfig(task="dms", variant="ideal")


def test_first_validation_matches_the_authors_script():
    """The untrained network's validation (50 trials, ~45,000 steps)."""
    config = RunConfig(task="dms", seed=2)
    val_inputs, val_targets = dms.splits()["val"]
    stage, extra = TrialProtocol.arrays(val_inputs, val_targets, train=False)
    with Session(dms.network(config), 1, 1, extras=("reset", "tracking")) as session:
        out = session.run(stage.pop("inputs"), stage.pop("targets"), stage.pop("learn"),
                          **stage)["output"]
    mse = np.mean((out[extra, 0] - val_targets) ** 2)
    assert abs(mse - checks()["val_mse_per_epoch"][0]) < 1e-12


@pytest.mark.slow
def test_ten_epochs_match_the_authors_script():
    """``errormc run dms --epochs 10 --seed 2`` (about 4 minutes)."""
    ref = checks()
    metrics, weights = dms.run(RunConfig(task="dms", seed=2, epochs=10))
    assert np.allclose(metrics["val_mse_per_epoch"], ref["val_mse_per_epoch"], rtol=1e-9,
                       atol=1e-12)
    assert abs(metrics["test_mse"] - ref["test_mse"]) < 1e-9
    assert np.allclose(weights["W1"], ref["final_W"][0], atol=1e-9)
    assert np.allclose(weights["W2"], ref["final_W"][1], atol=1e-9)
