"""Fig. 3: teacher-student learning across depths, the error microcircuit against
backprop and the earlier cortical models (MODEL.md 3.2).

``run(out=DIR)`` expands the grid (layers x models x seeds) into one `RunConfig`
per cell, runs every cell through `errormc.benchmarks.runner.run_rate`
(the trained run and its untrained control: the same protocol with plasticity
off for one epoch; the cortical models with ``compare="bp"``, the paper's BP
comparison over every weight snapshot, `errormc.benchmarks.alignment.alignment_scan`),
and writes

* ``DIR/fig3.csv``: model, layers, depth, seed, trained, test_mse, angle_1..angle_5
  (mean angle per area between the model's forward update and backprop over all
  snapshots and samples, MODEL.md 2.4a; empty for the ANN, whose updates are
  backprop, and for untrained rows), wt_b_1..wt_b_4 (W^T against B at the last
  snapshot, 2.4b);
* ``DIR/fig3.png``: left, test MSE against depth (log scale), one line per model
  (median over seeds, interquartile band), untrained controls dashed; right, the
  paper's alignment panel: one box per model and depth over seeds x areas;
* ``DIR/fig3.md``: the table of mean test MSE per model and depth and the mean
  angles.

As in the paper, one teacher and one data set, drawn from the first seed of the
list (``task_seed``), serve every student. ``--quick``: `QUICK_EPOCHS` epochs,
`QUICK_SEEDS` seeds and a weight snapshot every `QUICK_SNAPSHOT_EVERY` steps.

``--protocol clean`` departs from ``reference`` as the protocol does
(`errormc.benchmarks.protocol.TeacherStudentProtocol`): validation runs without
plasticity on its own shuffle, and a step's error is the mean over output units.

Cells run in parallel: through `errormc.benchmarks.sweep.run_sweep` when that
exists, otherwise in a process pool with a progress display of finished/total
runs.
"""

import csv
import os
import time

import numpy as np

from errormc.networks.errors import ConfigError

from .common import title

LAYERS = ["2-1", "4-2-1", "8-4-2-1", "16-8-4-2-1", "32-16-8-4-2-1"]
MODELS = ["errormc", "sacramento2018", "dpc", "ann"]
SEEDS = [56789, 12345, 23456, 34567, 76543, 111, 222, 333, 444, 555]
EPOCHS = 1000
#: --quick: fewer epochs and seeds (finishes in ~15 min on 2 cores)
QUICK_EPOCHS = 80
QUICK_SEEDS = 2
#: --quick: a weight snapshot for the BP comparison every 10 epochs instead of
#: the paper's N_rec = 2000 steps (one epoch), which would double the quick run
QUICK_SNAPSHOT_EVERY = 20000
MAX_AREAS = 5
COLUMNS = ["model", "layers", "depth", "seed", "trained", "test_mse"] + [
    f"angle_{l}" for l in range(1, MAX_AREAS + 1)
] + [f"wt_b_{l}" for l in range(1, MAX_AREAS)]
ALIGNED_MODELS = ("errormc", "sacramento2018", "dpc")


def configs(quick=False, seeds=None, protocol="reference", epochs=None, layers=None,
            models=None, backend="nengo"):
    """The grid as a list of `RunConfig` (one per model, depth and seed); the
    learning rates are the paper's (`errormc.networks.baselines.paper_eta`)."""
    from errormc.benchmarks.config import RunConfig
    from errormc.networks.baselines import paper_eta

    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else len(SEEDS))
    if n_seeds < 1:
        raise ValueError(f"seeds: need at least 1, got {n_seeds}")
    if n_seeds > len(SEEDS):
        chosen = SEEDS + [1000 + i for i in range(n_seeds - len(SEEDS))]
    else:
        chosen = SEEDS[:n_seeds]
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    out = []
    for layer in layers or LAYERS:
        depth = len(layer.split("-")) - 1
        for model in models or MODELS:
            eta = ",".join(repr(v) for v in paper_eta(model, depth)["eta"])
            for seed in chosen:
                out.append(
                    RunConfig(model=model, layers=layer, seed=seed, epochs=epochs,
                              protocol=protocol, eta=eta, task_seed=SEEDS[0],
                              backend=backend,
                              compare="bp" if model in ALIGNED_MODELS else None,
                              snapshot_every=QUICK_SNAPSHOT_EVERY if quick else None)
                )
    return out


def run_cell(config):
    """One grid cell: the trained run, its untrained control, the alignment.

    Returns two CSV rows (dicts): trained and untrained.
    """
    from errormc.benchmarks.runner import run_rate

    metrics, _ = run_rate(config)
    return _rows(config, metrics)


def _rows(config, metrics):
    depth = len(config.layer_sizes()) - 1
    base = dict(model=config.model, layers=config.layers, depth=depth, seed=config.seed)
    trained = dict(base, trained=True, test_mse=metrics["test_mse_final"])
    untrained = dict(base, trained=False, test_mse=metrics["test_mse_initial"])
    if config.model in ALIGNED_MODELS:
        for l, a in enumerate(metrics.get("alignment_deg") or [], start=1):
            trained[f"angle_{l}"] = a
        for l, a in enumerate(metrics.get("alignment_wt_b_deg") or [], start=1):
            trained[f"wt_b_{l}"] = a
    trained["wall_s"] = metrics.get("wall_s")
    return [trained, untrained]


def _sweep():
    try:
        from errormc.benchmarks import sweep
    except ImportError:
        return None
    return sweep if hasattr(sweep, "run_sweep") else None


def rows_from_runs(runs, out):
    """CSV rows from finished sweep runs ``[(config dict with "run", metrics)]``;
    the alignment comes from each run's metrics (``alignment_deg``)."""
    from errormc.benchmarks.config import RunConfig

    rows = []
    for config, metrics in runs:
        values = {k: v for k, v in config.items() if k != "run"}
        rows += _rows(RunConfig.from_dict(values), metrics)
    return rows


def _run_with_sweep(sweep, grid, out, workers, progress):
    """Through the sweep machinery: each config runs (resumably) into
    ``out/runs/<hash>``; failed runs are listed in ``out/failed`` and left out."""
    import json

    sweep.run_sweep(grid, out, workers=workers, progress=progress,
                    options={"benchmark": "fig3"})
    runs = []
    for config in grid:
        name = sweep.config_hash(config)
        path = os.path.join(out, "runs", name, "metrics.json")
        if os.path.isfile(path):
            with open(path) as f:
                runs.append((dict(config.to_dict(), run=name), json.load(f)))
    return rows_from_runs(runs, out)


def report(runs, out):
    """The sweep's report hook (``errormc sweep`` with ``benchmark = "fig3"``):
    write fig3.csv, fig3.png and fig3.md for the finished runs."""
    return _write_outputs(rows_from_runs(runs, out), out, "sweep report")


def _run_in_pool(grid, workers, progress):
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    workers = workers or os.cpu_count() or 1
    rows = [None] * len(grid)
    bar = tqdm(total=len(grid), desc="fig3 runs", unit="run", disable=not progress)
    if workers == 1:
        for i, config in enumerate(grid):
            rows[i] = run_cell(config)
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_cell, config): i for i, config in enumerate(grid)}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                bar.update(1)
    bar.close()
    return [row for pair in rows for row in pair]


def write_csv(rows, path):
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k, "")) for k in COLUMNS})
    os.replace(tmp, path)
    return path


def read_csv(path):
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            row["depth"] = int(row["depth"])
            row["seed"] = int(row["seed"])
            row["trained"] = row["trained"] == "True"
            row["test_mse"] = float(row["test_mse"])
            for key in COLUMNS[6:]:
                value = row.get(key, "")
                row[key] = float(value) if value not in ("", None) else None
            rows.append(row)
    return rows


def summary(rows):
    """{(model, trained): {depth: mean test MSE}}."""
    out = {}
    for row in rows:
        key = (row["model"], row["trained"])
        out.setdefault(key, {}).setdefault(row["depth"], []).append(row["test_mse"])
    return {k: {d: float(np.mean(v)) for d, v in sorted(by.items())} for k, by in out.items()}


def format_table(rows):
    """Markdown table: mean test MSE per model (trained and untrained) and depth,
    and the mean alignment angle (over seeds and areas) for trained models."""
    means = summary(rows)
    depths = sorted({row["depth"] for row in rows})
    layers = {row["depth"]: row["layers"] for row in rows}
    lines = ["| model | " + " | ".join(layers[d] for d in depths) + " |",
             "|---|" + "---|" * len(depths)]
    order = [m for m in MODELS if any(r["model"] == m for r in rows)]
    for trained in (True, False):
        for model in order:
            by = means.get((model, trained), {})
            name = model if trained else f"{model} (untrained)"
            lines.append(f"| {name} | " + " | ".join(
                f"{by[d]:.3g}" if d in by else "" for d in depths) + " |")
    angle_lines = []
    for model in order:
        if model not in ALIGNED_MODELS:
            continue
        cells = []
        for d in depths:
            values = [row[f"angle_{l}"] for row in rows
                      if row["model"] == model and row["trained"] and row["depth"] == d
                      for l in range(1, d + 1) if row.get(f"angle_{l}") is not None]
            cells.append(f"{np.mean(values):.1f}" if values else "")
        angle_lines.append(f"| {model} angle (deg) | " + " | ".join(cells) + " |")
    return "\n".join(lines + angle_lines)


def plot(rows, path, heading=None):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    colors = {"errormc": "C3", "ann": "k", "sacramento2018": "C0", "dpc": "C2"}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for model in MODELS:
        for trained in (True, False):
            sel = [r for r in rows if r["model"] == model and r["trained"] == trained]
            if not sel:
                continue
            depths = sorted({r["depth"] for r in sel})
            values = [[r["test_mse"] for r in sel if r["depth"] == d] for d in depths]
            med = [np.median(v) for v in values]
            lo = [np.percentile(v, 25) for v in values]
            hi = [np.percentile(v, 75) for v in values]
            style = "-" if trained else "--"
            label = model if trained else f"{model} (untrained)"
            ax.plot(depths, med, style, marker="o" if trained else None,
                    color=colors.get(model), label=label, alpha=1.0 if trained else 0.6)
            if trained:
                ax.fill_between(depths, lo, hi, color=colors.get(model), alpha=0.15)
    aligned = [m for m in ALIGNED_MODELS if any(r["model"] == m for r in rows)]
    width = 0.8 / max(len(aligned), 1)
    for k, model in enumerate(aligned):
        sel = [r for r in rows if r["model"] == model and r["trained"]]
        data, positions = [], []
        for d in sorted({r["depth"] for r in sel}):
            # seeds x areas pooled in one box, as in the paper
            v = [r[f"angle_{l}"] for r in sel if r["depth"] == d for l in range(1, d + 1)
                 if r.get(f"angle_{l}") is not None]
            if v:
                data.append(v)
                positions.append(d + (k - (len(aligned) - 1) / 2) * width)
        if data:
            box = ax2.boxplot(data, positions=positions, widths=0.9 * width,
                              patch_artist=True, manage_ticks=False)
            for patch in box["boxes"]:
                patch.set_facecolor(colors.get(model))
                patch.set_alpha(0.5)
            ax2.plot([], [], "s", color=colors.get(model), alpha=0.5, label=model)
    ax.set_yscale("log")
    ax.set_xlabel("depth (areas)")
    ax.set_ylabel("test MSE")
    ax.set_xticks(range(1, MAX_AREAS + 1))
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("teacher-student: test MSE (median, IQR over seeds)")
    ax2.set_xlabel("depth (areas)")
    ax2.set_ylabel("angle to backprop update (deg)")
    ax2.set_xticks(range(1, MAX_AREAS + 1))
    ax2.set_title("update angle to backprop (MODEL.md 2.4a; seeds x areas)")
    ax2.legend(fontsize=7)
    if heading:
        fig.suptitle(heading, fontsize=9)
    fig.tight_layout()
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def run(out, quick=False, seeds=None, protocol="reference", workers=None, progress=True,
        epochs=None, layers=None, models=None, backend="nengo", data=None):
    """Run Fig. 3's grid and write ``fig3.csv``, ``fig3.png`` and ``fig3.md`` to
    ``out``; return the table (mean test MSE per model and depth) as text.

    Parameters
    ----------
    out : str
    quick : bool
        `QUICK_EPOCHS` epochs and `QUICK_SEEDS` seeds instead of the paper's 1000
        epochs and 10 seeds.
    seeds : int, optional
        Number of seeds (the paper's list, in order).
    protocol : "reference" or "clean"
    workers : int, optional
        Parallel processes (default: all CPUs).
    epochs, layers, models : optional
        Override the grid (e.g. for tests).
    """
    if out is None:
        raise ConfigError("out: fig3 needs an output directory (--out DIR)")
    if data is not None:
        raise ConfigError(f"data: fig3's teacher-student task reads no data file, got {data!r}")
    os.makedirs(out, exist_ok=True)
    grid = configs(quick, seeds, protocol, epochs, layers, models, backend)
    t0 = time.perf_counter()
    sweep = _sweep()
    if sweep is not None:
        rows = _run_with_sweep(sweep, grid, out, workers, progress)
    else:
        rows = _run_in_pool(grid, workers, progress)
    wall = time.perf_counter() - t0
    header = (title("Fig. 3, depth comparison", quick, len({c.seed for c in grid}),
                    grid[0].epochs, protocol, backend)
              + f": mean test MSE per model and network; {len(grid)} runs in {wall:.0f} s")
    return _write_outputs(rows, out, header)


def _write_outputs(rows, out, header):
    write_csv(rows, os.path.join(out, "fig3.csv"))
    rows = read_csv(os.path.join(out, "fig3.csv"))
    plot(rows, os.path.join(out, "fig3.png"), header)
    text = header + "\n\n" + format_table(rows) + "\n"
    with open(os.path.join(out, "fig3.md"), "w") as f:
        f.write(text)
    return text
