"""Alignment with backprop: the paper's central claim as a measurement.

`check_bp` drives a random, frozen error microcircuit with a constant input and
target until it settles, then compares

* its error-unit activities with the backprop recursion evaluated at the
  network's own rates, with the gains of MODEL.md 1.6
  (eps_L = c_T rho_L (t - r_L), eps_l = c_E rho_l (W^T eps)_l), and
* its forward-weight updates with the gradient of a feed-forward ANN with the
  same weights (MODEL.md 2.4a).

`alignment_scan` is the paper's comparison of a trained run (``--compare bp``):
for every weight snapshot (every N_rec steps, settling snapshots skipped) the
last training sequence is replayed with learning rates 1 and no weight change,
and per area the forward update at the last step of each sample is compared
with backprop (MODEL.md 2.4a); `weight_angles` is 2.4(b), W^T against B.
"""

from functools import partial

import numpy as np

from errormc.networks import ErrorMicrocircuit, activations
from errormc.networks.builder import rectangular_transpose
from errormc.networks.compartments import ProjectionBlock
from errormc.networks.initialization import skip_backward_from_forward
from errormc.networks.microcircuit import Conductances, parse_layers

from .metrics import angle_deg, angles_deg
from .protocol import Session


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
        One sample, or samples along a leading axis (then one update per sample).
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
        v = c * (rates[-1] @ W.T)
        voltages.append(v)
        rates.append(activations.phi(name)(v))
    if target_kind == "voltage":
        delta = target - voltages[-1]
    else:
        delta = activations.dphi(activation[-1])(voltages[-1]) * (target - rates[-1])
    updates = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        updates[l] = delta[..., :, None] * rates[l][..., None, :]
        if l > 0:
            delta = activations.dphi(activation[l - 1])(voltages[l - 1]) * (delta @ weights[l])
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


def _tracked_backward(config, weights):
    """The backward weights the reference replays a snapshot with (``bp`` mode):
    it refreshes them from the snapshot's own forward weights at every step of
    the replay (the replay evaluates plasticity, MODEL.md 1.9), so they do not
    lag W by one update; Sacramento's Q stays locked to -B. Returns the named
    arrays that change."""
    if config.backward != "bp":
        return {}
    layers = config.layer_sizes()
    if config.model == "errormc" and config.connectivity == "skip":
        errors = config.error_sizes() or layers[1:]
        return {"B": skip_backward_from_forward(weights["W"], layers, errors, weights["Bnoise"])}
    out = {}
    for l in range(1, len(layers) - 1):
        W = weights[f"W{l + 1}"]
        if config.model == "errormc":
            noise = weights[f"Bnoise{l}"]
            out[f"B{l}"] = rectangular_transpose(W, noise.shape) + noise
        else:
            out[f"B{l}"] = W.T + weights.get(f"Bnoise{l}", 0.0)
            if config.model == "sacramento2018":
                out[f"Q{l}"] = -out[f"B{l}"]
    return out


def _write_backward(session, config, weights):
    """Put `_tracked_backward` into the session's backward connections."""
    net = session.net
    tracked = _tracked_backward(config, weights)
    if config.model == "errormc":
        conns = dict(net.backward)
        values = {k: net.backward_block(dict(weights, **tracked), *k) for k in conns}
    else:
        conns = {name: net.weight_connections[name] for name in tracked}
        values = tracked
    for key, conn in conns.items():
        # untracked blocks (no rule: fixed noise, or FA) are constant and read-only
        if isinstance(conn, ProjectionBlock):
            if conn.projection.learning_rule_type is not None:
                session.signal(conn.projection, "weights")[conn.rows, conn.cols] = values[key]
        elif conn.learning_rule_type is not None:
            session.signal(conn, "weights")[...] = values[key]


def _comparison(config):
    """Connectivity, target kind, gains and activations of the feed-forward
    backprop network a model is compared with (MODEL.md 2.4a)."""
    L = len(config.layer_sizes()) - 1
    g = Conductances(config.g_l, config.g_bas, config.g_api, config.g_den, config.g_ntgt)
    if config.model == "errormc":
        connectivity, kind = config.connectivity, "rate"
        gains = [g.attenuation] * L
    elif config.model == "ann":
        connectivity, kind = "layered", "rate"
        gains = [g.g_bas / (g.g_bas + g.g_l)] * L
    else:
        connectivity, kind = "layered", "voltage"
        gains = [g.attenuation] * (L - 1) + [g.g_bas / (g.g_bas + g.g_l)]
    acts = activations.per_area("linear" if config.model == "dpc" else config.activation, L)
    return connectivity, kind, gains, acts


def _learning_block(session, l):
    """``(connection with the rule, rows, cols)`` of forward block (l, l - 1)
    (in skip mode a block of the one forward matrix), or None when it does not
    learn."""
    conn = session.net.forward.get((l, l - 1))
    if conn is None or conn.learning_rule is None:
        return None
    if isinstance(conn, ProjectionBlock):
        return conn.projection, conn.rows, conn.cols
    return conn, slice(None), slice(None)


def record_updates(steps_per_sample, dt):
    """``record(net)`` for a `Session`: the pending updates of the forward
    rules at every ``steps_per_sample``-th step, which are the ends of samples
    when a replay starts at a sample boundary (`update_angles`); none where
    ``steps_per_sample * dt`` is not exactly that many steps in floating point
    (nengo would sample other steps; the replay then reads sample by sample)."""
    every = steps_per_sample * dt
    exact = every / dt == steps_per_sample  # else nengo samples other steps

    def record(net):
        probes = {}
        for (post, pre), conn in net.forward.items() if exact else ():
            owner = conn.projection if isinstance(conn, ProjectionBlock) else conn
            if post == pre + 1 and owner.learning_rule is not None:
                probes[_update_probe(owner)] = (owner.learning_rule, "delta", every)
        return probes

    return record


def _update_probe(conn):
    return f"update {id(conn)}"


def pending_update(session, l):
    """The pending forward update of area ``l`` (block (l, l - 1); in skip mode a
    block of the one forward matrix), a copy, or None when it does not learn."""
    block = _learning_block(session, l)
    if block is None:
        return None
    conn, rows, cols = block
    # fetched anew: a compiled backend's arrays are host copies of one moment
    return np.array(session.signal(conn.learning_rule, "delta")[rows, cols])


def update_angles(batch, configs, weights, inputs, targets, steps_per_sample,
                  plasticity=1e-9):
    """Angles between the models' forward updates and backprop for one weight
    snapshot per member of ``batch``, over one replayed training sequence each
    (MODEL.md 2.4a).

    The members (the runs' own sessions, after their test) continue from their
    current state, as the reference does. The target nudges the output and the
    plasticity input is ``plasticity``, so tiny that the weights stay put; the
    reference sets the forward learning rates to 1 instead, which changes each
    block's update by a constant factor only, and angles do not depend on it
    (a block with rate 0 has no update: its angle counts as 0). At the last
    step of each sample (where input and delayed target belong to the same
    sample) each hierarchical block's update, still pending in the simulator,
    is compared with the gradient of a feed-forward network with the same
    weights on the same input and target (`feedforward_backprop`).

    Parameters
    ----------
    batch : Batch
        Sessions stepped in lockstep (one run: ``Batch.of(session)``).
    configs, weights, inputs, targets : lists, one entry per member
        Run config, the snapshot's named weights, the replayed sequence.
    steps_per_sample : int

    Returns
    -------
    list of arrays (samples, L)
        Per member, angles in degrees (the reference's snap to 0 below ~0.08
        degrees; NaN where an update vanishes).
    """
    P = steps_per_sample
    ends = np.arange(P - 1, len(inputs[0]), P)
    L = len(configs[0].layer_sizes()) - 1
    blocks = [[_learning_block(s, l) for l in range(1, L + 1)] for s in batch.sessions]
    recorded = all(_update_probe(b[0]) in s.probes for s, bb in zip(batch.sessions, blocks)
                   for b in bb if b is not None)
    if recorded and batch.sim.n_steps % P == 0:
        # the whole sequence at once: the sessions' probes (`record_updates`)
        # hold the updates at every P-th step count, here the samples' ends
        batch.step([(x, t, np.full(len(x), plasticity)) for x, t in zip(inputs, targets)])
        pending = [[None if b is None else
                    np.asarray(s.sim.data[s.probes[_update_probe(b[0])]])[:, b[1], b[2]]
                    for b in bb] for s, bb in zip(batch.sessions, blocks)]
    else:
        steps = [[[] for _ in range(L)] for _ in batch.sessions]
        for a in ends + 1 - P:
            batch.step([(x[a : a + P], t[a : a + P], np.full(P, plasticity))
                        for x, t in zip(inputs, targets)])
            for m, session in enumerate(batch.sessions):
                for l in range(L):
                    steps[m][l].append(pending_update(session, l + 1))
        pending = [[None if u[0] is None else np.stack(u) for u in member] for member in steps]
    out = []
    for config, named, x, t, updates in zip(configs, weights, inputs, targets, pending):
        connectivity, kind, gains, acts = _comparison(config)
        hierarchical = _hierarchical(named, config.layer_sizes(), connectivity)
        bp = feedforward_backprop(hierarchical, x[ends], t[ends], acts, None, gains, kind)
        angles = np.zeros((len(ends), L))
        for l in range(L):
            mc = 0.0 if updates[l] is None else updates[l]
            angles[:, l] = angles_deg(np.broadcast_to(mc, bp[l].shape), bp[l])
        out.append(angles)
    return out


def weight_angles(config, weights):
    """MODEL.md 2.4(b): the angle between forward weights and backward weights.

    errormc skip: one angle, W_sub^T against the whole B (NaN for 2-1, whose
    W_sub is zero); errormc layered: (I W_{l+1} I)^T against B_l per hidden
    area; the layered comparison models: W_{l+1}^T against B_l.
    """
    layers = config.layer_sizes()
    L = len(layers) - 1
    if config.model == "errormc" and config.connectivity == "skip":
        n0 = layers[0]
        return [angle_deg(weights["W"][n0:, n0:].T, weights["B"])]
    out = []
    for l in range(1, L):
        B = weights[f"B{l}"]
        W = weights[f"W{l + 1}"]
        forward = rectangular_transpose(W, B.shape) if config.model == "errormc" else W.T
        out.append(angle_deg(forward, B))
    return out


def alignment_scan(batch, configs, snapshots, inputs, targets, steps_per_sample, skip=0):
    """The BP comparison of MODEL.md 2.4 over runs' weight snapshots.

    Parameters
    ----------
    batch : Batch
        The runs' sessions after their test, stepped in lockstep (one run:
        ``Batch.of(session)``); the replays continue their state.
    configs : list of RunConfig
        One per member.
    snapshots : list of lists
        Per member, after every N_rec-th step of its run, in order: the learned
        weights (`Session.weight_state`).
    inputs, targets : lists of arrays
        Per member, the last training pass as the network saw it (shuffled,
        targets delayed).
    steps_per_sample : int
    skip : int
        Snapshots left out at the start, floor(T_settle / (dt N_rec)) in the
        reference (those of the settling phase).

    Returns
    -------
    list of dict
        Per member: ``alignment_deg``, per area (bottom to top) the mean angle
        over all (snapshot, sample) entries, NaN counted as 0 (as the paper's
        figure); ``alignment_deg_per_snapshot`` (snapshots x areas);
        ``alignment_wt_b_deg``: 2.4(b) at the last snapshot;
        ``alignment_wt_b_deg_per_snapshot``; ``alignment_snapshots``.
    """
    n = {len(s) for s in snapshots}
    if len(n) != 1:
        raise ValueError(f"snapshots: members hold {sorted(n)} snapshots; a batch runs in lockstep")
    members = list(zip(batch.sessions, configs))
    L = len(configs[0].layer_sizes()) - 1
    per_snapshot = [[] for _ in members]
    wt_b = [[] for _ in members]
    for index in range(n.pop()):
        named = []
        for m, (session, config) in enumerate(members):
            session.set_weight_state(snapshots[m][index])
            named.append(session.weights())
            wt_b[m].append(weight_angles(config, named[-1]))
            if index >= skip:
                _write_backward(session, config, named[-1])
        if index < skip:
            continue
        angles = update_angles(batch, configs, named, inputs, targets, steps_per_sample)
        for m, a in enumerate(angles):
            per_snapshot[m].append(np.nan_to_num(a, nan=0.0))
    out = []
    for m in range(len(members)):
        if per_snapshot[m]:
            stacked = np.stack(per_snapshot[m])
            mean, by_snapshot = stacked.mean(axis=(0, 1)), stacked.mean(axis=1)
        else:
            mean, by_snapshot = np.full(L, np.nan), np.zeros((0, L))
        out.append({
            "alignment_deg": [float(a) for a in mean],
            "alignment_deg_per_snapshot": by_snapshot.tolist(),
            "alignment_wt_b_deg": wt_b[m][-1] if wt_b[m] else [],
            "alignment_wt_b_deg_per_snapshot": wt_b[m],
            "alignment_snapshots": len(per_snapshot[m]),
        })
    return out
