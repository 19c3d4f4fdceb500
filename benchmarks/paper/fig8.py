"""Fig. 8: a downstream cell can read phi'(u) from its input's fluctuations
(MODEL.md 3.7).

A representation unit holds a voltage u while white noise xi ~ N(0, sigma^2) is
added to it every step; its rate r = phi(u + xi) fluctuates by about
phi'(u) xi. A high-pass filter removes the mean rate,

    y_0 = r_0,   y_{k+1} = y_k + (r_{k+1} - r_k) - (dt / tau_HP) y_k,

and the rectified output max(y, 0), averaged over the presentation, is
proportional to phi'(u) for small sigma. The grid is the notebook's: 50 voltages
equally spaced in [-5, 5], shuffled, each held for 100 ms at dt = 0.01 ms
(10,000 steps) in one continuous sequence, tau_HP = 10 dt, sigma in {0.1, 0.05},
phi in {tanh, relu, logistic} with the model's rate functions
(`errormc.networks.activations`). Each estimate is scaled so that its maximum is
the maximum of the analytic phi'.

The summary is the Pearson correlation between estimate and analytic phi' per
activation and noise level. ``--quick`` holds each voltage for 10 ms instead of
100 ms. Nothing of this feeds the network simulations, which take phi'
analytically; the notebook's random seeds are not published, so ``--protocol
reference`` and ``clean`` are the same computation here (seed s of ``--seeds N``
draws the shuffle and the noise from ``numpy.random.default_rng(s)``).

Writes ``fig8.csv`` (one row per activation, sigma, seed and voltage),
``fig8.png`` (estimates against phi'(u), one panel per activation) and ``fig8.md``
(the correlation table).

No runs: the figure is a standalone computation (``STANDALONE``), so it has
`run` in place of a grid and a report (`errormc.runs.paper.run_figure` calls it).
"""

import os
import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import lfilter

from errormc.networks import activations
from errormc.networks.errors import ConfigError

from .common import markdown_table, save_figure, write_csv, write_text

#: no grid of runs: ``errormc paper fig8`` calls `run`
STANDALONE = True

ACTIVATIONS = ("tanh", "relu", "logistic")
SIGMAS = (0.1, 0.05)
N_VOLTAGES, U_RANGE = 50, (-5.0, 5.0)
DT = 0.01
HOLD_MS, QUICK_HOLD_MS = 100.0, 10.0
TAU_HP = 10 * DT
COLUMNS = ["activation", "sigma", "seed", "u", "phi_prime", "estimate"]


def estimate_derivative(activation, sigma, seed=0, hold_ms=HOLD_MS, dt=DT, tau_hp=TAU_HP,
                        n_voltages=N_VOLTAGES, u_range=U_RANGE):
    """phi'(u) estimated from high-pass filtered noisy rates (module docstring).

    Returns
    -------
    u, estimate, phi_prime : arrays of ``n_voltages`` (sorted by u)
        The estimate is scaled to the maximum of the analytic phi'.
    """
    rng = np.random.default_rng(seed)
    u = np.linspace(*u_range, n_voltages)
    order = rng.permutation(n_voltages)
    steps = int(round(hold_ms / dt))
    voltage = np.repeat(u[order], steps)
    rates = activations.phi(activation)(voltage + rng.normal(0.0, sigma, voltage.size))
    # y_k = (1 - dt/tau) y_{k-1} + r_k - r_{k-1}, with r_{-1} = y_{-1} = 0: y_0 = r_0
    y = lfilter([1.0, -1.0], [1.0, -(1.0 - dt / tau_hp)], rates)
    rectified = np.maximum(y, 0.0).reshape(n_voltages, steps).mean(axis=1)
    estimate = np.empty(n_voltages)
    estimate[order] = rectified
    true = activations.dphi(activation)(u)
    estimate *= true.max() / estimate.max()
    return u, estimate, true


def compute(quick=False, seeds=1):
    """All (activation, sigma, seed) rows of the figure."""
    hold = QUICK_HOLD_MS if quick else HOLD_MS
    rows = []
    for activation in ACTIVATIONS:
        for sigma in SIGMAS:
            for seed in range(seeds):
                u, est, true = estimate_derivative(activation, sigma, seed, hold)
                rows += [dict(activation=activation, sigma=sigma, seed=seed, u=a, phi_prime=b,
                              estimate=c) for a, b, c in zip(u, true, est)]
    return rows


def summary(rows):
    """{(activation, sigma): mean over seeds of corr(estimate, phi')}."""
    out = {}
    for activation in ACTIVATIONS:
        for sigma in SIGMAS:
            corr = []
            for seed in sorted({r["seed"] for r in rows}):
                sel = [r for r in rows if r["activation"] == activation
                       and r["sigma"] == sigma and r["seed"] == seed]
                if sel:
                    corr.append(np.corrcoef([r["estimate"] for r in sel],
                                            [r["phi_prime"] for r in sel])[0, 1])
            if corr:
                out[(activation, sigma)] = float(np.mean(corr))
    return out


def format_table(rows):
    corr = summary(rows)
    return markdown_table("activation", [f"sigma = {s}" for s in SIGMAS],
                          [(a, [f"{corr[(a, s)]:.4f}" for s in SIGMAS]) for a in ACTIVATIONS])


def plot(rows, path, title):
    fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(11, 3.6))
    for ax, activation in zip(axes, ACTIVATIONS):
        for sigma, marker in zip(SIGMAS, ("o", "x")):
            sel = [r for r in rows if r["activation"] == activation and r["sigma"] == sigma
                   and r["seed"] == 0]
            ax.plot([r["phi_prime"] for r in sel], [r["estimate"] for r in sel], marker,
                    ms=4, ls="none", label=f"sigma = {sigma}")
        top = max(r["phi_prime"] for r in rows if r["activation"] == activation)
        ax.plot([0, top], [0, top], "k--", lw=0.8, label="identity")
        ax.set_title(activation)
        ax.set_xlabel("analytic phi'(u)")
        ax.set_ylabel("estimate (rectified high-pass rate)")
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("\n".join(textwrap.wrap(title, 110)), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)



def run(out, quick=False, seeds=None):
    """Compute Fig. 8 and write ``fig8.csv``, ``fig8.png``, ``fig8.md`` to ``out``;
    return the table as text (the computation takes seconds)."""
    if out is None:
        raise ConfigError("out: fig8 needs an output directory (--out DIR)")
    seeds = 1 if seeds is None else seeds
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ConfigError(f"seeds: need an integer >= 1, got {seeds!r}")
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    rows = compute(quick, seeds)
    wall = time.perf_counter() - t0
    hold = QUICK_HOLD_MS if quick else HOLD_MS
    header = (f"Fig. 8 ({'quick' if quick else 'full'}: {N_VOLTAGES} voltages x {hold:g} ms, "
              f"dt {DT} ms, tau_HP {TAU_HP:g} ms, {seeds} seed(s)): correlation of the "
              f"estimated with the analytic phi'; computed in {wall:.1f} s")
    write_csv(rows, os.path.join(out, "fig8.csv"), COLUMNS)
    plot(rows, os.path.join(out, "fig8.png"), header)
    text = header + "\n\n" + format_table(rows) + "\n"
    write_text(os.path.join(out, "fig8.md"), text)
    return text
