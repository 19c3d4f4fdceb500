"""Exact per-block, per-step activity counts of a nengo-loihi emulator run.

`ActivityCounter(sim)` attaches to the emulator inside a built
``nengo_loihi.Simulator`` (``errormc.hardware.Simulator(net, backend="loihi")``)
without changing nengo-loihi: it wraps, on the instance, the emulator's own
step pieces and counts what each of them does, every step, for every block
(one block = one core, as nengo-loihi's allocators place them):

``spikes``
    compartments that spiked in the step.
``synaptic_ops``
    synaptic operations: for every spike delivered to a synapse group in the
    step, the number of weights it reads (its fan-out). The emulator delivers
    the spikes of step ``t - 1`` in step ``t``, so over a run

        synaptic_ops = sum over delivered spikes of fan-out(axon)
                     = sum_{t < T} spikes_t x fan-out      (one population, one target)

    and the ops are charged to the *target* block (the core that does them).
``active_compartments`` / ``idle_compartments``
    every compartment of every block is updated every step; it is *active*
    when it has state to integrate (voltage before or after the update,
    current after it, or a spike not zero) and *idle* otherwise, so
    ``active + idle = compartments`` each step.
``learning_updates``
    weights rewritten by the learning engine: every ``learn_epoch`` steps a
    learning synapse group rewrites all its weights (the emulator's PES), so
    ``learning_updates = learning synapses x learning epochs``.

per route (one output axon group of a block: a source core and a target core)

``messages``
    spike messages sent on the route: spiking compartments of the source
    block that the axon group maps to a target axon.

and per step for the host link (nengo-loihi routes every learned output and
every PES error through the host):

``host_spikes_in``
    spike events sent from host to chip (spike-encoded values entering the
    chip); ``host_spike_messages`` the spike messages they become on chip.
``values_out``
    compartment values read from the chip by the host each step for
    chip -> host connections (decoded outputs, learned decoders' outputs);
    ``probe_values_out`` those read for user probes (measurement).
``errors_in``
    PES error values written from host to chip.

Counts are exact: they are computed from the same arrays the emulator uses in
the same step, not sampled. `ActivityCounter.phase` (a ``with`` block) and
`ActivityCounter.label` (from now on) label steps (e.g. ``"training"``,
``"inference"``) so totals can be taken per phase.
"""

import contextlib
from collections import OrderedDict

import numpy as np
import nengo

BLOCK_FIELDS = (
    "spikes",
    "synaptic_ops",
    "active_compartments",
    "idle_compartments",
    "learning_updates",
)
HOST_FIELDS = ("host_spikes_in", "host_spike_messages", "values_out", "probe_values_out", "errors_in")
#: per-step chip-wide counts: the host link, and learning epochs (synapse groups x epochs)
STEP_FIELDS = HOST_FIELDS + ("learning_epochs",)


def _delivered(syn_state, syn):
    """Axon indices of the spikes delivered to ``syn`` this step, on the stock
    emulator (lists of ``Spike`` objects) and on the fast one (arrays)."""
    if hasattr(syn_state, "delivered"):
        return syn_state.delivered(syn)
    spikes = syn_state.spikes_in[syn]
    return np.fromiter((s.axon_idx for s in spikes), dtype=np.int64, count=len(spikes))


class _Rows:
    """A growing (steps, width) integer table (amortised doubling)."""

    def __init__(self, width, dtype=np.int64):
        self.data = np.zeros((1024, width), dtype=dtype)
        self.n = 0

    def append(self, row):
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.data[self.n] = row
        self.n += 1

    def array(self):
        return self.data[: self.n]


def path_labels(network):
    """``{ensemble: "area1.error.error_0", ...}``: labels qualified by sub-network."""
    labels = {}

    def visit(net, prefix):
        for ens in net.ensembles:
            labels[ens] = prefix + (ens.label or f"Ensemble@{id(ens):x}")
        for sub in net.networks:
            visit(sub, prefix + (sub.label or "net") + ".")

    visit(network, "")
    return labels


def _group(path):
    """Area and population of a qualified ensemble label.

    ``area1.error.error_0`` -> (``area1``, ``error``); ``area1.representation``
    -> (``area1``, ``representation``); a top-level ``input_area`` -> (``input_area``,
    ``input_area``).
    """
    parts = path.split(".")
    if len(parts) == 1:
        return parts[0], parts[0]
    return parts[0], parts[1]


def describe_blocks(model, network=None):
    """What Nengo object each on-chip block comes from.

    Returns one dict per block of ``model.blocks`` (in order) with ``label``
    (the block's), ``source`` (qualified label of the ensemble whose neurons
    or decoded activity it holds), ``area``, ``population``, ``kind`` and
    ``group`` (``area.population``, with `` [kind]`` for non-population blocks).

    ``kind`` is ``population`` (the ensemble's own neurons), ``decode`` (decode
    neurons relaying a decoded value to another on-chip ensemble), ``readout``
    (compartments the host reads each step: chip -> host connections) or
    ``learned readout`` (the same, with learning synapses: on-chip PES).
    """
    labels = path_labels(network) if network is not None else {}

    def ens_label(ens):
        return labels.get(ens, ens.label or f"Ensemble@{id(ens):x}")

    block_of_synapse = {id(s): b for b in model.blocks for s in b.synapses}
    owner = {}
    for obj, entry in model.objs.items():
        if isinstance(obj, nengo.Ensemble) and "out" in entry:
            out = entry["out"]
            for block in out if isinstance(out, (list, tuple)) else [out]:
                owner[id(block)] = (ens_label(obj), "population")
    for obj, entry in model.objs.items():
        if not isinstance(obj, nengo.Connection):
            continue
        syn = entry.get("decoders")
        block = block_of_synapse.get(id(syn)) if syn is not None else None
        if block is None or id(block) in owner:
            continue
        pre = obj.pre_obj
        pre = pre.ensemble if isinstance(pre, nengo.ensemble.Neurons) else pre
        source = ens_label(pre) if isinstance(pre, nengo.Ensemble) else str(pre)
        if "mid_axon" in entry:
            kind = "decode"
        else:
            kind = "learned readout" if syn.learning else "readout"
        owner[id(block)] = (source, kind)

    out = []
    for block in model.blocks:
        source, kind = owner.get(id(block), (block.label or "block", "other"))
        area, population = _group(source)
        group = f"{area}.{population}" if area != population else area
        if kind != "population":
            group += f" [{kind}]"
        out.append(
            dict(
                label=str(block.label),
                source=source,
                area=area,
                population=population,
                kind=kind,
                group=group,
                compartments=int(block.compartment.n_compartments),
            )
        )
    return out


class ActivityCounter:
    """Per-block, per-step activity counter attached to a nengo-loihi emulator.

    Parameters
    ----------
    sim : nengo_loihi.Simulator
        Built with ``target="sim"`` (the emulator); e.g.
        ``errormc.hardware.Simulator(net, backend="loihi")``.
    network : nengo.Network, optional
        The network that was built, to name blocks by area and population
        (`describe_blocks`).

    Attributes
    ----------
    blocks : list of dict
        `describe_blocks` of the model, in emulator order.
    routes : list of dict
        ``src`` and ``dst`` block indices of every output axon group (one
        route per `nengo_loihi.block.Axon`).
    """

    def __init__(self, sim, network=None):
        emulator = getattr(sim, "sims", {}).get("emulator")
        if emulator is None:
            raise ValueError(
                "sim: activity counting needs the nengo-loihi emulator "
                "(errormc.hardware.Simulator(net, backend='loihi'))"
            )
        if getattr(emulator, "closed", False):
            raise ValueError("sim: the simulator is closed")
        self.sim = sim
        self.emulator = emulator
        model = sim.model
        info = emulator.block_info
        self._blocks = list(info.blocks)
        self.blocks = describe_blocks(model, network)
        if [b["label"] for b in self.blocks] != [str(b.label) for b in self._blocks]:
            raise RuntimeError("emulator block order differs from model.blocks")
        index = {id(b): i for i, b in enumerate(self._blocks)}
        self.n_blocks = len(self._blocks)
        self._starts = np.array([info.slices[b].start for b in self._blocks])
        self.compartments = np.array([b.compartment.n_compartments for b in self._blocks])

        syn_state = emulator.synapses
        # fan-out of each input axon of each synapse group: the weights one spike reads
        self._syn_block = {}
        self._fanout = {}
        for syn, block in syn_state.block_map.items():
            self._syn_block[id(syn)] = index[id(block)]
            fan = np.zeros(syn.n_axons, dtype=np.int64)
            for i in range(syn.n_axons):
                if syn.axon_compartment_base(i) is not None:
                    fan[i] = syn.weights[syn.axon_weight_idx(i)].shape[1]
            self._fanout[id(syn)] = fan
        # the emulator's own view of what is stored, per block
        self.synapses = np.zeros(self.n_blocks, dtype=np.int64)
        for syn, block in syn_state.block_map.items():
            self.synapses[index[id(block)]] += syn.size()
        self.learning_synapses = np.zeros(self.n_blocks, dtype=np.int64)
        for syn in syn_state.pes_errors:
            self.learning_synapses[self._syn_block[id(syn)]] += syn.size()

        # routes: one per output axon group, with the source compartments it maps
        self.routes = []
        self._route_maps = []
        for axon, a_slice in emulator.axons.slices.items():
            src = index[id(emulator.axons.block_map[axon])]
            dst = self._syn_block[id(axon.target)]
            n = self._blocks[src].compartment.n_compartments
            mapped = (
                np.ones(n, dtype=bool)
                if axon.compartment_map is None
                else np.asarray(axon.compartment_map) >= 0
            )
            self.routes.append(dict(src=src, dst=dst))
            self._route_maps.append((a_slice, mapped))
        self.n_routes = len(self.routes)

        # values the host reads each step, per probe: receivers (network) or user probes
        receivers = set()
        for probe in getattr(model, "chip2host_receivers", {}):
            out = model.objs[probe]["out"]
            receivers.add(id(out))
        self.values_out_per_step = 0
        self.probe_values_per_step = 0
        for probe, block_slices in emulator.probes.probes.items():
            n = 0
            for k, block in enumerate(block_slices):
                n += np.arange(block.n_neurons)[probe.slice[k]].size
            if id(probe) in receivers:
                self.values_out_per_step += n
            else:
                self.probe_values_per_step += n

        self.phases = []
        self._phase = self._phase_index("run")
        self._block_rows = _Rows(len(BLOCK_FIELDS) * self.n_blocks)
        self._route_rows = _Rows(max(self.n_routes, 1))
        self._host_rows = _Rows(len(STEP_FIELDS))
        self._phase_rows = _Rows(1, dtype=np.int16)
        self._reset_step()
        self._originals = {}
        self._attach()

    # --- attaching ------------------------------------------------------------

    def _reset_step(self):
        self._cur = np.zeros((len(BLOCK_FIELDS), self.n_blocks), dtype=np.int64)
        self._cur_routes = np.zeros(max(self.n_routes, 1), dtype=np.int64)
        self._cur_host = np.zeros(len(STEP_FIELDS), dtype=np.int64)

    def _wrap(self, obj, name, wrapper):
        original = getattr(obj, name)
        self._originals[(id(obj), name)] = (obj, name, original)
        setattr(obj, name, wrapper(original))

    def _attach(self):
        emu = self.emulator
        self._wrap(emu.synapses, "inject_current", self._inject_current)
        self._wrap(emu.synapses, "update_weights", self._update_weights)
        self._wrap(emu.compartment, "update", self._compartment_update)
        self._wrap(emu, "host2chip", self._host2chip)
        self._wrap(emu, "step", self._step)

    def detach(self):
        """Restore the emulator's own methods (counts so far are kept)."""
        for obj, name, _ in self._originals.values():
            # the originals are bound methods of the class: deleting the
            # instance attribute restores them
            if name in vars(obj):
                delattr(obj, name)
        self._originals.clear()

    def _inject_current(self, original):
        synops = self._cur[BLOCK_FIELDS.index("synaptic_ops")]
        routes = self._cur_routes
        syn_state = self.emulator.synapses

        def inject_current(t, spike_inputs, all_axons, spiked):
            original(t, spike_inputs, all_axons, spiked)
            # ``spiked`` still holds the previous step's spikes: the ones delivered now
            for k, (a_slice, mapped) in enumerate(self._route_maps):
                routes[k] += np.count_nonzero(spiked[a_slice] & mapped)
            for syn in syn_state.slices:
                idx = _delivered(syn_state, syn)
                if idx.size:
                    synops[self._syn_block[id(syn)]] += int(self._fanout[id(syn)][idx].sum())

        return inject_current

    def _update_weights(self, original):
        learn = self._cur[BLOCK_FIELDS.index("learning_updates")]
        epochs = STEP_FIELDS.index("learning_epochs")
        syn_state = self.emulator.synapses

        def update_weights(t, rng):
            original(t, rng)
            # the same epoch test as the emulator's: every learn_epoch steps all
            # weights of a learning synapse group are rewritten
            for syn in syn_state.pes_errors:
                if t % syn.learn_epoch == 0:
                    learn[self._syn_block[id(syn)]] += syn.size()
                    self._cur_host[epochs] += 1

        return update_weights

    def _compartment_update(self, original):
        comp = self.emulator.compartment
        cur = self._cur
        i_spk = BLOCK_FIELDS.index("spikes")
        i_act = BLOCK_FIELDS.index("active_compartments")
        i_idle = BLOCK_FIELDS.index("idle_compartments")

        def update(rng):
            v_before = comp.voltage != 0
            original(rng)
            active = v_before | (comp.current != 0) | (comp.voltage != 0) | comp.spiked
            n_active = np.add.reduceat(active.astype(np.int64), self._starts)
            cur[i_spk] += np.add.reduceat(comp.spiked.astype(np.int64), self._starts)
            cur[i_act] += n_active
            cur[i_idle] += self.compartments - n_active

        return update

    def _host2chip(self, original):
        host = self._cur_host
        i_sp, i_msg, _, _, i_err = (HOST_FIELDS.index(f) for f in HOST_FIELDS)

        def host2chip(spikes, errors):
            # traffic is charged to the next emulator step (the one that uses it)
            for spike_input, _, idxs in spikes:
                idxs = np.asarray(idxs, dtype=np.int64)
                host[i_sp] += idxs.size
                for axon in spike_input.axons:
                    host[i_msg] += int(np.count_nonzero(np.asarray(axon.map_axon(idxs)) >= 0))
            for _, _, e in errors:
                host[i_err] += np.size(e)
            original(spikes, errors)

        return host2chip

    def _step(self, original):
        i_out = HOST_FIELDS.index("values_out")
        i_probe = HOST_FIELDS.index("probe_values_out")

        def step():
            original()
            self._cur_host[i_out] += self.values_out_per_step
            self._cur_host[i_probe] += self.probe_values_per_step
            self._block_rows.append(self._cur.ravel())
            self._route_rows.append(self._cur_routes)
            self._host_rows.append(self._cur_host)
            self._phase_rows.append(self._phase)
            self._cur[:] = 0
            self._cur_routes[:] = 0
            self._cur_host[:] = 0

        return step

    # --- phases ---------------------------------------------------------------

    def _phase_index(self, name):
        if name not in self.phases:
            self.phases.append(str(name))
        return self.phases.index(name)

    def label(self, name):
        """Label the steps run from now on as phase ``name`` (e.g. from a
        driver's callback between its stages)."""
        self._phase = self._phase_index(name)

    @contextlib.contextmanager
    def phase(self, name):
        """Label the steps run inside the ``with`` block as phase ``name``."""
        previous = self.phases[self._phase]
        self.label(name)
        try:
            yield self
        finally:
            self.label(previous)

    # --- reading ----------------------------------------------------------------

    @property
    def n_steps(self):
        return self._block_rows.n

    def step_phases(self):
        """Phase name index of every counted step, shape (steps,)."""
        return self._phase_rows.array()[:, 0].copy()

    def _mask(self, phase):
        if phase is None:
            return slice(None)
        if phase not in self.phases:
            return np.zeros(self.n_steps, dtype=bool)
        return self.step_phases() == self.phases.index(phase)

    def per_step(self, field, phase=None):
        """Counts of ``field`` per step and block, shape (steps, blocks).

        ``field`` is one of `BLOCK_FIELDS`, ``"messages"`` (per step and route)
        or one of `STEP_FIELDS` (per step, chip-wide).
        """
        mask = self._mask(phase)
        if field in BLOCK_FIELDS:
            data = self._block_rows.array().reshape(-1, len(BLOCK_FIELDS), self.n_blocks)
            return data[mask, BLOCK_FIELDS.index(field)]
        if field == "messages":
            return self._route_rows.array()[mask, : self.n_routes]
        if field in STEP_FIELDS:
            return self._host_rows.array()[mask, STEP_FIELDS.index(field)]
        raise ValueError(
            f"field: unknown {field!r}; choose from {', '.join(BLOCK_FIELDS + ('messages',) + STEP_FIELDS)}"
        )

    def steps(self, phase=None):
        """Number of counted steps (in ``phase``)."""
        mask = self._mask(phase)
        return self.n_steps if phase is None else int(np.count_nonzero(mask))

    def totals(self, phase=None):
        """Totals over the steps of ``phase`` (all steps if None).

        Returns a dict: every block field as a per-block int array, ``messages``
        per route, every `STEP_FIELDS` count as an int, ``steps``.
        """
        out = OrderedDict(steps=self.steps(phase))
        for f in BLOCK_FIELDS:
            out[f] = self.per_step(f, phase).sum(axis=0)
        out["messages"] = self.per_step("messages", phase).sum(axis=0)
        for f in STEP_FIELDS:
            out[f] = int(self.per_step(f, phase).sum())
        return out

    def summary(self, phase=None):
        """`totals` as plain numbers (JSON): chip-wide sums and per-block rows."""
        t = self.totals(phase)
        chip = OrderedDict(steps=int(t["steps"]))
        for f in BLOCK_FIELDS:
            chip[f] = int(t[f].sum())
        chip["spike_messages"] = int(t["messages"].sum())
        for f in STEP_FIELDS:
            chip[f] = int(t[f])
        blocks = []
        for i, b in enumerate(self.blocks):
            row = OrderedDict((k, b[k]) for k in ("group", "source", "kind", "compartments"))
            for f in BLOCK_FIELDS:
                row[f] = int(t[f][i])
            row["spike_messages"] = int(
                sum(t["messages"][k] for k, r in enumerate(self.routes) if r["src"] == i)
            )
            blocks.append(row)
        return OrderedDict(chip=chip, blocks=blocks)
