"""Fig. 3: teacher-student learning across depths, the error microcircuit against
backprop and the earlier cortical models (MODEL.md 3.2).

A paper figure is a grid and a report. `grid` lists one run config (a dict of
`errormc.runs.config.RunConfig` fields) per model, depth and seed, with the
paper's learning rates and, for the cortical models, the backprop comparison
(``compare = "bp"``); every run also yields its untrained control
(``test_mse_initial``: the same protocol with plasticity off for one epoch).
`report` turns the finished runs into

* ``fig3.csv``: model, layers, depth, seed, trained, test_mse, angle_1..angle_5
  (mean angle per area between the model's forward update and backprop over all
  snapshots and samples, MODEL.md 2.4a; empty for the ANN, whose updates are
  backprop, and for untrained rows), wt_b_1..wt_b_4 (W^T against B at the last
  snapshot, 2.4b);
* ``fig3.png``: left, test MSE against depth (log scale), one line per model
  (median over seeds with the interquartile band when there are several seeds),
  untrained controls dashed; right, the paper's alignment panel: one box per
  model and depth over seeds x areas;
* ``fig3.md``: the table of mean test MSE per model and network.

``errormc paper fig3`` runs the grid through the sweep machinery.

As in the paper, one teacher and one data set, drawn from the first seed of the
list (``task_seed``), serve every student. Deviation from the paper's harness
(documented, not hidden): ``--quick`` takes a weight snapshot for the backprop
comparison every `QUICK_SNAPSHOT_EVERY` steps instead of every N_rec = 2000.
``--protocol clean`` departs from the reference in validation (no plasticity,
each pass's own shuffle) and in scoring (mean over output units instead of the
squared norm).
"""

import csv
import os

import matplotlib.pyplot as plt
import numpy as np

from errormc.networks.baselines import paper_eta
from errormc.networks.errors import ConfigError

from .common import markdown_table, write_csv

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


def grid(quick=False, seeds=None, protocol="reference", epochs=None, layers=None,
         models=None, backend=None):
    """The runs of the figure: one config dict per model, depth and seed; the
    learning rates are the paper's (`errormc.networks.baselines.paper_eta`)."""
    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else len(SEEDS))
    if n_seeds < 1:
        raise ConfigError(f"seeds: need at least 1, got {n_seeds}")
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
                config = dict(model=model, layers=layer, seed=seed, epochs=epochs,
                              protocol=protocol, eta=eta, task_seed=SEEDS[0])
                if model in ALIGNED_MODELS:
                    config["compare"] = "bp"
                    if quick:
                        config["snapshot_every"] = QUICK_SNAPSHOT_EVERY
                if backend is not None:
                    config["backend"] = backend
                out.append(config)
    return out


def rows(runs):
    """CSV rows (trained and untrained) from finished runs ``[(config, metrics)]``."""
    out = []
    for config, metrics in runs:
        depth = len(str(config["layers"]).split("-")) - 1
        base = dict(model=config["model"], layers=config["layers"], depth=depth,
                    seed=config["seed"])
        trained = dict(base, trained=True, test_mse=metrics["test_mse_final"])
        for l, a in enumerate(metrics.get("alignment_deg") or [], start=1):
            trained[f"angle_{l}"] = a
        for l, a in enumerate(metrics.get("alignment_wt_b_deg") or [], start=1):
            trained[f"wt_b_{l}"] = a
        out += [trained, dict(base, trained=False, test_mse=metrics["test_mse_initial"])]
    return out


def report(runs, out, header="Fig. 3", failed=()):  # noqa: ARG001 - counted in the header
    """Write fig3.csv, fig3.png and fig3.md for the finished runs; return the
    table as text. ``header`` says what was run (scale, seeds, epochs) and how
    many runs failed; the ``failed`` runs themselves are not drawn."""
    path = write_csv(rows(runs), os.path.join(out, "fig3.csv"), COLUMNS)
    table = read_csv(path)
    plot(table, os.path.join(out, "fig3.png"), header)
    text = header + "\n\n" + format_table(table) + "\n"
    with open(os.path.join(out, "fig3.md"), "w") as f:
        f.write(text)
    return text


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
    """{(model, trained): {layers: mean test MSE}}."""
    out = {}
    for row in rows:
        key = (row["model"], row["trained"])
        out.setdefault(key, {}).setdefault(row["layers"], []).append(row["test_mse"])
    return {k: {d: float(np.mean(v)) for d, v in sorted(by.items())} for k, by in out.items()}


def format_table(rows):
    """Markdown table: mean test MSE per model (trained and untrained) and depth,
    and the mean alignment angle (over seeds and areas) for trained models."""
    means = summary(rows)
    nets = sorted({row["layers"] for row in rows}, key=lambda s: (len(s.split("-")), s))
    lines = []
    order = [m for m in MODELS if any(r["model"] == m for r in rows)]
    for trained in (True, False):
        for model in order:
            by = means.get((model, trained), {})
            name = model if trained else f"{model} (untrained)"
            lines.append((name, [f"{by[n]:.3g}" if n in by else "" for n in nets]))
    for model in order:
        if model not in ALIGNED_MODELS:
            continue
        cells = []
        for n in nets:
            values = [row[f"angle_{l}"] for row in rows
                      if row["model"] == model and row["trained"] and row["layers"] == n
                      for l in range(1, row["depth"] + 1) if row.get(f"angle_{l}") is not None]
            cells.append(f"{np.mean(values):.1f}" if values else "")
        lines.append((f"{model} angle (deg)", cells))
    return markdown_table("model", nets, lines)


def plot(rows, path, header="Fig. 3"):
    """Test MSE and alignment against depth; the title says what was run."""
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
    n_seeds = len({r["seed"] for r in rows})
    ax.set_title("test MSE, " + (f"median and IQR over {n_seeds} seeds" if n_seeds > 1
                                 else "one seed"))
    fig.suptitle(header, fontsize=9)
    ax2.set_xlabel("depth (areas)")
    ax2.set_ylabel("angle to backprop update (deg)")
    ax2.set_xticks(range(1, MAX_AREAS + 1))
    ax2.set_title("update angle to backprop (MODEL.md 2.4a; seeds x areas)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path
