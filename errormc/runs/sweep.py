"""Sweeps: a grid of run configs executed on Dask, resumable, with nothing lost.

A grid file is a run config (TOML) in which any field may be a list: lists are
axes, and the runs are their product. An optional ``[sweep]`` table names the
benchmark whose report applies (``benchmark = "fig3"``).

On the jax backend, runs that differ only in their seed run as one batched
program (`errormc.runs.runner.run_batch`), each still into its own directory,
where batching pays (`BATCH_MAX_UNITS`).

Each run gets the directory ``OUT/runs/<hash>``, named by a stable hash of its
resolved config. It is built under ``OUT/runs/.<hash>.running`` (where the run
checkpoints) and renamed into place when complete, so a run directory exists
complete or not at all. A run that raises is recorded in ``OUT/failed/<hash>/``
(config, error and traceback) and the sweep goes on; running the same sweep
again skips finished runs (and recorded failures unless ``retry_failed``), and a
partial run continues from its checkpoint. A worker that dies mid-run has its
run rescheduled on another worker by Dask, up to ``allowed_failures`` times.
"""

import csv
import hashlib
import importlib
import itertools
import json
import os
import shutil
import time
import tomllib
import traceback

import dask
from dask.distributed import Client, LocalCluster
from tqdm.auto import tqdm

from errormc.benchmarks.paper import FIGURES
from errormc.networks.errors import ConfigError

from . import runner
from .config import RunConfig, read_toml
from .results import PROGRESS, check_out, read_metrics, working_dir

#: seconds to wait for a scheduler to answer
CONNECT_TIMEOUT = 5
#: seconds between reads of the running runs' progress
PROGRESS_POLL = 1.0

SWEEP_FILE = "sweep.toml"
#: the largest run (units of all areas, representation and error) whose seeds a
#: sweep runs as one batch: with XLA's classic CPU runtime one run's step is
#: already fast, and a batched matrix-vector product streams worse than one
#: run's once its matrices leave the cache (measured, jax backend, one core,
#: seed-steps/s of a batch of 4 over those of single runs, genmnist 10-n_R-64 with
#: n_E-64 errors: n_R = n_E = 50 (238 units): 0.8x; 100 (338): 1.2x; 250 (638):
#: 1.75x; 500 (1138): 0.8x; 1000 (2138): 0.33x; n_R = 100, n_E = 500 (738): 0.4x;
#: teacher-student 32-16-8-4-2-1 skip, ten seeds: 1.0x)
BATCH_MAX_UNITS = 400


def load_grid(path):
    """Read a grid file: ``(fields, options)``; errors name the file and key."""
    grid = read_toml(path, "grid")
    options = grid.pop("sweep", {})
    unknown = set(options) - {"benchmark", "name"}
    if unknown:
        raise ConfigError(f"grid {path!r}: unknown key 'sweep.{sorted(unknown)[0]}'; known: benchmark, name")
    benchmark = options.get("benchmark")
    if benchmark is not None and benchmark not in FIGURES:
        raise ConfigError(f"grid {path!r}: sweep.benchmark {benchmark!r} is not one of "
                          f"{', '.join(FIGURES)}")
    return grid, options


def expand(grid, where="grid"):
    """All configs of a grid (lists are axes), validated before anything runs."""
    axes = {k: v for k, v in grid.items() if isinstance(v, list)}
    for key, values in axes.items():
        if not values:
            raise ConfigError(f"{where}: axis {key!r} is an empty list")
    fixed = {k: v for k, v in grid.items() if not isinstance(v, list)}
    configs = []
    for combo in itertools.product(*axes.values()):
        values = dict(fixed, **dict(zip(axes, combo)))
        label = ", ".join(f"{k}={v!r}" for k, v in zip(axes, combo))
        configs.append(RunConfig.from_dict(values, where=f"{where} ({label})" if label else where))
    return configs


def resolve(points, where="grid"):
    """Run configs of a list of config dicts (a paper figure's grid), validated
    before anything runs."""
    return [RunConfig.from_dict(values, where=f"{where} point {i}")
            for i, values in enumerate(points)]


def config_hash(config):
    """A stable 12-hex-digit name of a resolved config."""
    return hashlib.sha1(config.to_toml().encode()).hexdigest()[:12]


def execute(config_dict, root):
    """Run one config into ``root/runs/<hash>``; never raises (failures are recorded).

    Runs on a Dask worker; resumes from a checkpoint left by an earlier attempt.
    A run already finished is not run again: Dask recomputes a finished task whose
    result was held by a worker that died (or stopped answering), and the run's
    directory, not the task, is the record.
    """
    config = RunConfig.from_dict(config_dict)
    name = config_hash(config)
    final = os.path.join(root, "runs", name)
    t0 = time.perf_counter()
    try:
        metrics = read_metrics(final)
        if metrics is None and runner.unfinished(final):
            metrics = runner.resume(final)
        elif metrics is None:
            metrics = runner.run(config, out=final, force=True)
        return _done(name, metrics, time.perf_counter() - t0)
    except Exception as e:  # noqa: BLE001 - every failure is recorded, the sweep goes on
        return _failed(config, root, e, traceback.format_exc(), time.perf_counter() - t0)


def _done(name, metrics, wall):
    # (a task scored otherwise, the cart-pole's closed loop, has no test MSE)
    return {"name": name, "status": "done", "test_mse_final": metrics.get("test_mse_final"),
            "wall_s": wall}


def _failed(config, root, error, trace, wall):
    """Record a failed run in ``root/failed/<hash>/`` (config, error and
    traceback), drop its working directory, and say so."""
    name = config_hash(config)
    failed = os.path.join(root, "failed", name)
    os.makedirs(failed, exist_ok=True)
    with open(os.path.join(failed, "config.toml"), "w") as f:
        f.write(config.to_toml())
    record = {"error": f"{type(error).__name__}: {error}", "traceback": trace}
    if isinstance(error, runner.Diverged):
        record.update(kind="diverged", step=error.step)
    tmp = os.path.join(failed, "error.json.tmp")
    with open(tmp, "w") as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, os.path.join(failed, "error.json"))
    shutil.rmtree(working_dir(os.path.join(root, "runs", name)), ignore_errors=True)
    return {"name": name, "status": "failed", "error": record["error"], "wall_s": wall}


def execute_batch(config_dicts, root):
    """Run configs that differ only in their seed as one batch into
    ``root/runs/<hash>`` each; never raises (a failure is recorded for each run).
    A batch that fails as a whole runs again one run at a time, each from its
    own checkpoint, so that each fails or finishes on its own. Members already
    finished (a task that Dask recomputes, see `execute`) are not run again."""
    configs = [RunConfig.from_dict(d) for d in config_dicts]
    names = [config_hash(c) for c in configs]
    finished = {n: read_metrics(os.path.join(root, "runs", n)) for n in names}
    todo = [(c, n) for c, n in zip(configs, names) if finished[n] is None]
    t0 = time.perf_counter()
    try:
        results = runner.run_batch([c for c, _ in todo],
                                   [os.path.join(root, "runs", n) for _, n in todo]) if todo else []
    except Exception:  # noqa: BLE001 - every failure is recorded, the sweep goes on
        return [execute(d, root) for d in config_dicts]
    wall = time.perf_counter() - t0
    ran = {n: (c, r) for (c, n), r in zip(todo, results)}
    out = []
    for name in names:
        if name not in ran:
            out.append(_done(name, finished[name], 0.0))
            continue
        config, result = ran[name]
        if isinstance(result, Exception):
            out.append(_failed(config, root, result, "".join(traceback.format_exception(result)),
                               wall))
        else:
            out.append(_done(name, result, wall))
    return out


def groups(configs):
    """Seed batches: runs that may share one compiled program and gain by it
    (at most `BATCH_MAX_UNITS` units), the most work first (so that on a few
    workers the longest batches do not run last), grid order among equals."""
    out, index = [], {}
    for config in configs:
        if not runner.batchable(config) or units(config) > BATCH_MAX_UNITS:
            out.append([config])
            continue
        key = runner.seed_key(config)
        if key not in index:
            index[key] = len(out)
            out.append([])
        out[index[key]].append(config)
    return sorted(out, key=lambda group: -sum(work(c) for c in group))


def work(config):
    """A rough measure of a run's arithmetic, to order a sweep: steps times the
    square of its units (dense weight matrices), twice with the backprop
    comparison (a replay per snapshot)."""
    steps = (config.epochs or 1) * (config.n_samples or 1) * (config.steps_per_sample or 1)
    return steps * units(config)**2 * (2 if config.compare else 1)


def units(config):
    """All units of a run's network: its areas' representation and error units."""
    layers = config.layer_sizes()
    return sum(layers) + sum(config.error_sizes() or layers[1:])


def check_workers(workers, scheduler):
    """Refuse worker counts below 1 and schedulers that do not answer, at once."""
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers: must be an integer >= 1, got {workers!r}")
    if workers is not None and scheduler:
        raise ConfigError("workers: an existing scheduler brings its own workers; "
                          "give --workers or --scheduler, not both")


def _client(workers, scheduler):
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"scheduler: no Dask scheduler answered at {scheduler!r} "
                              f"within {CONNECT_TIMEOUT} s ({type(e).__name__})") from None
        return client, None
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
    )
    return Client(cluster), cluster


def run_sweep(configs, out, workers=None, scheduler=None, retry_failed=False,
              progress=True, allowed_failures=3, options=None):
    """Execute ``configs`` on Dask, skipping finished runs.

    The embedded cluster starts worker processes: call this from a script's
    ``if __name__ == "__main__":`` block, as for any multiprocessing code.

    Parameters
    ----------
    configs : list of RunConfig
    out : str
        Sweep directory.
    workers : int, optional
        Size of the embedded LocalCluster (default: one per core).
    scheduler : str, optional
        Address of an existing Dask scheduler (then ``workers`` is ignored).
    retry_failed : bool
        Rerun runs recorded as failed.
    allowed_failures : int
        How often a run may lose its worker before the sweep gives up on it.

    Returns
    -------
    dict
        ``done``, ``failed``, ``skipped`` (finished earlier), ``failed_before``
        (recorded failures left alone; ``retry_failed`` reruns them), lists of run
        names; ``duplicates`` (grid points equal to an earlier one, run once),
        ``total``, ``wall_s``.
    """
    check_workers(workers, scheduler)
    out = check_out(out, field="out", run=False)
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    if options:
        with open(os.path.join(out, SWEEP_FILE), "w") as f:
            f.write("[sweep]\n" + "".join(f'{k} = "{v}"\n' for k, v in options.items()))
    todo = []
    summary = {"done": [], "failed": [], "skipped": [], "failed_before": [], "duplicates": 0,
               "total": len(configs)}
    seen = set()
    for config in configs:
        name = config_hash(config)
        if name in seen:
            summary["duplicates"] += 1
            continue
        seen.add(name)
        if read_metrics(os.path.join(out, "runs", name)) is not None:
            summary["skipped"].append(name)
            continue
        failed = os.path.join(out, "failed", name)
        if os.path.isdir(failed):
            if not retry_failed:
                summary["failed_before"].append(name)
                continue
            shutil.rmtree(failed)
        todo.append(config)
    t0 = time.perf_counter()
    if todo:
        with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
            client, cluster = _client(workers, scheduler)
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
            try:
                pending = []
                for group in groups(todo):
                    root = os.path.abspath(out)
                    if len(group) > 1:
                        pending.append(client.submit(
                            execute_batch, [c.to_dict() for c in group], root,
                            key=f"errormc-batch-{config_hash(group[0])}", pure=False))
                    else:
                        pending.append(client.submit(
                            execute, group[0].to_dict(), root,
                            key=f"errormc-run-{config_hash(group[0])}", pure=False))
                epochs = {config_hash(c): c.epochs or 1 for c in todo}
                bar = tqdm(total=sum(epochs.values()), desc="sweep", unit="epoch",
                           disable=not progress)
                ended = 0  # epochs of the runs that ended
                while pending:
                    finished = [f for f in pending if f.done()]
                    # the runs report their epochs in their working directories (the
                    # runs of a batch move in lockstep), read while waiting; never
                    # backwards (a finished run's record goes before its result arrives),
                    # drawn on change only (a log gets a line per epoch, not per poll)
                    now = max(bar.n, ended + _epochs_running(out, epochs))
                    if now > bar.n:
                        bar.update(now - bar.n)
                    if not finished:
                        time.sleep(PROGRESS_POLL)
                        continue
                    for future in finished:
                        pending.remove(future)
                        try:
                            result = future.result()
                            future.release()  # read: Dask need not keep (or recompute) it
                        except Exception as e:  # noqa: BLE001 - e.g. KilledWorker
                            result = {"name": future.key.rsplit("-", 1)[-1], "status": "failed",
                                      "error": f"{type(e).__name__}: {e}"}
                        for r in result if isinstance(result, list) else [result]:
                            summary["done" if r["status"] == "done" else "failed"].append(r["name"])
                            ended += epochs.get(r["name"], 1)
                    bar.set_postfix(done=len(summary["done"]), failed=len(summary["failed"]),
                                    running=min(n_workers, len(pending)))
                if ended > bar.n:
                    bar.update(ended - bar.n)
                bar.close()
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    summary["wall_s"] = time.perf_counter() - t0
    return summary


def _epochs_running(out, epochs):
    """Epochs done so far by the unfinished runs of ``epochs`` ({name: epochs}),
    from their working directories' progress records."""
    total = 0
    for name, n in epochs.items():
        path = os.path.join(working_dir(os.path.join(out, "runs", name)), PROGRESS)
        try:
            with open(path) as f:
                total += min(int(json.load(f)["epochs_done"]), n)
        except (OSError, ValueError, KeyError):
            continue  # not started, finished, or being replaced right now
    return total


def collect(out):
    """``(config dict, metrics dict)`` of every finished run of a sweep."""
    rows = []
    runs = os.path.join(os.fspath(out), "runs")
    if not os.path.isdir(runs):
        raise ConfigError(f"report: {out!r} has no runs/ directory; is it a sweep directory?")
    for name in sorted(os.listdir(runs)):
        path = os.path.join(runs, name)
        metrics = None if name.startswith(".") else read_metrics(path)
        if metrics is None:
            continue
        with open(os.path.join(path, "config.toml"), "rb") as f:
            config = tomllib.load(f)
        rows.append((dict(config, run=name), metrics))
    return rows


def collect_failed(out):
    """``(config dict, error record)`` of every run recorded as failed in a sweep;
    the record has ``error`` and, for a run that diverged, ``kind = "diverged"``
    and the ``step``."""
    rows = []
    failed = os.path.join(os.fspath(out), "failed")
    if not os.path.isdir(failed):
        return rows
    for name in sorted(os.listdir(failed)):
        path = os.path.join(failed, name)
        try:
            with open(os.path.join(path, "error.json")) as f:
                record = json.load(f)
        except FileNotFoundError:
            continue  # being recorded right now (`_failed` writes error.json last)
        config = read_toml(os.path.join(path, "config.toml"), "failed run")
        rows.append((dict(config, run=name), record))
    return rows


REPORT_METRICS = ("test_mse_initial", "test_mse_final", "steps", "wall_s")


def report(out):
    """Write ``OUT/summary.csv`` (config fields that vary plus final metrics) and
    the report of the sweep's benchmark, if it names one. Returns the rows."""
    out = os.fspath(out)
    runs = collect(out)
    if not runs:
        raise ConfigError(f"report: no finished runs in {out!r}")
    keys = sorted({k for c, _ in runs for k in c} - {"run"})
    varying = [k for k in keys if len({str(c.get(k)) for c, _ in runs}) > 1]
    rows = []
    for config, metrics in runs:
        row = {"run": config["run"]}
        row.update({k: config.get(k) for k in varying})
        row.update({k: metrics.get(k) for k in REPORT_METRICS})
        rows.append(row)
    tmp = os.path.join(out, "summary.csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, os.path.join(out, "summary.csv"))
    sweep_file = os.path.join(out, SWEEP_FILE)
    if os.path.isfile(sweep_file):
        with open(sweep_file, "rb") as f:
            benchmark = tomllib.load(f).get("sweep", {}).get("benchmark")
        if benchmark:
            module = importlib.import_module(f"errormc.benchmarks.paper.{benchmark}")
            module.report(runs, out, f"sweep {out}", failed=collect_failed(out))
    return rows
