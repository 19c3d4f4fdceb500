"""`errormc bench backends`: the same spiking network on both backends, as a table.

Columns: task, backend, emulator (``fast`` / ``stock`` on loihi), test metric
(name and value), simulated seconds, wall seconds (build + all runs), steps/s,
and the wall-time ratio loihi / nengo per task (on the second row of a task).
Each row is appended to ``backends.csv`` (and ``backends.txt`` rewritten) as
soon as its run finishes, so a long benchmark can be read while it runs.
"""

import csv
import json
import os

from errormc.networks.errors import ConfigError

from .deployment import run_digits, run_teacher_student

COLUMNS = (
    "task", "backend", "emulator", "metric", "value", "simulated_s", "wall_s", "steps_per_s",
    "wall_ratio_loihi_nengo",
)

#: benchmark tasks: name -> (label, runner, default sizes, metric key)
TASKS = {
    "ts21": ("teacher_student 2-1", run_teacher_student,
             dict(layers="2-1", n_train=40, n_test=20, epochs=3), "test_mse"),
    "ts421": ("teacher_student 4-2-1", run_teacher_student,
              dict(layers="4-2-1", n_train=40, n_test=20, epochs=3), "test_mse"),
    "digits": ("digits", run_digits, dict(n_train=300, n_test=150, epochs=1), "test_accuracy"),
}
DEFAULT_TASKS = tuple(TASKS)


def task_list(names=DEFAULT_TASKS, n_train=None, n_test=None, epochs=None):
    """``[(label, runner, kwargs, metric)]`` for task ``names`` with sizes overridden."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for name in names:
        if name not in TASKS:
            raise ConfigError(f"tasks: unknown {name!r}; choose from {', '.join(TASKS)}")
        label, runner, kwargs, metric = TASKS[name]
        kwargs = dict(kwargs)
        for field, value in (("n_train", n_train), ("n_test", n_test), ("epochs", epochs)):
            if value is not None:
                if int(value) != value or value < 1:
                    raise ConfigError(f"{field}: must be a positive integer, got {value!r}")
                kwargs[field] = int(value)
        out.append((label, runner, kwargs, metric))
    return out


def bench_backends(tasks=None, backends=("nengo", "loihi"), seed=0, emulator="fast", on_row=None):
    """Run every task on every backend; return (rows, full metrics list).

    ``on_row(row)`` is called as each run finishes.
    """
    tasks = task_list() if tasks is None else tasks
    rows, full = [], []
    for label, runner, kwargs, key in tasks:
        walls = {}
        for backend in backends:
            extra = dict(emulator=emulator) if backend == "loihi" else {}
            m = runner(backend=backend, seed=seed, **kwargs, **extra)
            m["emulator"] = extra.get("emulator", "")
            full.append(m)
            walls[backend] = m["wall_s"]
            row = {
                "task": label, "backend": backend, "emulator": m["emulator"], "metric": key,
                "value": m[key], "simulated_s": m["simulated_s"], "wall_s": m["wall_s"],
                "steps_per_s": m["steps_per_s"],
                "wall_ratio_loihi_nengo": (walls["loihi"] / walls["nengo"]
                                           if {"loihi", "nengo"} <= set(walls) else None),
            }
            rows.append(row)
            if on_row is not None:
                on_row(row)
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


def write_backends_table(out_dir, tasks=None, backends=("nengo", "loihi"), seed=0,
                         emulator="fast", progress=True):
    """Run `bench_backends`, writing ``backends.csv`` and ``backends.txt`` row by
    row and, at the end, ``backends_metrics.json`` (every run's full metrics,
    placement included) into ``out_dir``. Returns the table text."""
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "backends.csv")
    done = []
    with open(csv_path, "w", newline="") as f:
        csv.DictWriter(f, fieldnames=COLUMNS).writeheader()

    def on_row(row):
        done.append(row)
        with open(csv_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=COLUMNS).writerow(row)
        with open(os.path.join(out_dir, "backends.txt"), "w") as f:
            f.write(format_table(done) + "\n")
        if progress:
            print(format_table([row]).splitlines()[-1], flush=True)

    rows, full = bench_backends(tasks, backends, seed, emulator=emulator, on_row=on_row)
    with open(os.path.join(out_dir, "backends_metrics.json"), "w") as f:
        json.dump(full, f, indent=1, default=float)
    return format_table(rows)
