"""JAX twins of `errormc.networks.activations`: the same formulas, by name."""

import jax.numpy as jnp

from errormc.networks import activations


def _logistic(x):
    return 1.0 / (1.0 + jnp.exp(-x))


def _d_logistic(x):
    y = _logistic(x)
    return y * (1.0 - y)


def _d_hard_sigmoid(x):
    # the reference's indicator of the linear range, without the 1/6 (MODEL.md 1.5)
    y = x / 6.0 + 0.5
    return ((y > 0) & (y < 1)).astype(x.dtype)


#: name -> (phi, phi'), as `errormc.networks.activations.ACTIVATIONS`
ACTIVATIONS = {
    "linear": (lambda x: x + 0.0, jnp.ones_like),
    "relu": (lambda x: jnp.maximum(x, 0.0), lambda x: (x > 0).astype(x.dtype)),
    "soft_relu": (
        lambda x: jnp.logaddexp(0.0, 10.0 * x) / 10.0,
        lambda x: _logistic(10.0 * x),
    ),
    "logistic": (_logistic, _d_logistic),
    "tanh": (jnp.tanh, lambda x: 1.0 - jnp.tanh(x) ** 2),
    "hard_sigmoid": (lambda x: jnp.clip(x / 6.0 + 0.5, 0.0, 1.0), _d_hard_sigmoid),
    # the DMS output: tanh(20 (u - 0.5)) with the reference's derivative 1 (MODEL.md 3.4)
    "steep_tanh": (lambda x: jnp.tanh(20.0 * (x - 0.5)), jnp.ones_like),
}

assert set(ACTIVATIONS) == set(activations.ACTIVATIONS)


def phi(name):
    return ACTIVATIONS[activations.canonical_name(name)][0]


def dphi(name):
    return ACTIVATIONS[activations.canonical_name(name)][1]

