"""Fig. 2b: delayed match-to-sample, validation error per epoch over seeds
(MODEL.md 3.4; the task and its protocols: `errormc.benchmarks.tasks.dms`).

The grid is one DMS run per network seed (`grid`, run through the sweep by
``errormc paper fig2b``); the report draws boxplots over seeds of the validation
MSE before each epoch and of the test MSE.
The authors draw their ten network seeds as ``i + randint(12345)`` from numpy's
unseeded global generator, so their seeds cannot be repeated; the figure uses
seeds 0..N-1 (any seed reproduces the authors' script given that seed as the
network seed, e.g. ``errormc run dms --seed 2``). ``--protocol clean`` departs as
described in the task module (its own backward noise, a full reset).

Writes ``fig2b.csv`` (seed, epoch, val_mse; epoch ``test`` for the test),
``fig2b.png`` and ``fig2b.md`` (median and quartiles per epoch).
"""

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from errormc.networks.errors import ConfigError

from .common import figure_report, save_figure

EPOCHS, SEEDS = 10, 10
QUICK_EPOCHS, QUICK_SEEDS = 3, 2
COLUMNS = ["seed", "epoch", "mse"]


def grid(quick=False, seeds=None, protocol="reference", epochs=None, backend=None, data=None):
    """One DMS run config (dict) per network seed 0..N-1."""
    if data is not None:
        raise ConfigError(f"data: fig2b reads no data file; leave it out")
    n = seeds if seeds is not None else (QUICK_SEEDS if quick else SEEDS)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"seeds: need an integer >= 1, got {n!r}")
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    return [dict(task="dms", seed=s, epochs=epochs, protocol=protocol, backend=backend)
            for s in range(n)]


def rows_from_runs(runs):
    """CSV rows of finished runs: validation before each epoch, then the test."""
    rows = []
    for config, metrics in sorted(runs, key=lambda r: r[0]["seed"]):
        rows += [dict(seed=config["seed"], epoch=e, mse=v)
                 for e, v in enumerate(metrics["val_mse_per_epoch"])]
        rows.append(dict(seed=config["seed"], epoch="test", mse=metrics["test_mse"]))
    return rows


def summary(rows):
    """{epoch: (q25, median, q75)} over seeds; epoch ``"test"`` last."""
    keys = sorted({r["epoch"] for r in rows if r["epoch"] != "test"}) + ["test"]
    out = {}
    for k in keys:
        v = [r["mse"] for r in rows if r["epoch"] == k]
        if v:
            out[k] = tuple(float(x) for x in np.percentile(v, [25, 50, 75]))
    return out


def format_table(rows):
    lines = ["| before epoch | median MSE | 25% | 75% |", "|---|---|---|---|"]
    for k, (lo, med, hi) in summary(rows).items():
        lines.append(f"| {k} | {med:.4g} | {lo:.4g} | {hi:.4g} |")
    return "\n".join(lines)


def plot(rows, path, title):
    keys = list(summary(rows))
    data = [[r["mse"] for r in rows if r["epoch"] == k] for k in keys]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.boxplot(data)
    ax.set_xticks(range(1, len(keys) + 1), [str(k) for k in keys])
    ax.set_ylim(-0.2, 2.2)  # the paper's axis (MODEL.md 4.1)
    ax.set_xlabel("validation before epoch / test")
    ax.set_ylabel("MSE (last step of each trial)")
    ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


report = figure_report(
    "fig2b", rows_from_runs, COLUMNS, plot, format_table,
    subject=": DMS validation MSE before each epoch and test MSE over seeds",
)
