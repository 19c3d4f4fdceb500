"""Connection modes, the primate area table, and learning-rate matrices.

Blocks are indexed by *block* number: block 0 is the input area, block i the
cortical area i (1-based), as in MODEL.md 1.9.
"""

import numpy as np

CONNECTIVITY_MODES = ("layered", "skip")
BACKWARD_MODES = ("bp", "fa")

_s = 10 ** -0.5
#: Relative strength C[a, b] of the projection from area a to area b (0-based, in
#: hierarchy order), powers of 10^-1/2, after Markov et al., Cereb. Cortex 24(1),
#: 2014, as tabulated in the authors' code (MODEL.md 1.11).
PRIMATE_CONNECTIVITY = np.array(
    [
        [0, 1, _s**3, 0, _s**2, 0, 0],
        [1, 0, 1, _s, _s, 0, _s],
        [_s, _s, 0, 1, 1, _s, 1],
        [_s**2, _s**3, 1, 0, _s, 1, 0],
        [_s, _s, _s, _s, 0, 0, 1],
        [_s**3, 0, _s, 1, _s**2, 0, 0],
        [0, 0, 0, 0, _s**2, 0, 0],
    ]
)
MAX_SKIP_AREAS = PRIMATE_CONNECTIVITY.shape[0]


def check_mode(value, allowed, field):
    value = str(value).strip().lower()
    if value not in allowed:
        raise ValueError(f"{field}: unknown mode {value!r}; choose from {', '.join(allowed)}")
    return value


def forward_mask(n_areas, connectivity="skip"):
    """Block mask M[i, j] (post block i, pre block j) of forward projections.

    ``layered``: M[i, i-1] = 1. ``skip``: M[i, j] = C[j-1, i-1] for j >= 1 (only
    j < i is used), M[1, 0] = 1 (the input projects to area 1 only).
    """
    connectivity = check_mode(connectivity, CONNECTIVITY_MODES, "connectivity")
    mask = np.zeros((n_areas + 1, n_areas + 1))
    if connectivity == "layered":
        for i in range(1, n_areas + 1):
            mask[i, i - 1] = 1.0
        return mask
    if n_areas > MAX_SKIP_AREAS:
        raise ValueError(
            f"layers: skip connectivity allows at most {MAX_SKIP_AREAS} areas, "
            f"got {n_areas}"
        )
    mask[1, 0] = 1.0
    mask[1:, 1:] = PRIMATE_CONNECTIVITY[:n_areas, :n_areas].T
    return mask


def backward_mask(n_areas):
    """Block mask (post error area i, pre error area j), 0-based: C[j, i]."""
    return PRIMATE_CONNECTIVITY[:n_areas, :n_areas].T.copy()


def forward_blocks(n_areas, connectivity):
    """(post area i, pre block j) pairs that carry forward weights.

    Layered: the hierarchical blocks. Skip: every j < i; blocks whose mask and
    learning rate are zero keep zero weights, which the microcircuit drops.
    """
    if connectivity == "layered":
        return [(i, i - 1) for i in range(1, n_areas + 1)]
    return [(i, j) for i in range(1, n_areas + 1) for j in range(i)]


def learning_rate_matrix(eta, n_areas, connectivity="skip", fill="scaled"):
    """Learning rates H[i-1, j] for block (post area i, pre block j).

    ``eta`` is one rate per post area (area 1 first), or an L x L matrix used as is.
    With a list: ``fill="scaled"`` gives H[i-1, j] = eta_i M[i, j] (MODEL.md 1.9,
    "fill_scaled"), ``"diag"`` only the hierarchical blocks, ``"all"`` eta_i for
    every j < i.
    """
    eta = np.asarray(eta, dtype=float)
    if eta.ndim == 2:
        if eta.shape != (n_areas, n_areas):
            raise ValueError(
                f"eta: matrix shape {eta.shape}, expected {(n_areas, n_areas)}"
            )
        matrix = eta
    else:
        eta = np.broadcast_to(eta, (n_areas,)) if eta.size == 1 else eta
        if eta.shape != (n_areas,):
            raise ValueError(
                f"eta: {eta.size} learning rates for {n_areas} areas; give one or "
                f"one per area"
            )
        mask = forward_mask(n_areas, connectivity)[1:, :n_areas]
        matrix = np.zeros((n_areas, n_areas))
        for i in range(n_areas):
            if fill == "scaled" or connectivity == "layered":
                matrix[i, : i + 1] = eta[i] * mask[i, : i + 1]
            elif fill == "diag":
                matrix[i, i] = eta[i]
            elif fill == "all":
                matrix[i, : i + 1] = eta[i]
            else:
                raise ValueError(f"fill: unknown {fill!r}; choose scaled, diag or all")
    if np.any(matrix < 0) or not np.all(np.isfinite(matrix)):
        raise ValueError(f"eta: learning rates must be finite and >= 0, got {eta.tolist()}")
    return matrix
