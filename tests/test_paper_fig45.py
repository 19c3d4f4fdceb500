"""``errormc paper fig4`` and ``fig5``: grids, files, the heat map's orientation."""

import csv
import os

import numpy as np
import pytest

from errormc.benchmarks.paper import fig4, fig5
from errormc.cli import main
from errormc.runs.paper import run_figure
from errormc.runs.runner import Diverged
from errormc.runs.sweep import _failed, config_hash, resolve


def configs(module, **options):
    """A figure's grid as resolved run configs."""
    return resolve(module.grid(**options))


def test_fig4_grid_is_the_papers():
    grid = configs(fig4)
    assert len(grid) == 16 * 10
    assert {c.epochs for c in grid} == {1000} and {c.task for c in grid} == {"genmnist"}
    cells = {(c.layers, c.errors) for c in grid}
    assert ("10-50-64", "1000-64") in cells and ("10-1000-64", "50-64") in cells
    # run index 10 (4 i_R + i_E) + seed index
    assert (grid[10 * (4 * 1 + 2) + 3].layers, grid[10 * (4 * 1 + 2) + 3].errors,
            grid[10 * (4 * 1 + 2) + 3].seed) == ("10-100-64", "500-64", 34567)
    c = grid[0]
    assert (c.connectivity, c.activation, c.eta, c.weight_range, c.lateral_noise,
            c.settle_steps, c.wt_noise) == ("layered", "logistic", "1.0,0.1", 0.1, 0.03, 100, 0.5)
    assert {c.layers.split("-")[-1] for c in configs(fig4, data=__file__)} == {"784"}


def test_heat_map_axes():
    rows = [dict(n_R=50, n_E=100, seed=0, test_mse=1.0), dict(n_R=100, n_E=50, seed=0, test_mse=2.0),
            dict(n_R=50, n_E=50, seed=0, test_mse=3.0), dict(n_R=100, n_E=100, seed=0, test_mse=4.0),
            dict(n_R=100, n_E=100, seed=1, test_mse=6.0)]
    n_Rs, n_Es, mean, std = fig4.heat_map(rows)
    assert n_Rs == [50, 100] and n_Es == [50, 100]
    # rows of the image are n_E (y axis), columns n_R (x axis)
    assert mean[n_Es.index(100), n_Rs.index(50)] == 1.0
    assert mean[n_Es.index(50), n_Rs.index(100)] == 2.0
    assert mean[1, 1] == 5.0 and std[1, 1] == 1.0
    table = fig4.format_table(rows).splitlines()
    assert table[0].startswith("| n_E \\ n_R | 50 | 100 |")
    assert table[3].startswith("| 100 | 1 +- 0 | 5 +- 1 |")


def test_fig4_report(tmp_path):
    runs = [(dict(c.to_dict(), run=str(i)), {"test_mse_final": float(i), "test_mse_initial": 9.0})
            for i, c in enumerate(configs(fig4, seeds=1, sizes=[5, 8]))]
    text = fig4.report(runs, str(tmp_path), heading="Fig. 4 test")
    with open(os.path.join(tmp_path, "fig4.csv")) as f:
        rows = [(r["n_R"], r["n_E"], r["test_mse"]) for r in csv.DictReader(f)]
    assert rows == [("5", "5", "0.0"), ("5", "8", "1.0"), ("8", "5", "2.0"), ("8", "8", "3.0")]
    assert "| 8 | 1 +- 0 | 3 +- 0 |" in text  # row n_E = 8: n_R = 5, then 8
    assert os.path.getsize(os.path.join(tmp_path, "fig4.png")) > 1000


@pytest.mark.slow
def test_tiny_fig4_run(tmp_path):
    out4 = str(tmp_path / "fig4")
    text = run_figure("fig4", out4, epochs=1, seeds=1, sizes=[5], workers=1, progress=False)
    assert "full scale: 1 epochs, 1 seeds" in text
    with open(os.path.join(out4, "fig4.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [(r["n_R"], r["n_E"], r["seed"]) for r in rows] == [("5", "5", "56789")]
    assert np.isfinite(float(rows[0]["test_mse"]))
    assert os.path.getsize(os.path.join(out4, "fig4.png")) > 1000
    assert "| 5 |" in open(os.path.join(out4, "fig4.md")).read()


def test_fig5_grid_and_report(tmp_path):
    grid = configs(fig5)
    assert len(grid) == (1 + 2 * 4) * 10
    assert {(c.layers, c.errors) for c in grid} == {("10-1000-64", "1000-64")}
    arms = {(c.variability_on, c.slope_std) for c in grid}
    assert arms == {("rep", 0.0)} | {(a, s) for a in ("rep", "error") for s in (0.1, 0.3, 0.5, 1.0)}
    assert all(c.slope_std == c.offset_std for c in grid)
    # the summary: sigma 0 serves both arms; boxes per arm and sigma
    runs = [(dict(c.to_dict(), run=str(i)), {"test_mse_final": 1.0 + i, "test_mse_initial": 9.0})
            for i, c in enumerate(configs(fig5, seeds=2, sigmas=[0.0, 0.5], units=5))]
    out = str(tmp_path)
    text = fig5.report(runs, out)
    with open(os.path.join(out, "fig5.csv")) as f:
        rows = list(csv.DictReader(f))
    cells = {}
    for r in rows:
        cells.setdefault((r["arm"], float(r["sigma"])), []).append(float(r["test_mse"]))
    assert cells == {("rep", 0.0): [1.0, 2.0], ("error", 0.0): [1.0, 2.0],
                     ("rep", 0.5): [3.0, 4.0], ("error", 0.5): [5.0, 6.0]}
    assert "| error units vary | 1.5 [1.25, 1.75] | 5.5 [5.25, 5.75] |" in text
    assert os.path.getsize(os.path.join(out, "fig5.png")) > 1000


def test_fig5_shows_its_diverged_runs(tmp_path):
    """A run the guard stopped is a result of its sigma: it is counted in its
    cell and listed with its step, not dropped."""
    grid = configs(fig5, seeds=3, sigmas=[0.0, 0.5], units=5)
    finished = [c for c in grid if not (c.variability_on == "error" and c.slope_std > 0)]
    diverged = [c for c in grid if c.variability_on == "error" and c.slope_std > 0]
    runs = [(dict(c.to_dict(), run=str(i)), {"test_mse_final": 1.0 + i, "test_mse_initial": 9.0})
            for i, c in enumerate(finished)]
    failed = [(dict(diverged[0].to_dict(), run="a"), {"error": "e", "kind": "diverged", "step": 700}),
              (dict(diverged[1].to_dict(), run="b"), {"error": "e", "kind": "diverged", "step": 900}),
              (dict(diverged[2].to_dict(), run="c"), {"error": "OSError: disk full"})]
    out = str(tmp_path)
    text = fig5.report(runs, out, "h", failed=failed)
    with open(os.path.join(out, "fig5.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["arm"] == "error" and r["sigma"] == "0.5"]
    assert sorted((r["status"], r["diverged_step"], r["test_mse"]) for r in rows) == [
        ("diverged", "700", ""), ("diverged", "900", ""), ("failed", "", "")]
    # three seeds of the error arm at sigma 0.5: two diverged, one failed for another reason
    assert "| error units vary | 2 [1.5, 2.5] | 2/2 diverged |" in text
    assert "| rep units vary | 2 [1.5, 2.5] | 5 [4.5, 5.5] |" in text


def test_a_divergence_recorded_in_an_earlier_sitting_stays_in_the_figure(tmp_path):
    """``errormc paper fig5`` run again: the recorded diverged run is not rerun,
    and the figure it writes still counts it."""
    options = dict(epochs=1, seeds=1, sigmas=[0.0, 0.5], units=5)
    grid = configs(fig5, **options)
    error_arm = next(c for c in grid if c.variability_on == "error" and c.slope_std > 0)
    out = str(tmp_path)
    _failed(error_arm, out, Diverged("the run diverged at step 123: u2 of area 2 has |value| > 1000",
                                     123), "", 1.0)
    text = run_figure("fig5", out, workers=1, progress=False, **options)
    assert "2 of 3 runs, 1 failed" in text
    assert "| error units vary | " in text and "| 1/1 diverged |" in text
    assert not os.path.exists(os.path.join(out, "runs", config_hash(error_arm)))
    with open(os.path.join(out, "fig5.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "diverged"]
    assert [(r["arm"], r["sigma"], r["diverged_step"]) for r in rows] == [("error", "0.5", "123")]


def test_new_flags_reject_bad_values(capsys):
    for argv, field in (
        (["--slope-std", "-1"], "slope_std"),
        (["--offset-std", "nan"], "offset_std"),
        (["--variability-on", "both"], "variability_on"),
        (["--compare", "fa"], "compare"),
        (["--snapshot-every", "0"], "snapshot_every"),
        (["--weight-range", "-0.5"], "weight_range"),
        (["--data", "/no/such/mnist.npz"], "data"),
    ):
        assert main(["run", "genmnist", "--quiet"] + argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"error: {field}:" in err, err
