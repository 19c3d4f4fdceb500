"""Cart-pole (Fig. 2a): the registered environment against the closed-form
equations, the teacher's output K.s / 76.6, config checks, and the authors' check
values (slow)."""

import json
import os
import subprocess
import sys

import gymnasium
import numpy as np
import pytest


from errormc.benchmarks.protocol import Session
from errormc.benchmarks.tasks import cartpole
from errormc.networks import ErrorMicrocircuit
from errormc.networks.errors import ConfigError
from errormc.runs.config import RunConfig

CHECKS = os.path.join(os.path.dirname(__file__), "data", "checks_dms_cartpole.json")


def closed_form_step(s, F, dt=0.01, g=9.8, mc=1.0, mp=0.1, l=0.5):
    """MODEL.md 3.3, written out."""
    x, xd, th, thd = s
    tmp = (F + mp * l * thd**2 * np.sin(th)) / (mc + mp)
    thdd = (g * np.sin(th) - np.cos(th) * tmp) / (l * (4 / 3 - mp * np.cos(th) ** 2 / (mc + mp)))
    xdd = tmp - mp * l * thdd * np.cos(th) / (mc + mp)
    return np.array([x + dt * xd, xd + dt * xdd, th + dt * thd, thd + dt * thdd])


def test_environment_is_registered_and_follows_the_equations():
    env = gymnasium.make(cartpole.ENV_ID)
    assert isinstance(env.unwrapped, cartpole.CartPoleContinuousEnv)
    state, _ = env.reset(seed=1)
    assert state.dtype == np.float64 and np.all(np.abs(state) <= 1.0)
    rng = np.random.default_rng(0)
    for F in rng.uniform(-20, 20, 50):
        expected = closed_form_step(state, F)
        state, _, terminated, _, _ = env.step(np.array([F]))
        assert np.allclose(state, expected, rtol=0, atol=1e-14)
        if terminated:
            state, _ = env.reset()


def test_failure_bounds_and_legacy_resets():
    rng = np.random.RandomState(7)
    env = cartpole.make_env(reset_rng=rng)
    state, _ = env.reset()
    assert np.array_equal(state, (np.random.RandomState(7).random_sample(4) - 0.5) * 2.0)
    base = env.unwrapped
    for state, fails in (([2.39, 0, 0, 0], False), ([2.41, 0, 0, 0], True),
                         ([0, 0, np.radians(69.9), 0], False),
                         ([0, 0, -np.radians(70.1), 0], True)):
        base.state = np.array(state, dtype=float)
        x, th = state[0], state[2]
        # zero velocities: the positions do not move in this step
        assert env.step(np.array([0.0]))[2] == fails, (x, th)


def test_teacher_output_is_the_linear_controller():
    task_teacher = ErrorMicrocircuit
    w = cartpole.teacher_weights(123055)
    states = np.random.RandomState(0).uniform(-1.5, 1.5, (20, 4))

    def build(**nodes):
        return task_teacher([4, 4, 1], connectivity="layered", activation="linear",
                            eta=[0.0, 0.0], wt_noise=0.0, g_api=0.0006, weights=w, **nodes)

    with Session(build, 4, 1) as session:
        # forget the random initial voltages (their error needs 4 steps to leave)
        session.run(np.zeros((10, 4)), None, np.zeros(10))
        for s in states:
            out = session.run(np.repeat(s[None], cartpole.HOLD, axis=0), None,
                              np.zeros(cartpole.HOLD))["output"]
            assert np.isclose(cartpole.ACTION_SCALE * out[-1, 0], cartpole.GAIN @ s,
                              rtol=1e-10, atol=1e-10)


def test_cartpole_defaults_and_bad_values():
    c = RunConfig(task="cartpole")
    assert (c.variant, c.layers, c.epochs, c.steps_per_sample, c.n_samples) == (
        "ideal", "4-4-1", 5, 100, 500)
    assert (c.activation, c.g_api, c.wt_noise, c.lateral_noise, c.eta) == (
        "linear", 0.0006, 0.0, 0.0, "1,0.5")
    t = RunConfig(task="cartpole", variant="tanh")
    assert (t.activation, t.lateral_noise, t.eta) == ("tanh,linear", 0.3, "1.5,0.75")
    with pytest.raises(ConfigError, match="variant: 'bogus'"):
        RunConfig(task="cartpole", variant="bogus")
    with pytest.raises(ConfigError, match="layers"):
        RunConfig(task="cartpole", layers="4-2-2")


def test_cli_rejects_a_bad_variant():
    p = subprocess.run([sys.executable, "-m", "errormc.cli", "run", "cartpole", "--variant",
                        "square", "--quiet"], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith("errormc: error: variant:")


@pytest.mark.slow
def test_five_epochs_match_the_authors_code():
    """``errormc run cartpole --variant ideal --epochs 5 --seed 56789 --protocol
    reference`` (about 8 minutes)."""
    with open(CHECKS) as f:
        ref = json.load(f)["cartpole_ideal"]
    config = RunConfig(task="cartpole", variant="ideal", epochs=5, seed=56789,
                       protocol="reference")
    metrics, weights = cartpole.run(config)
    assert metrics["teacher_seed"] == ref["teacher_seed"]
    assert metrics["teacher_failures"] == ref["teacher_failures"]
    assert metrics["failures_per_evaluation"] == ref["failures_per_evaluation"]
    assert np.allclose(weights["W1"], ref["final_W"][0], atol=1e-8)
    assert np.allclose(weights["W2"], ref["final_W"][1], atol=1e-8)


def test_closed_loop_evaluation_with_the_teacher_is_the_controller():
    """evaluate() on the teacher network against the controller F = K.s applied
    directly to the closed-form cart-pole, with the same reset stream."""
    w = cartpole.teacher_weights(123055)

    def build(**nodes):
        return ErrorMicrocircuit([4, 4, 1], connectivity="layered", activation="linear",
                                 eta=[0.0, 0.0], wt_noise=0.0, g_api=0.0006, weights=w, **nodes)

    steps, episode = 600, 150
    with Session(build, 4, 1) as session:
        session.run(np.zeros((10, 4)), None, np.zeros(10))
        env = cartpole.make_env(reset_rng=np.random.RandomState(11), reset_bound=2.0)
        env.reset()
        failures = cartpole.evaluate(session, env, steps=steps, episode=episode)
    rng = np.random.RandomState(11)
    s, expected = (rng.random_sample(4) - 0.5) * 4.0, 0
    for k in range(1, steps):
        if k % episode == 0:
            s = (rng.random_sample(4) - 0.5) * 4.0
        s = closed_form_step(s, cartpole.GAIN @ s)
        if abs(s[0]) > 2.4 or abs(s[2]) > np.radians(70):
            expected += 1
            s = (rng.random_sample(4) - 0.5) * 4.0
    assert expected > 0  # resets from U(-2, 2) make the controller fail sometimes
    assert failures == expected


@pytest.mark.parametrize("protocol", ["reference", "clean"])
def test_a_small_run_scores_every_evaluation(protocol):
    """Both protocols end to end on a tiny data set and short evaluations: one
    score per epoch plus the test, and the same numbers again for the same seed."""
    config = RunConfig(task="cartpole", epochs=2, seed=4, protocol=protocol, n_samples=4,
                       steps_per_sample=10, settle_steps=20)

    def once():
        task = cartpole.CartPoleTask(4, n_samples=4, steps_per_sample=10, settle_steps=20,
                                     protocol=protocol, eval_steps=60, episode_steps=30)
        metrics, weights = cartpole.run(config, task=task)
        return metrics, weights

    (m1, w1), (m2, w2) = once(), once()
    assert len(m1["failures_per_evaluation"]) == 3
    assert len(m1["val_mse"]) == 2
    assert m1["failures_per_evaluation"] == m2["failures_per_evaluation"]
    assert m1["teacher_failures"] == m2["teacher_failures"]
    assert np.array_equal(w1["W1"], w2["W1"])
