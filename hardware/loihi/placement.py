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

``host_traffic`` (loihi)
    `host_traffic`: every signal that crosses between chip and host each step.

`quantisation_state(sim)` reports, at any moment, how many learned weights sit at
the 8-bit clip limit (saturation), which the emulator otherwise only warns about.
"""

import re
from collections import OrderedDict

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

    report["host_traffic"] = host_traffic(sim, network, labels)

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


#: roles of host crossings that on-chip PES under nengo-loihi 1.1 puts on the host
LEARNING_ROLES = ("learned output", "learned drive", "error readout", "PES error")


def host_traffic(sim, network, labels=None):
    """Every chip <-> host signal of one step of ``sim`` (nengo-loihi emulator).

    One entry per crossing that nengo-loihi built (after its passthrough-node
    removal, so host nodes that only sum are merged into one crossing):

    ``direction``
        ``"host->chip"`` (spikes into on-chip populations), ``"host->chip PES"``
        (error values into a learning synapse group) or ``"chip->host"`` (values
        the host reads from chip compartments).
    ``sources`` / ``targets``
        the network objects on either side (qualified labels).
    ``values``
        values per step: decoded dimensions (host->chip: sent as ``channels``
        on/off spike trains, one bit each), PES error dimensions (8-bit
        integers), decoded dimensions delivered to the host (chip->host, read
        from ``compartments`` chip compartments).
    ``role`` and ``learning_loop``
        ``learned output`` (a learned ``Ensemble -> Node`` connection: its post
        is host by splitter rule 3), ``learned drive`` (that output back into the
        chip), ``error readout`` (an on-chip error population read by the host to
        form a PES error: splitter rule 4 forbids on-chip error sources) and
        ``PES error`` (the error written into the learning synapses) are the
        learning loop; ``input`` and ``readout`` exist without learning.
    """
    if labels is None:
        labels = _path_labels(network)
    model = sim.model
    host_conns = [o for o in model.host.params if isinstance(o, nengo.Connection)]
    chip_conns = [o for o in model.params if isinstance(o, nengo.Connection)]

    def name(obj):
        obj = obj.ensemble if isinstance(obj, nengo.ensemble.Neurons) else obj
        return labels.get(obj, _label(obj))

    def host_sources(obj, seen=()):
        """Network objects feeding ``obj`` on the host (through the decode
        ensembles and send nodes nengo-loihi adds, which are not in ``labels``)."""
        out = []
        for c in host_conns:
            if c.post_obj is obj or (isinstance(c.post_obj, nengo.ensemble.Neurons)
                                     and c.post_obj.ensemble is obj):
                pre = c.pre_obj.ensemble if isinstance(c.pre_obj, nengo.ensemble.Neurons) else c.pre_obj
                if pre in labels:
                    out.append(pre)
                elif pre not in seen:
                    out += host_sources(pre, seen + (pre,))
        return out

    learned_posts = {c.post_obj for c in network.all_connections if c.learning_rule_type is not None}
    # host objects upstream of a PES error: what an error readout feeds
    error_side = set()
    for send in model.host2chip_pes_senders:
        stack = host_sources(send)
        while stack:
            obj = stack.pop()
            if obj in error_side:
                continue
            error_side.add(obj)
            stack += [c.pre_obj for c in network.all_connections
                      if c.post_obj is obj and isinstance(c.pre_obj, nengo.Node)]

    rows = []
    for send, receive in model.host2chip_senders.items():
        sources = host_sources(send)
        targets = [c.post_obj for c in chip_conns if c.pre_obj is receive]
        role = "learned drive" if any(s in learned_posts for s in sources) else "input"
        rows.append(OrderedDict(
            direction="host->chip", sources=sorted({name(s) for s in sources}),
            targets=sorted({name(t) for t in targets}),
            # a ChipReceiveNode carries each value on 2 K channels (K on/off pairs,
            # `errormc.hardware.loihi.encoding`), ChipReceiveNeurons one per neuron
            values=int(receive.size_out),
            channels=int(send.size_in), role=role, learning_loop=role in LEARNING_ROLES,
        ))
    for send, receive in model.host2chip_pes_senders.items():
        conn = model.nengo_probe_conns[receive.error_target]
        rows.append(OrderedDict(
            direction="host->chip PES", sources=sorted({name(s) for s in host_sources(send)}),
            targets=[f"{_label(conn)} (learning synapses)"],
            values=int(send.size_in), channels=int(send.size_in), role="PES error",
            learning_loop=True,
        ))
    emulator = getattr(sim, "sims", {}).get("emulator")
    for probe, receive in model.chip2host_receivers.items():
        posts = [c.post_obj for c in host_conns if c.pre_obj is receive]
        learned = model.chip2host_params[probe].get("learning_rule_type") is not None
        if learned:
            role = "learned output"
        elif any(p in error_side for p in posts):
            role = "error readout"
        else:
            role = "readout"
        row = OrderedDict(
            direction="chip->host", sources=[name(probe.target)],
            targets=sorted({name(p) for p in posts}), values=int(receive.size_out),
            role=role, learning_loop=role in LEARNING_ROLES,
        )
        if emulator is not None:
            loihi_probe = model.objs[probe]["out"]
            slices = emulator.probes.probes.get(loihi_probe, {})
            row["compartments"] = int(sum(np.arange(block.n_neurons)[loihi_probe.slice[k]].size
                                          for k, block in enumerate(slices)))
        rows.append(row)
    return rows


def traffic_totals(rows):
    """Values per step by direction, all and learning loop only."""
    out = OrderedDict()
    for direction in ("host->chip", "host->chip PES", "chip->host"):
        sel = [r for r in rows if r["direction"] == direction]
        out[direction] = OrderedDict(
            crossings=len(sel), values=sum(r["values"] for r in sel),
            learning_loop_values=sum(r["values"] for r in sel if r["learning_loop"]),
        )
    return out
