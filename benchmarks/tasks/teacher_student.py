"""The teacher-student task (MODEL.md 3.1).

A random rate network (the teacher, an ANN of the student's shape with weights
U(-1, 1) and gain gamma = g_bas / (g_bas + g_l) per layer) maps inputs
r_0 ~ U(0, 1)^{n_0} to targets; students learn to imitate it. Teacher seed, data
and teacher weights are drawn in the reference implementation's order from
private generators, so seed s gives the authors' teacher and data.
"""

import numpy as np

from errormc.networks.errors import ConfigError

from errormc.networks import activations


def teacher_seed(seed):
    """The teacher seed: first ``randint(100000, 999999)`` after seeding with ``seed``."""
    return int(np.random.RandomState(seed).randint(100000, 999999))


def teacher_weights(layers, seed, weight_range=1.0):
    """Teacher weights ``W_1..W_L`` (post x pre), U(-range, range), reference order."""
    rng = np.random.RandomState(seed)
    return [
        rng.uniform(-weight_range, weight_range, (layers[l], layers[l - 1]))
        for l in range(1, len(layers))
    ]


def teacher_forward(x, weights, activation="tanh", gain=0.1 / 0.13):
    r"""Feed-forward teacher: :math:`v_l = \gamma W_l \varphi_{l-1}(v_{l-1})`, v_0 = x.

    Returns the output voltages and rates for inputs ``x`` (..., n_0).
    """
    acts = activations.per_area(activation, len(weights))
    rate = np.asarray(x, dtype=float)
    v = rate
    for W, name in zip(weights, acts):
        v = gain * rate @ W.T
        rate = activations.phi(name)(v)
    return v, rate


class TeacherStudentTask:
    """Data, teacher and per-step teacher records of one teacher-student task.

    Parameters
    ----------
    layers : list of int
        Shape of teacher and student, ``[n_0, ..., n_L]``.
    seed : int
        The (first) student seed; the teacher seed derives from it.
    n_samples : int
        N samples in each of the train, validation and test sets.
    steps_per_sample : int
        Presentation time T_pres / dt (20 in the paper).
    settle_steps : int
        Settling steps T_settle / dt on the training inputs (2000 in the paper).
    activation : str or list
        The teacher's activation(s) (the paper: tanh everywhere).
    g_l, g_bas : float
        Conductances that set the teacher's gain gamma = g_bas / (g_bas + g_l).
    n_test : int, optional
        Test samples, if not ``n_samples`` (the reference draws N of each).

    Attributes
    ----------
    inputs : dict
        ``train``/``val``/``test`` -> raw per-step inputs (N * P, n_0), samples in
        order, each repeated P times.
    records : dict
        ``train``/``val``/``test`` -> the teacher's output rates recorded *before*
        each of its steps while it runs through settling, train, validation and
        test without a break (MODEL.md 3.1 step 4); ``voltage_records`` likewise.
    """

    def __init__(
        self,
        layers,
        seed,
        n_samples=100,
        steps_per_sample=20,
        settle_steps=2000,
        activation="tanh",
        g_l=0.03,
        g_bas=0.1,
        n_test=None,
    ):
        self.layers = [int(n) for n in layers]
        self.seed = int(seed)
        self.teacher_seed = teacher_seed(seed)
        for name, value in (
            ("n_samples", n_samples),
            ("steps_per_sample", steps_per_sample),
        ):
            if int(value) != value or value < 1:
                raise ConfigError(f"{name}: must be a positive integer, got {value!r}")
        if int(settle_steps) != settle_steps or settle_steps < 0:
            raise ConfigError(f"settle_steps: must be an integer >= 0, got {settle_steps!r}")
        if settle_steps > n_samples * steps_per_sample:
            raise ConfigError(
                f"settle_steps: {settle_steps} exceeds the training sequence "
                f"({n_samples} samples x {steps_per_sample} steps); settling runs on it"
            )
        self.n_samples = int(n_samples)
        self.steps_per_sample = int(steps_per_sample)
        self.settle_steps = int(settle_steps)
        self.activation = activations.per_area(activation, len(self.layers) - 1)
        self.gain = g_bas / (g_bas + g_l)
        self.weights = teacher_weights(self.layers, self.teacher_seed)

        n_test = self.n_samples if n_test is None else int(n_test)
        if n_test < 1:
            raise ConfigError(f"n_test: must be a positive integer, got {n_test!r}")
        data = np.random.RandomState(self.teacher_seed).uniform(
            size=(2 * self.n_samples + n_test, self.layers[0])
        )
        P = self.steps_per_sample
        self.samples = {
            "train": data[: self.n_samples],
            "val": data[self.n_samples : 2 * self.n_samples],
            "test": data[2 * self.n_samples :],
        }
        self.inputs = {k: np.repeat(v, P, axis=0) for k, v in self.samples.items()}
        self.records, self.voltage_records = self._run_teacher()

    def _run_teacher(self):
        """The teacher as the reference runs it: a pipeline u_l <- gamma W_l
        phi(u_{l-1}) with the old u_{l-1}, fed the input of the previous step, and
        its output recorded before each step: the record at step s is the
        feed-forward output for the input of step s - (L + 1) (MODEL.md 3.1)."""
        phis = [activations.phi(a) for a in self.activation]
        sequence = np.concatenate(
            [self.inputs["train"][: self.settle_steps]]
            + [self.inputs[k] for k in ("train", "val", "test")]
        )
        # the initial voltages only shape the first L records of the settling phase
        u = [np.zeros(n) for n in self.layers[1:]]
        x_prev = np.zeros(self.layers[0])
        rates, voltages = [], []
        for x in sequence:
            voltages.append(u[-1])
            rates.append(phis[-1](u[-1]))
            pre = [x_prev] + [phi(v) for phi, v in zip(phis[:-1], u[:-1])]
            u = [self.gain * (W @ r) for W, r in zip(self.weights, pre)]
            x_prev = x
        rates, voltages = np.array(rates), np.array(voltages)
        out_r, out_v, start = {}, {}, self.settle_steps
        for k in ("train", "val", "test"):
            stop = start + len(self.inputs[k])
            out_r[k], out_v[k] = rates[start:stop], voltages[start:stop]
            start = stop
        return out_r, out_v

    def targets(self, kind="rate"):
        """Raw per-step teacher records: ``rate`` or ``voltage`` targets."""
        if kind not in ("rate", "voltage"):
            raise ConfigError(f"target kind: {kind!r}; choose rate or voltage")
        return self.records if kind == "rate" else self.voltage_records

    def sample_targets(self, split, kind="rate"):
        """One target per sample: the record at the last step of its chunk."""
        P = self.steps_per_sample
        return self.targets(kind)[split][P - 1 :: P]
