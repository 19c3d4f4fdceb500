"""genMNIST: generate one image per digit from its one-hot code (MODEL.md 3.5, Fig. 4).

Ten one-hot inputs, one target image per digit, no teacher. The ten pairs are
presented in the order in which the digits first appear in the data set, with
no shuffling and no target delay; train, validation and test are this same
fixed sequence, and the score is the mean squared error over every test step.

The embedded default images are the first image of each digit in scikit-learn's
bundled 8x8 digits (pixels / 16, 64 outputs), so the task runs on a fresh
machine; ``data=PATH`` takes the first training image of each digit from a
local MNIST ``.npz`` (pixels / 255, 784 outputs), the paper's version.

``--protocol clean`` departs from ``reference`` as the protocol does elsewhere:
validation without plasticity, and a step's error is the mean over pixels
instead of the squared norm. With no shuffles, the reference's quirk of
validating on the previous shuffle does not arise.
"""

import numpy as np

from errormc.networks.errors import ConfigError

from .digits import N_CLASSES, load_mnist

#: the first 1000 MNIST training images hold every digit (the first 8 appears at 17)
MNIST_HEAD = 1000
#: outputs of the MNIST version (28 x 28 images)
MNIST_PIXELS = 784


def first_images(x, labels):
    """The first image of each digit, in order of first appearance.

    Returns
    -------
    order : (10,) int array
        The digits in order of first appearance (MNIST: 5, 0, 4, 1, 9, 2, 3, 6, 7, 8).
    images : (10, n_pixels) array
        ``images[i]`` is the first image of digit ``order[i]``.
    """
    labels = np.asarray(labels, dtype=int)
    order, firsts = [], []
    for i, label in enumerate(labels):
        if label not in order:
            order.append(int(label))
            firsts.append(i)
    if len(order) != N_CLASSES:
        raise ConfigError(f"data: only digits {sorted(order)} occur; genmnist needs all ten")
    return np.array(order), np.asarray(x, dtype=float)[firsts]


def digits8x8_images():
    """First image of each digit of scikit-learn's 8x8 digits (pixels / 16)."""
    from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel

    data = load_digits()
    return first_images(data.data / 16.0, data.target)


def mnist_images(path):
    """First MNIST training image of each digit (pixels / 255) from a local file."""
    try:
        data = load_mnist(path, n_train=MNIST_HEAD, n_test=1)
    except FileNotFoundError as e:
        raise ConfigError(str(e)) from None
    except ValueError as e:
        raise ConfigError(f"data: {path!r}: {e} (genmnist reads the first {MNIST_HEAD} "
                          "training images)") from None
    return first_images(data["x_train"], data["labels_train"])


class GenMNISTTask:
    """The genMNIST sequence as a per-step task for the rate protocol.

    Exposes what `.TeacherStudentProtocol` reads; ``shuffles = False`` keeps the
    fixed order without target delay, and ``test_skip = 0`` scores every test
    step (the paper's Fig. 4 metric).

    Parameters
    ----------
    layers : list of int
        ``[10, ..., n_pixels]``.
    seed : int
    data : str, optional
        A local MNIST ``.npz`` (keras layout); default: the bundled 8x8 digits.
    steps_per_sample, settle_steps : int
        T_pres / dt (20) and T_settle / dt (100) in the paper.
    """

    shuffles = False
    test_skip = 0

    def __init__(self, layers, seed, data=None, steps_per_sample=20, settle_steps=100):
        self.order, self.images = digits8x8_images() if data is None else mnist_images(data)
        n_pixels = self.images.shape[1]
        if layers[0] != N_CLASSES or layers[-1] != n_pixels:
            raise ConfigError(
                f"layers: {'-'.join(map(str, layers))} does not fit genmnist; it must start "
                f"with {N_CLASSES} inputs and end with {n_pixels} outputs (one per pixel)"
            )
        P = int(steps_per_sample)
        if settle_steps > N_CLASSES * P:
            raise ConfigError(
                f"settle_steps: {settle_steps} exceeds the sequence ({N_CLASSES} x {P} steps)"
            )
        self.layers, self.seed = list(layers), seed
        self.steps_per_sample, self.settle_steps = P, int(settle_steps)
        codes = np.eye(N_CLASSES)[self.order]
        x = np.repeat(codes, P, axis=0)
        t = np.repeat(self.images, P, axis=0)
        self.inputs = {k: x for k in ("train", "val", "test")}
        self.records = {k: t for k in ("train", "val", "test")}

    def targets(self, kind="rate"):
        if kind != "rate":
            raise ConfigError(f"model: genmnist has rate targets; {kind!r} targets do not apply")
        return self.records
