"""The BP comparison of a trained run (``--compare bp``, MODEL.md 2.4).

* The scan's angles against a closed-form truth computed here: with P = Q = I
  and samples held long enough, the microcircuit settles to the fixed point of
  MODEL.md 1.4-1.6, where the forward update of area l is proportional to
  eps_l r_{l-1}^T; the backprop increment is the feed-forward recursion of 2.4a.
  Both are computed below from the snapshot's weights, independently of
  errormc's code.
* The authors' 2-epoch angles of MODEL.md 4.2 to their printed digits.
"""

from functools import partial

import numpy as np
import pytest

from errormc.benchmarks.alignment import alignment_scan
from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import Batch, Session
from errormc.runs.runner import run_batch, train as run_rate
from errormc.networks import ErrorMicrocircuit
from errormc.networks.baselines import paper_eta

G = dict(g_l=0.03, g_bas=0.1, g_api=0.06, g_den=0.1, g_ntgt=0.06)


def _angle(a, b):
    a, b = np.ravel(a), np.ravel(b)
    cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return 0.0 if abs(1 - cos) < 1e-6 else np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _fixed_point_angles(w, x, t):
    """Steady state of a layered 4-2-1 tanh microcircuit with P = Q = I held on
    (x, t), by iterating the pipeline to convergence; angles of eps_l r_{l-1}^T
    to the backprop increments of the feed-forward net with the same W."""
    g_rep = G["g_l"] + G["g_bas"] + G["g_api"]
    c_T = G["g_ntgt"] / (G["g_l"] + G["g_ntgt"])
    c_E = G["g_den"] / (G["g_l"] + G["g_den"])
    # bp: the replay's backward weights follow the snapshot's W (MODEL.md 1.9)
    W1, W2 = w["W1"], w["W2"]
    B1 = W2.T + w["Bnoise1"]
    eps1, eps2 = np.zeros(W1.shape[0]), np.zeros(W2.shape[0])
    for _ in range(2000):
        u1 = (G["g_bas"] * W1 @ x + G["g_api"] * eps1) / g_rep
        r1 = np.tanh(u1)
        u2 = (G["g_bas"] * W2 @ r1 + G["g_api"] * eps2) / g_rep
        r2 = np.tanh(u2)
        eps2 = c_T * (1 - r2**2) * (t - r2)
        eps1 = c_E * (1 - r1**2) * (B1 @ eps2)
    c = G["g_bas"] / g_rep
    v1 = c * W1 @ x
    v2 = c * W2 @ np.tanh(v1)
    d2 = (1 - np.tanh(v2) ** 2) * (t - np.tanh(v2))
    d1 = (1 - np.tanh(v1) ** 2) * (W2.T @ d2)
    return [_angle(np.outer(eps1, x), np.outer(d1, x)),
            _angle(np.outer(eps2, r1), np.outer(d2, np.tanh(v1)))]


def test_scan_matches_fixed_point_backprop():
    rng = np.random.RandomState(0)
    P, n = 80, 4  # samples long enough for the loop through the apical input to settle
    config = RunConfig(layers="4-2-1", connectivity="layered", lateral_noise=0.0,
                       wt_noise=0.4, seed=7, eta="0.5,0.1")
    build = partial(ErrorMicrocircuit, **config.network_kwargs())
    x = np.repeat(rng.uniform(0, 1, (n, 4)), P, axis=0)
    t = np.repeat(rng.uniform(-0.5, 0.5, (n, 1)), P, axis=0)
    with Session(build, 4, 1) as session:
        session.run(x, t, np.ones(len(x)))  # learn a little: weights move off their start
        w = session.weights_after_step()
        [result] = alignment_scan(Batch.of(session), [config], [[session.weight_state()]],
                                  [x], [t], P)
    truth = np.mean([_fixed_point_angles(w, x[k], t[k]) for k in range(P - 1, len(x), P)], axis=0)
    assert np.all(truth > 1.0)  # a non-trivial comparison (noisy B, nudged rates)
    np.testing.assert_allclose(result["alignment_deg"], truth, atol=1e-6)
    # 2.4(b): (I W_2 I)^T against B_1
    assert result["alignment_wt_b_deg"][0] == pytest.approx(_angle(w["W2"].T, w["B1"]), abs=1e-9)
    assert result["alignment_snapshots"] == 1


def _config(model, layers, seed, **fields):
    eta = ",".join(repr(v) for v in paper_eta(model, len(layers.split("-")) - 1)["eta"])
    return RunConfig(model=model, layers=layers, seed=seed, epochs=2, protocol="reference",
                     task_seed=56789, compare="bp", eta=eta, **fields)


def _check(model, layers, seed):
    metrics, _ = run_rate(_config(model, layers, seed))
    assert metrics["alignment_snapshots"] == 5  # 6 snapshots of 12000 steps, settling's skipped
    return metrics


def assert_printed(values, printed):
    for value, text in zip(values, printed):
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert abs(value - float(text)) <= 0.5 * 10.0**-decimals * (1 + 1e-9), (values, printed)


def test_authors_angles_errormc_421():
    m = _check("errormc", "4-2-1", 56789)
    assert_printed(m["alignment_deg"], ("42.81", "0.380"))
    assert_printed(m["alignment_wt_b_deg"], ("34.09",))


def test_seed_batch_on_jax_compares_with_backprop_as_the_reference_simulator(tmp_path):
    """The comparison of two seeds batched on the compiled backend, replays in
    lockstep: every snapshot's angles equal the reference simulator's, one run
    at a time, and the authors' printed values."""
    seeds = (56789, 12345)
    batched = run_batch([_config("errormc", "4-2-1", s, backend="jax") for s in seeds],
                        [str(tmp_path / str(s)) for s in seeds])
    for seed, got in zip(seeds, batched):
        reference, _ = run_rate(_config("errormc", "4-2-1", seed, backend="nengo"))
        np.testing.assert_allclose(got["alignment_deg_per_snapshot"],
                                   reference["alignment_deg_per_snapshot"], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(got["alignment_wt_b_deg_per_snapshot"],
                                   reference["alignment_wt_b_deg_per_snapshot"], rtol=1e-9)
        assert got["steps"] == reference["steps"]
    assert_printed(batched[1]["alignment_deg"], ANGLES[("errormc", "4-2-1", 12345)])
    assert_printed(batched[1]["alignment_wt_b_deg"], (WT_B[("errormc", 12345)],))


# MODEL.md 4.2: (model, layers, seed) -> printed angles per area, bottom to top
ANGLES = {
    ("errormc", "2-1", 56789): ("0",),
    ("errormc", "4-2-1", 12345): ("34.97", "0.492"),
    ("sacramento2018", "4-2-1", 56789): ("34.95", "1.936"),
    ("sacramento2018", "4-2-1", 12345): ("23.31", "1.936"),
    ("dpc", "4-2-1", 56789): ("35.13", "3.516"),
    ("dpc", "4-2-1", 12345): ("26.36", "2.994"),
    ("errormc", "8-4-2-1", 56789): ("34.59", "12.65", "11.01"),
    ("errormc", "8-4-2-1", 12345): ("44.08", "13.16", "8.92"),
    ("sacramento2018", "8-4-2-1", 56789): ("56.98", "51.03", "0.144"),
    ("sacramento2018", "8-4-2-1", 12345): ("14.77", "9.09", "2.13"),
    ("dpc", "8-4-2-1", 56789): ("34.40", "51.50", "0.218"),
    ("dpc", "8-4-2-1", 12345): ("32.49", "10.87", "3.45"),
}
# W^T against B at the last snapshot, 4-2-1
WT_B = {("errormc", 12345): "51.68", ("sacramento2018", 56789): "34.96",
        ("sacramento2018", 12345): "24.82"}


@pytest.mark.slow
@pytest.mark.parametrize("model,layers,seed", sorted(ANGLES))
def test_authors_angles(model, layers, seed):
    m = _check(model, layers, seed)
    assert_printed(m["alignment_deg"], ANGLES[(model, layers, seed)])
    if layers == "4-2-1" and (model, seed) in WT_B:
        assert_printed(m["alignment_wt_b_deg"], (WT_B[(model, seed)],))
