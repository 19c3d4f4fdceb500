"""`errormc bench backends`: the same spiking network on both backends, as a table.

Columns: task, backend, test metric (name and value), simulated seconds, wall
seconds (build + all runs), steps/s, and the wall-time ratio loihi / nengo per task.
"""

import csv
import json
import os

from .deployment import run_digits, run_teacher_student

COLUMNS = (
    "task", "backend", "metric", "value", "simulated_s", "wall_s", "steps_per_s",
    "wall_ratio_loihi_nengo",
)

#: default benchmark tasks: (task label, runner, kwargs, metric key)
DEFAULT_TASKS = (
    ("teacher_student 2-1", run_teacher_student, dict(layers="2-1", epochs=3), "test_mse"),
    ("teacher_student 4-2-1", run_teacher_student, dict(layers="4-2-1", epochs=3), "test_mse"),
    ("digits", run_digits, dict(n_train=300, n_test=150, epochs=1), "test_accuracy"),
)


def bench_backends(tasks=DEFAULT_TASKS, backends=("nengo", "loihi"), seed=0):
    """Run every task on every backend; return (rows, full metrics list)."""
    rows, full = [], []
    for label, runner, kwargs, key in tasks:
        walls = {}
        task_rows = []
        for backend in backends:
            m = runner(backend=backend, seed=seed, **kwargs)
            full.append(m)
            walls[backend] = m["wall_s"]
            task_rows.append({
                "task": label, "backend": backend, "metric": key, "value": m[key],
                "simulated_s": m["simulated_s"], "wall_s": m["wall_s"],
                "steps_per_s": m["steps_per_s"],
            })
        ratio = walls["loihi"] / walls["nengo"] if {"loihi", "nengo"} <= set(walls) else None
        for r in task_rows:
            r["wall_ratio_loihi_nengo"] = ratio
        rows += task_rows
    return rows, full


def format_table(rows):
    """Fixed-width text table of ``rows``."""
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    cells = [list(COLUMNS)] + [[fmt(r[c]) for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_backends_table(out_dir, tasks=DEFAULT_TASKS, backends=("nengo", "loihi"), seed=0):
    """Run `bench_backends` and write ``backends.csv``, ``backends.txt`` and
    ``backends_metrics.json`` (every run's full metrics, placement included) into
    ``out_dir``. Returns the table text."""
    rows, full = bench_backends(tasks, backends, seed)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "backends.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    text = format_table(rows)
    with open(os.path.join(out_dir, "backends.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, "backends_metrics.json"), "w") as f:
        json.dump(full, f, indent=1, default=float)
    return text
