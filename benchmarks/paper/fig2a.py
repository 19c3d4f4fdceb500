"""Fig. 2a: cart-pole balancing by a student that imitated a linear controller
(MODEL.md 3.3; environment, teacher and protocols:
`errormc.benchmarks.tasks.cartpole`).

The grid is one run per variant (``ideal``, ``tanh``) and seed (`grid`, run
through the sweep by ``errormc paper fig2a``); one teacher, from the first seed
of the list (``task_seed``), serves every student, as in the paper. The report
draws, per variant, boxplots over seeds of the failures in
each closed-loop evaluation (after every epoch, then the test), with the
teacher's median failures as a reference line, on a log axis (zero failures are
drawn at 0.5, the paper's lower axis limit). The paper's plot zeroes the first
entry; the CSV keeps every count. ``--protocol clean`` departs as described in
the task module (seeded resets, clean validation).

Writes ``fig2a.csv`` (variant, seed, evaluation, failures; seed ``teacher`` for
the teacher), ``fig2a.png`` and ``fig2a.md``.
"""

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from errormc.networks.errors import ConfigError

from .common import figure_report, save_figure, seed_list

VARIANTS = ("ideal", "tanh")
SEEDS = [56789, 12345, 23456, 34567, 76543, 111, 222, 333, 444, 555]
EPOCHS = 5
QUICK_EPOCHS, QUICK_SEEDS = 2, 1
COLUMNS = ["variant", "seed", "evaluation", "failures"]


def grid(quick=False, seeds=None, protocol="reference", epochs=None, variants=VARIANTS,
         backend=None, data=None):
    """One cart-pole run config (dict) per variant and seed; the teacher of every
    student derives from the list's first seed."""
    if data is not None:
        raise ConfigError(f"data: fig2a reads no data file; leave it out")
    for v in variants:
        if v not in VARIANTS:
            raise ConfigError(f"variants: {v!r} is not one of {', '.join(VARIANTS)}")
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    return [dict(task="cartpole", variant=v, seed=s, epochs=epochs, protocol=protocol,
                 task_seed=SEEDS[0], backend=backend)
            for v in variants for s in seed_list(seeds, QUICK_SEEDS, quick, SEEDS)]


def rows_from_runs(runs):
    """CSV rows of finished runs: failures per evaluation, and one teacher row per
    variant (one teacher serves every student)."""
    rows, teachers = [], set()
    for config, metrics in sorted(runs, key=lambda r: (r[0]["variant"], r[0]["seed"])):
        v = config["variant"]
        rows += [dict(variant=v, seed=config["seed"], evaluation=i, failures=f)
                 for i, f in enumerate(metrics["failures_per_evaluation"])]
        key = (v, config.get("task_seed"))
        if key not in teachers:
            teachers.add(key)
            rows.append(dict(variant=v, seed="teacher", evaluation="",
                             failures=metrics["teacher_failures"]))
    return rows


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
    return save_figure(fig, path)


report = figure_report("fig2a", rows_from_runs, COLUMNS, plot, format_table,
                       subject=": cart-pole failures per closed-loop evaluation")
