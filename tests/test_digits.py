"""Digits task: data loading, MNIST file errors, a short spiking smoke test."""

import numpy as np
import pytest

from errormc.benchmarks.tasks.digits import load_digits_task, load_mnist
from errormc.networks.errors import ConfigError
from errormc.networks.spiking import SpikingErrorMicrocircuit
from errormc.runs.config import RunConfig
from errormc.runs.runner import run


def run_digits(n_samples, n_test, epochs):
    """The spiking network on digits through the one runner."""
    return run(dict(task="digits", network="spiking", n_samples=n_samples, n_test=n_test,
                    epochs=epochs))


def test_digits_split_is_fixed_by_seed():
    a = load_digits_task(seed=0)
    assert a["x_train"].shape == (1258, 64) and a["x_test"].shape == (539, 64)
    assert a["x_train"].min() == 0.0 and a["x_train"].max() == 1.0
    assert np.array_equal(a["y_test"].argmax(1), a["labels_test"])
    assert np.allclose(a["y_train"].sum(1), 1.0)
    b = load_digits_task(seed=0, n_train=100, n_test=50)
    assert np.array_equal(b["x_train"], a["x_train"][:100])
    c = load_digits_task(seed=1, n_train=100)
    assert not np.array_equal(c["x_train"], b["x_train"])
    # train and test never share an image index (no duplicates across the split)
    rows = {r.tobytes() for r in a["x_test"]}
    assert sum(r.tobytes() in rows for r in a["x_train"]) < 5  # (digits has few exact duplicates)
    with pytest.raises(ConfigError, match="n_train"):
        load_digits_task(n_train=5000)


def test_mnist_missing_file_names_path(tmp_path):
    path = tmp_path / "mnist.npz"
    with pytest.raises(ConfigError, match="mnist.npz.*not found.*Download"):
        load_mnist(path)
    np.savez(path, x_train=np.zeros((3, 28, 28)))
    with pytest.raises(ConfigError, match="lacks array"):
        load_mnist(path)
    rng = np.random.RandomState(0)
    np.savez(
        path,
        x_train=rng.randint(0, 256, (5, 28, 28)),
        y_train=np.arange(5),
        x_test=rng.randint(0, 256, (2, 28, 28)),
        y_test=np.array([3, 1]),
    )
    d = load_mnist(path)
    assert d["x_train"].shape == (5, 784) and d["x_train"].max() <= 1.0
    assert d["labels_test"].tolist() == [3, 1]


def test_digits_spiking_smoke():
    """A short run: the spiking network learns above chance (0.1) on held-out digits.

    (200 presentations only; measured 0.36. The full split is a slow benchmark run.)
    """
    m = run_digits(n_samples=200, n_test=100, epochs=1)
    assert m["test_accuracy"] >= 0.25, m["test_accuracy"]
    assert m["test_accuracy"] > m["test_accuracy_initial"] + 0.15
    assert m["layers"] == "64-10" and m["task"] == "digits"


@pytest.mark.slow
def test_digits_spiking_learns_the_full_split_to_70_percent_on_reference_simulator():
    """The benchmark run (about 5 minutes on 2 cores): every training image three times.

    Same as ``errormc run digits --network spiking --n-samples 1258 --epochs 3``
    (the default seed): measured 76.3% (2026-12-04, ce966de; 72.2% before the input
    population's eval points were fixed); seed 0 gives 85.5%, so one seed says little.
    Not more epochs: at the digits rate (0.03) longer training loses accuracy (seed 0:
    81.3% after 10), 0.01 for 6 epochs gives 84.2% (seed 0); the 64-10 network with 10 neurons per pixel has not reached 90%.
    """
    metrics = run_digits(n_samples=1258, n_test=539, epochs=3)
    assert metrics["test_accuracy"] >= 0.70


def test_digits_spiking_default_rate_serves_a_hidden_area():
    """The spiking digits default (one rate, eta = "0.03") reaches every area of a
    network with a hidden area, as one rate on the command line does."""
    config = RunConfig.from_dict(dict(task="digits", network="spiking", layers="64-16-10"))
    net = SpikingErrorMicrocircuit(**config.spiking_kwargs())
    assert net.eta.tolist() == [0.03, 0.03]
