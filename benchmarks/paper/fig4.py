"""Fig. 4: population sizes, the error microcircuit generating digits (MODEL.md 3.5).

The grid: errormc ``10-n_R-n_pix`` with error populations ``n_E-n_pix`` on the
genmnist task, n_R, n_E in {50, 100, 500, 1000}, ten seeds (the paper's list),
1000 epochs; layered forward and backward weights, BP with sigma_WT 0.5,
logistic units, eta (1.0, 0.1), W ~ U(+-0.1), P, Q = I + U(+-0.03), T_settle
100 steps (the task's defaults, `errormc.runs.config.TASK_DEFAULTS`).
Every cell is one run config (a dict) run through the sweep machinery
(``errormc paper``, `errormc.runs.paper.run_figure`); the summary writes

* ``fig4.csv``: n_R, n_E, seed, test_mse (mean over all 200 test steps),
  test_mse_initial (the untrained control), wall_s;
* ``fig4.png``: the heat map of the mean test MSE over seeds, x axis n_R and
  y axis n_E, each cell annotated with mean and std (the authors' plot fills
  rows with n_R but labels them n_E; ours puts each value where its labels say);
* ``fig4.md``: the table of mean +- std per (n_R, n_E).

Targets: the first image of each digit of scikit-learn's 8x8 digits (64 pixels)
by default, or with ``data=mnist.npz`` the paper's 784-pixel MNIST digits.

``--protocol clean`` departs from ``reference`` where the generic protocol does:
validation passes run without plasticity, and a step's error is the mean over
output pixels instead of the squared norm (so clean values are the reference
ones divided by n_pix, up to the validation plasticity). genmnist has no
shuffles, so the reference's shuffle quirks do not arise.

``--quick``: n_R, n_E in {50, 100}, two seeds, 50 epochs (minutes on 2 cores).
Full scale (16 x 10 runs of 1000 epochs with up to 1000 x 1000 lateral
matrices) is meant for the compiled backend (``backend="jax"``).
"""


import matplotlib.pyplot as plt
import numpy as np

from errormc.benchmarks.tasks.genmnist import MNIST_PIXELS

from .common import figure_report, markdown_table, over_seeds, run_row, save_figure, seed_list

SIZES = [50, 100, 500, 1000]
SEEDS = [56789, 12345, 23456, 34567, 76543, 111, 222, 333, 444, 555]
EPOCHS = 1000
QUICK_SIZES = [50, 100]
QUICK_SEEDS = 2
QUICK_EPOCHS = 50
COLUMNS = ["n_R", "n_E", "seed", "test_mse", "test_mse_initial", "wall_s"]


def grid(quick=False, seeds=None, protocol="reference", epochs=None, sizes=None,
            backend=None, data=None):
    """The grid: one run config (dict) per (n_R, n_E, seed), run index
    10 (4 i_R + i_E) + seed index as in the paper."""

    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    n_pix = 64 if data is None else MNIST_PIXELS
    out = []
    for n_R in sizes:
        for n_E in sizes:
            for seed in seed_list(seeds, QUICK_SEEDS, quick, SEEDS):
                out.append(dict(
                    task="genmnist", layers=f"10-{n_R}-{n_pix}", errors=f"{n_E}-{n_pix}",
                    seed=seed, epochs=epochs, protocol=protocol, backend=backend, data=data,
                ))
    return out


def rows_from_runs(runs):
    rows = []
    for config, metrics in runs:
        n_R = int(config["layers"].split("-")[1])
        n_E = int(config["errors"].split("-")[0])
        rows.append(run_row(config, metrics, n_R=n_R, n_E=n_E))
    return rows


def summary(rows):
    """{(n_R, n_E): (mean, std, count)} of the test MSE over seeds."""
    return over_seeds(rows, ("n_R", "n_E"), lambda v: (float(np.mean(v)), float(np.std(v)), len(v)))


def heat_map(rows):
    """``(n_Rs, n_Es, mean, std)``: the image of the figure, row i = n_Es[i]
    (y axis), column j = n_Rs[j] (x axis)."""
    stats = summary(rows)
    n_Rs = sorted({k[0] for k in stats})
    n_Es = sorted({k[1] for k in stats})
    mean = np.full((len(n_Es), len(n_Rs)), np.nan)
    std = np.full_like(mean, np.nan)
    for (n_R, n_E), (m, s, _) in stats.items():
        mean[n_Es.index(n_E), n_Rs.index(n_R)] = m
        std[n_Es.index(n_E), n_Rs.index(n_R)] = s
    return n_Rs, n_Es, mean, std


def format_table(rows):
    stats = summary(rows)
    n_Rs = sorted({k[0] for k in stats})
    n_Es = sorted({k[1] for k in stats})

    def cell(m):
        return "" if m is None else f"{m[0]:.4g} +- {m[1]:.2g}"

    return markdown_table("n_E \\ n_R", [str(n) for n in n_Rs],
                          [(n_E, [cell(stats.get((n_R, n_E))) for n_R in n_Rs]) for n_E in n_Es])


def plot(rows, path, heading):
    n_Rs, n_Es, mean, std = heat_map(rows)
    fig, ax = plt.subplots(figsize=(1.6 * len(n_Rs) + 2.5, 1.3 * len(n_Es) + 1.8))
    image = ax.imshow(mean, origin="lower", cmap="viridis")
    middle = np.nanmean([np.nanmin(mean), np.nanmax(mean)])
    for i in range(len(n_Es)):
        for j in range(len(n_Rs)):
            if np.isfinite(mean[i, j]):
                ax.text(j, i, f"{mean[i, j]:.3g}\n+-{std[i, j]:.2g}", ha="center", va="center",
                        color="k" if mean[i, j] > middle else "w", fontsize=8)
    ax.set_xticks(range(len(n_Rs)), [str(n) for n in n_Rs])
    ax.set_yticks(range(len(n_Es)), [str(n) for n in n_Es])
    ax.set_xlabel("representation units n_R")
    ax.set_ylabel("error units n_E")
    fig.colorbar(image, ax=ax, label="test MSE (mean over seeds)")
    ax.set_title(heading, fontsize=9)
    return save_figure(fig, path)


report = figure_report(
    "fig4", rows_from_runs, COLUMNS, plot, format_table, name="Fig. 4",
    caption="Test MSE (mean +- std over seeds; rows n_E, columns n_R)\n\n",
)
