"""Cost model: exact activity counts x cited per-operation constants.

Inputs are the counts of `errormc.hardware.counters.ActivityCounter` (per block
= core, per step), the allocation of `errormc.hardware.resources.chip_resources`
(which core sits on which tile) and a constants profile
(``hardware/constants/<profile>.toml``: every figure with its source; the only
place numbers about the chip come from).

Energy (dynamic, per phase; sums over blocks b and routes r)

    E_syn    = e_synop  * sum_b synaptic_ops_b
    E_learn  = e_update * sum_b learning_updates_b
    E_neuron = e_active * sum_b active_b + e_inactive * sum_b idle_b
    E_route  = sum_r messages_r * (e_tile + hops_ew(r) e_hop_ew + hops_ns(r) e_hop_ns)

with hops counted on the tile mesh between the source and target core
(dimension-ordered routing: |dx| east-west hops, |dy| north-south hops; a route
within a tile costs ``e_tile`` only). Static energy is
``E_static = P_static * chips * T`` over the phase's chip time ``T``. Each
term is linear in its count.

Time per step (cores work in parallel, each core serially; all wait at the barrier)

    t_b(s)  = t_synop synaptic_ops_b(s) + t_update learning_updates_b(s)
            + t_active active_b(s) + t_inactive idle_b(s)
            + t_tile messages_b(s) + max_{r from b, messages_r(s) > 0} hop_time(r)
    T(s)    = max_b t_b(s) + t_barrier(tiles)
    t_barrier(n) = t_min + (t_max - t_min) (n - 1) / (N_tiles - 1)

(``t_barrier`` is published at 1 and at ``N_tiles`` = 32 tiles only; linear in
between is an assumption). Latency per sample = sum of T(s) over the phase /
samples; energy-delay product EDP = energy per sample x latency per sample.

Spike generation and messages leaving a core are costed where the profile has
figures for them (``energy.spike_generated``, ``energy.message_out``,
``time.spike_generated``, ``time.message_out``, ``time.message_in``: the
``sanafe`` profile; ``davies2018`` has none, and they count as 0 there).

Two answers per phase (`cost_phase`):

``chip_only`` (a lower bound)
    chip time only, ``T_chip = sum_s T(s)``; static energy over ``T_chip``.
``deployed``
    nengo-loihi 1.1 moves every learned output and every PES error through the
    host each step, so each step also waits for one host round trip,

        T_dep = T_chip + steps t_rt,      E_dep = E_dyn + P_static T_dep + P_host T_dep,

    with ``t_rt`` = ``host.roundtrip_per_step`` (measured, I/O every step) and
    ``P_host`` = ``host.power_running``; ``host.roundtrip_per_step_io_every_10``
    gives a what-if row (not what was emulated).

Static power is attributed two ways: the whole chip(s) (``P_static x chips``)
and per used core (``P_static x cores / cores_per_chip``). Multi-chip routes are
not costed (reported as ``interchip_messages``).
"""

import os
import tomllib
from collections import OrderedDict

import numpy as np

from errormc.networks.errors import ConfigError

from .loihi.counters import BLOCK_FIELDS, STEP_FIELDS

CONSTANTS_DIR = os.path.join(os.path.dirname(__file__), "constants")

#: SI factor of every unit used in the profiles
UNITS = {"pJ": 1e-12, "nJ": 1e-9, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "mW": 1e-3, "W": 1.0}

#: the dynamic energy components, in report order
COMPONENTS = ("synaptic_ops", "learning", "neuron_updates", "spike_generation", "spike_routing")


class Constants:
    """A constants profile: named figures with unit, source and note.

    ``constants["energy.synaptic_op"]`` is the value in the table's unit;
    `si` converts to J, s or W. `citations` lists each entry with its source.
    """

    def __init__(self, data, path=None):
        self.path = path
        self.profile = dict(data.get("profile", {}))
        self.sources = {k: dict(v) for k, v in data.get("sources", {}).items()}
        self.entries = OrderedDict()
        for section in ("energy", "time", "power", "chip", "host"):
            for name, entry in data.get(section, {}).items():
                key = f"{section}.{name}"
                for field in ("value", "unit", "source"):
                    if field not in entry:
                        raise ValueError(f"constants {path}: {key} lacks {field!r}")
                if entry["source"] not in self.sources:
                    raise ValueError(f"constants {path}: {key} cites unknown source {entry['source']!r}")
                self.entries[key] = dict(entry)

    @property
    def name(self):
        return self.profile.get("name", "?")

    def __getitem__(self, key):
        if key not in self.entries:
            raise KeyError(f"constants profile {self.name!r} has no entry {key!r}")
        return self.entries[key]["value"]

    def si(self, key):
        """The value of ``key`` in J, s or W (counts stay as they are)."""
        entry = self.entries[key] if key in self.entries else self[key]
        return float(entry["value"]) * UNITS.get(entry["unit"], 1.0)

    def si_or_zero(self, key):
        """`si` of ``key``, or 0 where the profile has no figure for it."""
        return self.si(key) if key in self.entries else 0.0

    def citations(self):
        """``[{name, value, unit, source, citation, basis, note}]`` for reports."""
        out = []
        for key, e in self.entries.items():
            src = self.sources[e["source"]]
            out.append(
                OrderedDict(
                    name=key, value=e["value"], unit=e["unit"], source=e["source"],
                    citation=src.get("citation", ""), basis=src.get("basis", ""),
                    verified=src.get("verified", ""), note=e.get("note", ""),
                )
            )
        return out


def load_constants(profile="davies2018"):
    """The constants profile ``hardware/constants/<profile>.toml`` (or a path)."""
    path = profile if os.path.isfile(str(profile)) else os.path.join(CONSTANTS_DIR, f"{profile}.toml")
    if not os.path.isfile(path):
        known = sorted(f[:-5] for f in os.listdir(CONSTANTS_DIR) if f.endswith(".toml"))
        raise ConfigError(f"profile: unknown {profile!r}; choose from {', '.join(known)}")
    with open(path, "rb") as f:
        return Constants(tomllib.load(f), path=path)


# --- routing geometry --------------------------------------------------------------


def route_hops(routes, resources):
    """East-west and north-south tile hops and chip crossing of every route."""
    rows = resources["cores_detail"]
    ew = np.array([abs(rows[r["src"]]["x"] - rows[r["dst"]]["x"]) for r in routes], dtype=np.int64)
    ns = np.array([abs(rows[r["src"]]["y"] - rows[r["dst"]]["y"]) for r in routes], dtype=np.int64)
    inter = np.array([rows[r["src"]]["chip"] != rows[r["dst"]]["chip"] for r in routes], dtype=bool)
    return ew, ns, inter


def barrier_time(tiles, constants):
    """Barrier sync time (s) for ``tiles`` occupied tiles (linear between the ends)."""
    t_min = constants.si("time.barrier_sync_min")
    t_max = constants.si("time.barrier_sync_max")
    n_tiles = int(constants["chip.cores_per_chip"]) // int(constants["chip.cores_per_tile"])
    frac = (min(max(int(tiles), 1), n_tiles) - 1) / (n_tiles - 1)
    return t_min + (t_max - t_min) * frac


# --- the cost of counts ---------------------------------------------------------


def dynamic_energy(counts, hops, constants):
    """Dynamic energy (J) per component and per block from per-block totals.

    Parameters
    ----------
    counts : dict
        Per-block arrays for `BLOCK_FIELDS` and per-route ``messages`` (as from
        `ActivityCounter.totals`), plus ``route_src`` (source block per route).
    hops : tuple
        ``(ew, ns)`` hop counts per route (`route_hops`).

    Returns
    -------
    dict
        ``{component: per-block array (J)}`` for `COMPONENTS`.
    """
    c = constants
    n_blocks = len(counts["synaptic_ops"])
    ew, ns = hops[:2]
    per_message = (
        c.si_or_zero("energy.message_out")
        + c.si("energy.spike_within_tile")
        + ew * c.si("energy.tile_hop_ew")
        + ns * c.si("energy.tile_hop_ns")
    )
    routing = np.zeros(n_blocks)
    np.add.at(routing, np.asarray(counts["route_src"], dtype=np.int64),
              np.asarray(counts["messages"], dtype=float) * per_message)
    spikes = np.asarray(counts.get("spikes", np.zeros(n_blocks)), dtype=float)
    return OrderedDict(
        synaptic_ops=np.asarray(counts["synaptic_ops"], dtype=float) * c.si("energy.synaptic_op"),
        learning=np.asarray(counts["learning_updates"], dtype=float) * c.si("energy.synaptic_update"),
        neuron_updates=(
            np.asarray(counts["active_compartments"], dtype=float) * c.si("energy.neuron_update_active")
            + np.asarray(counts["idle_compartments"], dtype=float) * c.si("energy.neuron_update_inactive")
        ),
        spike_generation=spikes * c.si_or_zero("energy.spike_generated"),
        spike_routing=routing,
    )


def step_times(per_step, route_src, hops, tiles, constants, route_dst=None):
    """Chip time of every step (s) and the slowest core of each step.

    ``per_step``: ``{field: (steps, blocks)}`` for `BLOCK_FIELDS` and
    ``messages`` (steps, routes).
    """
    c = constants
    work = (
        per_step["synaptic_ops"] * c.si("time.synaptic_op")
        + per_step["learning_updates"] * c.si("time.synaptic_update")
        + per_step["active_compartments"] * c.si("time.neuron_update_active")
        + per_step["idle_compartments"] * c.si("time.neuron_update_inactive")
    )
    if "spikes" in per_step:
        work = work + per_step["spikes"] * c.si_or_zero("time.spike_generated")
    msgs = per_step["messages"]
    route_src = np.asarray(route_src, dtype=np.int64)
    if msgs.shape[1]:
        ew, ns = hops[:2]
        hop_time = ew * c.si("time.tile_hop_ew") + ns * c.si("time.tile_hop_ns")
        sent = np.zeros_like(work)
        for r, src in enumerate(route_src):
            sent[:, src] += msgs[:, r]
        work = work + sent * (c.si("time.spike_within_tile") + c.si_or_zero("time.message_out"))
        if route_dst is not None and "time.message_in" in c.entries:
            received = np.zeros_like(work)
            for r, dst in enumerate(np.asarray(route_dst, dtype=np.int64)):
                received[:, dst] += msgs[:, r]
            work = work + received * c.si("time.message_in")
        far = np.zeros_like(work)
        for r, src in enumerate(route_src):
            far[:, src] = np.maximum(far[:, src], np.where(msgs[:, r] > 0, hop_time[r], 0.0))
        work = work + far
    slowest = work.argmax(axis=1) if work.shape[1] else np.zeros(len(work), dtype=int)
    t = (work.max(axis=1) if work.shape[1] else np.zeros(len(work))) + barrier_time(tiles, c)
    return t, slowest


def cost_phase(counter, resources, constants, phase=None, samples=None):
    """Energy, time and host traffic of one phase of a counted run.

    Parameters
    ----------
    counter : `errormc.hardware.counters.ActivityCounter`
    resources : dict
        `errormc.hardware.resources.chip_resources` of the same simulator.
    constants : `Constants`
    phase : str, optional
        A phase of the counter (None: all steps).
    samples : int, optional
        Samples presented in the phase, for per-sample figures.

    Returns
    -------
    dict (JSON-serialisable)
        ``steps``, ``samples``, ``energy_J`` (per component, ``dynamic``,
        ``static``, ``total``), ``time_s`` (``total``, ``per_step_mean``,
        ``per_step_max``), per sample ``energy_per_sample_mJ``,
        ``energy_per_sample_breakdown_mJ``, ``latency_per_sample_ms``,
        ``edp_mJ_ms`` (mJ x ms), ``host_io`` (totals and per sample),
        ``counts`` (chip-wide totals), ``per_group_mJ`` (per area and
        population and component, per sample), ``interchip_messages``.
    """
    hops = route_hops(counter.routes, resources)
    route_src = [r["src"] for r in counter.routes]
    route_dst = [r["dst"] for r in counter.routes]
    totals = counter.totals(phase)
    totals["route_src"] = route_src
    parts = dynamic_energy(totals, hops, constants)
    per_step = {f: counter.per_step(f, phase) for f in BLOCK_FIELDS + ("messages",)}
    t_steps, slowest = step_times(per_step, route_src, hops, resources["tiles"], constants, route_dst)
    t_total = float(t_steps.sum())
    p_chips = constants.si("power.static_per_chip") * resources["chips"]
    p_cores = constants.si("power.static_per_chip") * resources["cores"] / int(constants["chip.cores_per_chip"])
    static = p_chips * t_total
    dynamic = float(sum(p.sum() for p in parts.values()))
    energy = OrderedDict((k, float(v.sum())) for k, v in parts.items())
    energy["dynamic"] = dynamic
    energy["static"] = static
    energy["total"] = dynamic + static
    deployed = deployed_cost(dynamic, t_total, int(totals["steps"]), p_chips, p_cores, constants)

    n = samples if samples else None
    out = OrderedDict(phase=phase, steps=int(totals["steps"]), samples=n)
    # what the counted emulator holds (agrees with placement and resources reports)
    out["chip"] = OrderedDict(
        compartments=int(counter.compartments.sum()),
        synapses=int(counter.synapses.sum()),
        learning_synapses=int(counter.learning_synapses.sum()),
        cores=int(resources["cores"]),
        chips=int(resources["chips"]),
        tiles=int(resources["tiles"]),
    )
    out["energy_J"] = energy
    out["time_s"] = OrderedDict(
        total=t_total,
        per_step_mean=float(t_steps.mean()) if len(t_steps) else 0.0,
        per_step_max=float(t_steps.max()) if len(t_steps) else 0.0,
    )
    counts = OrderedDict((f, int(totals[f].sum())) for f in BLOCK_FIELDS)
    counts["spike_messages"] = int(np.sum(totals["messages"]))
    counts["tile_hops_ew"] = int(np.sum(totals["messages"] * hops[0]))
    counts["tile_hops_ns"] = int(np.sum(totals["messages"] * hops[1]))
    for f in STEP_FIELDS:
        counts[f] = int(totals[f])
    out["counts"] = counts
    out["interchip_messages"] = int(np.sum(np.asarray(totals["messages"])[hops[2]]))
    host = OrderedDict(
        (f, int(totals[f])) for f in ("host_spikes_in", "host_spike_messages", "values_out",
                                      "probe_values_out", "errors_in")
    )
    out["host_io"] = OrderedDict(totals=host, costed=False)
    if n:
        out["energy_per_sample_mJ"] = energy["total"] / n * 1e3
        out["energy_per_sample_breakdown_mJ"] = OrderedDict(
            (k, v / n * 1e3) for k, v in energy.items()
        )
        out["latency_per_sample_ms"] = t_total / n * 1e3
        out["edp_mJ_ms"] = out["energy_per_sample_mJ"] * out["latency_per_sample_ms"]
        out["host_io"]["per_sample"] = OrderedDict((k, v / n) for k, v in host.items())
        out["chip_only"] = OrderedDict(
            label=CHIP_ONLY_LABEL,
            latency_per_sample_ms=t_total / n * 1e3,
            energy_per_sample_mJ=OrderedDict(
                whole_chip=(dynamic + static) / n * 1e3,
                per_used_core=(dynamic + p_cores * t_total) / n * 1e3,
            ),
            static_per_sample_mJ=OrderedDict(whole_chip=static / n * 1e3,
                                             per_used_core=p_cores * t_total / n * 1e3),
        )
        out["deployed"] = per_sample(deployed, n)
        groups = OrderedDict()
        for i, b in enumerate(counter.blocks):
            g = groups.setdefault(b["group"], OrderedDict((k, 0.0) for k in COMPONENTS))
            for k in COMPONENTS:
                g[k] += float(parts[k][i]) / n * 1e3
        out["per_group_mJ"] = groups
    if not n:
        out["deployed"] = deployed
    # which blocks set the pace: how often each group was the slowest core
    if len(slowest):
        pace = OrderedDict()
        for i in slowest:
            g = counter.blocks[int(i)]["group"]
            pace[g] = pace.get(g, 0) + 1
        out["slowest_core_steps"] = OrderedDict(sorted(pace.items(), key=lambda kv: -kv[1]))
    return out


CHIP_ONLY_LABEL = "chip only: a lower bound (chip time; no host loop, no host energy)"
DEPLOYED_LABEL = ("deployed: chip time + one measured host round trip per step; static power over "
                  "that wall time; host power from a cited measurement")


def deployed_cost(dynamic, t_chip, steps, p_chips, p_cores, constants):
    """Wall time and energy of ``steps`` deployed steps with host I/O every step.

    ``T = t_chip + steps t_rt``; ``E = E_dyn + P_static T + P_host T`` with the
    static power of the whole chip(s) (``p_chips``) or of the used cores only
    (``p_cores``). Also the what-if with I/O every 10 steps (``io_every_10``).
    """
    p_host = constants.si("host.power_running")

    def at(t_rt):
        t = t_chip + steps * t_rt
        return OrderedDict(
            time_s=t,
            energy_J=OrderedDict(
                dynamic=dynamic, static_whole_chip=p_chips * t, static_per_used_core=p_cores * t,
                host=p_host * t,
                total_whole_chip=dynamic + p_chips * t + p_host * t,
                total_per_used_core=dynamic + p_cores * t + p_host * t,
            ),
        )

    out = OrderedDict(label=DEPLOYED_LABEL,
                      roundtrip_per_step_s=constants.si("host.roundtrip_per_step"),
                      host_power_W=p_host)
    out.update(at(constants.si("host.roundtrip_per_step")))
    out["io_every_10"] = at(constants.si("host.roundtrip_per_step_io_every_10"))
    out["io_every_10"]["note"] = ("what-if: host I/O every 10 steps (nengo-loihi PR 26); errors would "
                                  "reach the chip late, so this is NOT the emulated run")
    return out


def per_sample(deployed, n):
    """`deployed_cost` with per-sample latency (ms) and energies (mJ) added."""
    out = OrderedDict(deployed)
    for key in (None, "io_every_10"):
        d = out if key is None else OrderedDict(out[key])
        d["latency_per_sample_ms"] = d["time_s"] / n * 1e3
        d["energy_per_sample_mJ"] = OrderedDict((k, v / n * 1e3) for k, v in d["energy_J"].items())
        if key is not None:
            out[key] = d
    return out
