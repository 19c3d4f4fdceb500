"""``errormc paper fig3``: the depth comparison's grid, CSV, figure and table."""

import os

import numpy as np
import pytest

from errormc.benchmarks.paper import fig3
from errormc.runs.paper import run_figure
from errormc.runs.sweep import resolve


def configs(module, **options):
    """A figure's grid as resolved run configs."""
    return resolve(module.grid(**options))


def _check_outputs(out, layers, models, seeds):
    rows = fig3.read_csv(os.path.join(out, "fig3.csv"))
    assert os.path.getsize(os.path.join(out, "fig3.png")) > 1000
    cells = {(r["model"], r["layers"], r["trained"]) for r in rows}
    for model in models:
        for layer in layers:
            for trained in (True, False):
                assert (model, layer, trained) in cells
    assert len(rows) == 2 * len(layers) * len(models) * seeds
    for r in rows:
        assert r["depth"] == len(r["layers"].split("-")) - 1
        assert np.isfinite(r["test_mse"]) and r["test_mse"] >= 0
        angles = [r[f"angle_{l}"] for l in range(1, r["depth"] + 1)]
        if r["trained"] and r["model"] != "ann":
            assert all(a is not None and 0 <= a <= 180 for a in angles)
        else:
            assert all(a is None for a in angles)
    return rows


def test_grid_uses_the_paper_values():
    grid = configs(fig3)
    assert len(grid) == 5 * 4 * 10
    assert {c.epochs for c in grid} == {1000}
    assert {c.protocol for c in grid} == {"reference"}
    eta = {(c.model, c.layers): c.eta for c in grid}
    assert eta[("errormc", "16-8-4-2-1")] == "2.0,0.5,0.125,0.03125"
    assert eta[("sacramento2018", "8-4-2-1")] == "0.1,0.02,0.002"
    quick = configs(fig3, quick=True)
    assert len({c.seed for c in quick}) == fig3.QUICK_SEEDS
    assert {c.epochs for c in quick} == {fig3.QUICK_EPOCHS}
    assert {c.protocol for c in configs(fig3, protocol="clean")} == {"clean"}


def test_tiny_fig3_run_writes_csv_png_table(tmp_path):
    out = str(tmp_path / "fig3")
    layers, models = ["2-1"], fig3.MODELS
    text = run_figure("fig3", out, epochs=1, seeds=1, layers=layers, workers=2, progress=False)
    rows = _check_outputs(out, layers, models, 1)
    for model in models:
        assert f"| {model} |" in text and f"| {model} (untrained) |" in text
    assert os.path.isfile(os.path.join(out, "fig3.md"))
    # the 2-1 networks learn within one epoch
    by = {(r["model"], r["layers"], r["trained"]): r["test_mse"] for r in rows}
    for model in models:
        assert by[(model, "2-1", True)] < by[(model, "2-1", False)]


@pytest.mark.slow
def test_quick_fig3(tmp_path):
    """The quick run: every cell present, and errormc at 8-4-2-1 ends at least
    10x below its untrained control (mean over seeds)."""
    out = str(tmp_path / "fig3")
    run_figure("fig3", out, quick=True, progress=False)
    rows = _check_outputs(out, fig3.LAYERS, fig3.MODELS, fig3.QUICK_SEEDS)
    mse = {
        trained: np.mean([r["test_mse"] for r in rows if r["model"] == "errormc"
                          and r["layers"] == "8-4-2-1" and r["trained"] == trained])
        for trained in (True, False)
    }
    assert mse[True] * 10 <= mse[False]
