"""The command line: each verb writes what it promises."""

import json
import os
import subprocess
import sys

import numpy as np

from errormc.cli import main
from .test_traces import TRACES, stored_weights


def test_run_writes_results_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "teacher-student", "--layers", "4-2-1", "--epochs", "3",
                 "--n-samples", "20", "--seed", "5", "--out", str(out), "--quiet"]) == 0
    assert "test MSE" in capsys.readouterr().out
    for name in ("config.toml", "metrics.json", "weights_final.npz", "learning_curve.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("test_mse_initial", "test_mse_final", "val_mse", "steps", "wall_s"):
        assert key in metrics
    # settle 400 + 3 x 400 training + 1 validation (every E/10 epochs from 0:
    # only epoch 0 for E = 3) + test 400, then the untrained control: settle,
    # train, validation, test
    assert metrics["val_epochs"] == [0]
    assert metrics["steps"] == (400 + 3 * 400 + 400 + 400) + 4 * 400
    weights = np.load(out / "weights_final.npz")
    assert weights["W"].shape == (7, 7)


def test_replay_cli_reproduces_trace(tmp_path, data_path):
    t = np.load(data_path(TRACES["421_skip"]["file"]))
    np.savez(tmp_path / "w.npz", **stored_weights(t, "skip"))
    targets = np.where(t["target_injected"][:, None], t["target"], np.nan)
    np.savez(tmp_path / "s.npz", inputs=t["input"], targets=targets, learn=t["plastic"])
    out = tmp_path / "replay"
    argv = ["replay", "--layers", "4-2-1", "--connectivity", "skip", "--backward", "bp",
            "--eta", "2,0.2", "--init-weights", str(tmp_path / "w.npz"),
            "--stimulus", str(tmp_path / "s.npz"), "--out", str(out)]
    assert main(argv) == 0
    trace = np.load(out / "trace.npz")
    np.testing.assert_allclose(trace["output_rates"], t["out_rate"], atol=1e-12)
    np.testing.assert_allclose(trace["W"], t["final_WPP_0"], atol=1e-12)
    assert trace["err_rates1"].shape == (800, 2)


def test_check_bp_json(capsys):
    assert main(["check-bp", "--layers", "8-4-2-1", "--g-api", "0.0006", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["angles_deg"]) == 3
    assert max(result["angles_deg"]) <= 1.0
    assert result["max_rel_delta_error"] <= 1e-4


def test_console_script_installed():
    """The ``errormc`` script pip puts beside the interpreter, not ``python -m``."""
    script = os.path.join(os.path.dirname(sys.executable), "errormc")
    assert os.path.isfile(script) and os.access(script, os.X_OK), script
    proc = subprocess.run([script, "check-bp", "--layers", "4-2-1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "angle" in proc.stdout
    proc = subprocess.run([script, "run", "teacher-student", "--layers", "4--2"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "layers" in proc.stderr
