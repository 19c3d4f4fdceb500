"""What runs on chip and what on host, what it occupies, and which quantisation applied.

`placement_report` returns a plain dict (JSON-serialisable) with

``backend``
    ``"nengo"`` or ``"loihi"``.
``objects``
    ``{"chip": [...labels], "host": [...labels]}`` for ensembles and nodes. On the
    reference simulator everything is ``host`` (CPU).
``learned_connections``
    one entry per connection with a learning rule: ``label``, ``rule``,
    ``where`` (``"chip"`` / ``"host"``), ``pre``, ``post``.
``resources`` (loihi)
    ``blocks``, ``cores`` (nengo-loihi's ``Greedy`` allocator puts each block on
    its own core; a block holds at most 1024 compartments), ``compartments``,
    ``synapses`` (stored weights), ``learning_synapses``, ``input_axons``.
``quantisation`` (loihi)
    ``pes_error_scale`` (errors are multiplied by it, rounded and clipped to
    +-127 on the way in), ``error_clip``, ``weight_bits``, per learned connection
    the weight exponent and learning weight exponent, ``lost_bits`` (from the
    discretiser's "Lost N extra bits" notices), ``other_warnings``.

`quantisation_state(sim)` reports, at any moment, how many learned weights sit at
the 8-bit clip limit (saturation), which the emulator otherwise only warns about.
"""

import re

import numpy as np
import nengo

ERROR_CLIP = 127
WEIGHT_BITS = 8


def _label(obj):
    if isinstance(obj, nengo.ensemble.Neurons):
        return f"{_label(obj.ensemble)}.neurons"
    if isinstance(obj, nengo.base.ObjView):
        return f"{_label(obj.obj)}[{obj.slice}]"
    label = getattr(obj, "label", None)
    return label if label is not None else f"{type(obj).__name__}@{id(obj):x}"


def _path_labels(network):
    """Labels qualified by the sub-network path, e.g. ``area1.representation``."""
    labels = {}

    def visit(net, prefix):
        for obj in net.ensembles + net.nodes:
            labels[obj] = prefix + _label(obj)
        for sub in net.networks:
            visit(sub, prefix + (sub.label or "net") + ".")

    visit(network, "")
    return labels


def placement_report(sim, network, backend, build_warnings=()):
    """Where ``network``'s objects run in ``sim`` and what the chip build applied."""
    labels = _path_labels(network)
    learned = [c for c in network.all_connections if c.learning_rule_type is not None]
    report = {"backend": backend}
    if backend == "nengo":
        report["objects"] = {"chip": [], "host": sorted(labels.values())}
        report["learned_connections"] = [
            {
                "label": _label(c),
                "rule": type(c.learning_rule_type).__name__,
                "where": "host",
                "pre": labels.get(c.pre_obj, _label(c.pre_obj)),
                "post": labels.get(c.post_obj, _label(c.post_obj)),
            }
            for c in learned
        ]
        report["build_warnings"] = list(build_warnings)
        return report

    split = sim.model.split
    chip, host = [], []
    for obj, label in labels.items():
        (chip if split.on_chip(obj) else host).append(label)
    report["objects"] = {"chip": sorted(chip), "host": sorted(host)}

    entries = []
    synapses = {}
    for c in learned:
        entry = {
            "label": _label(c),
            "rule": type(c.learning_rule_type).__name__,
            "pre": labels.get(c.pre_obj, _label(c.pre_obj)),
            "post": labels.get(c.post_obj, _label(c.post_obj)),
        }
        syn = _learning_synapse(sim, c)
        if syn is not None and syn.learning:
            entry["where"] = "chip"
            synapses[c] = syn
        else:
            entry["where"] = "host"
        entries.append(entry)
    report["learned_connections"] = entries

    blocks = list(sim.model.blocks)
    all_syn = [s for b in blocks for s in b.synapses]
    report["resources"] = {
        "blocks": len(blocks),
        "cores": len(blocks),
        "compartments": int(sum(b.compartment.n_compartments for b in blocks)),
        "synapses": int(sum(s.size() for s in all_syn)),
        "learning_synapses": int(sum(s.size() for s in all_syn if s.learning)),
        "input_axons": int(sum(s.n_axons for s in all_syn)),
        "max_compartments_per_block": int(max((b.compartment.n_compartments for b in blocks), default=0)),
    }

    lost = []
    other = []
    for message in build_warnings:
        m = re.search(r"Lost (\d+) extra bits", message)
        if m:
            lost.append(int(m.group(1)))
        else:
            other.append(message)
    report["quantisation"] = {
        "pes_error_scale": float(getattr(sim.model, "pes_error_scale", 1.0)),
        "error_clip": ERROR_CLIP,
        "weight_bits": WEIGHT_BITS,
        "pes_weight_exponent": int(getattr(sim.model, "pes_wgt_exp", 0)),
        "learned": [
            {
                "label": _label(c),
                "weight_exponent": int(syn.synapse_cfg.real_weight_exp),
                "learning_weight_exponent": int(syn.learning_wgt_exp),
                "learning_rate": float(syn.learning_rate),
                "n_weights": int(syn.size()),
            }
            for c, syn in synapses.items()
        ],
        "weight_exponents": sorted(
            {int(s.synapse_cfg.real_weight_exp) for s in all_syn if s.synapse_cfg is not None}
        ),
        "lost_bits_warnings": len(lost),
        "lost_bits_max": max(lost, default=0),
        "other_warnings": other,
    }
    return report


def _learning_synapse(sim, conn):
    model = sim.model
    sender = getattr(model, "needs_sender", {}).get(conn.learning_rule)
    if sender is None:
        return None
    conn_probe = model.nengo_probe_conns.get(sender.error_target)
    if conn_probe is None:
        return None
    return model.objs[conn_probe].get("decoders")


def quantisation_state(sim, network):
    """Saturation of learned on-chip weights now (loihi backend; empty on nengo).

    Returns ``{label: {"saturated": fraction of weights at the 8-bit limit,
    "max_abs": largest |weight| in integer units, "limit": the limit}}``.
    """
    if getattr(sim, "backend", "nengo") != "loihi":
        return {}
    out = {}
    for c in network.all_connections:
        if c.learning_rule_type is None:
            continue
        syn = _learning_synapse(sim, c)
        if syn is None:
            continue
        cfg = syn.synapse_cfg
        w = np.concatenate([np.asarray(x).ravel() for x in syn.weights]).astype(float)
        # stored weights are mantissas shifted left by (exponent + shift bits)
        shift = cfg.real_weight_exp + cfg.shift_bits
        limit = (2 ** (WEIGHT_BITS - cfg.shift_bits) - 1) * 2.0 ** shift
        out[_label(c)] = {
            "saturated": float(np.mean(np.abs(w) >= limit)) if w.size else 0.0,
            "max_abs": float(np.max(np.abs(w))) if w.size else 0.0,
            "limit": float(limit),
        }
    return out
