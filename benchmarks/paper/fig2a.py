"""Fig. 2a: cart-pole balancing by a student that imitated a linear controller
(MODEL.md 3.3; environment, teacher and protocols:
`errormc.benchmarks.tasks.cartpole`).

The grid is one run per variant (``ideal``, ``tanh``) and seed (`run_cell`); one
teacher, from the first seed of the list, serves every student, as in the
paper. The summary draws, per variant, boxplots over seeds of the failures in
each closed-loop evaluation (after every epoch, then the test), with the
teacher's median failures as a reference line, on a log axis (zero failures are
drawn at 0.5, the paper's lower axis limit). The paper's plot zeroes the first
entry; the CSV keeps every count. ``--protocol clean`` departs as described in
the task module (seeded resets, clean validation).

Writes ``fig2a.csv`` (variant, seed, evaluation, failures; seed ``teacher`` for
the teacher), ``fig2a.png`` and ``fig2a.md``.
"""

import csv
import os
import textwrap
import time

import numpy as np

from errormc.benchmarks.config import RunConfig
from errormc.benchmarks.tasks import cartpole

VARIANTS = ("ideal", "tanh")
SEEDS = [56789, 12345, 23456, 34567, 76543, 111, 222, 333, 444, 555]
EPOCHS = 5
QUICK_EPOCHS, QUICK_SEEDS = 2, 1
COLUMNS = ["variant", "seed", "evaluation", "failures"]
_TASKS = {}


def configs(quick=False, seeds=None, protocol="reference", epochs=None, variants=VARIANTS):
    n = seeds if seeds is not None else (QUICK_SEEDS if quick else len(SEEDS))
    if int(n) != n or n < 1:
        raise ValueError(f"seeds: need a positive number of seeds, got {n!r}")
    chosen = SEEDS[:n] + [1000 + i for i in range(max(0, n - len(SEEDS)))]
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    return [RunConfig(task="cartpole", variant=v, seed=s, epochs=epochs, protocol=protocol,
                      task_seed=SEEDS[0]) for v in variants for s in chosen]


def _task(config):
    """One teacher per process and settings (it takes a minute to record)."""
    key = (config.task_seed, config.protocol, config.n_samples, config.steps_per_sample,
           config.g_l, config.g_bas, config.g_api, config.dt)
    if key not in _TASKS:
        _TASKS[key] = cartpole.CartPoleTask(
            config.task_seed, n_samples=config.n_samples,
            steps_per_sample=config.steps_per_sample, g_l=config.g_l, g_bas=config.g_bas,
            g_api=config.g_api, protocol=config.protocol, dt=config.dt)
    return _TASKS[key]


def run_cell(config):
    """One student: CSV rows per evaluation, and the teacher's row."""
    metrics, _ = cartpole.run(config, task=_task(config))
    rows = [dict(variant=config.variant, seed=config.seed, evaluation=i, failures=f)
            for i, f in enumerate(metrics["failures_per_evaluation"])]
    rows.append(dict(variant=config.variant, seed="teacher", evaluation="",
                     failures=metrics["teacher_failures"]))
    return rows


def _run_all(grid, workers, progress):
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(grid), desc="fig2a runs", unit="run", disable=not progress)
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
    # one teacher: keep one row of it per variant
    seen, out = set(), []
    for row in rows:
        key = (row["variant"], row["seed"]) if row["seed"] == "teacher" else None
        if key is None or key not in seen:
            out.append(row)
            seen.add(key)
    return out


def summary(rows):
    """{variant: {"teacher": median, evaluation: (q25, median, q75)}}."""
    out = {}
    for v in VARIANTS:
        sel = [r for r in rows if r["variant"] == v]
        if not sel:
            continue
        by = {"teacher": float(np.median([r["failures"] for r in sel if r["seed"] == "teacher"]))}
        for e in sorted({r["evaluation"] for r in sel if r["seed"] != "teacher"}):
            f = [r["failures"] for r in sel if r["seed"] != "teacher" and r["evaluation"] == e]
            by[e] = tuple(float(x) for x in np.percentile(f, [25, 50, 75]))
        out[v] = by
    return out


def format_table(rows):
    s = summary(rows)
    n = max(len(by) - 1 for by in s.values())
    lines = ["| variant | teacher | " + " | ".join(
        f"eval {e}" if e < n - 1 else f"test ({e})" for e in range(n)) + " |",
        "|---|---|" + "---|" * n]
    for v, by in s.items():
        cells = [f"{by[e][1]:g} [{by[e][0]:g}, {by[e][2]:g}]" if e in by else ""
                 for e in range(n)]
        lines.append(f"| {v} | {by['teacher']:g} | " + " | ".join(cells) + " |")
    return "median failures [25%, 75%] over seeds per closed-loop evaluation\n\n" + \
        "\n".join(lines)


def plot(rows, path, title):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    s = summary(rows)
    fig, axes = plt.subplots(1, len(s), figsize=(5.2 * len(s), 3.8), squeeze=False)
    for ax, (v, by) in zip(axes[0], s.items()):
        evals = sorted(e for e in by if e != "teacher")
        data = [[max(r["failures"], 0.5) for r in rows if r["variant"] == v
                 and r["seed"] != "teacher" and r["evaluation"] == e] for e in evals]
        ax.boxplot(data)
        ax.set_xticks(range(1, len(evals) + 1),
                      [str(e) if e < len(evals) - 1 else "test" for e in evals])
        ax.axhline(max(by["teacher"], 0.5), color="C3", ls="--", label="teacher (median)")
        ax.set_yscale("log")
        ax.set_ylim(0.5, 2000)
        ax.set_xlabel("evaluation after epoch")
        ax.set_ylabel("failures in 20,000 steps")
        ax.set_title(v)
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle("\n".join(textwrap.wrap(title, 120)), fontsize=9)
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
        epochs=None, variants=VARIANTS):
    """Run the cart-pole grid and write ``fig2a.csv``, ``fig2a.png``, ``fig2a.md``."""
    if out is None:
        raise ValueError("out: fig2a needs an output directory (--out DIR)")
    os.makedirs(out, exist_ok=True)
    grid = configs(quick, seeds, protocol, epochs, variants)
    t0 = time.perf_counter()
    rows = _run_all(grid, workers, progress)
    wall = time.perf_counter() - t0
    header = (f"Fig. 2a ({'quick' if quick else 'full'}: {grid[0].epochs} epochs, "
              f"{len({c.seed for c in grid})} seeds, variants {', '.join(variants)}, "
              f"protocol {protocol}): cart-pole failures per evaluation; {wall:.0f} s")
    write_csv(rows, os.path.join(out, "fig2a.csv"))
    plot(rows, os.path.join(out, "fig2a.png"), header)
    text = header + "\n\n" + format_table(rows) + "\n"
    with open(os.path.join(out, "fig2a.md"), "w") as f:
        f.write(text)
    return text
