"""Alignment with backprop: the paper's central claim as a measurement.

`check_bp` drives a random, frozen error microcircuit with a constant input and
target until it settles, then compares

* its error-unit activities with the backprop recursion evaluated at the
  network's own rates, with the gains of MODEL.md 1.6
  (eps_L = c_T rho_L (t - r_L), eps_l = c_E rho_l (W^T eps)_l), and
* its forward-weight updates with the gradient of a feed-forward ANN with the
  same weights (MODEL.md 2.4a).
"""

from functools import partial

import numpy as np

from errormc.networks import ErrorMicrocircuit, activations
from errormc.networks.microcircuit import Conductances, parse_layers

from .metrics import angle_deg
from .protocol import Session, shuffled


def feedforward_backprop(weights, x, target, activation, attenuation, gains=None,
                         target_kind="rate"):
    r"""Backprop weight updates of a feed-forward rate network (MODEL.md 2.4a).

    .. math::

        v_1 = c W_1 r_0,\quad v_{l+1} = c W_{l+1} \varphi_l(v_l),\qquad
        \delta_L = \varphi'_L(v_L)(t - \varphi_L(v_L)),\quad
        \delta_{l-1} = \varphi'_{l-1}(v_{l-1}) \odot W_l^T \delta_l,\qquad
        \Delta W_l = \delta_l\, \varphi_{l-1}(v_{l-1})^T

    Parameters
    ----------
    weights : list of arrays
        ``W_1..W_L`` (post x pre).
    x, target : arrays
    activation : list of str
        One activation per area.
    attenuation : float
        c.
    gains : list of float, optional
        One gain per layer instead of ``attenuation`` everywhere (Sacramento and
        dPC rescale the output to g_bas/(g_bas+g_l), MODEL.md 2.4a).
    target_kind : "rate" or "voltage"
        Voltage targets: delta_L = t - v_L.
    """
    rates, voltages = [np.asarray(x, dtype=float)], []
    if gains is None:
        gains = [attenuation] * len(weights)
    for W, name, c in zip(weights, activation, gains):
        v = c * (W @ rates[-1])
        voltages.append(v)
        rates.append(activations.phi(name)(v))
    if target_kind == "voltage":
        delta = target - voltages[-1]
    else:
        delta = activations.dphi(activation[-1])(voltages[-1]) * (target - rates[-1])
    updates = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        updates[l] = np.outer(delta, rates[l])
        if l > 0:
            delta = activations.dphi(activation[l - 1])(voltages[l - 1]) * (weights[l].T @ delta)
    return updates


def _hierarchical(weights, layers, connectivity):
    if connectivity == "layered":
        return [weights[f"W{l}"] for l in range(1, len(layers))]
    o = np.concatenate([[0], np.cumsum(layers)]).astype(int)
    W = weights["W"]
    return [W[o[l] : o[l + 1], o[l - 1] : o[l]] for l in range(1, len(layers))]


def backprop_errors(net, weights, rates, derivatives, target):
    """The backprop recursion with the microcircuit's gains, at given rates."""
    g = net.conductances
    c_T = g.g_ntgt / g.output_error
    c_E = g.g_den / g.hidden_error
    L = net.n_areas
    eps = [None] * L
    eps[L - 1] = c_T * derivatives[L - 1] * (target - rates[L - 1])
    o = np.concatenate([[0], np.cumsum(net.layers)]).astype(int)
    for l in range(L - 1, 0, -1):  # area l (1-based) receives from areas above
        top = np.zeros(net.layers[l])
        for i in range(l + 1, L + 1):
            if net.connectivity == "layered":
                if i != l + 1:
                    continue
                W = weights[f"W{i}"]
            else:
                W = weights["W"][o[i] : o[i + 1], o[l] : o[l + 1]]
            top += W.T @ eps[i - 1]
        eps[l - 1] = c_E * derivatives[l - 1] * top
    return eps


def check_bp(
    layers,
    seed=0,
    activation="tanh",
    connectivity="layered",
    backward="bp",
    wt_noise=0.0,
    lateral_noise=0.0,
    settle_steps=None,
    dt=0.01,
    **conductances,
):
    """Settle a random frozen microcircuit on one input and target; compare with backprop.

    Returns
    -------
    dict
        ``angles_deg`` (per area, microcircuit update vs feed-forward backprop
        gradient), ``max_rel_delta_error`` (over areas: max |eps - eps_bp| /
        max |eps_bp|, with eps_bp the recursion at the network's own rates),
        ``rel_delta_error`` per area, and the raw arrays.
    """
    layers = parse_layers(layers)
    L = len(layers) - 1
    g = Conductances(**conductances)
    acts = activations.per_area(activation, L)
    rng = np.random.RandomState(seed + 1)
    x = rng.uniform(0, 1, layers[0])
    # a reachable target: the output of a random teacher-like perturbation
    target = activations.phi(acts[-1])(rng.uniform(-1, 1, layers[-1]))
    if settle_steps is None:
        settle_steps = 100 * L + 400
    T = settle_steps + 1
    learn = np.zeros(T)
    learn[-1] = 1.0  # one plastic step: its update is computed, never applied

    build = partial(
        ErrorMicrocircuit,
        layers=layers,
        activation=acts,
        connectivity=connectivity,
        backward=backward,
        eta=np.ones((L, L)) if connectivity == "skip" else np.ones(L),
        wt_noise=wt_noise,
        lateral_noise=lateral_noise,
        seed=seed,
        **g.as_dict(),
    )

    def record(net):
        probes = {}
        for l, area in enumerate(net.areas, start=1):
            probes[f"rep{l}"] = (area.representation.neurons, "output")
            probes[f"rho{l}"] = (area.representation.neurons, "derivative")
            probes[f"err{l}"] = (area.error.neurons, "output")
            probes[f"dW{l}"] = (net.forward[(l, l - 1)].learning_rule, "delta")
        return probes

    with Session(build, layers[0], layers[-1], dt=dt, record=record) as session:
        data = session.run(np.tile(x, (T, 1)), np.tile(target, (T, 1)), learn)
        net = session.net
        weights = net.initial_weights
    rates = [data[f"rep{l}"][-1] for l in range(1, L + 1)]
    rhos = [data[f"rho{l}"][-1] for l in range(1, L + 1)]
    errors = [data[f"err{l}"][-1] for l in range(1, L + 1)]
    expected = backprop_errors(net, weights, rates, rhos, target)
    rel = []
    for eps, ref in zip(errors, expected):
        scale = np.max(np.abs(ref))
        rel.append(float(np.max(np.abs(eps - ref)) / scale) if scale > 0 else float(np.max(np.abs(eps))))
    hierarchical = _hierarchical(weights, layers, connectivity)
    bp = feedforward_backprop(hierarchical, x, target, acts, g.attenuation)
    updates = [data[f"dW{l}"][-1] for l in range(1, L + 1)]
    # the exact angle (the reference's snap to 0 below ~0.08 degrees would hide
    # how close the updates get as nudging weakens)
    angles = [angle_deg(mc, ref, snap=False) for mc, ref in zip(updates, bp)]
    return {
        "layers": "-".join(map(str, layers)),
        "connectivity": connectivity,
        "backward": backward,
        "g_api": g.g_api,
        "angles_deg": angles,
        "rel_delta_error": rel,
        "max_rel_delta_error": max(rel),
        "error_rates": errors,
        "backprop_errors": expected,
        "updates": updates,
        "backprop_updates": bp,
    }


def update_alignment(factory, task, weights, model, activation, conductances,
                     connectivity, target_kind, dt, seed, plasticity=1e-9):
    """Mean angle per area between a trained model's forward-weight updates and
    the feed-forward backprop gradient (MODEL.md 2.4a), for the final weights.

    A cheaper variant of the paper's scan: one snapshot (``weights``, e.g. a
    run's final weights, with the somatic voltages they hold) instead of every
    N_rec-step snapshot, over one shuffled-and-shifted training sequence
    (shuffled by ``RandomState(seed)``, not the run's last shuffle). As in the
    paper: all forward learning rates set to 1, target nudging on, no weight
    changes (the plasticity input is ``plasticity``, tiny, so updates are
    computed but do not move the weights; angles do not depend on their scale),
    and at the last step of each sample the update of each hierarchical block
    is compared with backprop in a feed-forward network with the same weights on
    the same input and target.

    Parameters
    ----------
    factory : callable
        The trained network's factory (``factory(**session_nodes, weights=...,
        eta=...)``).
    task : TeacherStudentTask
    weights : dict
    model : str
        ``errormc``, ``sacramento2018``, ``dpc`` or ``ann`` (sets the gains of the
        backprop reference, MODEL.md 2.4a).
    activation : str or list
    conductances : Conductances
    connectivity : str
    target_kind : "rate" or "voltage"
    dt : float
    seed : int

    Returns
    -------
    list of float
        Mean angle (degrees) per area, bottom to top; NaN entries count as 0.
    """
    layers = task.layers
    L = len(layers) - 1
    g = conductances
    if model == "errormc":
        kind = "rate"
        gains = [g.attenuation] * L
    elif model == "ann":
        connectivity, kind = "layered", "rate"
        gains = [g.g_bas / (g.g_bas + g.g_l)] * L
    else:
        connectivity, kind = "layered", "voltage"
        gains = [g.attenuation] * (L - 1) + [g.g_bas / (g.g_bas + g.g_l)]
    acts = activations.per_area("linear" if model == "dpc" else activation, L)
    weights = {k: np.asarray(v) for k, v in weights.items()}

    def build(**nodes):
        return factory(**dict(nodes, weights=weights, eta=[1.0] * L))

    def record(net):
        return {f"dW{l}": (net.forward[(l, l - 1)].learning_rule, "delta") for l in range(1, L + 1)}

    P = task.steps_per_sample
    targets = task.targets(target_kind)["train"]
    x, t, _ = shuffled(task.inputs["train"], targets, np.random.RandomState(seed), P, L)
    with Session(build, layers[0], layers[-1], dt=dt, record=record) as session:
        data = session.run(x, t, np.full(len(x), plasticity))
    hierarchical = _hierarchical(weights, layers, connectivity)
    angles = np.zeros((len(x) // P, L))
    for i, k in enumerate(range(P - 1, len(x), P)):
        bp = feedforward_backprop(hierarchical, x[k], t[k], acts, None, gains, kind)
        for l in range(L):
            a = angle_deg(data[f"dW{l + 1}"][k], bp[l])
            angles[i, l] = 0.0 if np.isnan(a) else a
    return [float(a) for a in angles.mean(axis=0)]
