"""Speed benchmarks: simulated steps per second of the rate microcircuit while it
learns (plasticity and nudging on), on the nengo backend and on the jax backend
with one seed and with a batch of seeds, measured side by side in one run.

For a batch, the rate is in seed-steps per second (steps times seeds). The jax
backend's compile time (both chunk programs of a structure) is its own column;
rates are the best of ``repeats`` timed runs after a warm-up, inputs included.
"""

import csv
import json
import os
import time
from functools import partial

import nengo
import numpy as np
from tqdm.auto import tqdm

from errormc.hardware import Simulator
from errormc.networks import ErrorMicrocircuit

from .protocol import Schedule

DEFAULT_CASES = (("8-4-2-1", "skip"), ("32-16-8-4-2-1", "skip"))
#: (backend, batch) of each case's rows
DEFAULT_RUNS = (("nengo", 1), ("jax", 1), ("jax", 10))
FIELDS = ("backend", "layers", "connectivity", "batch", "steps_per_s", "compile_s")


def stream_model(layers, connectivity, seed, rows):
    """A microcircuit fed by a `Schedule` of ``rows`` random inputs and targets."""
    sizes = [int(n) for n in layers.split("-")]
    schedule = Schedule(sizes[0], sizes[-1])
    with nengo.Network(label="speed") as model:
        node = nengo.Node(schedule.process, label="schedule")
        net = ErrorMicrocircuit(layers=sizes, connectivity=connectivity, seed=seed,
                                **schedule.connect(node))
        nengo.Probe(net.output.neurons, synapse=None)
    rng = np.random.RandomState(seed)
    inputs = rng.uniform(0, 1, (rows, sizes[0]))
    targets = rng.uniform(-0.5, 0.5, (rows, sizes[-1]))
    return model, partial(schedule.load, inputs, targets)


def measure(backend, layers, connectivity="skip", batch=1, steps=20000, repeats=2,
            unroll=None):
    """One row: steps (seed-steps) per second and compile seconds."""
    warm = 1024  # a full chunk: compiles what the timed runs use
    streams = [stream_model(layers, connectivity, seed, warm + steps) for seed in range(batch)]
    kwargs = {} if unroll is None or backend != "jax" else {"unroll": unroll}
    nets = [m for m, _ in streams]
    sim = Simulator(nets if batch > 1 else nets[0], backend=backend, dt=0.01, **kwargs)
    # timed from scratch, also where an earlier simulator compiled the same program
    compile_s = sim.compile(fresh=True) if backend == "jax" else 0.0
    best = np.inf
    with sim:
        for _ in range(repeats):
            for _, load in streams:
                load(start=sim.n_steps)
            sim.run_steps(warm)
            wait(sim)
            sim.clear_probes()
            t0 = time.perf_counter()
            sim.run_steps(steps)
            wait(sim)
            best = min(best, time.perf_counter() - t0)
    return {"backend": backend, "layers": layers, "connectivity": connectivity,
            "batch": batch, "steps_per_s": round(batch * steps / best, 1),
            "compile_s": round(compile_s, 3)}


def wait(sim):
    """Block until the simulator's queued steps are done (jax runs asynchronously)."""
    done = getattr(sim, "block_until_ready", None)
    if done is not None:
        done()


def bench_speed(out=None, cases=DEFAULT_CASES, runs=DEFAULT_RUNS, steps=20000, repeats=2,
                unroll=None, progress=False):
    """Measure every case on every (backend, batch); write ``speed.csv`` and
    ``speed.md`` to ``out``."""
    grid = [(layers, connectivity, backend, batch)
            for layers, connectivity in cases for backend, batch in runs]
    rows = []
    bar = tqdm(grid, desc="bench speed", unit="case", disable=not progress)
    for layers, connectivity, backend, batch in bar:
        bar.set_postfix_str(f"{backend} x{batch} {layers} {connectivity}")
        rows.append(measure(backend, layers, connectivity, batch, steps, repeats, unroll))
    if out is not None:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "speed.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        with open(os.path.join(out, "speed.md"), "w") as f:
            f.write(format_table(rows) + "\n")
    return rows


def speedups(rows):
    """Each row's rate over the nengo backend's single-seed rate of its case."""
    ref = {(r["layers"], r["connectivity"]): r["steps_per_s"]
           for r in rows if r["backend"] == "nengo" and r["batch"] == 1}
    return [r["steps_per_s"] / ref[(r["layers"], r["connectivity"])]
            if (r["layers"], r["connectivity"]) in ref else float("nan") for r in rows]


def format_table(rows):
    header = ("| backend | layers | connectivity | batch | (seed-)steps/s | x nengo | compile s |\n"
              "|---|---|---|---|---|---|---|")
    lines = [
        f"| {r['backend']} | {r['layers']} | {r['connectivity']} | {r['batch']} | "
        f"{r['steps_per_s']:.0f} | {x:.1f} | {r['compile_s']:.2f} |"
        for r, x in zip(rows, speedups(rows))
    ]
    return "\n".join([header] + lines)


def format_json(rows):
    return json.dumps(rows, indent=2)
