"""The models a run can train, by name: how to build each from a run config.

A `ModelSpec` turns a `.RunConfig` into a network factory (called with the
``input``, ``target``, ``nudging`` and ``plasticity`` nodes of a `.Session`),
the private generator that shuffles its data in the reference protocol
(MODEL.md 3.8), and the kind of target it learns (rate or voltage).
"""

import dataclasses
from functools import partial
from typing import Callable

from errormc.networks import ErrorMicrocircuit
from errormc.networks.initialization import model_rng


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How to build one model from a run config.

    Attributes
    ----------
    name : str
    network : callable
        ``network(config) -> factory``; ``factory(**nodes) -> nengo.Network`` with
        ``output`` (the output population), ``get_weights(sim)`` and
        ``initial_weights``.
    shuffle_rng : callable
        ``shuffle_rng(config) -> RandomState``: the model's private generator
        after its construction draws.
    target_kind : str
        ``"rate"`` or ``"voltage"``: what the teacher record it learns from is.
    score_target : callable, optional
        ``score_target(config, targets) -> targets`` mapping teacher records to
        what output rates are scored against (voltage targets go through the
        student's output activation, MODEL.md 3.1 step 7).
    """

    name: str
    network: Callable
    shuffle_rng: Callable
    target_kind: str = "rate"
    score_target: Callable = None


def _errormc_network(config):
    return partial(ErrorMicrocircuit, **config.network_kwargs())


def _errormc_rng(config):
    kw = config.network_kwargs()
    return model_rng(
        config.seed, kw["layers"], kw["errors"], config.connectivity, config.backward,
        config.wt_noise,
    )


MODELS = {}


def register(spec):
    """Make a model available to runs (``--model NAME``)."""
    MODELS[spec.name] = spec
    return spec


def get(name):
    if name not in MODELS:
        raise ValueError(f"model: unknown {name!r}; choose from {', '.join(sorted(MODELS))}")
    return MODELS[name]


register(ModelSpec("errormc", _errormc_network, _errormc_rng, "rate"))
