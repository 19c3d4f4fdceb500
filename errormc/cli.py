"""The ``errormc`` command line: parse, call one library function, print.

Verbs: ``run``, ``replay``, ``check-bp``, ``paper``, ``sweep``, ``report``, ``bench``.
Bad input prints one line on stderr and exits with status 2.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the command line."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _model_flags(p):
    """Model flags; their defaults are `RunConfig`'s (a flag not given is absent)."""
    g = p.add_argument_group("model")
    g.add_argument("--layers", help="sizes n_0-n_1-...-n_L (default 4-2-1)")
    g.add_argument("--errors", help="error units per area m_1-...-m_L")
    g.add_argument("--activation", help="one name or one per area: tanh,linear")
    g.add_argument("--error-activation")
    g.add_argument("--connectivity", help="layered | skip")
    g.add_argument("--backward", help="bp (transpose + noise) | fa")
    g.add_argument("--eta", help="forward learning rates per area: 1,0.2,0.05")
    g.add_argument("--eta-lateral", type=float)
    g.add_argument("--no-phi-transfer", dest="phi_transfer", action="store_false")
    g.add_argument("--wt-noise", type=float, help="bp noise sigma")
    g.add_argument("--lateral-noise", type=float)
    g.add_argument("--seed", type=int)
    g.add_argument("--init-weights", help="initial weights (.npz)")
    g.add_argument("--dt", type=float, help="time step (ms)")
    c = p.add_argument_group("conductances (1/ms)")
    for name in ("l", "bas", "api", "den", "ntgt"):
        c.add_argument(f"--g-{name}", type=float)


RUN_FIELDS = (
    "task", "task_seed", "model", "network", "backend", "epochs", "protocol", "variant",
    "n_samples",
    "steps_per_sample", "settle_steps", "checkpoint_every", "weight_bound", "data", "n_test",
)


def _given(args, names):
    """The fields among ``names`` that were given on the command line."""
    return {n: getattr(args, n) for n in names if hasattr(args, n)}


MODEL_FIELDS = (
    "layers", "errors", "activation", "error_activation", "connectivity", "backward",
    "eta", "eta_lateral", "phi_transfer", "wt_noise", "lateral_noise", "seed",
    "init_weights", "dt", "g_l", "g_bas", "g_api", "g_den", "g_ntgt",
)


def cmd_run(args):
    from errormc.benchmarks.config import RunConfig
    from errormc.benchmarks.runner import resume, run

    quiet = getattr(args, "quiet", False)
    given = _given(args, MODEL_FIELDS + RUN_FIELDS + ("config", "resume"))
    if not given:
        return deployment_demo(getattr(args, "out", None), quiet)
    if hasattr(args, "resume"):
        out = args.resume
        metrics = resume(out, progress=not quiet)
        config = RunConfig.from_toml(os.path.join(out, "config.toml"))
    else:
        fields = _given(args, MODEL_FIELDS + RUN_FIELDS)
        if hasattr(args, "config"):
            config = RunConfig.from_toml(args.config, overrides=fields)
        else:
            config = RunConfig(**fields)
        out = getattr(args, "out", None) or os.path.join(
            "results",
            f"{config.task}-{config.layers}-seed{config.seed}-{time.strftime('%Y%m%d-%H%M%S')}",
        )
        metrics = run(config, out=out, progress=not quiet)
    if config.task in ("dms", "cartpole"):
        print(_standalone_summary(config, metrics))
        print(f"results in {out}")
        return
    print(f"{config.task} {config.network} {config.model} {config.layers} seed {config.seed} "
          f"on {config.backend}: test MSE {metrics['test_mse_initial']:.4g} (untrained) -> "
          f"{metrics['test_mse_final']:.4g} (trained)"
          + (f", accuracy {metrics['test_accuracy_initial']:.1%} -> "
             f"{metrics['test_accuracy']:.1%}" if "test_accuracy" in metrics else "")
          + f", wall {metrics['wall_s']:.1f} s")
    print(f"results in {out}")


def _standalone_summary(config, metrics):
    if config.task == "dms":
        val = ", ".join(f"{v:.4g}" for v in metrics["val_mse_per_epoch"])
        return (f"dms seed {config.seed}: validation MSE per epoch [{val}], test MSE "
                f"{metrics['test_mse']:.6g}, wall {metrics['wall_s']:.1f} s")
    return (f"cartpole {config.variant} seed {config.seed}: failures per evaluation "
            f"{metrics['failures_per_evaluation']} (teacher {metrics['teacher_failures']}), "
            f"wall {metrics['wall_s']:.1f} s")


def deployment_demo(out, quiet):
    """``errormc run`` alone: the spiking network on digits on both backends."""
    from errormc.benchmarks.deployment import deployment_demo as demo

    out = out or os.path.join("results", f"deployment-{time.strftime('%Y%m%d-%H%M%S')}")
    table = demo(out, progress=not quiet)
    print(table)
    print(f"results in {out}")


def cmd_replay(args):
    from errormc.benchmarks.config import RunConfig
    from errormc.benchmarks.protocol import replay
    from errormc.networks.weights import save

    if getattr(args, "init_weights", None) is None:
        raise ValueError("init_weights: replay needs --init-weights W.npz")
    config = RunConfig(**_given(args, MODEL_FIELDS))
    path = args.stimulus
    if not os.path.isfile(path):
        raise ValueError(f"stimulus: file {path!r} does not exist")
    with np.load(path, allow_pickle=False) as data:
        if "inputs" not in data.files:
            raise ValueError(f"stimulus {path!r}: missing array 'inputs' (has {data.files})")
        inputs = data["inputs"]
        targets = data["targets"] if "targets" in data.files else None
        learn = data["learn"] if "learn" in data.files else None
    result = replay(inputs, targets, learn, dt=config.dt, **config.network_kwargs())
    os.makedirs(args.out, exist_ok=True)
    path = save(os.path.join(args.out, "trace.npz"), result)
    print(f"{len(inputs)} steps replayed; trace in {path}")


def cmd_check_bp(args):
    from errormc.benchmarks.alignment import check_bp
    from errormc.benchmarks.config import RunConfig

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
    if args.what == "backends":
        from errormc.benchmarks.speed_backends import write_backends_table

        out = args.out or os.path.join("results", "bench-backends")
        print(write_backends_table(out))
        print(f"table in {out}")
    if args.what == "speed":
        from errormc.benchmarks.speed import bench_speed, format_table

        rows = bench_speed(out=args.out, steps=args.steps)
        print(format_table(rows))
        if args.out:
            print(f"table in {os.path.join(args.out, 'speed.md')}")


def cmd_sweep(args):
    from errormc.benchmarks.sweep import expand, load_grid, run_sweep

    grid, options = load_grid(args.grid)
    configs = expand(grid, where=f"grid {args.grid!r}")
    summary = run_sweep(configs, args.out, workers=args.workers, scheduler=args.scheduler,
                        retry_failed=args.retry_failed, progress=not args.quiet,
                        options=options)
    print(f"sweep {args.out}: {len(summary['done'])} finished, {len(summary['failed'])} failed, "
          f"{len(summary['skipped'])} skipped of {summary['total']} in {summary['wall_s']:.1f} s")
    if summary["failed"]:
        print(f"failures recorded in {os.path.join(args.out, 'failed')}; rerun with --retry-failed")


def cmd_report(args):
    from errormc.benchmarks.sweep import report

    rows = report(args.dir)
    print(f"{len(rows)} runs summarised in {os.path.join(args.dir, 'summary.csv')}")


def cmd_energy(args):
    from errormc.benchmarks import energy

    if args.task == "scaling":
        lo, _, hi = args.areas.partition("..")
        try:
            areas = range(int(lo), int(hi or lo) + 1)
        except ValueError:
            raise ValueError(f"areas: {args.areas!r} is not a range like 2..7") from None
        table = energy.scaling(areas=areas, out=args.out, samples=args.samples,
                               seed=args.seed, progress=not args.quiet)
    else:
        table = energy.run(args.task, out=args.out, layers=args.layers, samples=args.samples,
                           seed=args.seed, progress=not args.quiet)
    print(table)
    print(f"results in {args.out}")


def cmd_paper(args):
    import importlib

    module = importlib.import_module(f"errormc.benchmarks.paper.{args.figure}")
    table = module.run(
        out=args.out,
        quick=args.quick,
        seeds=args.seeds,
        protocol=args.protocol,
        workers=args.workers,
        progress=not args.quiet,
    )
    print(table)
    print(f"results in {args.out}")


def build_parser():
    parser = Parser(prog="errormc", description="Cortical error-neuron microcircuits on Nengo.")
    sub = parser.add_subparsers(dest="verb", parser_class=Parser)

    p = sub.add_parser("run", help="train on a task and write a results directory",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("task", nargs="?",
                   help="teacher-student | digits | dms | cartpole (no task and no flags: "
                   "the deployment demo)")
    p.add_argument("--config", help="run config (TOML); flags override its fields")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--model", help="errormc")
    p.add_argument("--network", help="rate | spiking")
    p.add_argument("--backend", help="nengo | loihi")
    p.add_argument("--epochs", type=int)
    p.add_argument("--task-seed", type=int,
                   help="seed of teacher and data (default: --seed; the paper: its first seed)")
    p.add_argument("--protocol", help="clean (default; dms: reference) | reference")
    p.add_argument("--variant", help="cartpole: ideal (default) | tanh")
    p.add_argument("--n-samples", type=int, help="training samples (task default)")
    p.add_argument("--n-test", type=int, help="test samples (digits: default the whole split)")
    p.add_argument("--steps-per-sample", type=int)
    p.add_argument("--settle-steps", type=int)
    p.add_argument("--checkpoint-every", type=int, help="samples between checkpoints (0: none)")
    p.add_argument("--weight-bound", type=float, help="divergence guard on |weights|")
    p.add_argument("--data", help="digits: an MNIST .npz (keras layout) instead of the 8x8 digits")
    p.add_argument("--out", help="results directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_flags(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("replay", help="drive a network with given per-step inputs and targets",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("--stimulus", required=True, help=".npz with inputs[T,n_in], targets, learn")
    p.add_argument("--out", required=True)
    _model_flags(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check-bp", help="compare a settled microcircuit with backprop",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", default=False)
    _model_flags(p)
    p.set_defaults(func=cmd_check_bp)

    p = sub.add_parser("paper", help="reproduce a figure of the paper")
    p.add_argument("figure", choices=["fig2a", "fig2b", "fig3", "fig8"])
    p.add_argument("--quick", action="store_true", help="fewer epochs and seeds")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds")
    p.add_argument("--protocol", default="reference", help="reference | clean")
    p.add_argument("--workers", type=int, default=None, help="parallel workers")
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_paper)

    p = sub.add_parser("energy", help="energy and latency of the emulated Loihi deployment")
    p.add_argument("task", help="digits | teacher-student | scaling")
    p.add_argument("--layers", default=None, help="network shape (task default if absent)")
    p.add_argument("--areas", default="2..7", help="scaling: range of cortical areas")
    p.add_argument("--samples", type=int, default=None, help="training samples (task default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_energy)

    p = sub.add_parser("sweep", help="run a grid of configs on Dask, resumably")
    p.add_argument("grid", help="grid file (TOML; lists are axes)")
    p.add_argument("--out", required=True, help="sweep directory")
    p.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: cores)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--retry-failed", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="summarise a sweep directory")
    p.add_argument("dir")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="speed benchmarks")
    p.add_argument("what", choices=["speed", "backends"])
    p.add_argument("--out", default=None)
    p.add_argument("--steps", type=int, default=20000)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.verb is None:
            args = parser.parse_args(["run"] + list(argv or []))
        args.func(args)
    except (UsageError, ValueError, FileNotFoundError) as e:
        print(f"errormc: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except FloatingPointError as e:
        print(f"errormc: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("errormc: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001
        from errormc.benchmarks.runner import Interrupted

        if not isinstance(e, Interrupted):
            raise
        print(f"errormc: {e}; continue with: errormc run --resume DIR", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
