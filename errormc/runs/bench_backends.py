"""`errormc bench backends`: the same spiking run on both backends, as a table.

Each task is a run config; it runs on every backend through the one runner, and
each row is written (``backends.csv``, ``backends.txt``) as soon as it finishes,
so an interrupted benchmark keeps what it measured. Columns: task, backend, test
metric (name and value), simulated seconds, wall seconds (build and all passes),
steps/s, and the wall-time ratio loihi / nengo per task.
"""

import csv
import os

from tqdm.auto import tqdm

from errormc.networks.errors import ConfigError

from .config import BACKENDS
from .results import RunDirectory
from .runner import run

COLUMNS = (
    "task", "backend", "emulator", "metric", "value", "simulated_s", "wall_s", "steps_per_s",
    "wall_ratio_loihi_nengo",
)

#: the tasks by name: (label, run config, metric)
TASKS = {
    "ts21": ("teacher-student 2-1", dict(task="teacher-student", layers="2-1", epochs=3),
             "test_mse_final"),
    "ts421": ("teacher-student 4-2-1", dict(task="teacher-student", layers="4-2-1", epochs=3),
              "test_mse_final"),
    "digits": ("digits", dict(task="digits", n_samples=300, n_test=150, epochs=1),
               "test_accuracy"),
}
DEFAULT_TASKS = tuple(TASKS.values())


def sized_tasks(n_samples=None, n_test=None, epochs=None, names="ts21,ts421,digits"):
    """The named tasks with their sizes overridden where given."""
    sizes = {k: v for k, v in dict(n_samples=n_samples, n_test=n_test, epochs=epochs).items()
             if v is not None}
    out = []
    for name in [n.strip() for n in str(names).split(",") if n.strip()]:
        if name not in TASKS:
            raise ConfigError(f"tasks: unknown {name!r}; choose from {', '.join(TASKS)}")
        label, config, key = TASKS[name]
        out.append((label, dict(config, **sizes), key))
    return tuple(out)


def format_table(rows):
    """Fixed-width text table of ``rows``."""
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    cells = [list(COLUMNS)] + [[fmt(r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _write(directory, rows):
    path = directory.file("backends.csv")
    with open(f"{path}.tmp", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(f"{path}.tmp", path)
    text = format_table(rows)
    with open(directory.file("backends.txt"), "w") as f:
        f.write(text + "\n")
    return text


def write_table(out, tasks=DEFAULT_TASKS, backends=BACKENDS["spiking"], seed=0,
                emulator="fast", progress=True):
    """Run every task on every backend into ``out/runs/``; return the table text."""
    directory = RunDirectory(out)
    rows = []
    bar = tqdm(total=len(tasks) * len(backends), desc="bench backends", unit="run",
               disable=not progress)
    for label, config, key in tasks:
        walls = {}
        for backend in backends:
            bar.set_postfix_str(f"{label} on {backend}")
            name = f"{label.replace(' ', '-')}-{backend}"
            extra = dict(emulator=emulator) if backend == "loihi" else {}
            m = run(dict(config, network="spiking", backend=backend, seed=seed, **extra),
                    out=directory.file(os.path.join("runs", name)), force=True,
                    progress=progress)
            walls[backend] = m["wall_s"]
            rows.append({
                "task": label, "backend": backend, "emulator": extra.get("emulator", ""),
                "metric": key, "value": m[key],
                "simulated_s": m["simulated_s"], "wall_s": m["wall_s"],
                "steps_per_s": m["steps_per_s"],
                "wall_ratio_loihi_nengo": (walls["loihi"] / walls["nengo"]
                                           if {"loihi", "nengo"} <= set(walls) else None),
            })
            text = _write(directory, rows)
            bar.update(1)
    bar.close()
    return text
