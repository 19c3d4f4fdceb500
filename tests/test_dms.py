"""Delayed match-to-sample (Fig. 2b): trials, resettable somas on both backends,
the one-update-per-trial schedule, the jax backend against nengo, and the
authors' check values."""

import json
import os

import nengo
import numpy as np
import pytest

from nengo.exceptions import BuildError

from errormc.benchmarks.protocol import Session, TrialProtocol
from errormc.benchmarks.tasks import dms
from errormc.hardware import Simulator
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


def soma_trace(reset_history, prospective=False, backend="nengo", steps=8, reset_at=4, J=0.3,
               g=0.46):
    """One unit with constant input J and a reset at one step."""
    with nengo.Network() as net:
        reset = nengo.Node(lambda t: float(round(t / 0.01) == reset_at + 1))
        # a sub-network: the reset switch is built before the population
        with nengo.Network():
            ens = Population(1, ProspectiveRate("tanh", g, prospective=prospective,
                                                initial_voltage=[0.7]),
                             reset=reset, reset_history=reset_history)
        nengo.Connection(nengo.Node([J]), ens.neurons, synapse=None)
        probes = {k: nengo.Probe(ens.neurons, k)
                  for k in ("output", "prospective", "derivative", "voltage")}
    with Simulator(net, backend=backend, dt=0.01) as sim:
        sim.run_steps(steps)
        return {k: np.array(sim.data[p][:, 0]) for k, p in probes.items()}


@pytest.mark.parametrize("backend", ["nengo", "jax"])
@pytest.mark.parametrize("prospective", [False, True])
@pytest.mark.parametrize("reset_history", [False, True])
def test_reset_soma_against_hand_computed_euler(reset_history, prospective, backend):
    J, g, dt, reset_at = 0.3, 0.46, 0.01, 4
    data = soma_trace(reset_history, prospective, backend, J=J, g=g, reset_at=reset_at)
    u, h = 0.7, 0.7
    for k in range(8):
        if k == reset_at:
            u = 0.0
            h = 0.0 if reset_history else h
        breve = h + (1 / g) / dt * (u - h)
        rate = np.tanh(breve) if prospective else np.tanh(u)
        assert np.isclose(data["output"][k], rate, atol=1e-13)
        assert np.isclose(data["prospective"][k], breve, atol=1e-10)
        assert np.isclose(data["derivative"][k], 1 - np.tanh(breve) ** 2, atol=1e-12)
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


def short_run(backend, protocol):
    """Two epochs on two trials of each split: the protocol's validation
    errors, test errors, final and initial weights."""
    config = RunConfig(task="dms", seed=2, epochs=2, protocol=protocol, backend=backend)
    trials = {name: dms.trials(2, seed) for name, (seed, _) in dms.SPLITS.items()}
    with Session(dms.network(config), 1, 1, config.dt, backend,
                 extras=("reset", "tracking")) as session:
        result = TrialProtocol(trials, config.epochs).run(session)
        return result, session.weights(), session.net.initial_weights


def assert_close(a, b, rtol, name=""):
    """max |a - b| <= rtol max |b|."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, name
    assert np.max(np.abs(a - b)) <= rtol * np.max(np.abs(b)), name


@pytest.mark.parametrize("protocol", ["reference", "clean"])
def test_dms_on_jax_equals_the_reference_simulator(protocol):
    """The trial protocol (a reset per trial, one plastic step per trial) on the
    compiled engine against nengo: per-trial errors and every final weight."""
    ref, ref_w, initial = short_run("nengo", protocol)
    out, w, _ = short_run("jax", protocol)
    # squared errors of trials whose tanh output saturates at the target are ~1e-17:
    # measured against the largest error of the run
    errors = [np.r_[np.ravel(run["val_trial_mse"]), run["test_trial_mse"]] for run in (out, ref)]
    assert_close(*errors, 1e-9)
    assert out["steps"] == ref["steps"]
    assert sorted(w) == sorted(ref_w)
    for name in ref_w:
        assert_close(w[name], ref_w[name], 1e-9, name)
    # it learned: the forward weights moved
    assert not np.allclose(ref_w["W1"], initial["W1"])
    assert not np.allclose(ref_w["W2"], initial["W2"])


@pytest.mark.parametrize("backend", [pytest.param("nengo", marks=pytest.mark.slow), "jax"])
def test_ten_epochs_match_the_authors_script(backend):
    """``errormc run dms --epochs 10 --seed 2`` (nengo: about 2 minutes; jax:
    seconds)."""
    ref = checks()
    metrics, weights = dms.run(RunConfig(task="dms", seed=2, epochs=10, backend=backend))
    assert np.allclose(metrics["val_mse_per_epoch"], ref["val_mse_per_epoch"], rtol=1e-9,
                       atol=1e-12)
    assert abs(metrics["test_mse"] - ref["test_mse"]) < 1e-9
    assert np.allclose(weights["W1"], ref["final_W"][0], atol=1e-9)
    assert np.allclose(weights["W2"], ref["final_W"][1], atol=1e-9)
