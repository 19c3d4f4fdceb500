"""Every run task through the CLI: rate and spiking networks, digits and MNIST."""

import json

import numpy as np
import pytest

from errormc.cli import main


def test_rate_network_learns_digits(tmp_path, capsys):
    out = tmp_path / "digits"
    assert main(["run", "digits", "--n-samples", "300", "--epochs", "3",
                 "--connectivity", "layered", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= metrics["test_accuracy_initial"] + 0.2
    assert "accuracy" in capsys.readouterr().out


def test_spiking_network_runs_through_the_cli(tmp_path, capsys):
    out = tmp_path / "spiking"
    assert main(["run", "teacher-student", "--network", "spiking", "--n-samples", "10",
                 "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    placement = json.loads((out / "placement.json").read_text())
    assert metrics["backend"] == "nengo" and np.isfinite(metrics["test_mse"])
    assert placement is not None
    assert "spiking" in capsys.readouterr().out


def test_mnist_file_absent_says_how_to_get_it(tmp_path, capsys):
    assert main(["run", "digits", "--data", str(tmp_path / "mnist.npz")]) == 2
    err = capsys.readouterr().err
    assert "mnist.npz" in err and "x_train" in err and err.count("\n") == 1


def test_mnist_file_is_read(tmp_path):
    rng = np.random.RandomState(0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=rng.randint(0, 256, (60, 28, 28)), y_train=rng.randint(0, 10, 60),
             x_test=rng.randint(0, 256, (20, 28, 28)), y_test=rng.randint(0, 10, 20))
    from errormc.benchmarks.config import RunConfig

    config = RunConfig(task="digits", data=str(path), epochs=1, n_samples=30)
    assert config.layers == "784-100-10"
    from errormc.benchmarks.runner import rate_task

    task = rate_task(config)
    assert task.inputs["train"].shape[1] == 784
    assert task.inputs["test"].max() <= 1.0


def test_wrong_layers_for_digits():
    from errormc.benchmarks.config import RunConfig
    from errormc.benchmarks.runner import run

    with pytest.raises(ValueError, match="layers: 64-5-3 does not fit the data"):
        run(RunConfig(task="digits", layers="64-5-3", epochs=1, n_samples=20))


def test_loihi_backend_means_the_spiking_network(capsys):
    from errormc.benchmarks.config import RunConfig

    config = RunConfig(task="digits", backend="loihi")
    assert (config.network, config.layers) == ("spiking", "64-10")
    assert main(["run", "digits", "--network", "rate", "--backend", "loihi"]) == 2
    assert "backend: 'loihi' cannot run the rate network" in capsys.readouterr().err
