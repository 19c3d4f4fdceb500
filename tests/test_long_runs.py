"""Long runs: checkpoints, bitwise resume after SIGKILL/SIGTERM, divergence guard."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from errormc.runs.checkpoint import read_checkpoint
from errormc.runs.config import RunConfig
from errormc.runs.results import working_dir
from errormc.runs.runner import Diverged, run

RUN = ["--layers", "4-2-1", "--epochs", "60", "--n-samples", "20", "--seed", "3",
       "--checkpoint-every", "40", "--quiet"]


def errormc(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "errormc.cli", *args], **kwargs)


def wait_for_checkpoints(directory, count, process, timeout=120):
    path = os.path.join(working_dir(directory), "checkpoint.npz")
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        if os.path.exists(path):
            try:
                info = read_checkpoint(path)[2]
            except (ValueError, OSError, KeyError, EOFError):
                info = {}  # being replaced right now
            if info.get("checkpoints", 0) >= count:
                return info
        time.sleep(0.005)
    raise AssertionError("no checkpoint appeared")


def final_weights(directory):
    with np.load(os.path.join(directory, "weights_final.npz")) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("full") / "run")
    assert errormc("run", *RUN, "--out", out).wait() == 0
    return out


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_interrupted_and_resumed_run_ends_bitwise_equal(how, uninterrupted, tmp_path):
    out = str(tmp_path / "run")
    process = errormc("run", *RUN, "--out", out, stderr=subprocess.PIPE, text=True)
    info = wait_for_checkpoints(out, 2, process)
    process.send_signal(getattr(signal, how))
    _, err = process.communicate(timeout=60)
    if how == "SIGTERM":
        # a checkpoint is written on the way out, with a hint how to continue
        assert process.returncode == 130
        assert "--resume" in err
        assert read_checkpoint(os.path.join(working_dir(out), "checkpoint.npz"))[2]["steps"] >= info["steps"]
    # an unfinished run is not at --out: that holds complete runs only
    assert not os.path.exists(out)
    assert errormc("run", "--resume", out, "--quiet").wait() == 0
    ours, reference = final_weights(out), final_weights(uninterrupted)
    assert sorted(ours) == sorted(reference)
    for name in reference:
        np.testing.assert_array_equal(ours[name], reference[name], err_msg=name)
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["resumed"] is True
    assert metrics["test_mse_final"] == json.load(open(os.path.join(uninterrupted, "metrics.json")))["test_mse_final"]
    assert not os.path.exists(os.path.join(out, "checkpoint.npz"))
    assert not os.path.exists(working_dir(out))


def test_divergence_guard_names_area_and_step_and_keeps_checkpoint(tmp_path):
    config = RunConfig(layers="4-2-1", epochs=5, n_samples=20, seed=1, eta="1000,1000",
                       activation="linear", weight_bound=50.0, checkpoint_every=10)
    out = tmp_path / "diverging"
    with pytest.raises(Diverged, match=r"diverged at step \d+: W of area \d has") as info:
        run(config, out=str(out))
    work = working_dir(out)
    assert "failed.json" in str(info.value)
    failed = json.load(open(os.path.join(work, "failed.json")))
    assert failed["kind"] == "diverged" and "area" in failed["error"]
    step = int(str(info.value).split("step ")[1].split(":")[0])
    assert failed["step"] == info.value.step == step
    # the step survives the trip from a sweep's worker process
    assert pickle.loads(pickle.dumps(info.value)).step == step
    # the last good checkpoint is kept: its weights are within the bound
    sim_arrays, _, meta = read_checkpoint(os.path.join(work, "checkpoint.npz"))
    assert meta["steps"] < step
    assert not out.exists()


def test_resume_of_finished_or_missing_run_is_an_error(tmp_path, uninterrupted, capsys):
    from errormc.cli import main

    assert main(["run", "--resume", str(tmp_path / "nothing")]) == 2
    assert "no unfinished run" in capsys.readouterr().err
    assert main(["run", "--resume", uninterrupted]) == 2
    assert "already finished" in capsys.readouterr().err


BATCH = """
import sys
from errormc.runs.config import RunConfig
from errormc.runs.runner import run_batch
configs = [RunConfig(layers="4-2-1", epochs=60, n_samples=20, seed=s, checkpoint_every=40,
                     backend="jax") for s in (3, 4)]
run_batch(configs, sys.argv[1:])
"""


def test_killed_seed_batch_resumes_from_its_members_checkpoints_bitwise(tmp_path):
    """A seed batch on the compiled backend killed mid-run continues from the
    checkpoints of its members and ends as an uninterrupted batch, bit for bit."""
    reference = [str(tmp_path / "full" / s) for s in ("3", "4")]
    assert subprocess.run([sys.executable, "-c", BATCH, *reference]).returncode == 0
    outs = [str(tmp_path / "killed" / s) for s in ("3", "4")]
    process = subprocess.Popen([sys.executable, "-c", BATCH, *outs])
    steps = wait_for_checkpoints(outs[1], 2, process)["steps"]
    process.kill()
    process.wait()
    assert not any(os.path.exists(out) for out in outs)
    # each run said how far it got (what a sweep's progress bar reads): in
    # lockstep, but written one member after the other, so the kill may fall
    # between the two records of one epoch
    done = [json.load(open(os.path.join(working_dir(out), "progress.json"))) for out in outs]
    assert [d["epochs"] for d in done] == [60, 60]
    assert 0 <= done[0]["epochs_done"] - done[1]["epochs_done"] <= 1
    assert 0 < done[1]["epochs_done"] and done[0]["epochs_done"] < 60
    assert subprocess.run([sys.executable, "-c", BATCH, *outs]).returncode == 0
    for out, ref in zip(outs, reference):
        ours, theirs = final_weights(out), final_weights(ref)
        for name in theirs:
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
        metrics = json.load(open(os.path.join(out, "metrics.json")))
        assert metrics["resumed"] is True
        assert metrics["test_mse_final"] == json.load(open(os.path.join(ref, "metrics.json")))["test_mse_final"]
        assert not os.path.exists(working_dir(out))
        assert not os.path.exists(os.path.join(out, "progress.json"))
    assert 0 < steps < metrics["steps"]
