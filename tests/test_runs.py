"""Runs never lose or misdescribe results; every flag is honoured or refused."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import nengo
import numpy as np
import pytest

from errormc.benchmarks.protocol import Session
from errormc.cli import build_parser, main
from errormc.hardware import Simulator
from errormc.networks import ErrorMicrocircuit
from errormc.networks.errors import ConfigError
from errormc.runs.checkpoint import read_checkpoint
from errormc.runs.config import RunConfig
from errormc.runs.results import working_dir

SMALL = ["teacher-student", "--layers", "2-1", "--epochs", "2", "--n-samples", "10", "--quiet"]
SPIKING = ["teacher-student", "--network", "spiking", "--layers", "4-2-1", "--backward", "fa",
           "--epochs", "2", "--n-samples", "16", "--n-test", "4", "--checkpoint-every", "4",
           "--quiet"]


def tree(path):
    """{relative path: bytes} of every file below ``path``."""
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            out[os.path.relpath(full, path)] = open(full, "rb").read()
    return out


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("errormc: error: "), err
    return err


def test_a_finished_run_directory_is_never_overwritten(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["run", *SMALL, "--out", out]) == 0
    before = tree(out)
    assert main(["run", *SMALL, "--seed", "7", "--out", out]) == 2
    assert "holds a finished run" in one_error_line(capsys)
    assert tree(out) == before
    # --force replaces it, and only with a complete run
    assert main(["run", *SMALL, "--seed", "7", "--out", out, "--force"]) == 0
    assert 'seed = 7' in open(os.path.join(out, "config.toml")).read()
    assert not os.path.exists(working_dir(out))


def test_a_failed_rerun_leaves_the_finished_run_as_it_was(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["run", *SMALL, "--out", out]) == 0
    before = tree(out)
    # diverges: the failure is recorded beside, the finished run stays whole
    assert main(["run", *SMALL, "--out", out, "--force", "--eta", "1e6",
                 "--activation", "linear", "--weight-bound", "10"]) == 2
    err = one_error_line(capsys)
    assert "diverged" in err and "failed.json" in err
    assert tree(out) == before
    assert os.path.isfile(os.path.join(working_dir(out), "failed.json"))


@pytest.mark.parametrize("out", ["/proc/x", "/proc/x/y", "FILE", "FILE/sub"])
def test_unwritable_outputs_are_refused_before_computing(out, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = out.replace("FILE", str(afile))
    for argv in (["energy", "teacher-student", "--out", out], ["run", *SMALL, "--out", out],
                 ["bench", "speed", "--out", out], ["paper", "fig3", "--quick", "--out", out]):
        t0 = time.perf_counter()
        assert main(argv) == 2, argv
        assert time.perf_counter() - t0 < 5, argv
        one_error_line(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    assert main(["energy", "teacher-student", "--out", str(folder / "x")]) == 2
    assert "cannot write" in one_error_line(capsys)


@pytest.mark.parametrize("argv, field", [
    (["--layers", "8--4"], "layers"),
    (["--layers", "4-2-"], "layers"),
    (["--layers", "100000-1"], "GiB"),
    (["--n-test", "5"], "n_test"),
    (["--neurons-per-unit", "5"], "neurons_per_unit"),
    (["--model", "ann", "--wt-noise", "0.2"], "wt_noise"),
    (["--model", "ann", "--connectivity", "skip"], "connectivity"),
    (["--model", "sacramento2018", "--errors", "2-1"], "errors"),
    (["--network", "spiking", "--lateral-noise", "0.1"], "lateral_noise"),
    (["--network", "spiking", "--eta-lateral", "0.1"], "eta_lateral"),
    (["--network", "spiking", "--protocol", "reference"], "protocol"),
    (["--network", "spiking", "--backend", "loihi", "--checkpoint-every", "5"],
     "checkpoint_every"),
    (["--compare", "bp", "--model", "ann"], "compare"),
])
def test_flags_a_run_does_not_use_are_refused_by_name(argv, field, tmp_path, capsys):
    t0 = time.perf_counter()
    assert main(["run", "teacher-student", *argv, "--out", str(tmp_path / "r")]) == 2
    assert field in one_error_line(capsys)
    assert time.perf_counter() - t0 < 5
    assert not (tmp_path / "r").exists()


def test_resume_takes_no_other_settings(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path), "--epochs", "50"]) == 2
    assert "epochs: --resume continues" in one_error_line(capsys)


def test_check_bp_has_no_learning_flags(capsys):
    assert main(["check-bp", "--eta", "1"]) == 2
    one_error_line(capsys)
    assert main(["check-bp", "--init-weights", "w.npz"]) == 2
    one_error_line(capsys)


def test_config_records_only_what_the_run_used():
    rate = RunConfig(layers="4-2-1").to_toml()
    spiking = RunConfig(network="spiking").to_toml()
    assert "lateral_noise" in rate and "neurons_per_unit" not in rate
    for field in ("lateral_noise", "eta_lateral", "phi_transfer", "error_activation"):
        assert field not in spiking
    assert "neurons_per_unit = 50" in spiking and "dt = 0.001" in spiking
    ann = RunConfig(model="ann").to_toml()
    assert 'connectivity = "layered"' in ann and "wt_noise" not in ann


def test_spiking_conductances_are_honoured(tmp_path):
    base = ["teacher-student", "--network", "spiking", "--epochs", "1", "--n-samples", "4",
            "--n-test", "3", "--quiet"]
    assert main(["run", *base, "--out", str(tmp_path / "a")]) == 0
    assert main(["run", *base, "--g-api", "0.5", "--out", str(tmp_path / "b")]) == 0
    a, b = (json.load(open(tmp_path / d / "metrics.json")) for d in "ab")
    assert a["test_mse_final"] != b["test_mse_final"]
    assert "g_api = 0.5" in open(tmp_path / "b" / "config.toml").read()


def test_spiking_fa_run_checkpoints_and_resumes_bitwise_after_sigint(tmp_path):
    """`errormc run teacher-student --network spiking --backward fa --layers 4-2-1`:
    interrupted by SIGINT, it keeps a checkpoint, and `--resume` ends with the same
    weights, bit for bit, as a run that was not interrupted."""
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    script = os.path.join(os.path.dirname(sys.executable), "errormc")
    assert subprocess.run([script, "run", *SPIKING, "--out", full]).returncode == 0
    process = subprocess.Popen([script, "run", *SPIKING, "--out", part],
                               stderr=subprocess.PIPE, text=True)
    checkpoint = os.path.join(working_dir(part), "checkpoint.npz")
    deadline = time.time() + 120
    while not os.path.exists(checkpoint) and time.time() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert f"errormc run --resume {part}\n" in err
    assert read_checkpoint(checkpoint)[2]["steps"] > 0
    assert subprocess.run([script, "run", "--resume", part, "--quiet"]).returncode == 0
    with np.load(os.path.join(full, "weights_final.npz")) as a, \
            np.load(os.path.join(part, "weights_final.npz")) as b:
        assert sorted(a.files) == sorted(b.files) == ["B1", "D1", "D2"]
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_sweep_input_is_checked_before_it_starts(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text('layers = ["2-1", "2-1"]\nepochs = 1\nn_samples = 5\n')
    for flags, field in ((["--workers", "-2"], "workers"), (["--workers", "0"], "workers"),
                         (["--scheduler", "tcp://127.0.0.1:1"], "scheduler")):
        t0 = time.perf_counter()
        assert main(["sweep", str(grid), "--out", str(tmp_path / "s"), *flags]) == 2
        assert field in one_error_line(capsys)
        assert time.perf_counter() - t0 < 15
    bad = tmp_path / "bad.toml"
    bad.write_text('layers = "2-1"\n[sweep]\nbenchmark = "fig9"\n')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "s")]) == 2
    assert "fig9" in one_error_line(capsys)


@pytest.mark.parametrize("kind", ["nan", "range", "npy", "text", "strings"])
def test_bad_data_files_get_one_line_naming_the_file(kind, tmp_path, capsys):
    path = tmp_path / ("data.npy" if kind == "npy" else "data.npz")
    rng = np.random.RandomState(0)
    arrays = dict(x_train=rng.rand(20, 8, 8), y_train=rng.randint(0, 10, 20),
                  x_test=rng.rand(5, 8, 8), y_test=rng.randint(0, 10, 5))
    if kind == "nan":
        arrays["x_train"][3, 2, 1] = np.nan
    if kind == "range":
        arrays["y_test"][0] = 12
    if kind == "strings":
        arrays["y_train"] = np.array(["a"] * 20)
    if kind == "npy":
        np.save(path, arrays["x_train"])
    elif kind == "text":
        path.write_text("not a data file\n")
    else:
        np.savez(path, **arrays)
    assert main(["run", "digits", "--data", str(path), "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "r")]) == 2
    assert str(path) in one_error_line(capsys)
    # the same reader serves replay's stimulus files
    if kind in ("npy", "text"):
        assert main(["replay", "--layers", "64-10", "--init-weights", str(path),
                     "--stimulus", str(path), "--out", str(tmp_path / "t")]) == 2
        one_error_line(capsys)


def test_internal_failures_keep_their_traceback(monkeypatch):
    from errormc import cli

    def broken(*args, **kwargs):
        raise ValueError("a bug, not the user's input")

    monkeypatch.setattr(cli, "run", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["run", *SMALL])


def test_every_flag_says_its_default():
    parser = build_parser()
    plain = {"help", "version", "task", "config", "resume", "out", "force", "quiet", "json",
             "stimulus", "grid", "dir", "what", "figure", "retry_failed", "compare", "data",
             "init_weights", "errors", "error_activation", "phi_transfer"}
    verbs = parser._subparsers._group_actions[0].choices  # pylint: disable=protected-access
    for verb, sub in verbs.items():
        for action in sub._actions:  # pylint: disable=protected-access
            switch = action.nargs == 0  # a flag without a value is off unless given
            if action.dest in plain or switch:
                assert action.help, (verb, action.dest)
                continue
            assert action.help and "default" in action.help, (verb, action.dest)


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("errormc 0.")


def test_simulator_takes_the_time_step_from_the_network():
    with nengo.Network() as model:
        net = ErrorMicrocircuit([2, 1], input=nengo.Node([0.5, 0.5]), target=[0.1])
    with Simulator(model) as sim:
        assert sim.dt == net.dt == 0.01
    with pytest.raises(ConfigError, match="dt: the network declares no time step"):
        Simulator(nengo.Network())


def session_steps():
    build = lambda **nodes: ErrorMicrocircuit(layers=[4, 2, 1], seed=3, **nodes)  # noqa: E731
    session = Session(build, 4, 1)
    rng = np.random.RandomState(0)
    return session, rng.uniform(0, 1, (60, 4)), rng.uniform(-0.5, 0.5, (60, 1))


def test_inputs_are_a_process_that_sim_reset_starts_over():
    session, x, t = session_steps()
    with session:
        first = session.run(x, t)["output"]
        session.sim.reset()
        session.sim.run_steps(len(x))
        again = np.array(session.sim.data[session.probes["output"]])
    np.testing.assert_array_equal(first, again)


def test_a_built_session_pickles_and_continues_identically():
    session, x, t = session_steps()
    with session:
        session.run(x[:30], t[:30])
        copy = pickle.loads(pickle.dumps(session.sim))
        session.sim.run_steps(30)
        copy.run_steps(30)
        np.testing.assert_array_equal(session.sim.data[session.probes["output"]][-30:],
                                      copy.data[copy.model.probes[0]][-30:])
        copy.close()


def test_seeds_batched_on_the_compiled_backend_equal_single_reference_runs(tmp_path):
    """Runs that differ only in their seed run as one vmapped program, each into its
    own directory, with the results of single runs on the reference simulator."""
    from errormc.runs.runner import run, run_batch

    configs = [RunConfig(layers="4-2-1", seed=s, epochs=2, n_samples=10, backend="jax")
               for s in (1, 2, 3)]
    outs = [str(tmp_path / f"seed{c.seed}") for c in configs]
    batched = run_batch(configs, outs)
    for config, out, metrics in zip(configs, outs, batched):
        reference = run(dict(config.to_dict(), backend="nengo"))
        assert metrics["batch"] == 3
        for key in ("test_mse_final", "test_mse_initial"):
            assert metrics[key] == pytest.approx(reference[key], rel=1e-9, abs=0), key
        saved = json.load(open(os.path.join(out, "metrics.json")))
        assert saved["test_mse_final"] == metrics["test_mse_final"]
        assert "seed = %d" % config.seed in open(os.path.join(out, "config.toml")).read()
    with pytest.raises(ConfigError, match="differ only in their seed"):
        run_batch([configs[0], RunConfig(layers="2-1", seed=5, backend="jax")],
                  [outs[0], str(tmp_path / "x")])
