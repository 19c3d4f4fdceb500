"""Digit classification: scikit-learn's bundled 8x8 digits, and MNIST from a local file.

Inputs are rates in [0, 1] (pixel / max pixel), targets one-hot over 10 classes.
"""

import os

import numpy as np

from errormc.networks.errors import ConfigError

from ..datafiles import read_npz
from ..metrics import accuracy, sample_readout

N_CLASSES = 10

MNIST_HELP = (
    "MNIST is not bundled. Download keras' mnist.npz (arrays x_train, y_train, x_test, "
    "y_test), e.g. from https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz, "
    "and pass its path (errormc run digits --data PATH)."
)


def one_hot(labels, n_classes=N_CLASSES):
    labels = np.asarray(labels, dtype=int)
    out = np.zeros((len(labels), n_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def _check_count(value, field, available):
    if value is None:
        return available
    if int(value) != value or value <= 0:
        raise ConfigError(f"{field}: must be a positive integer, got {value!r}")
    if value > available:
        raise ConfigError(f"{field}: {value} requested, only {available} available")
    return int(value)


def load_digits_task(seed=0, n_train=None, n_test=None, test_fraction=0.3):
    """The 1797 8x8 digits, split into train/test by ``seed``.

    The split is a fixed permutation from ``np.random.RandomState(seed)``: the
    first ``round(test_fraction * 1797)`` images are the test split, the rest
    the training split; ``n_train``/``n_test`` take the first ones of each
    (subsets stay nested as they grow).

    Returns
    -------
    dict
        ``x_train`` (n, 64) in [0, 1], ``y_train`` (n, 10) one-hot,
        ``labels_train`` (n,), and the same for ``test``.
    """
    from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel

    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction: must be in (0, 1), got {test_fraction!r}")
    data = load_digits()
    x = data.data / 16.0
    labels = data.target.astype(int)
    order = np.random.RandomState(seed).permutation(len(x))
    n_te = int(round(test_fraction * len(x)))
    test, train = order[:n_te], order[n_te:]
    n_train = _check_count(n_train, "n_train", len(train))
    n_test = _check_count(n_test, "n_test", len(test))
    train, test = train[:n_train], test[:n_test]
    return _task(x[train], labels[train], x[test], labels[test])


def _task(x_train, l_train, x_test, l_test):
    return {
        "x_train": np.asarray(x_train, dtype=float),
        "y_train": one_hot(l_train),
        "labels_train": np.asarray(l_train, dtype=int),
        "x_test": np.asarray(x_test, dtype=float),
        "y_test": one_hot(l_test),
        "labels_test": np.asarray(l_test, dtype=int),
    }


def load_mnist(path, n_train=None, n_test=None):
    """MNIST from a local ``.npz`` in keras' layout (x_train, y_train, x_test, y_test).

    Images are flattened to 784 rates in [0, 1]. A missing file, a file that is
    not an ``.npz`` of numeric arrays, NaN pixels or labels outside 0-9 raise a
    `ConfigError` naming the file and the problem (and how to get the file).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"data: MNIST file {path!r} not found. {MNIST_HELP}")
    arrays = read_npz(path, "data", ("x_train", "y_train", "x_test", "y_test"), MNIST_HELP)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim < 2 or len(x) != len(y) or y.ndim != 1:
            raise ConfigError(f"data {path!r}: x_{split} {x.shape} and y_{split} {y.shape} "
                              "do not pair images with labels")
        if not np.all(np.isfinite(x)):
            raise ConfigError(f"data {path!r}: x_{split} holds NaN or inf pixels")
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or y.min() < 0 or y.max() > 9:
            raise ConfigError(f"data {path!r}: y_{split} holds labels outside the integers 0-9")
    n_train = _check_count(n_train, "n_samples", len(arrays["x_train"]))
    n_test = _check_count(n_test, "n_test", len(arrays["x_test"]))

    def flat(x, n):
        x = x[:n].reshape(n, -1).astype(float)
        return x / max(float(x.max()), 1.0)

    return _task(
        flat(arrays["x_train"], n_train),
        arrays["y_train"][:n_train].astype(int),
        flat(arrays["x_test"], n_test),
        arrays["y_test"][:n_test].astype(int),
    )


class ClassificationTask:
    """A classification data set as a per-step task for the rate protocol.

    Presents every image for ``steps_per_sample`` steps with target
    ``target_scale`` x one-hot; 10% of the training split (at most 200 images)
    is held out for validation. Exposes what `.TeacherStudentProtocol` reads
    (``layers``, ``seed``, ``inputs``, ``targets``, ``steps_per_sample``,
    ``settle_steps``), so the same protocol trains the rate network on it.

    Parameters
    ----------
    data : dict
        As from `load_digits_task` or `load_mnist`.
    layers : list of int
        Must start with the input size and end with 10.
    seed : int
    steps_per_sample, settle_steps : int
    target_scale : float
        The class's target rate (0.8: within tanh's range).
    n_val : int, optional
        Training images held out for validation (default: 10%, at most 200);
        0 for a protocol without validation.
    """

    def __init__(self, data, layers, seed, steps_per_sample=20, settle_steps=200,
                 target_scale=0.8, n_val=None):
        n_in = data["x_train"].shape[1]
        if layers[0] != n_in or layers[-1] != N_CLASSES:
            raise ConfigError(
                f"layers: {'-'.join(map(str, layers))} does not fit the data; it must "
                f"start with {n_in} inputs and end with {N_CLASSES} outputs"
            )
        self.layers, self.seed = list(layers), seed
        self.steps_per_sample, self.settle_steps = steps_per_sample, settle_steps
        if n_val is None:
            n_val = min(200, max(1, len(data["x_train"]) // 10))
        elif int(n_val) != n_val or not 0 <= n_val < len(data["x_train"]):
            raise ConfigError(f"n_val: must be in [0, {len(data['x_train'])}), got {n_val!r}")
        n_val = int(n_val)
        split = {
            "train": (data["x_train"][n_val:], data["labels_train"][n_val:]),
            "val": (data["x_train"][:n_val], data["labels_train"][:n_val]),
            "test": (data["x_test"], data["labels_test"]),
        }
        P = steps_per_sample
        self.labels = {k: v[1] for k, v in split.items()}
        self.inputs = {k: np.repeat(v[0], P, axis=0) for k, v in split.items()}
        self.records = {k: np.repeat(target_scale * one_hot(v[1]), P, axis=0)
                        for k, v in split.items()}
        if settle_steps > len(self.inputs["train"]):
            raise ConfigError(f"settle_steps: {settle_steps} exceeds the training sequence")

    def targets(self, kind="rate"):
        if kind != "rate":
            raise ConfigError(f"target kind: classification has rate targets, not {kind!r}")
        return self.records


def accuracy_at_sample_ends(outputs, targets, steps_per_sample, readout_steps=1):
    """Fraction of samples whose largest output, averaged over the sample's last
    ``readout_steps`` steps, is the class of its (delayed) target at its last step."""
    P = steps_per_sample
    return accuracy(sample_readout(outputs, P, readout_steps),
                    np.argmax(targets[P - 1 :: P], axis=1))
