"""Fig. 2b: delayed match-to-sample, validation error per epoch over seeds
(MODEL.md 3.4; the task and its protocols: `errormc.benchmarks.tasks.dms`).

The grid is one DMS run per network seed (`run_cell`); the summary draws
boxplots over seeds of the validation MSE before each epoch and of the test MSE.
The authors draw their ten network seeds as ``i + randint(12345)`` from numpy's
unseeded global generator, so their seeds cannot be repeated; the figure uses
seeds 0..N-1 (any seed reproduces the authors' script given that seed as the
network seed, e.g. ``errormc run dms --seed 2``). ``--protocol clean`` departs as
described in the task module (its own backward noise, a full reset).

Writes ``fig2b.csv`` (seed, epoch, val_mse; epoch ``test`` for the test),
``fig2b.png`` and ``fig2b.md`` (median and quartiles per epoch).
"""

import csv
import os
import textwrap
import time

import numpy as np

from errormc.benchmarks.config import RunConfig
from errormc.benchmarks.tasks import dms

EPOCHS, SEEDS = 10, 10
QUICK_EPOCHS, QUICK_SEEDS = 3, 2
COLUMNS = ["seed", "epoch", "mse"]


def configs(quick=False, seeds=None, protocol="reference", epochs=None):
    n = seeds if seeds is not None else (QUICK_SEEDS if quick else SEEDS)
    if int(n) != n or n < 1:
        raise ValueError(f"seeds: need a positive number of seeds, got {n!r}")
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    return [RunConfig(task="dms", seed=s, epochs=epochs, protocol=protocol)
            for s in range(int(n))]


def run_cell(config):
    """One seed: CSV rows (validation before each epoch, then the test)."""
    metrics, _ = dms.run(config)
    rows = [dict(seed=config.seed, epoch=e, mse=v)
            for e, v in enumerate(metrics["val_mse_per_epoch"])]
    rows.append(dict(seed=config.seed, epoch="test", mse=metrics["test_mse"]))
    return rows


def _run_all(grid, workers, progress):
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(grid), desc="fig2b seeds", unit="run", disable=not progress)
    rows = []
    if workers == 1:
        for config in grid:
            rows += run_cell(config)
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for cell in pool.map(run_cell, grid):
                rows += cell
                bar.update(1)
    bar.close()
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
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

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
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_csv(rows, path):
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


def run(out, quick=False, seeds=None, protocol="reference", workers=None, progress=True,
        epochs=None):
    """Run the DMS grid and write ``fig2b.csv``, ``fig2b.png``, ``fig2b.md``."""
    if out is None:
        raise ValueError("out: fig2b needs an output directory (--out DIR)")
    os.makedirs(out, exist_ok=True)
    grid = configs(quick, seeds, protocol, epochs)
    t0 = time.perf_counter()
    rows = _run_all(grid, workers, progress)
    wall = time.perf_counter() - t0
    header = (f"Fig. 2b ({'quick' if quick else 'full'}: {grid[0].epochs} epochs, "
              f"{len(grid)} seeds, protocol {protocol}): DMS validation MSE before each "
              f"epoch and test MSE over seeds; {wall:.0f} s")
    write_csv(rows, os.path.join(out, "fig2b.csv"))
    plot(rows, os.path.join(out, "fig2b.png"), header)
    text = header + "\n\n" + format_table(rows) + "\n"
    with open(os.path.join(out, "fig2b.md"), "w") as f:
        f.write(text)
    return text
