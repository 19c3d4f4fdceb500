"""Energy and latency of the emulated Loihi deployment, beside published on-chip learners.

`run(task, out)` trains the spiking error microcircuit
(`errormc.networks.SpikingErrorMicrocircuit`) on the nengo-loihi emulator with an
`errormc.hardware.loihi.counters.ActivityCounter` attached, then tests it, and costs
both phases with `errormc.hardware.energy` under every constants profile
(``davies2018``, ``sanafe``; each figure cited), twice each:

* chip only (a lower bound: chip time, no host) and deployed (one measured host
  round trip per step, static power over the deployed wall time, host power),
  static power attributed to whole chips and to the used cores;
* training = one pass over the (shuffled) training samples (target nudging and
  on-chip PES from ``onset_steps`` into each sample);
* inference = one test pass after training (nudging off; the learning engine
  still runs its epochs on the learning synapses with zero errors, as deployed).

The network and its presentation are those of every spiking run
(`errormc.benchmarks.experiment.spiking_network`, ``spiking_protocol``, driven by
``experiment.train``), with validation left out: the untrained network is tested
first (counted as the phase ``untrained test``, not costed), then trained, then
tested. Every figure of ours is *estimated from emulator counts*; the published
rows are measurements on Loihi. The report also lists what crosses the host each
step (`errormc.hardware.loihi.placement.host_traffic`). `scaling(areas, out)`
repeats the training measurement for hierarchies of 2..7 cortical areas on one
fixed task.

Outputs: ``energy.json``, ``energy.md``, ``energy_breakdown.png`` (run);
``scaling.csv``, ``scaling.md``, ``scaling.json``, ``scaling.png`` (scaling).
"""

import json
import os
import time
from collections import OrderedDict

import numpy as np

from tqdm.auto import tqdm

from errormc.hardware.energy import COMPONENTS, cost_phase, load_constants
from errormc.hardware.loihi.counters import ActivityCounter
from errormc.hardware.loihi.placement import traffic_totals
from errormc.hardware.loihi.resources import chip_resources
from errormc.networks.connectivity import check_mode
from errormc.networks.errors import ConfigError, user_input
from errormc.networks.spiking import INPUT_CODINGS, SpikingErrorMicrocircuit

from . import experiment
from .tasks.digits import ClassificationTask, load_digits_task
from .tasks.teacher_student import TeacherStudentTask

LABEL = "estimated from emulator counts"

#: the constants profiles every energy report compares
PROFILES = ("davies2018", "sanafe")

#: published on-chip MNIST learners on Loihi, per sample (Renner et al. 2024, Table 1)
PUBLISHED = [
    OrderedDict(
        work="Renner et al., Nat. Commun. 15:9691 (2024)", method="on-chip backprop (nBP)",
        network="400-400-10", task="MNIST",
        training_mJ=0.59, training_ms=1.5, inference_mJ=0.0025, inference_ms=0.17,
        accuracy=96.3, basis="measured on Loihi",
        source="Renner et al. 2024, Table 1 (checked against the stored nature.com table)",
    ),
    OrderedDict(
        work="Shrestha et al. (2021)", method="EMSTDP (FA/DFA)",
        network="CNN-CNN-100-10", task="MNIST",
        training_mJ=8.4, training_ms=20.0, inference_mJ=2.47, inference_ms=10.0,
        accuracy=94.7, basis="measured on Loihi",
        source="as listed in Renner et al. 2024, Table 1 (the original paper not checked here)",
    ),
]

#: task settings for energy runs: small enough for a few minutes on 2 cores; samples
#: are presented for ``steps_per_sample`` steps of 1 ms, nudged after
#: ``experiment.SPIKING_PRESENTATION["onset_steps"]`` (30)
TASKS = {
    "digits": dict(layers="64-10", samples=60, n_test=30, steps_per_sample=80,
                   net=dict(neurons_per_unit=10, error_neurons=60, eta=3e-2)),
    "teacher-student": dict(layers="4-2-1", samples=40, n_test=20, steps_per_sample=100,
                            net=dict()),
}

#: scaling study: a fixed teacher (n_in-hidden-n_out) and students of L areas
SCALING = dict(n_in=2, hidden=2, n_out=1, samples=12, n_test=6, steps_per_sample=100,
               net=dict(neurons_per_unit=20, error_neurons=40))

#: what the counter calls the steps of each stage of the protocol
PHASES = {"test0": "untrained test", "train": "training", "test": "inference"}


def _layers(layers):
    if isinstance(layers, str):
        try:
            return [int(n) for n in layers.split("-")]
        except ValueError:
            raise ConfigError(f"layers: {layers!r} is not like 64-32-10") from None
    return [int(n) for n in layers]


def _check_samples(samples, default):
    if samples is None:
        return default
    if int(samples) != samples or samples < 1:
        raise ConfigError(f"samples: must be a positive integer, got {samples!r}")
    return int(samples)


def measure(factory, task, seed=0, progress=True, constants=None, max_chips=None,
            profiles=()):
    """Train ``factory``'s network once over ``task`` on the emulator with counting,
    then test it.

    The network is built, presented and scored by the one driver
    (`experiment.train` with `experiment.spiking_protocol`, one epoch, no
    validation); the counter is attached when the network is built and labels
    the steps of each stage (`PHASES`). The counts are costed with
    ``constants`` (``training``, ``inference``) and with every profile in
    ``profiles`` (``costs[name]``: the same counts, other constants). Returns
    also ``resources``, ``placement`` (the backend's report, with its
    ``host_traffic``), ``test_mse`` and ``test_mse_initial`` (and
    ``accuracy``, ``accuracy_initial`` for a classification task),
    ``blocks``, ``steps_per_sample``, ``onset_steps``, ``steps`` (per phase) and
    ``wall_s``.
    """
    constants = constants or load_constants()
    t0 = time.perf_counter()
    P = task.steps_per_sample
    n_train, n_test = len(task.inputs["train"]) // P, len(task.inputs["test"]) // P
    protocol = experiment.spiking_protocol(task, 1, seed, validation=False)
    bar = tqdm(total=(n_test + n_train + n_test) * P, desc="energy", unit="step",
               disable=not progress, leave=False)
    held = {}

    def attach(session):
        held["counter"] = counter = ActivityCounter(session.sim, session.net)
        held["resources"] = chip_resources(session.sim, constants, max_chips=max_chips,
                                           blocks_info=counter.blocks)
        counter.label(PHASES[protocol.start().stage])

    def between(session, state):
        # called before the next chunk: label its steps by the stage they belong to
        held["counter"].label(PHASES.get(state.stage, state.stage))
        bar.update(session.steps - bar.n)

    try:
        metrics, _, info = experiment.train(
            factory, task, protocol, SpikingErrorMicrocircuit.dt, backend="loihi", seed=seed,
            on_build=attach, chunk_steps=P, on_chunk=between,
        )
    finally:
        bar.close()
    counter, resources = held["counter"], held["resources"]
    result = OrderedDict(
        training=cost_phase(counter, resources, constants, "training", n_train),
        inference=cost_phase(counter, resources, constants, "inference", n_test),
    )
    result["costs"] = OrderedDict()
    for c in [constants] + [p for p in profiles if p.name != constants.name]:
        result["costs"][c.name] = OrderedDict(
            training=cost_phase(counter, resources, c, "training", n_train),
            inference=cost_phase(counter, resources, c, "inference", n_test),
        )
    result["test_mse"] = metrics["test_mse_final"]
    result["test_mse_initial"] = metrics["test_mse_initial"]
    if "test_accuracy" in metrics:
        result["accuracy"] = metrics["test_accuracy"]
        result["accuracy_initial"] = metrics["test_accuracy_initial"]
    result["resources"] = resources
    result["placement"] = info["placement"]
    result["blocks"] = counter.summary("training")["blocks"]
    result["steps_per_sample"] = P
    result["onset_steps"] = protocol.onset_steps
    result["steps"] = OrderedDict((name, counter.steps(name)) for name in PHASES.values())
    result["wall_s"] = time.perf_counter() - t0
    return result


def _task(task, layers, n_train, n_test, steps_per_sample, seed):
    """The task of an energy run: one training pass over ``n_train`` samples
    (digits: no validation split held out of them), ``n_test`` test samples."""
    if task == "digits":
        data = load_digits_task(seed, n_train, n_test)
        return ClassificationTask(data, layers, seed, steps_per_sample=steps_per_sample,
                                  settle_steps=0, n_val=0)
    return TeacherStudentTask(layers, seed, n_samples=n_train, steps_per_sample=steps_per_sample,
                              settle_steps=0, n_test=n_test)


def run(task, out, layers=None, samples=None, seed=0, progress=True, profile="davies2018",
        input_coding=None, eta=None, steps_per_sample=None):
    """``errormc energy TASK``: energy and latency per sample of one task.

    Parameters
    ----------
    task : "digits" or "teacher-student"
    out : str
        Directory for ``energy.json``, ``energy.md``, ``energy_breakdown.png``.
    layers : str, optional
        Network shape (``"64-10"``, ``"4-2-1"``); task default if None.
    samples : int, optional
        Training samples (each presented once); task default if None.
    seed : int
    profile : str
        The constants profile of the headline figures (``davies2018`` or
        ``sanafe``); ``energy.md`` shows every profile side by side.
    input_coding : str, optional
        How the input population codes the input (`.SpikingErrorMicrocircuit`):
        ``population`` (default) or ``per_input``, whose host input spikes each
        read only their own input's synapses.
    eta : float, optional
        PES learning rate of every area (default: the task's; per-input coding
        learns digits at 0.003, not at the default 0.03).
    steps_per_sample : int, optional
        Presentation length in steps (default: the task's, `TASKS`); more than
        the onset (``experiment.SPIKING_PRESENTATION["onset_steps"]``), during
        which nudging and learning are off.

    Returns
    -------
    str
        The markdown report (both profiles, chip-only and deployed, beside the
        published on-chip learners).
    """
    task = str(task).strip().lower().replace("_", "-")
    if task not in TASKS:
        raise ConfigError(f"task: unknown {task!r}; choose from {', '.join(TASKS)}")
    constants = load_constants(profile)
    others = [load_constants(p) for p in PROFILES if p != constants.name]
    settings = dict(TASKS[task])
    if steps_per_sample is not None:
        onset = experiment.SPIKING_PRESENTATION["onset_steps"]
        if int(steps_per_sample) != steps_per_sample or steps_per_sample <= onset:
            raise ConfigError(f"steps_per_sample: must be an integer above the onset ({onset} "
                              f"steps), got {steps_per_sample!r}")
        settings["steps_per_sample"] = int(steps_per_sample)
    layer_list = _layers(layers or settings["layers"])
    n_train = _check_samples(samples, settings["samples"])
    n_test = settings["n_test"]
    data = _task(task, layer_list, n_train, n_test, settings["steps_per_sample"], seed)
    net = dict(settings["net"])
    if input_coding is not None:
        net["input_coding"] = user_input(check_mode, input_coding, INPUT_CODINGS, "input_coding")
    if eta is not None:
        if not np.isfinite(eta) or eta <= 0:
            raise ConfigError(f"eta: must be > 0, got {eta!r}")
        net["eta"] = float(eta)
    factory = experiment.spiking_network(layers=layer_list, seed=seed, **net)
    result = measure(factory, data, seed=seed, progress=progress, constants=constants,
                     profiles=others)
    report = _report(task, layer_list, result, constants, settings, seed)
    report["input_coding"] = net.get("input_coding", "population")
    report["eta"] = net.get("eta")
    report["profiles"] = OrderedDict(
        (name, OrderedDict(
            file=os.path.basename(c.path), sources=c.sources, entries=c.citations(),
            training=summarise(cost["training"]), inference=summarise(cost["inference"]),
        ))
        for name, cost, c in ((n, result["costs"][n], k)
                              for n, k in ((c.name, c) for c in [constants] + others))
    )
    os.makedirs(out, exist_ok=True)
    _write_json(os.path.join(out, "energy.json"), report)
    table = format_table(report)
    with open(os.path.join(out, "energy.md"), "w") as f:
        f.write(table + "\n\n" + "\n\n".join(format_constants(c) for c in [constants] + others) + "\n")
    plot_breakdown(report, os.path.join(out, "energy_breakdown.png"))
    return table


def summarise(phase):
    """Per-sample chip-only and deployed figures of one `cost_phase` result."""
    dep = phase["deployed"]
    return OrderedDict(
        chip_only=OrderedDict(
            label=phase["chip_only"]["label"],
            energy_per_sample_mJ=phase["chip_only"]["energy_per_sample_mJ"],
            latency_per_sample_ms=phase["chip_only"]["latency_per_sample_ms"],
            breakdown_mJ=phase["energy_per_sample_breakdown_mJ"],
        ),
        deployed=OrderedDict(
            label=dep["label"],
            energy_per_sample_mJ=OrderedDict(
                whole_chip=dep["energy_per_sample_mJ"]["total_whole_chip"],
                per_used_core=dep["energy_per_sample_mJ"]["total_per_used_core"],
            ),
            latency_per_sample_ms=dep["latency_per_sample_ms"],
            breakdown_mJ=dep["energy_per_sample_mJ"],
            io_every_10=OrderedDict(
                note=dep["io_every_10"]["note"],
                energy_per_sample_mJ=OrderedDict(
                    whole_chip=dep["io_every_10"]["energy_per_sample_mJ"]["total_whole_chip"],
                    per_used_core=dep["io_every_10"]["energy_per_sample_mJ"]["total_per_used_core"],
                ),
                latency_per_sample_ms=dep["io_every_10"]["latency_per_sample_ms"],
            ),
        ),
    )


def _report(task, layers, result, constants, settings, seed):
    tr, inf = result["training"], result["inference"]
    res = result["resources"]
    placement = result["placement"].get("resources", {})
    report = OrderedDict(
        label=LABEL,
        task=task,
        layers="-".join(map(str, layers)),
        seed=seed,
        samples=OrderedDict(training=tr["samples"], inference=inf["samples"]),
        steps_per_sample=result["steps_per_sample"],
        dt_s=0.001,
        energy_per_sample_mJ=OrderedDict(training=tr["energy_per_sample_mJ"],
                                         inference=inf["energy_per_sample_mJ"]),
        latency_per_sample_ms=OrderedDict(training=tr["latency_per_sample_ms"],
                                          inference=inf["latency_per_sample_ms"]),
        edp=OrderedDict(training=tr["edp_mJ_ms"], inference=inf["edp_mJ_ms"], unit="mJ*ms"),
    )
    if "accuracy" in result:
        report["accuracy"] = result["accuracy"]
        report["accuracy_initial"] = result["accuracy_initial"]
    report["test_mse"] = result["test_mse"]
    report["test_mse_initial"] = result["test_mse_initial"]
    report["steps"] = result["steps"]
    report["training"] = tr
    report["inference"] = inf
    report["counts"] = OrderedDict(training=tr["counts"], inference=inf["counts"])
    report["resources"] = OrderedDict((k, v) for k, v in res.items() if k != "cores_detail")
    report["resources"]["cores_detail"] = res["cores_detail"]
    report["placement_check"] = OrderedDict(
        placement_compartments=placement.get("compartments"),
        placement_synapses=placement.get("synapses"),
        resources_compartments=res["compartments"],
        resources_synapses=res["synapses"],
        agree=(placement.get("compartments") == res["compartments"]
               and placement.get("synapses") == res["synapses"]),
    )
    report["blocks"] = result["blocks"]
    report["constants"] = OrderedDict(
        profile=constants.name, file=os.path.basename(constants.path),
        sources=constants.sources, entries=constants.citations(),
    )
    report["chip_only"] = OrderedDict(training=summarise(tr)["chip_only"],
                                      inference=summarise(inf)["chip_only"])
    report["deployed"] = OrderedDict(training=summarise(tr)["deployed"],
                                     inference=summarise(inf)["deployed"])
    traffic = result["placement"].get("host_traffic", [])
    report["host_traffic"] = OrderedDict(per_step=traffic, totals=traffic_totals(traffic))
    report["published"] = PUBLISHED
    report["notes"] = [
        "Ours: " + LABEL + " (nengo-loihi 1.1 emulator); the per-operation figures come from "
        "the named constants profile (davies2018: pre-silicon Table 2; sanafe: SANA-FE's Loihi "
        "description).",
        "Chip only is a lower bound: chip time (slowest core per step + barrier), static power "
        "over that time, no host. Deployed adds one measured host round trip per step "
        "(nengo-loihi PR 26: ~8 ms with I/O every step, which nengo-loihi 1.1 needs here since "
        "every learned output and PES error crosses the host each step), static power over "
        "the deployed wall time and the host CPU's power (Blouw et al. 2019).",
        "Static power is attributed to the whole chip (whole_chip) or to the used cores only "
        "(per_used_core = cores / 128 of a chip).",
        "Like for like with the published rows: none exactly. Renner et al. 2024 learn fully on "
        "chip (no host loop), so compare their figure with our chip-only column; their "
        "network, task (MNIST) and presentation time differ. Shrestha et al. 2021 are "
        "as listed by Renner et al.",
        "Inference keeps the learning engine running (zero errors): its learning energy is "
        "what a deployment that disables learning for testing would save.",
        f"Presentation: that of every spiking run (errormc.benchmarks.experiment), without "
        f"validation: an untrained test pass ({result['steps']['untrained test']} steps, counted "
        f"but not costed), one training pass over the shuffled training samples (each "
        f"sample's target shown throughout, nudging and learning off for its first "
        f"{result['onset_steps']} steps), then the test pass (no target, nudging off).",
    ]
    report["wall_s"] = result["wall_s"]
    return report


def _write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, default=_json_default)
    os.replace(tmp, path)


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _g(x, digits=3):
    return f"{x:.{digits}g}"


def format_table(report):
    """Markdown: per sample, chip-only and deployed, for every profile; the
    published learners; what crosses the host each step."""
    metric = (f"accuracy {100 * report['accuracy']:.1f}% (untrained "
              f"{100 * report['accuracy_initial']:.1f}%)" if "accuracy" in report
              else f"test MSE {report['test_mse']:.4g} (untrained {report['test_mse_initial']:.4g})")
    eta = "" if report["eta"] is None else f", eta {report['eta']:g}"
    res = report["resources"]
    tr = report["training"]
    lines = [
        f"### errormc energy {report['task']} {report['layers']} ({LABEL})",
        "",
        f"{report['samples']['training']} training / {report['samples']['inference']} test samples, "
        f"{report['steps_per_sample']} steps each, {report['input_coding']} input coding"
        f"{eta}; {metric}; "
        f"{res['cores']} cores on {res['chips']} chip(s), {res['compartments']} compartments, "
        f"{res['synapses']} synapses ({res['learning_synapses']} learning). Headline profile: "
        f"{report['constants']['profile']}.",
        "",
        "#### Per sample: chip only (a lower bound) and deployed (host round trip every step)",
        "",
        "| profile | phase | chip-only mJ (whole chip / used cores) | chip-only ms "
        "| deployed mJ (whole chip / used cores) | of which host mJ | of which chip static mJ (whole chip) "
        "| deployed ms "
        "| what-if I/O every 10 steps: mJ / ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, prof in report["profiles"].items():
        for phase in ("training", "inference"):
            c, d = prof[phase]["chip_only"], prof[phase]["deployed"]
            w = d["io_every_10"]
            lines.append(
                f"| {name} | {phase} | {_g(c['energy_per_sample_mJ']['whole_chip'])} / "
                f"{_g(c['energy_per_sample_mJ']['per_used_core'])} | {_g(c['latency_per_sample_ms'])} "
                f"| {_g(d['energy_per_sample_mJ']['whole_chip'])} / "
                f"{_g(d['energy_per_sample_mJ']['per_used_core'])} | {_g(d['breakdown_mJ']['host'])} "
                f"| {_g(d['breakdown_mJ']['static_whole_chip'])} | {_g(d['latency_per_sample_ms'])} "
                f"| {_g(w['energy_per_sample_mJ']['whole_chip'])} / {_g(w['latency_per_sample_ms'])} |"
            )
    lines += [
        "",
        "#### Chip-only dynamic energy per sample by component (mJ)",
        "",
        "| profile | phase | " + " | ".join(c.replace("_", " ") for c in COMPONENTS)
        + " | static (whole chip) |",
        "|---|---|" + "---|" * (len(COMPONENTS) + 1),
    ]
    for name, prof in report["profiles"].items():
        for phase in ("training", "inference"):
            b = prof[phase]["chip_only"]["breakdown_mJ"]
            lines.append(f"| {name} | {phase} | " + " | ".join(_g(b[c]) for c in COMPONENTS)
                         + f" | {_g(b['static'])} |")
    acc = (f"{100 * report['accuracy']:.1f}%" if "accuracy" in report
           else f"MSE {report['test_mse']:.3g}")
    lines += [
        "",
        "#### Beside the published on-chip learners (training / inference, per sample)",
        "",
        "| work | network | task | training mJ / ms | inference mJ / ms | test accuracy | basis |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, prof in report["profiles"].items():
        for kind in ("chip_only", "deployed"):
            t, i = prof["training"][kind], prof["inference"][kind]
            lines.append(
                f"| errormc ({name}, {kind.replace('_', '-')}) | {report['layers']} error microcircuit, PES "
                f"| {report['task']} | {_g(t['energy_per_sample_mJ']['whole_chip'])} / "
                f"{_g(t['latency_per_sample_ms'])} | {_g(i['energy_per_sample_mJ']['whole_chip'])} / "
                f"{_g(i['latency_per_sample_ms'])} | {acc} | {LABEL} |"
            )
    for p in report["published"]:
        lines.append(
            f"| {p['work']} | {p['network']}, {p['method']} | {p['task']} "
            f"| {p['training_mJ']} / {p['training_ms']} | {p['inference_mJ']} / {p['inference_ms']} "
            f"| {p['accuracy']}% | {p['basis']} ({p['source']}) |"
        )
    lines += [
        "",
        "#### What crosses the host each step (nengo-loihi 1.1 placement)",
        "",
        "| direction | from | to | values per step | spike channels / compartments | role | learning loop |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["host_traffic"]["per_step"]:
        width = r.get("channels", r.get("compartments", ""))
        lines.append(
            f"| {r['direction']} | {', '.join(r['sources'])} | {', '.join(r['targets'])} | {r['values']} "
            f"| {width} | {r['role']} | {'yes' if r['learning_loop'] else 'no'} |"
        )
    h = tr["host_io"]["per_sample"]
    steps = report["steps_per_sample"]
    lines += [
        "",
        "Totals per step: " + "; ".join(
            f"{d}: {t['values']} values in {t['crossings']} crossings "
            f"({t['learning_loop_values']} of them the learning loop)"
            for d, t in report["host_traffic"]["totals"].items()
        ) + f". Measured in training: {h['host_spikes_in'] / steps:.1f} host spikes in, "
        f"{h['values_out'] / steps:.1f} compartment values out, {h['errors_in'] / steps:.1f} PES "
        "errors in per step.",
        "",
        "Notes: " + " ".join(report["notes"]),
    ]
    return "\n".join(lines)


def format_constants(constants):
    """Markdown table of the constants used, each with its source."""
    lines = [
        f"#### Constants ({constants.name})",
        "",
        "| name | value | unit | source | note |",
        "|---|---|---|---|---|",
    ]
    for c in constants.citations():
        lines.append(f"| {c['name']} | {c['value']} | {c['unit']} | {c['source']} | {c['note']} |")
    lines += ["", "| source | citation | basis | verified |", "|---|---|---|---|"]
    for k, s in constants.sources.items():
        lines.append(f"| {k} | {s.get('citation', '')} | {s.get('basis', '')} | {s.get('verified', '')} |")
    return "\n".join(lines)


def plot_breakdown(report, path):
    """Stacked bars: training energy per sample by area/population and component."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, axes = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw=dict(width_ratios=[3, 2]))
    for ax, phase in zip(axes[:1], ("training",)):
        groups = report[phase]["per_group_mJ"]
        names = list(groups)
        bottom = np.zeros(len(names))
        for comp in COMPONENTS:
            vals = np.array([groups[g][comp] for g in names])
            ax.bar(range(len(names)), vals, bottom=bottom, label=comp.replace("_", " "))
            bottom += vals
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("mJ per training sample")
        ax.set_title(f"{report['task']} {report['layers']}: dynamic energy by area and population\n({LABEL})",
                     fontsize=9)
        ax.legend(fontsize=8)
    ax = axes[1]
    # training, per profile: chip only (lower bound) beside deployed, log scale
    names, parts = [], {"dynamic": [], "static": [], "host": []}
    for name, prof in report["profiles"].items():
        c = prof["training"]["chip_only"]["breakdown_mJ"]
        d = prof["training"]["deployed"]["breakdown_mJ"]
        names += [f"{name}\nchip only", f"{name}\ndeployed"]
        parts["dynamic"] += [c["dynamic"], d["dynamic"]]
        parts["static"] += [c["static"], d["static_whole_chip"]]
        parts["host"] += [0.0, d["host"]]
    # side by side (not stacked): the terms span six decades
    width = 0.27
    for k, (key, vals) in enumerate(parts.items()):
        vals = np.array(vals)
        x = np.arange(len(names)) + (k - 1) * width
        ax.bar(x[vals > 0], vals[vals > 0], width, label=key)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=7)
    ax.set_ylabel("mJ per training sample (log)")
    ax.set_title("training: chip only (lower bound) vs deployed\n(static: whole chip; host: CPU power x wall time)",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- scaling with the number of areas -----------------------------------------------


def scaling(areas, out, samples=None, seed=0, progress=True, connectivity="skip"):
    """Energy and latency per training sample against the number of cortical areas.

    One fixed teacher-student task (teacher ``n_in-hidden-n_out``, the same data for
    every depth) learned by students ``[n_in] + [hidden] * (L - 1) + [n_out]`` with
    L areas (weight layers), all areas of equal width. With ``connectivity="skip"``
    the students add the skip projections of the primate table (MODEL.md 1.11,
    at most 7 areas) to their hierarchical chain (kept at full strength, so every
    area is reached); ``"layered"`` leaves them out.

    Writes ``scaling.csv``, ``scaling.md``, ``scaling.json``, ``scaling.png`` into
    ``out``; returns the markdown table.
    """
    areas = [int(a) for a in areas]
    if not areas or min(areas) < 1:
        raise ConfigError(f"areas: need numbers of areas >= 1, got {areas}")
    s = SCALING
    n_train = _check_samples(samples, s["samples"])
    teacher = [s["n_in"], s["hidden"], s["n_out"]]
    # the teacher's shape is the task's; the students differ in depth only
    data = _task("teacher-student", teacher, n_train, s["n_test"], s["steps_per_sample"], seed)
    constants = load_constants()
    rows = []
    for L in areas:
        layers = [s["n_in"]] + [s["hidden"]] * (L - 1) + [s["n_out"]]
        factory = experiment.spiking_network(layers=layers, seed=seed, connectivity=connectivity,
                                             **s["net"])
        if progress:
            print(f"scaling: {L} areas ({'-'.join(map(str, layers))})", flush=True)
        r = measure(factory, data, seed=seed, progress=progress, constants=constants)
        tr, inf = r["training"], r["inference"]
        b = tr["energy_per_sample_breakdown_mJ"]
        rows.append(OrderedDict(
            areas=L, layers="-".join(map(str, layers)), cores=r["resources"]["cores"],
            compartments=r["resources"]["compartments"], synapses=r["resources"]["synapses"],
            training_mJ=tr["energy_per_sample_mJ"], training_ms=tr["latency_per_sample_ms"],
            training_edp=tr["edp_mJ_ms"],
            synaptic_ops_mJ=b["synaptic_ops"], learning_mJ=b["learning"],
            neuron_updates_mJ=b["neuron_updates"], spike_routing_mJ=b["spike_routing"],
            static_mJ=b["static"],
            inference_mJ=inf["energy_per_sample_mJ"], inference_ms=inf["latency_per_sample_ms"],
            host_values_per_sample=(tr["host_io"]["per_sample"]["host_spikes_in"]
                                    + tr["host_io"]["per_sample"]["values_out"]
                                    + tr["host_io"]["per_sample"]["errors_in"]),
            test_mse=r["test_mse"],
        ))
    os.makedirs(out, exist_ok=True)
    header = list(rows[0])
    with open(os.path.join(out, "scaling.csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(str(row[k]) for k in header) + "\n")
    meta = OrderedDict(
        label=LABEL, task="teacher-student", teacher="-".join(map(str, teacher)),
        samples=OrderedDict(training=n_train, inference=s["n_test"]), seed=seed,
        connectivity=connectivity,
        deviation=(("skip projections of the primate table on a hierarchical chain kept at "
                    "full strength (the table lacks some hierarchical links, e.g. 5->6); "
                    if connectivity == "skip" else "layered hierarchies; ")
                   + "hidden areas of equal width; the same teacher and data for every depth"),
        rows=rows, constants=constants.name,
    )
    _write_json(os.path.join(out, "scaling.json"), meta)
    table = format_scaling(meta)
    with open(os.path.join(out, "scaling.md"), "w") as f:
        f.write(table + "\n")
    plot_scaling(meta, os.path.join(out, "scaling.png"))
    return table


def format_scaling(meta):
    rows = meta["rows"]
    lines = [
        f"### Energy and latency per training sample vs. cortical areas ({LABEL})",
        "",
        f"Fixed task: teacher {meta['teacher']}, {meta['samples']['training']} training / "
        f"{meta['samples']['inference']} test samples, seed {meta['seed']}. Deviation: "
        f"{meta['deviation']}.",
        "",
        "| areas | layers | cores | compartments | synapses | train mJ/sample | synaptic | learning "
        "| neuron upd. | routing | static | train ms/sample | EDP (mJ ms) | infer mJ/sample "
        "| host values/sample | test MSE |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['areas']} | {r['layers']} | {r['cores']} | {r['compartments']} | {r['synapses']} "
            f"| {_g(r['training_mJ'])} | {_g(r['synaptic_ops_mJ'])} | {_g(r['learning_mJ'])} "
            f"| {_g(r['neuron_updates_mJ'])} | {_g(r['spike_routing_mJ'])} | {_g(r['static_mJ'])} "
            f"| {_g(r['training_ms'])} | {_g(r['training_edp'])} | {_g(r['inference_mJ'])} "
            f"| {r['host_values_per_sample']:.0f} | {r['test_mse']:.3g} |"
        )
    return "\n".join(lines)


def plot_scaling(meta, path):
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    rows = meta["rows"]
    L = [r["areas"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    bottom = np.zeros(len(rows))
    for key in ("synaptic_ops_mJ", "learning_mJ", "neuron_updates_mJ", "spike_routing_mJ", "static_mJ"):
        vals = np.array([r[key] for r in rows])
        axes[0].bar(L, vals, bottom=bottom, label=key[:-3].replace("_", " "))
        bottom += vals
    axes[0].set_xlabel("cortical areas L")
    axes[0].set_ylabel("mJ per training sample")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"energy ({LABEL})", fontsize=9)
    axes[1].plot(L, [r["training_ms"] for r in rows], "o-", label="training")
    axes[1].plot(L, [r["inference_ms"] for r in rows], "s--", label="inference")
    axes[1].set_xlabel("cortical areas L")
    axes[1].set_ylabel("chip latency per sample (ms)")
    axes[1].legend(fontsize=8)
    axes[1].set_title("latency (chip time, host excluded)", fontsize=9)
    for ax in axes:
        ax.set_xticks(L)  # whole numbers of areas
    connectivity = meta.get("connectivity", "skip")
    fig.suptitle(f"teacher {meta['teacher']}, {connectivity} students of L areas", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
