"""Fig. 5: activation variability, representation units against error units
(MODEL.md 3.6).

The grid: Fig. 4's genmnist network with n_R = n_E = 1000, per-neuron slopes
1 + N(0, sigma^2) and offsets N(0, sigma^2) (``slope_std = offset_std = sigma``,
drawn after the weights in the authors' order, MODEL.md 3.8 step 3),
sigma in {0.1, 0.3, 0.5, 1.0}, ten seeds, 1000 epochs, in two arms:

* ``rep``: the variability is in the representation units of the hidden and
  output areas; the derivatives used by the phi' transfer and the output error
  stay nominal (the published runs);
* ``error``: the same per-neuron sampling applied to the error units'
  activation psi instead, the representation units nominal. This is our
  reading of the intended experiment: the authors' two configurations are
  identical and their code never perturbs error units, so both of their arms
  give the same numbers (MODEL.md 3.6, [AMBIGUITY]).

sigma = 0 (no variability, the same runs for both arms; Fig. 4's 1000/1000
cell) is part of the grid. The summary writes ``fig5.csv`` (arm, sigma, seed,
test_mse, ...), ``fig5.png`` (boxplots over seeds of the test MSE per sigma,
the two arms side by side, log axis) and ``fig5.md`` (median and quartiles).

``--protocol clean`` departs from ``reference`` as in Fig. 4: validation
without plasticity, and the per-step error is the mean over output pixels.

``--quick``: n_R = n_E = 50, sigma in {0, 0.1, 0.5, 1.0}, two seeds, 50 epochs.
Full scale is meant for the compiled backend (``backend="jax"``).
"""


import matplotlib.pyplot as plt
import numpy as np

from errormc.benchmarks.tasks.genmnist import MNIST_PIXELS

from .common import figure_report, markdown_table, over_seeds, run_row, save_figure, seed_list

SIGMAS = [0.0, 0.1, 0.3, 0.5, 1.0]
ARMS = ["rep", "error"]
SEEDS = [56789, 12345, 23456, 34567, 76543, 111, 222, 333, 444, 555]
UNITS = 1000
EPOCHS = 1000
QUICK_UNITS = 50
QUICK_SIGMAS = [0.0, 0.1, 0.5, 1.0]
QUICK_SEEDS = 2
QUICK_EPOCHS = 50
COLUMNS = ["arm", "sigma", "seed", "test_mse", "test_mse_initial", "wall_s"]


def grid(quick=False, seeds=None, protocol="reference", epochs=None, sigmas=None,
            units=None, backend=None, data=None):
    """The grid: one run config (dict) per (arm, sigma, seed); sigma = 0 once (no arm)."""

    sigmas = sigmas if sigmas is not None else (QUICK_SIGMAS if quick else SIGMAS)
    units = units or (QUICK_UNITS if quick else UNITS)
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    n_pix = 64 if data is None else MNIST_PIXELS
    out = []
    for sigma in sigmas:
        for arm in (ARMS if sigma > 0 else ARMS[:1]):
            for seed in seed_list(seeds, QUICK_SEEDS, quick, SEEDS):
                out.append(dict(
                    task="genmnist", layers=f"10-{units}-{n_pix}", errors=f"{units}-{n_pix}",
                    seed=seed, epochs=epochs, protocol=protocol, backend=backend, data=data,
                    slope_std=float(sigma), offset_std=float(sigma), variability_on=arm,
                ))
    return out


def rows_from_runs(runs):
    """One row per run; the sigma = 0 runs belong to both arms."""
    rows = []
    for config, metrics in runs:
        sigma = float(config["slope_std"])
        arms = [config["variability_on"]] if sigma > 0 else ARMS
        for arm in arms:
            rows.append(run_row(config, metrics, arm=arm, sigma=sigma))
    return rows


def summary(rows):
    """{(arm, sigma): (median, q25, q75, count)} of the test MSE over seeds."""
    return over_seeds(rows, ("arm", "sigma"), lambda v: (
        float(np.median(v)), float(np.percentile(v, 25)), float(np.percentile(v, 75)), len(v)))


def format_table(rows):
    stats = summary(rows)
    sigmas = sorted({k[1] for k in stats})

    def cell(m):
        return "" if m is None else f"{m[0]:.4g} [{m[1]:.3g}, {m[2]:.3g}]"

    return markdown_table("arm", [f"sigma {s:g}" for s in sigmas],
                          [(f"{arm} units vary", [cell(stats.get((arm, s))) for s in sigmas])
                           for arm in ARMS])


def plot(rows, path, heading):
    sigmas = sorted({r["sigma"] for r in rows})
    fig, ax = plt.subplots(figsize=(1.5 * len(sigmas) + 2, 4))
    width = 0.35
    colors = {"rep": "C0", "error": "C3"}
    for k, arm in enumerate(ARMS):
        data, positions = [], []
        for i, s in enumerate(sigmas):
            values = [r["test_mse"] for r in rows if r["arm"] == arm and r["sigma"] == s]
            if values:
                data.append(values)
                positions.append(i + (k - 0.5) * width)
        if not data:
            continue
        box = ax.boxplot(data, positions=positions, widths=0.8 * width, patch_artist=True)
        for patch in box["boxes"]:
            patch.set_facecolor(colors[arm])
            patch.set_alpha(0.5)
        ax.plot([], [], "s", color=colors[arm], alpha=0.5, label=f"{arm} units vary")
    ax.set_xticks(range(len(sigmas)), [f"{s:g}" for s in sigmas])
    ax.set_yscale("log")
    ax.set_xlabel("sigma of per-neuron slope and offset")
    ax.set_ylabel("test MSE")
    ax.legend(fontsize=8)
    ax.set_title(heading, fontsize=9)
    return save_figure(fig, path)


report = figure_report("fig5", rows_from_runs, COLUMNS, plot, format_table, name="Fig. 5",
                       caption="Test MSE (median [25%, 75%] over seeds)\n\n")
