"""Speed benchmarks: simulated steps per second of the rate microcircuit while it
learns (plasticity and nudging on), written as a table."""

import csv
import os
import time
from functools import partial

import numpy as np
from tqdm.auto import tqdm

from errormc.networks import ErrorMicrocircuit

from .protocol import Session

DEFAULT_CASES = (
    ("8-4-2-1", "skip"),
    ("8-4-2-1", "layered"),
    ("32-16-8-4-2-1", "skip"),
    ("32-16-8-4-2-1", "layered"),
)


def steps_per_second(layers, connectivity="skip", steps=20000, seed=0, repeats=3):
    """Best of ``repeats`` timings of ``steps`` training steps (build excluded)."""
    sizes = [int(n) for n in layers.split("-")]
    rng = np.random.RandomState(seed)
    inputs = rng.uniform(0, 1, (steps, sizes[0]))
    targets = rng.uniform(-0.5, 0.5, (steps, sizes[-1]))
    build = partial(ErrorMicrocircuit, layers=sizes, connectivity=connectivity, seed=seed)
    best = np.inf
    with Session(build, sizes[0], sizes[-1]) as session:
        session.run(inputs[:100], targets[:100])  # warm up
        for _ in range(repeats):
            t0 = time.perf_counter()
            session.run(inputs, targets)
            best = min(best, time.perf_counter() - t0)
    return steps / best


def bench_speed(out=None, cases=DEFAULT_CASES, steps=20000, progress=False):
    """Measure every case; write ``speed.csv`` and ``speed.md`` to ``out``."""
    rows = []
    for layers, connectivity in tqdm(cases, desc="bench speed", unit="case",
                                     disable=not progress):
        rate = steps_per_second(layers, connectivity, steps=steps)
        rows.append({"layers": layers, "connectivity": connectivity, "steps": steps,
                     "steps_per_s": round(rate, 1)})
    if out is not None:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "speed.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        with open(os.path.join(out, "speed.md"), "w") as f:
            f.write(format_table(rows) + "\n")
    return rows


def format_table(rows):
    header = "| layers | connectivity | steps | steps/s |\n|---|---|---|---|"
    lines = [f"| {r['layers']} | {r['connectivity']} | {r['steps']} | {r['steps_per_s']:.0f} |" for r in rows]
    return "\n".join([header] + lines)
