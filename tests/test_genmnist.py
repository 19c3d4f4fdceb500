"""genmnist (MODEL.md 3.5): the task's sequence, the authors' check value, MNIST from a file."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits

from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import TeacherStudentProtocol
from errormc.runs.runner import train as run_rate
from errormc.benchmarks.tasks.genmnist import GenMNISTTask
from errormc.networks.errors import ConfigError


def test_sequence_is_one_image_per_digit_in_order():
    task = GenMNISTTask([10, 20, 64], seed=0)
    data = load_digits()
    P = task.steps_per_sample
    x, t = task.inputs["train"], task.targets()["train"]
    assert x.shape == (10 * P, 10) and t.shape == (10 * P, 64)
    for i in range(10):
        digit = int(np.argmax(x[i * P]))
        first = int(np.flatnonzero(data.target == digit)[0])
        assert np.all(x[i * P : (i + 1) * P] == np.eye(10)[digit])
        np.testing.assert_array_equal(t[i * P : (i + 1) * P], np.tile(data.data[first] / 16, (P, 1)))
    # dataset order: the first ten 8x8 digits are 0..9
    assert [int(np.argmax(x[i * P])) for i in range(10)] == list(range(10))
    for split in ("val", "test"):
        np.testing.assert_array_equal(task.inputs[split], x)
        np.testing.assert_array_equal(task.targets()[split], t)


def test_no_shuffle_no_delay():
    task = GenMNISTTask([10, 20, 64], seed=0)
    protocol = TeacherStudentProtocol(task, 2, "reference")
    state = protocol.start()
    before = protocol.rng.get_state()[1].copy()
    x, t = protocol._shuffle(state, "train")
    np.testing.assert_array_equal(x, task.inputs["train"])
    np.testing.assert_array_equal(t, task.targets()["train"])
    np.testing.assert_array_equal(protocol.rng.get_state()[1], before)  # no draw


def test_authors_check_value(data_path):
    with open(data_path("paper_checks_genmnist.json")) as f:
        check = json.load(f)["genmnist_digits8x8"]
    config = RunConfig(task="genmnist", layers="10-50-64", errors="50-64", epochs=2, seed=56789,
                       protocol="reference")
    metrics, _ = run_rate(config)
    assert metrics["test_mse_final"] == pytest.approx(check["test_mse_mean_all_200_steps"],
                                                      rel=1e-12)


def test_mnist_from_a_local_file(tmp_path):
    rng = np.random.RandomState(1)
    labels = np.array([5, 0, 4, 1, 9, 2, 1, 3, 6, 7, 8, 0] + [3] * 990)
    images = rng.randint(0, 256, (len(labels), 28, 28)).astype(np.uint8)
    images[0, 0, 0] = 255
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=images, y_train=labels, x_test=images[:2], y_test=labels[:2])
    task = GenMNISTTask([10, 30, 784], seed=0, data=str(path))
    assert list(task.order) == [5, 0, 4, 1, 9, 2, 3, 6, 7, 8]
    P = task.steps_per_sample
    first = {d: int(np.flatnonzero(labels == d)[0]) for d in range(10)}
    for i, d in enumerate(task.order):
        np.testing.assert_allclose(task.targets()["train"][i * P], images[first[d]].ravel() / 255)
        assert np.argmax(task.inputs["train"][i * P]) == d


def test_user_errors(tmp_path):
    with pytest.raises(ConfigError, match="data: file .*mnist.npz.*Download"):
        RunConfig(task="genmnist", data=str(tmp_path / "mnist.npz"))
    with pytest.raises(ConfigError, match="layers: 10-20-10 does not fit genmnist"):
        GenMNISTTask([10, 20, 10], seed=0)
    with pytest.raises(ConfigError, match="n_samples"):
        RunConfig(task="genmnist", n_samples=5)
