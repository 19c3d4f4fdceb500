"""Bad input gets a clear error naming the field and the value."""

import numpy as np
import pytest

from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import replay
from errormc.cli import main
from errormc.networks import ErrorMicrocircuit
from errormc.networks.initialization import initial_state

API_CASES = [
    (dict(layers=[4]), "layers"),
    (dict(layers=[4, 0, 1]), "layers"),
    (dict(layers=[4, -2, 1]), "layers"),
    (dict(layers=[4, 2, 1], activation="swish"), "activation"),
    (dict(layers=[4, 2, 1], activation="tanh,tanh,tanh"), "activation"),
    (dict(layers=[4, 2, 1], connectivity="ring"), "connectivity"),
    (dict(layers=[4, 2, 1], backward="pal"), "backward"),
    (dict(layers=[4, 2, 1], g_api=-0.1), "g_api"),
    (dict(layers=[4, 2, 1], g_l=float("nan")), "g_l"),
    (dict(layers=[4, 2, 1], eta=[-1.0, 0.2]), "eta"),
    (dict(layers=[4, 2, 1], eta=[1.0, 0.2, 0.1]), "eta"),
    (dict(layers=[4, 2, 1], eta_lateral=-1.0), "eta_lateral"),
]


@pytest.mark.parametrize("kwargs,field", API_CASES)
def test_network_rejects_bad_parameters(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ErrorMicrocircuit(**kwargs)


def test_run_config_rejects_bad_values():
    for kwargs, field in [
        (dict(dt=-0.01), "dt"),
        (dict(epochs=0), "epochs"),
        (dict(protocol="fast"), "protocol"),
        (dict(task="chess"), "task"),
        (dict(model="gpt"), "model"),
        (dict(init_weights="/no/such/file.npz"), "init_weights"),
        (dict(eta="1,x"), "eta"),
    ]:
        with pytest.raises(ValueError, match=field):
            RunConfig(**kwargs)


def test_init_weights_missing_array_or_wrong_shape(tmp_path):
    w = initial_state([4, 2, 1], seed=1)
    missing = {k: v for k, v in w.items() if k != "WIP2"}
    np.savez(tmp_path / "missing.npz", **missing)
    with pytest.raises(ValueError, match="missing array 'WIP2'"):
        ErrorMicrocircuit([4, 2, 1], weights=str(tmp_path / "missing.npz"))
    wrong = dict(w, W=np.zeros((6, 6)))
    np.savez(tmp_path / "wrong.npz", **wrong)
    with pytest.raises(ValueError, match=r"'W' has shape \(6, 6\), expected \(7, 7\)"):
        ErrorMicrocircuit([4, 2, 1], weights=str(tmp_path / "wrong.npz"))
    with pytest.raises(ValueError, match="does not exist"):
        ErrorMicrocircuit([4, 2, 1], weights=str(tmp_path / "absent.npz"))


def test_nan_in_stimulus():
    inputs = np.zeros((5, 4))
    inputs[3, 1] = np.nan
    with pytest.raises(ValueError, match="inputs: NaN or inf at step 3"):
        replay(inputs, layers=[4, 2, 1])
    targets = np.zeros((5, 1))
    with pytest.raises(ValueError, match="targets: shape"):
        replay(np.zeros((5, 4)), np.zeros((4, 1)), layers=[4, 2, 1])
    with pytest.raises(ValueError, match="learn: shape"):
        replay(np.zeros((5, 4)), targets, np.ones(3), layers=[4, 2, 1])


CLI_CASES = [
    (["run", "--layers", "4"], "layers"),
    (["run", "--layers", "4-0-1"], "layers"),
    (["run", "--activation", "swish"], "activation"),
    (["run", "--connectivity", "ring"], "connectivity"),
    (["run", "--g-api", "-1"], "g_api"),
    (["run", "--dt", "-0.01"], "dt"),
    (["run", "--eta", "-1,0.2"], "eta"),
    (["run", "--init-weights", "/no/such.npz"], "init_weights"),
    (["run", "--epochs", "zero"], "epochs"),
    (["check-bp", "--layers", "8-4-2-1", "--backward", "pal"], "backward"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize("argv,field", CLI_CASES)
def test_cli_bad_input_exits_2_with_one_line(argv, field, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert field in err
    assert "Traceback" not in err


def test_cli_replay_bad_stimulus(tmp_path, capsys):
    w = initial_state([4, 2, 1], seed=1)
    np.savez(tmp_path / "w.npz", **w)
    inputs = np.zeros((4, 4))
    inputs[2, 0] = np.nan
    np.savez(tmp_path / "s.npz", inputs=inputs)
    argv = ["replay", "--layers", "4-2-1", "--init-weights", str(tmp_path / "w.npz"),
            "--stimulus", str(tmp_path / "s.npz"), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "NaN" in err and err.count("\n") == 1
