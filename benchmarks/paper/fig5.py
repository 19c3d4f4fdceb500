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
status, test_mse, ...), ``fig5.png`` (boxplots over seeds of the test MSE per
sigma, the two arms side by side, log axis) and ``fig5.md`` (median and
quartiles).

Runs that diverge are part of the result: the divergence guard stops them
(`errormc.runs.runner.Diverged`), the sweep records the step, and each cell
shows "k/n diverged" beside the boxes of the runs that finished. At full
scale every error-arm run with sigma > 0 diverged (``docs/results/fig5/``).
The cause is the offsets: an error unit with offset o emits psi(0) = -s o at
zero input, a standing error that keeps the forward weights moving, while
slopes alone keep zero error a fixed point (``tests/test_variability.py``;
the measurements at 50 units are in ``docs/results/fig5/README.md``).

``--protocol clean`` departs from ``reference`` as in Fig. 4: validation
without plasticity, and the per-step error is the mean over output pixels.

``--quick``: n_R = n_E = 50, sigma in {0, 0.1, 0.5, 1.0}, two seeds, 50 epochs.
Full scale is meant for the compiled backend (``backend="jax"``).
"""


from collections import Counter

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
COLUMNS = ["arm", "sigma", "seed", "status", "test_mse", "test_mse_initial", "diverged_step",
           "wall_s"]


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
    """One row per finished run; the sigma = 0 runs belong to both arms."""
    rows = []
    for config, metrics in runs:
        for arm, sigma in _cells(config):
            rows.append(run_row(config, metrics, arm=arm, sigma=sigma, status="done"))
    return rows


def rows_from_failed(failed):
    """One row per run that diverged (status ``diverged``, the step at which the
    guard stopped it) or failed otherwise (status ``failed``); no test MSE."""
    rows = []
    for config, record in failed:
        status = "diverged" if record.get("kind") == "diverged" else "failed"
        for arm, sigma in _cells(config):
            rows.append(dict(arm=arm, sigma=sigma, seed=int(config["seed"]), status=status,
                             diverged_step=record.get("step")))
    return rows


def _cells(config):
    sigma = float(config["slope_std"])
    return [(arm, sigma) for arm in ([config["variability_on"]] if sigma > 0 else ARMS)]


def summary(rows):
    """{(arm, sigma): (median, q25, q75, finished, diverged)}: the test MSE over
    the seeds that finished (None where none did) and how many runs diverged."""
    values = _finished(rows)
    diverged = Counter((r["arm"], r["sigma"]) for r in rows if r["status"] == "diverged")
    out = {}
    for key in sorted(set(values) | set(diverged)):
        v = values.get(key, [])
        stats = ((float(np.median(v)), float(np.percentile(v, 25)), float(np.percentile(v, 75)))
                 if v else (None, None, None))
        out[key] = stats + (len(v), diverged[key])
    return out


def _finished(rows):
    """{(arm, sigma): test MSEs of the runs that finished}."""
    return over_seeds([r for r in rows if r["status"] == "done"], ("arm", "sigma"), list)


def format_table(rows):
    stats = summary(rows)
    sigmas = sorted({k[1] for k in stats})

    def cell(m):
        if m is None:
            return ""
        median, q25, q75, finished, diverged = m
        parts = [] if median is None else [f"{median:.4g} [{q25:.3g}, {q75:.3g}]"]
        if diverged:
            parts.append(f"{diverged}/{finished + diverged} diverged")
        return "; ".join(parts)

    return markdown_table("arm", [f"sigma {s:g}" for s in sigmas],
                          [(f"{arm} units vary", [cell(stats.get((arm, s))) for s in sigmas])
                           for arm in ARMS])


def plot(rows, path, heading):
    """Boxes of the finished runs' test MSE per arm and sigma; above a box, how
    many runs of that cell diverged (a diverged run has no test MSE)."""
    stats = summary(rows)
    sigmas = sorted({r["sigma"] for r in rows})
    fig, ax = plt.subplots(figsize=(1.5 * len(sigmas) + 2, 4))
    width = 0.35
    colors = {"rep": "C0", "error": "C3"}
    marks = []
    finished = _finished(rows)
    for k, arm in enumerate(ARMS):
        data, positions = [], []
        for i, s in enumerate(sigmas):
            x = i + (k - 0.5) * width
            if (arm, s) in finished:
                data.append(finished[(arm, s)])
                positions.append(x)
            cell = stats.get((arm, s))
            if cell is not None and cell[4]:
                marks.append((x, f"{cell[4]}/{cell[3] + cell[4]}\ndiverged", colors[arm]))
        if data:
            box = ax.boxplot(data, positions=positions, widths=0.8 * width, patch_artist=True)
            for patch in box["boxes"]:
                patch.set_facecolor(colors[arm])
                patch.set_alpha(0.5)
        ax.plot([], [], "s", color=colors[arm], alpha=0.5, label=f"{arm} units vary")
    ax.set_xticks(range(len(sigmas)), [f"{s:g}" for s in sigmas])
    ax.set_xlim(-0.6, len(sigmas) - 0.4)
    ax.set_yscale("log")
    for x, text, color in marks:
        # in axes coordinates: the count sits at the top whatever the MSE range
        ax.annotate(text, (x, 0.97), xycoords=("data", "axes fraction"), ha="center",
                    va="top", fontsize=7, color=color)
    ax.set_xlabel("sigma of per-neuron slope and offset")
    ax.set_ylabel("test MSE")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(heading, fontsize=9)
    return save_figure(fig, path)


report = figure_report(
    "fig5", rows_from_runs, COLUMNS, plot, format_table, name="Fig. 5",
    caption=("Test MSE (median [25%, 75%] over the seeds that finished); \"k/n diverged\": k of "
             "the cell's n runs stopped by the divergence guard (a voltage or weight beyond "
             "its bound; the step is in fig5.csv) and have no test MSE\n\n"),
    rows_from_failed=rows_from_failed)
