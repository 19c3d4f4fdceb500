"""The comparison models (MODEL.md 2.1-2.3) against independent truths: the
self-predicting state, finite-difference gradients, learning on the task."""

from functools import partial

import numpy as np
import pytest

from errormc.benchmarks.alignment import feedforward_backprop
from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import Session
from errormc.runs.runner import train
from errormc.networks.baselines import (
    ANN,
    DendriticMicrocircuit,
    DendriticPredictiveCoding,
    paper_eta,
)
from errormc.networks.microcircuit import DEFAULT_ETA

P = 20  # steps per sample


def held_inputs(n_samples, n_in, seed=0, hold=P):
    rng = np.random.RandomState(seed)
    return np.repeat(rng.uniform(0, 1, (n_samples, n_in)), hold, axis=0)


def apical_record(net):
    return {f"a{l}": (net.apical[l - 1], "output") for l in range(1, net.n_areas)}


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_sacramento_self_predicting_state_silences_apical_dendrites(activation):
    """In the self-predicting state, without learning and without a target, the
    interneurons cancel the top-down input exactly: hidden apical potentials
    are zero for any (held) input, once the transient of an input change (a
    geometric decay through the area loops) has passed."""
    layers = [8, 4, 3, 2]
    hold = 80
    build = partial(DendriticMicrocircuit, layers=layers, activation=activation, seed=7)
    x = held_inputs(15, layers[0], seed=1, hold=hold) * 4 - 2
    with Session(build, layers[0], layers[-1], record=apical_record) as session:
        data = session.run(x, None, np.zeros(len(x)))
    for l in (1, 2):
        a = data[f"a{l}"][hold - 1 :: hold]
        assert np.max(np.abs(a)) < 1e-6
        # and the top-down input it cancels is not small
        assert np.max(np.abs(session.net.initial_weights[f"B{l}"])) > 0.1


def test_sacramento_learns_self_predicting_state():
    """From a random start, lateral plasticity (P and Q; fixed top-down B)
    drives the apical potentials towards zero."""
    layers = [4, 3, 2]
    build = partial(
        DendriticMicrocircuit, layers=layers, backward="fa", eta=0.0, eta_lateral=10.0,
        eta_apical=10.0, self_predicting=False, seed=3,
    )
    n = 400
    x = held_inputs(n, layers[0])
    with Session(build, layers[0], layers[-1], record=apical_record) as session:
        data = session.run(x, None, np.ones(len(x)))
    a = np.abs(data["a1"][P - 1 :: P]).mean(axis=1)
    assert a[-20:].mean() < a[:20].mean() / 20
    assert a[-20:].mean() < 0.01


def _ann_updates(layers, seed, x, t, eta):
    """Run the ANN to steady state on (x, t); the forward updates of the last step."""
    L = len(layers) - 1
    build = partial(ANN, layers=layers, seed=seed, eta=eta)
    T = 4 * L + 4
    learn = np.zeros(T)
    learn[-1] = 1.0

    def record(net):
        return {f"dW{l}": (net.forward[(l, l - 1)].learning_rule, "delta") for l in range(1, L + 1)}

    with Session(build, layers[0], layers[-1], record=record) as session:
        data = session.run(np.tile(x, (T, 1)), np.tile(t, (T, 1)), learn)
        w = session.net.initial_weights
    return [data[f"dW{l}"][-1] for l in range(1, L + 1)], [w[f"W{l}"] for l in range(1, L + 1)]


def test_ann_updates_are_the_backprop_gradient():
    """dW_l = dt eta delta_l r_{l-1}^T equals -dt eta gamma^{-(L-l+1)} dE/dW_l with
    E = |t - r_L|^2 / 2 of the feed-forward network u_l = gamma W_l phi(u_{l-1}),
    checked by central finite differences (the ANN's B = W^T carries no gamma,
    MODEL.md 2.3, so each layer's update is the gradient times gamma^-(L-l+1))."""
    layers = [5, 4, 3, 2]
    L = len(layers) - 1
    rng = np.random.RandomState(2)
    x = rng.uniform(0, 1, layers[0])
    t = np.tanh(rng.uniform(-1, 1, layers[-1]))
    eta, dt = 0.7, 0.01
    updates, W = _ann_updates(layers, 11, x, t, eta)
    gamma = 0.1 / 0.13

    def loss(weights):
        r = x
        for Wl in weights:
            r = np.tanh(gamma * Wl @ r)
        return 0.5 * np.sum((t - r) ** 2)

    h = 1e-6
    for l in range(L):
        grad = np.zeros_like(W[l])
        for idx in np.ndindex(W[l].shape):
            plus = [w.copy() for w in W]
            minus = [w.copy() for w in W]
            plus[l][idx] += h
            minus[l][idx] -= h
            grad[idx] = (loss(plus) - loss(minus)) / (2 * h)
        expected = -dt * eta * grad / gamma ** (L - l)
        np.testing.assert_allclose(updates[l], expected, rtol=1e-6, atol=1e-12)
    # and the same as the feed-forward backprop of the alignment measurement
    bp = feedforward_backprop(W, x, t, ["tanh"] * L, gamma)
    for l in range(L):
        np.testing.assert_allclose(updates[l], dt * eta * bp[l], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("model", ["errormc", "sacramento2018", "dpc", "ann"])
def test_short_teacher_student_run_lowers_test_mse(model):
    config = RunConfig(model=model, layers="2-1", seed=56789, epochs=3, protocol="clean")
    metrics, weights = train(config)
    assert metrics["test_mse_final"] < 0.5 * metrics["test_mse_initial"]
    assert all(np.all(np.isfinite(v)) for v in weights.values())


def test_learning_rate_table_matches_errormc_defaults():
    for depth, eta in DEFAULT_ETA.items():
        assert paper_eta("errormc", depth)["eta"] == eta
    assert paper_eta("sacramento2018", 3) == {"eta": [0.1, 0.02, 0.002], "eta_lateral": [0.04, 0.004]}
    assert paper_eta("dpc", 4)["eta_lateral"] == [0.02, 0.004, 0.002]
    assert paper_eta("ann", 4)["eta"] == [2.0, 0.5, 0.1, 0.01]


def test_default_eta_comes_from_the_table():
    net = DendriticMicrocircuit([8, 4, 2, 1], seed=1)
    assert net.eta == [0.1, 0.02, 0.002] and net.eta_lateral == [0.04, 0.004]
    assert ANN([4, 2, 1], seed=1).eta == [2.0, 0.2]


@pytest.mark.parametrize("cls", [DendriticMicrocircuit, DendriticPredictiveCoding, ANN])
def test_weights_round_trip(cls, tmp_path):
    """get_weights -> save -> load as initial weights gives the same network
    (up to the transient of the look-ahead history, which is not saved)."""
    layers = [4, 3, 2]
    x = held_inputs(5, 4, hold=80)
    t = np.tanh(np.random.RandomState(0).uniform(-1, 1, (len(x), 2)))
    kwargs = {"activation": "linear"} if cls is DendriticPredictiveCoding else {}
    with Session(partial(cls, layers=layers, seed=3, **kwargs), 4, 2) as session:
        learn = np.ones(len(x))
        learn[-5:] = 0  # no update pending when the weights are read
        session.run(x, t, learn)
        session.net.save_weights(str(tmp_path / "w.npz"), session.sim)
        w = session.weights()
        out1 = session.run(x, None, np.zeros(len(x)))["output"]
    build = partial(cls, layers=layers, seed=99, weights=str(tmp_path / "w.npz"), **kwargs)
    with Session(build, 4, 2) as session:
        for k, v in session.net.initial_weights.items():
            np.testing.assert_array_equal(v, w[k])
        out2 = session.run(x, None, np.zeros(len(x)))["output"]
    np.testing.assert_allclose(out1[-80:], out2[-80:], atol=1e-9)


def test_bad_weights_name_the_array():
    with pytest.raises(ValueError, match="W2"):
        ANN([4, 2, 1], weights={"W1": np.zeros((2, 4))})
    with pytest.raises(ValueError, match="shape"):
        DendriticMicrocircuit([4, 2, 1], weights={"W1": np.zeros((3, 4)), "W2": np.zeros((1, 2))})


def test_dpc_warns_and_uses_linear_units():
    with pytest.warns(UserWarning, match="linear"):
        net = DendriticPredictiveCoding([4, 2, 1], activation="tanh")
    assert net.activation == ["linear", "linear"]
