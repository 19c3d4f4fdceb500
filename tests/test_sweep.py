"""Sweeps on Dask: failures recorded, nothing redone, nothing lost when a worker dies."""

import csv
import json
import os
import threading
import time

import pytest

from errormc.runs.config import RunConfig
from errormc.runs.sweep import collect_failed, config_hash, execute, execute_batch, expand, report, run_sweep
from errormc.cli import main


def small(seed, **kwargs):
    return RunConfig(layers="2-1", epochs=3, n_samples=10, seed=seed, **kwargs)


def test_sweep_records_failure_skips_finished_and_retries_only_failed(tmp_path):
    # one run is configured to fail: its learning rate makes it diverge
    configs = [small(s) for s in range(1, 6)]
    configs.append(small(9, eta="1e6", activation="linear", weight_bound=10.0))
    out = tmp_path / "sweep"
    summary = run_sweep(configs, out, workers=2, progress=False)
    assert len(summary["done"]) == 5 and len(summary["failed"]) == 1
    bad = config_hash(configs[-1])
    assert summary["failed"] == [bad]
    error = json.load(open(out / "failed" / bad / "error.json"))
    assert "diverged" in error["error"] and "Traceback" in error["traceback"]
    # the step the guard stopped it at, as the message says (3 epochs of 10 samples)
    assert error["kind"] == "diverged" and 0 < error["step"] <= 3 * 10 * 20
    assert f"diverged at step {error['step']}:" in error["error"]
    assert (out / "failed" / bad / "config.toml").is_file()
    for config in configs[:5]:
        run_dir = out / "runs" / config_hash(config)
        assert (run_dir / "metrics.json").is_file() and (run_dir / "weights_final.npz").is_file()
    assert not [n for n in os.listdir(out / "runs") if n.startswith(".")]  # no partial runs

    again = run_sweep(configs, out, workers=2, progress=False)
    assert again["done"] == [] and again["failed"] == [] and len(again["skipped"]) == 5
    assert again["failed_before"] == [bad]

    retried = run_sweep(configs, out, workers=2, progress=False, retry_failed=True)
    assert len(retried["skipped"]) == 5 and retried["failed"] == [bad]

    rows = report(out)
    assert len(rows) == 5
    assert [(c["seed"], r["step"]) for c, r in collect_failed(out)] == [(9, error["step"])]
    with open(out / "summary.csv") as f:
        table = list(csv.DictReader(f))
    assert {r["seed"] for r in table} == {"1", "2", "3", "4", "5"}
    assert all(float(r["test_mse_final"]) >= 0 for r in table)


def test_sweep_survives_a_killed_worker(tmp_path):
    """A worker killed mid-run: its run is rescheduled, resumes, and all finish.

    On the reference simulator, whose runs checkpoint one by one (a seed batch
    on the compiled backend writes no checkpoints: a killed batch starts over)."""
    from dask.distributed import Client, LocalCluster

    configs = [RunConfig(layers="4-2-1", epochs=40, n_samples=20, seed=s, checkpoint_every=20,
                         backend="nengo") for s in range(4)]
    out = tmp_path / "sweep"
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=50)
    client = Client(cluster)
    killed = {}

    def kill_one_worker():
        runs = out / "runs"
        deadline = time.time() + 120
        while time.time() < deadline:
            partial = [n for n in (os.listdir(runs) if runs.exists() else []) if n.endswith(".running")]
            if any((runs / n / "checkpoint.npz").exists() for n in partial):
                pids = client.run(os.getpid)
                address, pid = sorted(pids.items())[0]
                os.kill(pid, 9)
                killed["pid"] = pid
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker)
    try:
        killer.start()
        summary = run_sweep(configs, out, scheduler=cluster.scheduler_address, progress=False)
        killer.join()
    finally:
        client.close()
        cluster.close()
    assert "pid" in killed, "no worker was killed"
    assert len(summary["done"]) == 4 and summary["failed"] == []
    for config in configs:
        assert (out / "runs" / config_hash(config) / "metrics.json").is_file()


def test_grid_expansion_and_cli(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text('layers = ["2-1", "4-2-1"]\nseed = [1, 2]\nepochs = 2\nn_samples = 10\n')
    from errormc.runs.sweep import load_grid

    fields, _ = load_grid(grid)
    configs = expand(fields)
    assert sorted((c.layers, c.seed) for c in configs) == [("2-1", 1), ("2-1", 2), ("4-2-1", 1), ("4-2-1", 2)]
    assert len({config_hash(c) for c in configs}) == 4
    assert main(["sweep", str(grid), "--out", str(tmp_path / "s"), "--workers", "2", "--quiet"]) == 0
    assert "4 finished" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "summary.csv").is_file()


@pytest.mark.parametrize(
    "text,needle",
    [
        ('layers = "4-2-1"\nepoch = 3\n', "unknown key 'epoch'"),
        ('layers = "4-2-1"\nepochs = "three"\n', "epochs: expected an integer, got 'three'"),
        ('layers = "4-2-1"\ng_api = -0.5\n', "g_api: conductance must be >= 0, got -0.5"),
        ('layers = "4-2-1"\ninit_weights = "/no/such.npz"\n', "init_weights: file '/no/such.npz' does not exist"),
        ('layers = "4-2-1"\nseed = [1, "x"]\n', "seed="),
    ],
)
def test_config_errors_name_key_value_and_exit_2(tmp_path, capsys, text, needle):
    path = tmp_path / "c.toml"
    path.write_text(text)
    verb = ["sweep", str(path), "--out", str(tmp_path / "o")] if "[" in text else ["run", "--config", str(path)]
    assert main(verb) == 2
    err = capsys.readouterr().err
    assert needle in err, err
    assert str(path) in err
    assert not (tmp_path / "o").exists()


def test_config_file_runs_and_repeats_exactly(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('task = "teacher-student"\nlayers = "2-1"\nepochs = 2\nn_samples = 10\nseed = 4\n')
    assert main(["run", "--config", str(path), "--epochs", "3", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    first = json.load(open(tmp_path / "a" / "metrics.json"))
    assert first["epochs"] == 3  # the flag overrides the file
    resolved = tmp_path / "a" / "config.toml"
    assert main(["run", "--config", str(resolved), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    second = json.load(open(tmp_path / "b" / "metrics.json"))
    assert second["test_mse_final"] == first["test_mse_final"]
    assert second["val_mse"] == first["val_mse"]


def test_a_run_scored_without_a_test_mse_is_recorded_done(tmp_path, monkeypatch):
    """The cart-pole scores failures per evaluation, not a test MSE: its finished
    run counts as done, not as failed."""
    from errormc.runs import runner, sweep

    def closed_loop_run(config, out=None, progress=False, force=False):
        os.makedirs(out)
        with open(os.path.join(out, "metrics.json"), "w") as f:
            json.dump({"failures_per_evaluation": [3, 1]}, f)
        return {"failures_per_evaluation": [3, 1]}

    monkeypatch.setattr(runner, "run", closed_loop_run)
    config = RunConfig(task="cartpole", variant="ideal", epochs=1, seed=1)
    result = sweep.execute(config.to_dict(), str(tmp_path))
    assert result["status"] == "done" and result["test_mse_final"] is None
    assert not (tmp_path / "failed").exists()


def test_sweep_batches_the_seeds_of_small_runs_and_runs_large_ones_alone():
    from errormc.benchmarks.paper import fig4
    from errormc.runs.sweep import groups, units

    configs = [RunConfig.from_dict(dict(c, backend="jax"))
               for c in fig4.grid(sizes=[50, 1000], seeds=3, epochs=2)]
    batches = groups(configs)
    # 2 x 2 cells of 3 seeds: only the 50/50 cell (10+50+64+50+64 units) is small
    assert sorted(len(b) for b in batches) == [1] * 9 + [3]
    (small_cell,) = [b for b in batches if len(b) == 3]
    assert {c.layers for c in small_cell} == {"10-50-64"} and units(small_cell[0]) == 238
    # the smallest run left alone, 50/1000, counted by hand: 10 + 50 + 64 + 1000 + 64
    assert min(units(b[0]) for b in batches if len(b) == 1) == 1188
    # the most work first: a 1000/1000 run heads the queue
    assert (batches[0][0].layers, batches[0][0].errors) == ("10-1000-64", "1000-64")
    # the nengo backend never batches
    nengo = [RunConfig.from_dict(dict(c.to_dict(), backend="nengo")) for c in small_cell]
    assert [len(b) for b in groups(nengo)] == [1, 1, 1]


def test_a_task_run_again_keeps_the_finished_run(tmp_path):
    """Dask recomputes a finished task whose worker died; the run is not repeated."""
    config = small(4)
    first = execute(config.to_dict(), str(tmp_path))
    assert first["status"] == "done"
    metrics = tmp_path / "runs" / config_hash(config) / "metrics.json"
    before = (metrics.stat().st_mtime_ns, metrics.read_text())
    again = execute(config.to_dict(), str(tmp_path))
    assert again["status"] == "done"
    assert again["test_mse_final"] == first["test_mse_final"]
    assert (metrics.stat().st_mtime_ns, metrics.read_text()) == before


def test_a_batch_run_again_runs_only_its_unfinished_members(tmp_path):
    first, second = small(5, backend="jax"), small(6, backend="jax")
    done = execute(first.to_dict(), str(tmp_path))
    metrics = tmp_path / "runs" / config_hash(first) / "metrics.json"
    before = (metrics.stat().st_mtime_ns, metrics.read_text())
    results = execute_batch([first.to_dict(), second.to_dict()], str(tmp_path))
    assert [r["status"] for r in results] == ["done", "done"]
    assert results[0]["test_mse_final"] == done["test_mse_final"]
    assert (metrics.stat().st_mtime_ns, metrics.read_text()) == before
    assert (tmp_path / "runs" / config_hash(second) / "metrics.json").is_file()
