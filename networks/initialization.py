"""Initial weights and voltages, drawn in the reference implementation's order.

The draws follow MODEL.md 3.8 so that a network with seed ``s`` starts where the
authors' code starts, but every draw comes from a private
`numpy.random.RandomState`, never from numpy's global generator.

The result is a dict of arrays with the names of the weights file format
(`errormc.networks.weights`).
"""

import numpy as np

from .builder import rectangular_transpose
from .connectivity import backward_mask, forward_mask


def draw_voltages(seed, sizes):
    """Initial somatic voltages N(0, 1) of ``sizes`` (``[(name, n), ...]``), drawn
    in that order from ``RandomState(seed)`` (MODEL.md 3.8 step 1: every model draws
    its voltages first, then re-seeds for the weights)."""
    rng = np.random.RandomState(seed)
    return {name: rng.normal(0.0, 1.0, size=n) for name, n in sizes}


def _offsets(sizes):
    return np.concatenate([[0], np.cumsum(sizes)]).astype(int)


def skip_backward_from_forward(W, layers, errors, noise):
    """``B = triu((D_P W_sub D_Q)^T + N)`` over all error units (MODEL.md 1.9)."""
    rep = _offsets(layers)
    err = _offsets(errors)
    B = np.array(noise, dtype=float, copy=True)
    for i in range(1, len(layers)):
        for j in range(1, len(layers)):
            block = W[rep[i] : rep[i + 1], rep[j] : rep[j + 1]]
            shape = (errors[j - 1], errors[i - 1])
            B[err[j - 1] : err[j], err[i - 1] : err[i]] += rectangular_transpose(
                block, shape
            )
    return np.triu(B)


def backward_noise(rng, layers, errors, connectivity, wt_noise):
    """The fixed noise of ``bp`` mode, U(-wt_noise, wt_noise), drawn from ``rng``:
    one matrix over all error units (skip) or one per backward layer (layered).

    The reference draws it from the model's private generator, which then
    shuffles the data (MODEL.md 3.8 step 4); `model_rng` replays these draws.
    """
    if connectivity == "skip":
        shapes = [(sum(errors), sum(errors))]
    else:
        shapes = [(errors[l - 1], errors[l]) for l in range(1, len(layers) - 1)]
    return [rng.uniform(-wt_noise, wt_noise, shape) for shape in shapes]


def model_rng(seed, layers, errors=None, connectivity="skip", backward="bp", wt_noise=0.5):
    """The error microcircuit's private generator after its construction draws."""
    layers = [int(n) for n in layers]
    errors = list(layers[1:]) if errors is None else list(errors)
    rng = np.random.RandomState(seed)
    if backward == "bp":
        backward_noise(rng, layers, errors, connectivity, wt_noise)
    return rng


def initial_state(
    layers,
    errors=None,
    connectivity="skip",
    backward="bp",
    seed=0,
    weight_range=1.0,
    wt_noise=0.5,
    lateral_noise=0.3,
    backward_range=1.0,
    variability=None,
):
    """Initial weights and voltages of an error microcircuit.

    Parameters
    ----------
    layers : list of int
        ``[n_0, n_1, ..., n_L]``.
    errors : list of int, optional
        ``[m_1, ..., m_L]`` (default: equal to the representation sizes).
    connectivity : "layered" or "skip"
        ``skip`` uses the realistic (primate) initialisation of MODEL.md 1.11.
    backward : "bp" or "fa"
    seed : int
    weight_range, backward_range : float
        Forward / backward weights are U(-range, range) (times the anatomical
        scale of the block in skip mode).
    wt_noise : float
        sigma of the fixed uniform noise added to the transpose in ``bp`` mode.
    lateral_noise : float
        Lateral weights are I + U(-lateral_noise, lateral_noise).
    variability : tuple, optional
        ``(sizes, slope_std, offset_std)``: after the weights, from the same
        generator, per-unit slopes 1 + N(0, slope_std^2) for every area, then
        offsets N(0, offset_std^2) for every area (MODEL.md 3.8 step 3), as
        ``slope1..``, ``offset1..``.

    Returns
    -------
    dict
        Arrays named as in the weights file: ``W1..WL`` or ``W``, ``B1..`` or
        ``B``, ``WIP1..``, ``BPI1..``, ``Bnoise..`` (bp), ``u1..``, ``e1..``.
    """
    layers = [int(n) for n in layers]
    L = len(layers) - 1
    errors = list(layers[1:]) if errors is None else [int(m) for m in errors]
    out = {}

    # 1. initial voltages: representation units, then error units
    out.update(
        draw_voltages(
            seed,
            [(f"u{l}", layers[l]) for l in range(1, L + 1)]
            + [(f"e{l}", errors[l - 1]) for l in range(1, L + 1)],
        )
    )

    # 2. weights, from the re-seeded generator
    rng = np.random.RandomState(seed)

    def lateral():
        for l in range(1, L + 1):
            shape = (errors[l - 1], layers[l])
            out[f"WIP{l}"] = rng.uniform(-lateral_noise, lateral_noise, shape) + np.eye(*shape)
        for l in range(1, L + 1):
            shape = (layers[l], errors[l - 1])
            out[f"BPI{l}"] = rng.uniform(-lateral_noise, lateral_noise, shape) + np.eye(*shape)

    if connectivity == "skip":
        mask = forward_mask(L, "skip")
        bmask = backward_mask(L)
        rep = _offsets(layers)
        err = _offsets(errors)

        def masked_pass():
            W = np.zeros((rep[-1], rep[-1]))
            for i in range(L + 1):
                for j in range(L + 1):
                    s = weight_range * mask[i, j]
                    W[rep[i] : rep[i + 1], rep[j] : rep[j + 1]] = rng.uniform(
                        -s, s, (layers[i], layers[j])
                    )
            B = np.zeros((err[-1], err[-1]))
            for i in range(L):
                for j in range(L):
                    s = backward_range * bmask[i, j]
                    B[err[i] : err[i + 1], err[j] : err[j + 1]] = rng.uniform(
                        -s, s, (errors[i], errors[j])
                    )
            return np.tril(W), np.triu(B)

        W, _ = masked_pass()
        lateral()
        _, B = masked_pass()
        out["W"] = W
        if backward == "bp":
            (noise,) = backward_noise(
                np.random.RandomState(seed), layers, errors, connectivity, wt_noise
            )
            out["Bnoise"] = noise
            B = skip_backward_from_forward(W, layers, errors, noise)
        out["B"] = B
    else:
        for l in range(1, L + 1):
            out[f"W{l}"] = rng.uniform(-weight_range, weight_range, (layers[l], layers[l - 1]))
        lateral()
        for l in range(1, L):
            drawn = rng.uniform(-backward_range, backward_range, (layers[l], layers[l + 1]))
            out[f"B{l}"] = rectangular_transpose(drawn.T, (errors[l - 1], errors[l]))
        if backward == "bp":
            noises = backward_noise(
                np.random.RandomState(seed), layers, errors, connectivity, wt_noise
            )
            for l, noise in enumerate(noises, start=1):
                out[f"Bnoise{l}"] = noise
                out[f"B{l}"] = rectangular_transpose(out[f"W{l + 1}"], noise.shape) + noise
    if variability is not None:
        sizes, slope_std, offset_std = variability
        for l, n in enumerate(sizes, start=1):
            out[f"slope{l}"] = 1.0 + rng.normal(0.0, slope_std, n)
        for l, n in enumerate(sizes, start=1):
            out[f"offset{l}"] = rng.normal(0.0, offset_std, n)
    return out
