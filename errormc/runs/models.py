"""The models a run can train, by name: how to build each from a run config.

A `ModelSpec` turns a `.RunConfig` into a network factory (called with the
``input``, ``target``, ``nudging`` and ``plasticity`` nodes of a `.Session`),
the private generator that shuffles its data in the reference protocol
(MODEL.md 3.8), and the kind of target it learns (rate or voltage).
`network_factory` picks the rate or the spiking network of a config (the
spiking one from `errormc.benchmarks.experiment.spiking_network`, as studies
build it).
"""

import dataclasses
from functools import partial
from typing import Callable

import numpy as np

from errormc.benchmarks.experiment import spiking_network
from errormc.networks import ErrorMicrocircuit, activations
from errormc.networks.baselines import ANN, DendriticMicrocircuit, DendriticPredictiveCoding
from errormc.networks.baselines.sacramento2018 import model_rng as dendritic_model_rng
from errormc.networks.errors import ConfigError
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
        raise ConfigError(f"model: unknown {name!r}; choose from {', '.join(sorted(MODELS))}")
    return MODELS[name]


register(ModelSpec("errormc", _errormc_network, _errormc_rng, "rate"))


# --- the comparison models of Fig. 3 (MODEL.md section 2) --------------------------


def _baseline_kwargs(config, lateral=True, noise=True):
    """Arguments of a layered comparison model from a run config. ``eta`` and the
    lateral rates default to the paper's table for the depth (MODEL.md 3.2);
    a given ``eta_lateral > 0`` sets one lateral rate for every hidden area."""
    kwargs = dict(
        layers=config.layer_sizes(),
        activation=config.activation,
        backward=config.backward,
        eta=config.eta_values(),
        seed=config.seed,
        weights=config.init_weights,
    )
    kwargs.update({g: getattr(config, g) for g in ("g_l", "g_bas", "g_api", "g_den", "g_ntgt")})
    if lateral:
        kwargs["eta_lateral"] = config.eta_lateral or None
    if noise:
        kwargs["wt_noise"] = config.wt_noise
    return kwargs


def _sacramento_network(config):
    return partial(DendriticMicrocircuit, **_baseline_kwargs(config))


def _dpc_network(config):
    kwargs = _baseline_kwargs(config)
    # dPC students are linear (MODEL.md 2.2); the config's activation is the
    # teacher's, as in the reference, which builds both from one setting
    kwargs["activation"] = "linear"
    return partial(DendriticPredictiveCoding, **kwargs)


def _ann_network(config):
    return partial(ANN, **_baseline_kwargs(config, lateral=False, noise=False))


def _dendritic_rng(config):
    return dendritic_model_rng(config.seed, config.layer_sizes(), config.backward, config.wt_noise)


def _ann_rng(config):
    return np.random.RandomState(config.seed)


def _through_output_activation(config, targets):
    """Voltage targets scored against output rates: through phi_L (MODEL.md 3.1)."""
    name = activations.per_area(config.activation, len(config.layer_sizes()) - 1)[-1]
    return activations.phi(name)(targets)


register(
    ModelSpec(
        "sacramento2018", _sacramento_network, _dendritic_rng, "voltage",
        _through_output_activation,
    )
)
register(ModelSpec("dpc", _dpc_network, _dendritic_rng, "voltage"))
register(ModelSpec("ann", _ann_network, _ann_rng, "rate"))


def network_factory(config):
    """``factory(**session_nodes) -> nengo.Network`` for the config's network."""
    if config.network == "spiking":
        return spiking_network(**config.spiking_kwargs())
    return get(config.model).network(config)
