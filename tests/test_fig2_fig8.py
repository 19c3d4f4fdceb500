"""Figures 2a, 2b and 8: the phi' estimate against the analytic derivative, the
high-pass recursion, and the summaries against hand counts."""

import os

import numpy as np
import pytest

from errormc.benchmarks.paper import fig2a, fig2b, fig8
from errormc.networks import activations
from errormc.networks.errors import ConfigError
from errormc.runs.config import RunConfig
from errormc.runs.paper import run_figure


def test_high_pass_is_the_notebooks_recursion():
    rng = np.random.default_rng(1)
    r = rng.normal(size=300)
    from scipy.signal import lfilter

    y = lfilter([1.0, -1.0], [1.0, -0.9], r)
    ref = np.empty_like(r)
    ref[0] = r[0]
    for k in range(len(r) - 1):
        ref[k + 1] = ref[k] + (r[k + 1] - r[k]) - 0.1 * ref[k]
    assert np.allclose(y, ref, atol=1e-12)


@pytest.mark.parametrize("activation", fig8.ACTIVATIONS)
def test_estimate_tracks_the_analytic_derivative(activation):
    u, est, true = fig8.estimate_derivative(activation, 0.1)
    assert np.allclose(true, activations.dphi(activation)(np.linspace(-5, 5, 50)))
    assert np.isclose(est.max(), true.max())
    assert np.corrcoef(est, true)[0, 1] > 0.97
    # where phi' vanishes (saturation, relu below 0) the fluctuations vanish too
    flat = true < 1e-3
    assert np.all(est[flat] < 0.2 * true.max())


def test_fig8_writes_its_outputs(tmp_path):
    text = fig8.run(str(tmp_path), quick=True)
    for name in ("fig8.csv", "fig8.png", "fig8.md"):
        assert os.path.getsize(tmp_path / name) > 0
    assert "quick" in text and "| tanh |" in text
    with pytest.raises(ConfigError, match="seeds"):
        fig8.run(str(tmp_path), seeds=0)


def test_fig2b_summary_is_median_and_quartiles():
    rows = [dict(seed=s, epoch=e, mse=float(v)) for s, vals in enumerate([[4, 1], [2, 3], [0, 5]])
            for e, v in enumerate(vals)]
    rows += [dict(seed=s, epoch="test", mse=float(v)) for s, v in enumerate([1, 2, 9])]
    s = fig2b.summary(rows)
    assert list(s) == [0, 1, "test"]
    assert s[0] == (1.0, 2.0, 3.0) and s[1][1] == 3.0 and s["test"][1] == 2.0
    assert "| test | 2 |" in fig2b.format_table(rows)


def test_fig2a_summary_keeps_the_teacher_apart(tmp_path):
    rows = [dict(variant="ideal", seed=s, evaluation=e, failures=f)
            for s, fails in ((1, [100, 3]), (2, [50, 0]), (3, [10, 1])) for e, f in enumerate(fails)]
    rows.append(dict(variant="ideal", seed="teacher", evaluation="", failures=8))
    s = fig2a.summary(rows)["ideal"]
    assert s["teacher"] == 8 and s[0][1] == 50 and s[1][1] == 1
    fig2a.plot(rows, str(tmp_path / "a.png"), "t")
    assert os.path.getsize(tmp_path / "a.png") > 0


def test_figure_grids_reject_bad_seed_counts():
    with pytest.raises(ConfigError, match="seeds"):
        fig2a.grid(seeds=0)
    with pytest.raises(ConfigError, match="seeds"):
        fig2b.grid(seeds=-1)
    grid = fig2a.grid(quick=True)
    assert {c["variant"] for c in grid} == {"ideal", "tanh"}
    assert all(c["task_seed"] == fig2a.SEEDS[0] for c in grid)
    # every point is a valid run config
    for point in grid + fig2b.grid(quick=True):
        RunConfig.from_dict(point)


def test_fig2_reports_from_finished_runs(tmp_path):
    """The reports read runs as the sweep collects them (config dict, metrics)."""
    runs = [(dict(task="dms", seed=s), dict(val_mse_per_epoch=[2.0, v], test_mse=v))
            for s, v in ((0, 0.5), (1, 0.1))]
    text = fig2b.report(runs, str(tmp_path), "h")
    assert "| test | 0.3 |" in text
    runs = [(dict(task="cartpole", variant="ideal", seed=s, task_seed=1),
             dict(failures_per_evaluation=f, teacher_failures=8)) for s, f in ((1, [9, 1]), (2, [7, 3]))]
    fig2a.report(runs, str(tmp_path), "h")
    rows = list(open(tmp_path / "fig2a.csv"))
    assert sum("teacher" in r for r in rows) == 1  # one teacher serves both students
    for name in ("fig2a", "fig2b"):
        for ext in ("csv", "png", "md"):
            assert os.path.getsize(tmp_path / f"{name}.{ext}") > 0


def test_fig8_is_a_standalone_figure(tmp_path):
    text = run_figure("fig8", str(tmp_path), quick=True)
    assert "| tanh |" in text and os.path.getsize(tmp_path / "fig8.png") > 0
    with pytest.raises(ConfigError, match="backend"):
        run_figure("fig8", str(tmp_path), quick=True, backend="nengo")
