"""Rate functions phi and their nominal derivatives phi', one table.

Every function is evaluated with slope 1 and offset 0, and the derivative is the
*nominal* one the reference model uses everywhere (phi' transfer, output error,
backprop comparison), MODEL.md 1.5.
"""

import numpy as np


def _linear(x):
    return np.array(x, dtype=float, copy=True)


def _d_linear(x):
    return np.ones_like(x, dtype=float)


def _relu(x):
    return np.maximum(x, 0.0)


def _d_relu(x):
    # H(0) = 0, as in the reference
    return (np.asarray(x) > 0).astype(float)


def _soft_relu(x):
    # ln(1 + e^{10x}) / 10, evaluated without the reference's overflow for x >~ 70
    return np.logaddexp(0.0, 10.0 * np.asarray(x, dtype=float)) / 10.0


def _d_soft_relu(x):
    return _logistic(10.0 * np.asarray(x, dtype=float))


def _logistic(x):
    # 1 / (1 + e^{-x}) as the reference computes it; e^{-x} may overflow to inf,
    # which gives the correct limit 0
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _d_logistic(x):
    y = _logistic(x)
    return y * (1.0 - y)


def _tanh(x):
    return np.tanh(x)


def _d_tanh(x):
    return 1.0 - np.tanh(x) ** 2


def _hard_sigmoid(x):
    return np.clip(np.asarray(x, dtype=float) / 6.0 + 0.5, 0.0, 1.0)


def _d_hard_sigmoid(x):
    # The reference's derivative: the indicator of the linear range, without the
    # 1/6 factor (MODEL.md 1.5, [QUIRK]); kept so that results match the model.
    y = np.asarray(x, dtype=float) / 6.0 + 0.5
    return ((y > 0) & (y < 1)).astype(float)


def _steep_tanh(x):
    return np.tanh(20.0 * (np.asarray(x, dtype=float) - 0.5))


def _d_steep_tanh(x):
    # The DMS script replaces the output's linear rate function by tanh(20(u - 0.5))
    # after construction and keeps the linear derivative (MODEL.md 3.4, [QUIRK]).
    return np.ones_like(x, dtype=float)


#: name -> (phi, phi')
ACTIVATIONS = {
    "linear": (_linear, _d_linear),
    "relu": (_relu, _d_relu),
    "soft_relu": (_soft_relu, _d_soft_relu),
    "logistic": (_logistic, _d_logistic),
    "tanh": (_tanh, _d_tanh),
    "hard_sigmoid": (_hard_sigmoid, _d_hard_sigmoid),
    # DMS output unit: a steep, centred tanh with the reference's derivative 1
    "steep_tanh": (_steep_tanh, _d_steep_tanh),
}

#: accepted spellings (the CLI uses dashes)
ALIASES = {"soft-relu": "soft_relu", "hard-sigmoid": "hard_sigmoid", "sigmoid": "logistic",
           "steep-tanh": "steep_tanh"}


def canonical_name(name, field="activation"):
    """Return the table name of an activation, or raise a ValueError naming it."""
    key = ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if key not in ACTIVATIONS:
        raise ValueError(
            f"{field}: unknown activation {name!r}; choose from "
            f"{', '.join(sorted(ACTIVATIONS))}"
        )
    return key


#: activations whose slope scales the argument, phi(s (x - o)); the others scale
#: the value, s f(x - o) (the reference's parametrisation, MODEL.md 1.5)
INNER_SLOPE = ("logistic", "tanh")


def phi(name, slope=None, offset=None):
    """The rate function ``phi`` of activation ``name``.

    With ``slope`` s and/or ``offset`` o (scalars or one value per unit) it is
    the per-neuron function of MODEL.md 1.5: ``f(s (x - o))`` for logistic and
    tanh, ``s f(x - o)`` for the others. `dphi` stays nominal (s = 1, o = 0),
    as everywhere in the model.
    """
    name = canonical_name(name)
    f = ACTIVATIONS[name][0]
    if slope is None and offset is None:
        return f
    s = 1.0 if slope is None else np.asarray(slope, dtype=float)
    o = 0.0 if offset is None else np.asarray(offset, dtype=float)
    if name in INNER_SLOPE:
        return lambda x: f(s * (np.asarray(x, dtype=float) - o))
    return lambda x: s * f(np.asarray(x, dtype=float) - o)


def dphi(name):
    """The nominal derivative ``phi'`` of activation ``name``."""
    return ACTIVATIONS[canonical_name(name)][1]


def _fused(phi_, dphi_):
    def phi_dphi(x):
        return phi_(x), dphi_(x)

    return phi_dphi


def _tanh_dtanh(x):
    y = np.tanh(x)
    return y, 1.0 - y**2


def _logistic_dlogistic(x):
    y = _logistic(x)
    return y, y * (1.0 - y)


def _linear_dlinear(x):
    # (x, 1): assigned into the rate and derivative signals, equal to copies
    return x, 1.0


#: name -> x -> (phi(x), phi'(x)), sharing work where phi' is a function of phi
_FUSED = {"tanh": _tanh_dtanh, "logistic": _logistic_dlogistic, "linear": _linear_dlinear}


def phi_dphi(name):
    """``x -> (phi(x), phi'(x))`` of activation ``name``, equal to the two separately
    once assigned into arrays (``phi'`` may come back as a scalar)."""
    key = canonical_name(name)
    return _FUSED.get(key) or _fused(*ACTIVATIONS[key])


def per_area(activation, n_areas, field="activation"):
    """Expand an activation spec to one name per area.

    ``activation`` is one name for all areas, a comma-separated string or a list
    with one entry per area (area 1 first).
    """
    if isinstance(activation, str):
        names = [a for a in activation.split(",") if a.strip()]
    else:
        names = list(activation)
    if len(names) == 1:
        names = names * n_areas
    if len(names) != n_areas:
        raise ValueError(
            f"{field}: {activation!r} gives {len(names)} activations for "
            f"{n_areas} areas; give one name or one per area"
        )
    return [canonical_name(n, field) for n in names]
