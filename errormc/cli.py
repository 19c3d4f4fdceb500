"""The ``errormc`` command line: parse, call one library function, print.

Verbs: ``run``, ``replay``, ``check-bp``, ``paper``, ``energy``, ``sweep``,
``report``, ``bench``. Input the user can fix (`ConfigError`: bad flags, config
keys, data files, output paths, a diverging run) prints one line on stderr and
exits with status 2; anything else is a bug and keeps its traceback (status 1).
"""

import argparse
import functools
import json
import os
import sys
import time

import numpy as np

from errormc import __version__
from errormc.benchmarks import energy, speed
from errormc.benchmarks.alignment import check_bp
from errormc.benchmarks.datafiles import read_npz
from errormc.benchmarks.paper import FIGURES
from errormc.benchmarks.protocol import replay
from errormc.networks.errors import ConfigError
from errormc.networks.weights import save

from .runs import bench_backends
from .runs.config import RunConfig
from .runs.demo import deployment_demo
from .runs.paper import run_figure
from .runs.results import check_out
from .runs.runner import Diverged, Interrupted, describe, resume, run
from .runs.sweep import expand, load_grid, report, run_sweep

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ConfigError(message)


#: model flags: (flag, type, help with the default)
MODEL_FLAGS = (
    ("--layers", str, "sizes n_0-n_1-...-n_L (default: teacher-student 4-2-1 rate, 2-1 "
                      "spiking; digits 64-32-10 rate, 64-10 spiking; MNIST 784-100-10 / 784-10)"),
    ("--errors", str, "error units per area m_1-...-m_L, errormc only (default: as --layers)"),
    ("--activation", str, "phi, one name or one per area: tanh,linear (default tanh)"),
    ("--error-activation", str, "psi of the error units, errormc only (default linear)"),
    ("--connectivity", str, "layered | skip (default: skip for errormc, layered for the "
                            "comparison models and the spiking network)"),
    ("--backward", str, "bp (transpose + noise) | fa (fixed random) (default bp)"),
    ("--eta", str, "forward learning rates, one or one per area: 1,0.2,0.05 (default: the "
                   "model's; spiking digits 0.03)"),
    ("--eta-lateral", float, "lateral learning rate, rate networks (default 0; sacramento2018 "
                             "and dpc: the paper's table)"),
    ("--wt-noise", float, "bp noise sigma (default 0.5 rate, 0.1 spiking)"),
    ("--lateral-noise", float, "P, Q = I + U(+-s), errormc only (default 0.3; genmnist 0.03)"),
    ("--weight-range", float, "forward weights U(-w, w), errormc only (default 1; genmnist 0.1)"),
    ("--slope-std", float, "per-neuron slope spread, Fig. 5, errormc only (default 0)"),
    ("--offset-std", float, "per-neuron offset spread, Fig. 5, errormc only (default 0)"),
    ("--variability-on", str, "rep | error: which units vary, errormc only (default rep)"),
    ("--seed", int, "network seed (default 56789)"),
    ("--init-weights", str, "initial weights (.npz, errormc rate network)"),
    ("--dt", float, "time step (default 0.01 ms rate, 0.001 s spiking)"),
)
CONDUCTANCES = (("l", 0.03), ("bas", 0.1), ("api", 0.06), ("den", 0.1), ("ntgt", 0.06))


def _add(group, flag, kind, text):
    dest = flag[2:].replace("-", "_")
    group.add_argument(flag, type=kind, dest=dest, help=text, metavar=dest.upper())


def _model_flags(p, skip=()):
    g = p.add_argument_group("model")
    for flag, kind, text in MODEL_FLAGS:
        if flag not in skip:
            _add(g, flag, kind, text)
    if "--no-phi-transfer" not in skip:
        g.add_argument("--no-phi-transfer", dest="phi_transfer", action="store_const",
                       const=False, help="switch off the phi' transfer to error units "
                                         "(errormc rate network; default on)")
    c = p.add_argument_group("conductances (1/ms)")
    for name, default in CONDUCTANCES:
        c.add_argument(f"--g-{name}", type=float, metavar="G", help=f"default {default}")


RUN_FLAGS = (
    ("--model", str, "errormc | sacramento2018 | dpc | ann (default errormc)"),
    ("--network", str, "rate | spiking (default rate; spiking on --backend loihi)"),
    ("--backend", str, "jax (rate networks, compiled) | nengo (the reference simulator) | "
                       "loihi (spiking network) (default jax for rate networks, nengo for "
                       "spiking)"),
    ("--epochs", int, "epochs (default: teacher-student 100 rate, 2 spiking; digits 10 / 1)"),
    ("--task-seed", int, "seed of teacher and data, teacher-student (default: --seed; "
                         "the paper: its first seed)"),
    ("--protocol", str, "clean | reference (the authors' quirks, rate only) (default clean; "
                        "dms: reference)"),
    ("--variant", str, "cartpole: ideal | tanh (default ideal)"),
    ("--n-samples", int, "training samples (default: teacher-student 100 rate, 40 spiking; "
                         "digits all, 300 spiking)"),
    ("--n-test", int, "test samples: digits (default all), spiking teacher-student "
                      "(default 20)"),
    ("--steps-per-sample", int, "steps per presentation (default 20 rate; spiking 100, "
                                "digits 80)"),
    ("--settle-steps", int, "settling steps before training (default: one pass over the "
                            "training set, at most 2000; spiking 0)"),
    ("--onset-steps", int, "spiking: steps into a presentation before the target nudges "
                           "(default 30)"),
    ("--readout-steps", int, "spiking: last steps of a presentation read as its output "
                             "(default 30%% of a presentation)"),
    ("--neurons-per-unit", int, "spiking: neurons per represented dimension (default 50; "
                                "digits 10)"),
    ("--error-neurons", int, "spiking: neurons per error unit (default 100; digits 60)"),
    ("--input-coding", str, "spiking: population (every input neuron sees all inputs) | "
                            "per_input (each sees one input: sparse on-chip input synapses) "
                            "(default population)"),
    ("--compare", str, "bp: the backprop comparison over weight snapshots, MODEL.md 2.4 "
                       "(cortical rate models, teacher-student and genmnist)"),
    ("--snapshot-every", int, "steps between weight snapshots of --compare (default 2000; "
                              "genmnist 500)"),
    ("--emulator", str, "loihi: fast (vectorised, bit-exact) | stock nengo-loihi emulator "
                        "(default fast)"),
    ("--checkpoint-every", int, "samples between checkpoints, 0: none (default 1000; "
                                "none on loihi)"),
    ("--weight-bound", float, "divergence guard on |weights| (default 1000; not on loihi)"),
    ("--data", str, "digits, genmnist: an MNIST .npz (keras layout) instead of the bundled "
                    "8x8 digits"),
)


def _given(args, names):
    """The fields among ``names`` given on the command line (flags not given are
    absent: argument_default=SUPPRESS)."""
    return {n: getattr(args, n) for n in names if hasattr(args, n)}


def _fields(flags):
    return tuple(f[2:].replace("-", "_") for f, _, _ in flags)


MODEL_FIELDS = _fields(MODEL_FLAGS) + ("phi_transfer",) + tuple(
    f"g_{n}" for n, _ in CONDUCTANCES)
REPLAY_FIELDS = MODEL_FIELDS + ("backend",)
RUN_FIELDS = _fields(RUN_FLAGS) + ("task",)


def _default_out(config):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join("results", f"{config.task}-{config.layers}-seed{config.seed}-{stamp}")


def _summary(config, metrics, out):
    if config.task == "dms":
        val = ", ".join(f"{v:.4g}" for v in metrics["val_mse_per_epoch"])
        return (f"dms seed {config.seed}: validation MSE per epoch [{val}], test MSE "
                f"{metrics['test_mse']:.6g}, wall {metrics['wall_s']:.1f} s; results in {out}")
    if config.task == "cartpole":
        return (f"cartpole {config.variant} seed {config.seed}: failures per evaluation "
                f"{metrics['failures_per_evaluation']} (teacher {metrics['teacher_failures']}), "
                f"wall {metrics['wall_s']:.1f} s; results in {out}")
    line = (f"{describe(config)}, seed {config.seed}: test MSE {metrics['test_mse_initial']:.4g} "
            f"(untrained) -> {metrics['test_mse_final']:.4g} (trained)")
    if "test_accuracy" in metrics:
        line += (f", accuracy {metrics['test_accuracy_initial']:.1%} -> "
                 f"{metrics['test_accuracy']:.1%}")
    line += f", wall {metrics['wall_s']:.1f} s; results in {out}"
    q = (metrics.get("placement") or {}).get("quantisation") or {}
    if q.get("lost_bits_warnings"):
        line += (f"\n{q['lost_bits_warnings']} weight discretisation notices from nengo-loihi: "
                 f"up to {q['lost_bits_max']} bits lost (details in {out}/placement.json)")
    return line


def cmd_run(args):
    quiet = getattr(args, "quiet", False)
    fields = _given(args, MODEL_FIELDS + RUN_FIELDS)
    if hasattr(args, "resume"):
        extra = sorted(set(fields) | ({"config"} & set(vars(args))) | (
            {"force"} & {k for k, v in vars(args).items() if v is True}))
        if extra:
            raise ConfigError(f"{extra[0]}: --resume continues the run as its config.toml "
                              "says; it takes no other settings")
        out = args.resume
        metrics = resume(out, progress=not quiet)
        config = RunConfig.from_toml(os.path.join(out, "config.toml"))
        print(_summary(config, metrics, out))
        return
    if not fields and not hasattr(args, "config"):
        out = getattr(args, "out", None) or os.path.join(
            "results", f"deployment-{time.strftime('%Y%m%d-%H%M%S')}")
        print(deployment_demo(out, progress=not quiet))
        print(f"results in {out}")
        return
    if hasattr(args, "config"):
        config = RunConfig.from_toml(args.config, overrides=fields)
    else:
        config = RunConfig(**fields)
    out = getattr(args, "out", None) or _default_out(config)
    args.out = out
    metrics = run(config, out=out, progress=not quiet, force=getattr(args, "force", False))
    print(_summary(config, metrics, out))


def read_stimulus(path):
    """``(inputs, targets, learn)`` from a stimulus ``.npz``."""
    if not os.path.isfile(path):
        raise ConfigError(f"stimulus: file {path!r} does not exist")
    arrays = read_npz(path, "stimulus", ("inputs",))
    with np.load(path, allow_pickle=False) as data:
        optional = {k: read_npz(path, "stimulus", (k,))[k] for k in ("targets", "learn")
                    if k in data.files}
    return arrays["inputs"], optional.get("targets"), optional.get("learn")


def cmd_replay(args):
    if getattr(args, "init_weights", None) is None:
        raise ConfigError("init_weights: replay needs --init-weights W.npz")
    check_out(args.out, run=False)
    config = RunConfig(**_given(args, REPLAY_FIELDS))
    inputs, targets, learn = read_stimulus(args.stimulus)
    result = replay(inputs, targets, learn, dt=config.dt, backend=config.backend,
                    **config.network_kwargs())
    os.makedirs(args.out, exist_ok=True)
    path = save(os.path.join(args.out, "trace.npz"), result)
    print(f"{len(inputs)} steps replayed; trace in {path}")


def cmd_check_bp(args):
    # check-bp's own defaults: layered, bp without noise, identity lateral weights
    fields = dict(connectivity="layered", wt_noise=0.0, lateral_noise=0.0, seed=0)
    fields.update(_given(args, MODEL_FIELDS))
    config = RunConfig(**fields)
    conductances = {g: getattr(config, g) for g in ("g_l", "g_bas", "g_api", "g_den", "g_ntgt")}
    result = check_bp(
        config.layer_sizes(),
        seed=config.seed,
        activation=config.activation,
        connectivity=config.connectivity,
        backward=config.backward,
        wt_noise=config.wt_noise,
        lateral_noise=config.lateral_noise,
        dt=config.dt,
        **conductances,
    )
    if args.json:
        keys = ("layers", "connectivity", "backward", "g_api", "angles_deg",
                "rel_delta_error", "max_rel_delta_error")
        print(json.dumps({k: result[k] for k in keys}, indent=2))
        return
    print(f"check-bp {result['layers']} ({result['connectivity']}, {result['backward']}, "
          f"g_api={result['g_api']:g}, seed {config.seed})")
    print("area  angle to backprop (deg)  max rel. error-unit deviation")
    for l, (a, r) in enumerate(zip(result["angles_deg"], result["rel_delta_error"]), start=1):
        print(f"{l:>4}  {a:>23.4f}  {r:>30.2e}")
    print(f"max relative deviation from the backprop recursion: {result['max_rel_delta_error']:.2e}")


def cmd_bench(args):
    if args.out:
        check_out(args.out, run=False)
    if args.what == "backends":
        out = args.out or os.path.join("results", "bench-backends")
        tasks = bench_backends.sized_tasks(args.n_samples, args.n_test, args.epochs,
                                           names=args.tasks)
        print(bench_backends.write_table(out, tasks=tasks, emulator=args.emulator,
                                         progress=not args.quiet))
        print(f"table in {out}")
    if args.what == "speed":
        out = args.out or os.path.join("results", "bench-speed")
        check_out(out, run=False)
        rows = speed.bench_speed(out=out, steps=args.steps, unroll=args.unroll,
                                 progress=not args.quiet and not args.json)
        if args.json:
            print(speed.format_json(rows))
            return
        print(speed.format_table(rows))
        print(f"table in {os.path.join(out, 'speed.csv')}")


def cmd_sweep(args):
    check_out(args.out, run=False)
    grid, options = load_grid(args.grid)
    configs = expand(grid, where=f"grid {args.grid!r}")
    summary = run_sweep(configs, args.out, workers=args.workers, scheduler=args.scheduler,
                        retry_failed=args.retry_failed, progress=not args.quiet,
                        options=options)
    print(f"sweep {args.out}: {len(summary['done'])} finished, {len(summary['failed'])} failed, "
          f"{len(summary['skipped'])} finished earlier, of {summary['total']} in "
          f"{summary['wall_s']:.1f} s")
    if summary["duplicates"]:
        print(f"{summary['duplicates']} grid points repeat an earlier one and ran once")
    if summary["failed_before"]:
        print(f"{len(summary['failed_before'])} runs failed in an earlier sweep and were not "
              "rerun; rerun them with --retry-failed")
    if summary["failed"]:
        print(f"failures recorded in {os.path.join(args.out, 'failed')}; rerun with --retry-failed")


def cmd_report(args):
    rows = report(args.dir)
    print(f"{len(rows)} runs summarised in {os.path.join(args.dir, 'summary.csv')}")


def _writes_out(verb):
    """The command of a verb that writes its results into ``--out`` (checked to
    be new or empty before anything runs) and returns their table to print."""

    @functools.wraps(verb)
    def command(args):
        check_out(args.out, run=False)
        print(verb(args))
        print(f"results in {args.out}")

    return command


@_writes_out
def cmd_energy(args):
    if args.task == "scaling":
        lo, _, hi = args.areas.partition("..")
        try:
            areas = range(int(lo), int(hi or lo) + 1)
        except ValueError:
            raise ConfigError(f"areas: {args.areas!r} is not a range like 2..7") from None
        return energy.scaling(areas=areas, out=args.out, samples=args.samples,
                              seed=args.seed, progress=not args.quiet)
    return energy.run(args.task, out=args.out, layers=args.layers, samples=args.samples,
                      seed=args.seed, progress=not args.quiet, profile=args.profile,
                      input_coding=args.input_coding, eta=args.eta,
                      steps_per_sample=args.steps_per_sample)


@_writes_out
def cmd_paper(args):
    options = {k: getattr(args, k) for k in ("backend", "data") if getattr(args, k) is not None}
    return run_figure(args.figure, args.out, quick=args.quick, seeds=args.seeds,
                      protocol=args.protocol, workers=args.workers, progress=not args.quiet,
                      **options)


def _output_flags(p, command):
    """``--out`` (required) and ``--quiet`` of a verb that writes a directory of
    results, and the verb's ``command``."""
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=command)


def build_parser():
    parser = Parser(prog="errormc", description="Cortical error-neuron microcircuits on Nengo.")
    parser.add_argument("--version", action="version", version=f"errormc {__version__}")
    sub = parser.add_subparsers(dest="verb", parser_class=Parser)

    p = sub.add_parser("run", help="train on a task and write a results directory "
                                   "(no task and no flags: the deployment demo)",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("task", nargs="?", help="teacher-student | digits | genmnist | dms | cartpole")
    p.add_argument("--config", help="run config (TOML); flags override its fields")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--out", help="results directory (default results/TASK-LAYERS-seedS-TIME)")
    p.add_argument("--force", action="store_true", help="replace a finished run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("run")
    for flag, kind, text in RUN_FLAGS:
        _add(g, flag, kind, text)
    _model_flags(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("replay", help="drive a network with given per-step inputs and targets",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("--stimulus", required=True, help=".npz with inputs[T,n_in], targets, learn")
    p.add_argument("--out", required=True, help="directory for trace.npz")
    p.add_argument("--backend", help="jax | nengo (default jax)")
    _model_flags(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check-bp", help="compare a settled microcircuit with backprop",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", default=False, help="print JSON")
    _model_flags(p, skip=("--errors", "--error-activation", "--eta", "--eta-lateral",
                          "--init-weights", "--no-phi-transfer"))
    p.set_defaults(func=cmd_check_bp)

    p = sub.add_parser("paper", help="reproduce a figure of the paper")
    p.add_argument("figure", choices=FIGURES, help=f"one of {', '.join(FIGURES)}")
    p.add_argument("--quick", action="store_true", help="fewer epochs and seeds (minutes)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the "
                                                           "paper's 10; --quick 2)")
    p.add_argument("--protocol", default="reference", help="reference | clean (default reference)")
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: cores)")
    p.add_argument("--backend", default=None, help="backend of every run: jax | nengo "
                                                   "(default jax; the spiking network nengo)")
    p.add_argument("--data", default=None, help="fig4, fig5: a local MNIST .npz, 784 pixels "
                                                "(default: the bundled 8x8 digits)")
    _output_flags(p, cmd_paper)

    p = sub.add_parser("energy", help="energy and latency of the emulated Loihi deployment")
    p.add_argument("task", help="digits | teacher-student | scaling")
    p.add_argument("--layers", default=None, help="network shape (default: the task's)")
    p.add_argument("--areas", default="2..7", help="scaling: range of cortical areas "
                                                   "(default 2..7)")
    p.add_argument("--samples", type=int, default=None, help="training samples (default: "
                                                             "the task's)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--profile", default="davies2018",
                   help="constants profile of the headline figures: davies2018 | sanafe "
                        "(default davies2018; energy.md compares both)")
    p.add_argument("--input-coding", default=None,
                   help="population | per_input: how the input population codes the input "
                        "(default population; per_input: each host input spike reads only its "
                        "own input's synapses)")
    p.add_argument("--eta", type=float, default=None,
                   help="PES learning rate (default: the task's; digits 0.03, per_input learns "
                        "at 0.003)")
    p.add_argument("--steps-per-sample", type=int, default=None,
                   help="presentation length in steps, above the 30-step onset (default: the "
                        "task's; digits 80)")
    _output_flags(p, cmd_energy)

    p = sub.add_parser("sweep", help="run a grid of configs on Dask, resumably")
    p.add_argument("grid", help="grid file (TOML; lists are axes)")
    p.add_argument("--out", required=True, help="sweep directory")
    p.add_argument("--workers", type=int, default=None,
                   help="LocalCluster workers (default: one per core)")
    p.add_argument("--scheduler", default=None,
                   help="address of an existing Dask scheduler (default: a local cluster)")
    p.add_argument("--retry-failed", action="store_true", help="rerun recorded failures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="summarise a sweep directory")
    p.add_argument("dir", help="sweep directory")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="speed benchmarks")
    p.add_argument("what", choices=["speed", "backends"], help="speed | backends")
    p.add_argument("--out", default=None, help="output directory (default: print only; "
                                               "backends: results/bench-backends)")
    p.add_argument("--steps", type=int, default=20000, help="speed: steps per timing "
                                                            "(default 20000)")
    p.add_argument("--n-samples", type=int, default=None,
                   help="backends: training samples of every task (default: the task's)")
    p.add_argument("--n-test", type=int, default=None,
                   help="backends: test samples of every task (default: the task's)")
    p.add_argument("--epochs", type=int, default=None,
                   help="backends: epochs of every task (default: the task's)")
    p.add_argument("--tasks", default="ts21,ts421,digits",
                   help="backends: which tasks (default ts21,ts421,digits)")
    p.add_argument("--emulator", default="fast",
                   help="backends: fast (bit-exact vectorised) | stock nengo-loihi emulator "
                        "(default fast)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="speed: print the rows as JSON")
    p.add_argument("--unroll", type=int, default=None,
                   help="speed: steps per iteration of the jax backend's compiled loop "
                        "(default: the engine's choice)")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = None
    try:
        args = parser.parse_args(argv)
        if args.verb is None:
            args = parser.parse_args(["run"] + argv)
        args.func(args)
    except (ConfigError, Diverged) as e:
        print(f"errormc: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as e:
        out = getattr(args, "resume", None) or getattr(args, "out", None)
        print(f"\nerrormc: {e}", file=sys.stderr)
        if out:
            print(f"continue with: errormc run --resume {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\nerrormc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
