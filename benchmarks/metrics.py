"""Scores: squared errors, MSE, accuracy, angles to backprop."""

import numpy as np


def squared_errors(outputs, targets, reduce="sum"):
    """Per-step squared error between output rates and targets.

    ``reduce="sum"``: the squared norm over output units (the reference's
    "MSE", MODEL.md 3.1 step 7); ``"mean"``: the mean over output units.
    """
    diff = np.asarray(outputs, dtype=float) - np.asarray(targets, dtype=float)
    sq = diff**2
    return sq.sum(axis=1) if reduce == "sum" else sq.mean(axis=1)


def phase_mse(per_step, skip=10):
    """Mean of a phase's per-step squared errors after its first ``skip`` steps
    (the pipeline transient at the phase boundary; the paper's test metric)."""
    per_step = np.asarray(per_step, dtype=float)
    return float(np.mean(per_step[skip:] if len(per_step) > skip else per_step))


def sample_readout(outputs, steps_per_sample, readout_steps=1):
    """One output per sample: the mean over the last ``readout_steps`` steps of
    each ``steps_per_sample``-step presentation (1: the sample's last step)."""
    outputs = np.asarray(outputs, dtype=float)
    P, k = steps_per_sample, readout_steps
    chunks = outputs[: len(outputs) // P * P].reshape(-1, P, outputs.shape[-1])
    return chunks[:, P - k :].mean(axis=1)


def accuracy(outputs, labels):
    """Fraction of samples whose largest output is the label."""
    return float(np.mean(np.argmax(outputs, axis=1) == np.asarray(labels)))


def angles_deg(a, b, snap=True):
    r"""Angles in degrees between pairs of arrays stacked along the first axis.

    .. math:: \theta_k = \arccos \frac{\langle A_k, B_k \rangle_F}{\|A_k\|_F\, \|B_k\|_F}

    With ``snap``, 0 where |1 - cos| < 1e-6 (angles below ~0.08 degrees), as the
    reference does (MODEL.md 2.4a); NaN where either array is zero.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("ki,ki->k", a, b) / (na * nb)
    out = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    if snap:
        out[np.abs(1.0 - cos) < 1e-6] = 0.0
    out[(na == 0) | (nb == 0)] = np.nan
    return out


def angle_deg(a, b, snap=True):
    """`angles_deg` of one pair of arrays, as a float."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return float(angles_deg(a[None], b[None], snap)[0])
