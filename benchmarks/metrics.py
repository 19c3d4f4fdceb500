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


def angle_deg(a, b, snap=True):
    """Angle between two arrays in degrees (Frobenius inner product).

    With ``snap``, 0 where |1 - cos| < 1e-6 (angles below ~0.08 degrees), as the
    reference does (MODEL.md 2.4a); NaN if either array is zero.
    """
    a, b = np.ravel(a), np.ravel(b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float("nan")
    cos = float(np.dot(a, b) / (na * nb))
    if snap and abs(1.0 - cos) < 1e-6:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
