"""Every run task through the CLI: rate and spiking networks, digits and MNIST."""

import json

import numpy as np
import pytest

from errormc.cli import main
from errormc.networks.errors import ConfigError


def test_rate_network_learns_digits(tmp_path, capsys):
    out = tmp_path / "digits"
    assert main(["run", "digits", "--n-samples", "300", "--epochs", "3",
                 "--connectivity", "layered", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= metrics["test_accuracy_initial"] + 0.2
    assert "accuracy" in capsys.readouterr().out


def test_spiking_network_honours_fa_and_writes_its_weights(tmp_path, capsys):
    out = tmp_path / "spiking"
    assert main(["run", "teacher-student", "--network", "spiking", "--backward", "fa",
                 "--layers", "4-2-1", "--n-samples", "10", "--n-test", "5", "--epochs", "1",
                 "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    placement = json.loads((out / "placement.json").read_text())
    assert metrics["backend"] == "nengo" and np.isfinite(metrics["test_mse_final"])
    assert placement["backend"] == "nengo"
    # feedback alignment: the backward matrix is the fixed random one the network
    # drew, while the forward decoders it feeds back through have learned
    from errormc.networks import SpikingErrorMicrocircuit

    net = SpikingErrorMicrocircuit([4, 2, 1], backward="fa", seed=56789)
    weights = np.load(out / "weights_final.npz")
    np.testing.assert_array_equal(weights["B1"], net.initial_weights["B1"])
    assert weights["D1"].shape[0] == 2 and weights["D2"].shape[0] == 1
    assert "spiking errormc 4-2-1" in capsys.readouterr().out


def test_mnist_file_absent_says_how_to_get_it(tmp_path, capsys):
    assert main(["run", "digits", "--data", str(tmp_path / "mnist.npz")]) == 2
    err = capsys.readouterr().err
    assert "mnist.npz" in err and "x_train" in err and err.count("\n") == 1


def test_mnist_file_is_read(tmp_path):
    rng = np.random.RandomState(0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=rng.randint(0, 256, (60, 28, 28)), y_train=rng.randint(0, 10, 60),
             x_test=rng.randint(0, 256, (20, 28, 28)), y_test=rng.randint(0, 10, 20))
    from errormc.runs.config import RunConfig

    config = RunConfig(task="digits", data=str(path), epochs=1, n_samples=30)
    assert config.layers == "784-100-10"
    from errormc.runs.runner import task_for

    task = task_for(config)
    assert task.inputs["train"].shape[1] == 784
    assert task.inputs["test"].max() <= 1.0


def test_wrong_layers_for_digits():
    from errormc.runs.config import RunConfig
    from errormc.runs.runner import run

    with pytest.raises(ConfigError, match="layers: 64-5-3 does not fit the data"):
        run(RunConfig(task="digits", layers="64-5-3", epochs=1, n_samples=20))


def test_loihi_backend_means_the_spiking_network(capsys):
    from errormc.runs.config import RunConfig

    config = RunConfig(task="digits", backend="loihi")
    assert (config.network, config.layers) == ("spiking", "64-10")
    assert main(["run", "digits", "--network", "rate", "--backend", "loihi"]) == 2
    assert "backend: 'loihi' is not one of nengo, jax for the rate network" in capsys.readouterr().err
