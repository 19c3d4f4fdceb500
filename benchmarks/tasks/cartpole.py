"""Cart-pole (Fig. 2a, MODEL.md 3.3): imitate a linear controller, then balance.

The environment is a continuous-force cart-pole registered with gymnasium as
``errormc/CartPoleContinuous-v0`` (`CartPoleContinuousEnv`): gymnasium's
cart-pole physics (g 9.8, cart 1.0, pole 0.1, half-length 0.5, explicit Euler)
with the paper's settings: the action *is* the force, Euler step 0.01 s, failure
at |x| > 2.4 or |theta| > 70 deg, reset of each state component to U(-1, 1).

The teacher is a hand-built linear errormc 4-4-1 (`teacher_weights`) whose output
is K.s / 76.6, K = (1, 4.2, 62.8, 16.3); the action is 76.6 times the output rate.
Students (errormc 4-4-1, layered, ``bp`` without noise, g_api = 0.0006; variant
``ideal``: linear units, P = Q = I, eta (1, 0.5); ``tanh``: tanh hidden units,
P, Q = I + U(+-0.3), eta (1.5, 0.75)) imitate it on random states
s ~ U(-1.5, 1.5)^4 (500 per split, 100 steps each, 2000 settling steps, target
delay 2) with the teacher-student protocol of MODEL.md 3.1
(`errormc.benchmarks.protocol.TeacherStudentProtocol`), validating every epoch.
After every epoch, and once more as the test, each network balances the pole in
closed loop (`evaluate`): 19,999 actions over 10 episodes of 2000 steps (a new
episode also after each failure), the state held for 4 network steps per
environment step, no learning, no target. The score is the number of failures.

``--protocol reference`` reproduces the authors' random streams: the resets draw
``(rand(4) - 0.5) * 2`` from numpy's global legacy generator, which their runner
last seeded with the teacher seed when drawing the teacher's (unused) initial
weights (58 draws); the teacher's evaluation consumes it first and every
student's evaluations continue where the teacher's ended (each student runs in a
worker process forked after the teacher's run). Validation keeps plasticity on
and runs on the previous shuffle's arrays, as in `TeacherStudentProtocol`; there
is no test pass on the data set (the final score is the closed-loop test).
``--protocol clean`` departs in two places: resets draw from the environment's own
generator, seeded once per evaluation with the student's seed plus the evaluation's
index (the teacher: its seed; gymnasium's ``reset(seed=...)``), and validation is
`TeacherStudentProtocol`'s clean one (no plasticity, its own shuffle).
"""

import time
from functools import partial

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from errormc.networks import ErrorMicrocircuit
from errormc.networks.errors import ConfigError
from errormc.networks.initialization import initial_state, model_rng

from ..protocol import Session, TeacherStudentProtocol
from .teacher_student import teacher_seed as derive_teacher_seed

ENV_ID = "errormc/CartPoleContinuous-v0"
#: controller gains on (x, x_dot, theta, theta_dot) and the output rescaling
GAIN = np.array([1.0, 4.2, 62.8, 16.3])
ACTION_SCALE = 76.6
#: closed-loop evaluation: steps, episode length, network steps per environment step
EVAL_STEPS, EPISODE_STEPS, HOLD = 20000, 2000, 4
#: state bound of the imitation data set, s ~ U(-1.5, 1.5)^4
DATA_BOUND = 1.5
#: draws of the global generator after the reference seeds it with the teacher
#: seed: the teacher's initial W (4x4, 1x4), P (4x4, 1x1), Q (4x4, 1x1), B (4x1)
TEACHER_WEIGHT_DRAWS = 58


class CartPoleContinuousEnv(CartPoleEnv):
    r"""Gymnasium's cart-pole with a continuous force and the paper's settings.

    With force :math:`F` (the action) and state :math:`(x, \dot x, \theta, \dot\theta)`,

    .. math::

        a &= (F + m_p l \dot\theta^2 \sin\theta) / (m_c + m_p) \\
        \ddot\theta &= (g \sin\theta - \cos\theta\, a) /
            (l (4/3 - m_p \cos^2\theta / (m_c + m_p))) \\
        \ddot x &= a - m_p l \ddot\theta \cos\theta / (m_c + m_p)

    then one explicit Euler step of length ``tau`` (old velocities move the
    positions). An episode terminates at :math:`|x| > 2.4` or
    :math:`|\theta| > 70^\circ`.

    Parameters
    ----------
    tau : float
        Euler step (s); the paper reuses the network's dt, 0.01.
    theta_limit_deg, reset_bound : float
        Failure angle; resets draw each component from U(-bound, bound).
    reset_rng : numpy.random.RandomState, optional
        Draw resets as ``(rng.random_sample(4) - 0.5) * 2 * bound`` from this
        legacy generator (the authors' stream) instead of the environment's own.
    render_mode : str, optional
        ``"rgb_array"`` for frames.
    """

    def __init__(self, tau=0.01, theta_limit_deg=70.0, reset_bound=1.0, reset_rng=None,
                 render_mode=None):
        super().__init__(render_mode=render_mode)
        self.tau = float(tau)
        self.theta_threshold_radians = theta_limit_deg * 2 * np.pi / 360
        self.reset_bound = float(reset_bound)
        self.reset_rng = reset_rng
        self.action_space = spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float64)
        high = np.array([np.inf] * 4)
        self.observation_space = spaces.Box(-high, high, dtype=np.float64)

    def step(self, action):
        force = float(np.asarray(action, dtype=float).reshape(-1)[0])
        x, x_dot, theta, theta_dot = self.state
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + self.polemass_length * theta_dot**2 * sin) / self.total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * cos**2 / self.total_mass)
        )
        x_acc = temp - self.polemass_length * theta_acc * cos / self.total_mass
        x, x_dot, theta, theta_dot = (
            x + self.tau * x_dot,
            x_dot + self.tau * x_acc,
            theta + self.tau * theta_dot,
            theta_dot + self.tau * theta_acc,
        )
        self.state = np.array([x, x_dot, theta, theta_dot])
        terminated = bool(
            x < -self.x_threshold or x > self.x_threshold
            or theta < -self.theta_threshold_radians or theta > self.theta_threshold_radians
        )
        if self.render_mode == "human":
            self.render()
        return self.state.copy(), 0.0 if terminated else 1.0, terminated, False, {}

    def reset(self, *, seed=None, options=None):
        gymnasium.Env.reset(self, seed=seed)
        b = self.reset_bound
        if self.reset_rng is not None:
            self.state = (self.reset_rng.random_sample(4) - 0.5) * 2.0 * b
        else:
            self.state = self.np_random.uniform(-b, b, size=4)
        self.steps_beyond_terminated = None
        if self.render_mode == "human":
            self.render()
        return self.state.copy(), {}


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point=CartPoleContinuousEnv)


def make_env(**kwargs):
    """``gymnasium.make`` of the paper's cart-pole (without a time limit)."""
    return gymnasium.make(ENV_ID, max_episode_steps=None, disable_env_checker=True,
                          **kwargs)


def teacher_weights(seed, g_l=0.03, g_bas=0.1, g_api=0.0006):
    """The hand-built linear teacher: W_1 = I c^-2, W_2 = K / 76.6, P = Q = I,
    B = W_2^T (c = g_bas / (g_l + g_bas + g_api)), voltages N(0, 1) from ``seed``
    in the reference order; its settled output is exactly K.s / 76.6."""
    w = initial_state([4, 4, 1], [4, 1], "layered", "bp", seed=seed, wt_noise=0.0,
                      lateral_noise=0.0)
    c = g_bas / (g_l + g_bas + g_api)
    w["W1"] = np.eye(4) * c**-2
    w["W2"] = (GAIN / ACTION_SCALE).reshape(1, 4)
    w["B1"] = w["W2"].T.copy()
    w["Bnoise1"] = np.zeros((4, 1))
    for l, n in ((1, 4), (2, 1)):
        w[f"WIP{l}"] = np.eye(n)
        w[f"BPI{l}"] = np.eye(n)
    return w


def evaluate(session, env, steps=EVAL_STEPS, episode=EPISODE_STEPS, hold=HOLD,
             frames=None):
    """Closed-loop balancing; the number of failures.

    The environment has been reset (the reference resets at construction); for
    ``k = 1 .. steps - 1``: a new episode at multiples of ``episode``, the state
    held for ``hold`` network steps (no learning, no target), the force
    76.6 r_L of the last of them, one environment step, a new episode on failure.
    ``frames`` (a list) collects rgb frames of the first episode if the
    environment renders them.
    """
    failures = 0
    learn = np.zeros(hold)
    state = env.unwrapped.state
    for k in range(1, steps):
        if k % episode == 0:
            state, _ = env.reset()
        out = session.run(np.repeat(np.asarray(state, dtype=float)[None], hold, axis=0),
                          None, learn)["output"]
        state, _, failed, _, _ = env.step(np.array([ACTION_SCALE * out[-1, 0]]))
        if frames is not None and k < episode:
            frames.append(env.render())
        if failed:
            failures += 1
            state, _ = env.reset()
    return failures


class CartPoleTask:
    """Data set, teacher records and the teacher's score of one cart-pole task.

    Parameters
    ----------
    seed : int
        The (first) student seed; the teacher seed derives from it (MODEL.md 3.1).
    n_samples, steps_per_sample, settle_steps : int
    g_l, g_bas, g_api : float
        The teacher's conductances (the students' too).
    protocol : str
    dt, backend
        Of the teacher's simulation.
    eval_steps, episode_steps : int
        Of every closed-loop evaluation (`evaluate`).
    """

    def __init__(self, seed, n_samples=500, steps_per_sample=100, settle_steps=2000,
                 g_l=0.03, g_bas=0.1, g_api=0.0006, protocol="reference", dt=0.01,
                 backend="nengo", eval_steps=EVAL_STEPS, episode_steps=EPISODE_STEPS):
        self.layers = [4, 4, 1]
        self.seed = int(seed)
        self.teacher_seed = derive_teacher_seed(seed)
        if settle_steps > n_samples * steps_per_sample:
            raise ConfigError(
                f"settle_steps: {settle_steps} exceeds the training sequence "
                f"({n_samples} samples x {steps_per_sample} steps)")
        self.n_samples, self.steps_per_sample = n_samples, steps_per_sample
        self.settle_steps, self.protocol, self.dt = settle_steps, protocol, dt
        self.eval_steps, self.episode_steps = eval_steps, episode_steps
        data = np.random.RandomState(self.teacher_seed).uniform(
            -DATA_BOUND, DATA_BOUND, size=(3 * n_samples, 4))
        split = {"train": data[:n_samples], "val": data[n_samples:2 * n_samples],
                 "test": data[2 * n_samples:]}
        self.inputs = {k: np.repeat(v, steps_per_sample, axis=0) for k, v in split.items()}
        self.reset_rng = None
        if protocol == "reference":
            self.reset_rng = np.random.RandomState(self.teacher_seed)
            self.reset_rng.random_sample(TEACHER_WEIGHT_DRAWS)
        self.teacher = partial(
            ErrorMicrocircuit, layers=self.layers, connectivity="layered", backward="bp",
            activation="linear", eta=[0.0, 0.0], wt_noise=0.0, g_l=g_l, g_bas=g_bas,
            g_api=g_api, weights=teacher_weights(self.teacher_seed, g_l, g_bas, g_api))
        with Session(self.teacher, 4, 1, dt, backend) as session:
            self.records = self._record(session)
            env = self.env(self.teacher_seed)
            self.teacher_failures = self.evaluate(session, env)
        self.rng_after_teacher = None if self.reset_rng is None else self.reset_rng.get_state()

    def _record(self, session):
        """The teacher's output rate recorded *before* each of its steps while it
        runs through settling, train, validation and test (MODEL.md 3.1 step 4)."""
        parts = [self.inputs["train"][: self.settle_steps]] + [
            self.inputs[k] for k in ("train", "val", "test")]
        x = np.concatenate(parts)
        out = session.run(x, None, np.zeros(len(x)))["output"]
        before = np.concatenate([np.zeros((1, 1)), out[:-1]])
        records, start = {}, self.settle_steps
        for k in ("train", "val", "test"):
            records[k] = before[start : start + len(self.inputs[k])]
            start += len(self.inputs[k])
        return records

    def evaluate(self, session, env, frames=None):
        """`evaluate` with this task's numbers of steps."""
        return evaluate(session, env, self.eval_steps, self.episode_steps, frames=frames)

    def targets(self, kind="rate"):
        if kind != "rate":
            raise ValueError(f"target kind: the cart-pole teacher gives rates, not {kind!r}")
        return self.records

    def env(self, seed, render_mode=None):
        """A reset environment for one evaluation (module docstring: streams)."""
        env = make_env(reset_rng=self.reset_rng, render_mode=render_mode)
        env.reset(seed=None if self.reset_rng is not None else seed)
        return env

    def student_stream(self):
        """Start a student's evaluations where the teacher's ended (reference)."""
        if self.reset_rng is not None:
            self.reset_rng.set_state(self.rng_after_teacher)


def student(config):
    """The student network factory of a run config."""
    kwargs = config.network_kwargs()
    return partial(ErrorMicrocircuit, **kwargs)


#: the tasks built in this process, by settings: one teacher serves every student
#: of a sweep worker (recording it takes about a minute); `CartPoleTask.student_stream`
#: restarts the reference's reset stream for each student
_TASKS = {}


def task_of(config):
    """The `CartPoleTask` of a run config (built once per process and settings)."""
    settle = 2000 if config.settle_steps is None else config.settle_steps
    seed = config.seed if config.task_seed is None else config.task_seed
    key = (seed, config.n_samples, config.steps_per_sample, settle, config.g_l, config.g_bas,
           config.g_api, config.protocol, config.dt, config.backend)
    if key not in _TASKS:
        _TASKS.clear()
        _TASKS[key] = CartPoleTask(
            seed, n_samples=config.n_samples, steps_per_sample=config.steps_per_sample,
            settle_steps=settle, g_l=config.g_l, g_bas=config.g_bas, g_api=config.g_api,
            protocol=config.protocol, dt=config.dt, backend=config.backend)
    return _TASKS[key]


def run(config, progress=None, task=None, frames=None):
    """Train one student and score it in closed loop after every epoch and at
    the test; return metrics (``failures_per_evaluation``, ``teacher_failures``,
    ``val_mse``) and the final weights. ``task`` reuses a `CartPoleTask` (one
    teacher for several students)."""
    t0 = time.perf_counter()
    if task is None:
        task = task_of(config)
    task.student_stream()
    kw = config.network_kwargs()
    rng = model_rng(config.seed, kw["layers"], kw["errors"], "layered", config.backward,
                    config.wt_noise)
    protocol = TeacherStudentProtocol(task, config.epochs, config.protocol, rng=rng,
                                      test=False)
    failures = []
    with Session(student(config), 4, 1, config.dt, config.backend) as session:

        def after_epoch(epoch):
            env = task.env(config.seed + epoch)
            failures.append(task.evaluate(session, env))

        result = protocol.run(session, progress=progress, after_epoch=after_epoch)
        env = task.env(config.seed + config.epochs)
        failures.append(task.evaluate(session, env, frames=frames))
        weights = session.weights()
    wall = time.perf_counter() - t0
    metrics = dict(task="cartpole", variant=config.variant, epochs=config.epochs,
                   failures_per_evaluation=failures, teacher_failures=task.teacher_failures,
                   teacher_seed=task.teacher_seed, val_mse=result["val_mse"],
                   val_epochs=result["val_epochs"], steps=result["steps"], wall_s=wall)
    return metrics, weights
