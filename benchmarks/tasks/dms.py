"""Delayed match-to-sample (Fig. 2b, MODEL.md 3.4).

A trial shows a fixation period (250 steps of 0), a first stimulus s_1 in {-1, +1}
(250 steps), a delay of T_D in {50, ..., 249} steps of 0 and a second stimulus s_2
(250 steps); the target is |s_1 + s_2| - 1 (+1 match, -1 non-match). The network
must hold s_1 across the delay: an errormc 1-2-1 whose representation rates are
*not* prospective, r = phi(u), so the slow somas (tau = 1 / (g_l + g_bas + g_api)
= 2.17 ms with the task's g_l = 0.3) carry the memory. Hidden soft-ReLU units, an
output tanh(20 (u - 0.5)) with the reference's derivative 1 (``steep_tanh``),
eta = 4000 per area, ``bp`` backward weights with noise 0.5, P = Q = I + U(+-0.3).

Trials come from ``numpy.random.default_rng`` with seeds 42 (train), 123456
(validation) and 44 (test), 50 trials each, drawn per trial in the order delay,
first stimulus, second stimulus. Each epoch validates (before training), then
trains; each trial resets the representation somas, runs its frames (nudged
towards the target in training, forward learning off), then one more step on its
last frame, which alone is plastic (training) or scored (validation, test)
(`errormc.benchmarks.protocol.TrialProtocol`).

``--protocol reference`` is the authors' script: the initial voltages are 0, the
weights are drawn from the network seed in the reference order (MODEL.md 3.8),
but the fixed noise of the ``bp`` backward weights is drawn from
``RandomState(123)`` for every network (the script builds its model without
passing the seed, so the model's default seed 123 is used), and a reset clears the
soma but keeps its history buffer (the first prospective voltage of a trial then
jumps to -(tau/dt - 1) times the last voltage of the previous trial; it enters the
derivative gate and the plasticity rule, not the rates). ``--protocol clean``
departs in two places: the backward noise is drawn from the network's own seed,
and the reset also clears the history, so the prospective voltage restarts at 0.
"""

import time
from functools import partial

import numpy as np

from errormc.networks import ErrorMicrocircuit
from errormc.networks.builder import rectangular_transpose
from errormc.networks.initialization import initial_state

from ..protocol import Session, TrialProtocol

#: seeds of the trial generators and the number of trials per split
SPLITS = {"train": (42, 50), "val": (123456, 50), "test": (44, 50)}
FIXATION = STIMULUS = 250
DELAYS = (50, 250)  # T_D ~ integers(50, 250): 50..249 steps
#: the generator the reference's model draws its backward noise from (its default seed)
REFERENCE_MODEL_SEED = 123


def trials(n, seed, first=None, second=None):
    """``n`` trials from ``default_rng(seed)``: (list of input arrays, targets).

    ``first``/``second`` fix the stimuli (their draws are then skipped, as in the
    reference's generator).
    """
    rng = np.random.default_rng(seed)
    inputs, targets = [], []
    for _ in range(n):
        delay = int(rng.integers(*DELAYS))
        s1 = rng.choice([-1, 1]) if first is None else first
        s2 = rng.choice([-1, 1]) if second is None else second
        x = np.zeros(FIXATION + STIMULUS + delay + STIMULUS)
        x[FIXATION : FIXATION + STIMULUS] = s1
        x[FIXATION + STIMULUS + delay :] = s2
        inputs.append(x)
        targets.append(float(abs(s1 + s2) - 1))
    return inputs, np.array(targets)


def splits():
    """The train, validation and test trials of the paper."""
    return {name: trials(n, seed) for name, (seed, n) in SPLITS.items()}


def initial_weights(config):
    """Initial weights of a DMS network: the reference's draws from the network
    seed, voltages 0, and the ``bp`` noise of the protocol (module docstring)."""
    layers = config.layer_sizes()
    w = initial_state(layers, config.error_sizes(), "layered", config.backward, seed=config.seed,
                      wt_noise=config.wt_noise, lateral_noise=config.lateral_noise)
    for name in list(w):
        if name[0] in "ue" and name[1:].isdigit():
            w[name] = np.zeros_like(w[name])
    if config.backward == "bp" and config.protocol == "reference":
        rng = np.random.RandomState(REFERENCE_MODEL_SEED)
        noise = rng.uniform(-config.wt_noise, config.wt_noise, w["Bnoise1"].shape)
        w["Bnoise1"] = noise
        w["B1"] = rectangular_transpose(w["W2"], noise.shape) + noise
    return w


def network(config):
    """The DMS network factory for a `Session` (``input``, ``target``, ...,
    ``reset``, ``tracking`` nodes)."""
    kwargs = config.network_kwargs()
    kwargs.update(weights=initial_weights(config), rep_prospective=False,
                  reset_history=config.protocol == "clean")
    return partial(ErrorMicrocircuit, **kwargs)


def run(config, progress=None):
    """Train and test one DMS network; return metrics and final weights.

    Metrics: ``val_mse_per_epoch`` (before each epoch), ``test_mse``, the
    per-trial errors, ``steps``, ``wall_s``.
    """
    t0 = time.perf_counter()
    with Session(network(config), 1, 1, config.dt, config.backend,
                 extras=("reset", "tracking")) as session:
        result = TrialProtocol(splits(), config.epochs).run(session, progress)
        weights = session.weights()
    wall = time.perf_counter() - t0
    metrics = dict(task="dms", epochs=config.epochs, **result, wall_s=wall,
                   steps_per_s=result["steps"] / wall)
    return metrics, weights
