"""The ``errormc`` command line: parse, call one library function, print.

Verbs: ``run``, ``replay``, ``check-bp``, ``bench``.
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


def _model_flags(p, connectivity="skip"):
    g = p.add_argument_group("model")
    g.add_argument("--layers", default="4-2-1", help="sizes n_0-n_1-...-n_L (default 4-2-1)")
    g.add_argument("--errors", default=None, help="error units per area m_1-...-m_L")
    g.add_argument("--activation", default="tanh", help="one name or one per area: tanh,linear")
    g.add_argument("--error-activation", default="linear")
    g.add_argument("--connectivity", default=connectivity, help="layered | skip")
    g.add_argument("--backward", default="bp", help="bp (transpose + noise) | fa")
    g.add_argument("--eta", default=None, help="forward learning rates per area: 1,0.2,0.05")
    g.add_argument("--eta-lateral", type=float, default=0.0)
    g.add_argument("--no-phi-transfer", dest="phi_transfer", action="store_false")
    g.add_argument("--wt-noise", type=float, default=0.5, help="bp noise sigma")
    g.add_argument("--lateral-noise", type=float, default=0.3)
    g.add_argument("--seed", type=int, default=56789)
    g.add_argument("--init-weights", default=None, help="initial weights (.npz)")
    g.add_argument("--dt", type=float, default=0.01, help="time step (ms)")
    c = p.add_argument_group("conductances (1/ms)")
    for name, value in (("l", 0.03), ("bas", 0.1), ("api", 0.06), ("den", 0.1), ("ntgt", 0.06)):
        c.add_argument(f"--g-{name}", type=float, default=value)


def _config_fields(args, names):
    return {n: getattr(args, n) for n in names if hasattr(args, n)}


MODEL_FIELDS = (
    "layers", "errors", "activation", "error_activation", "connectivity", "backward",
    "eta", "eta_lateral", "phi_transfer", "wt_noise", "lateral_noise", "seed",
    "init_weights", "dt", "g_l", "g_bas", "g_api", "g_den", "g_ntgt",
)


def cmd_run(args):
    from errormc.benchmarks.config import RunConfig
    from errormc.benchmarks.runner import run

    fields = _config_fields(
        args,
        MODEL_FIELDS + ("task", "model", "network", "backend", "epochs", "protocol",
                        "n_samples", "steps_per_sample", "settle_steps"),
    )
    config = RunConfig(**fields)
    out = args.out or os.path.join(
        "results", f"{config.task}-{config.layers}-seed{config.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    metrics = run(config, out=out, progress=not args.quiet)
    print(f"{config.task} {config.model} {config.layers} seed {config.seed}: "
          f"test MSE {metrics['test_mse_initial']:.4g} (untrained) -> "
          f"{metrics['test_mse_final']:.4g} (trained), "
          f"{metrics['steps']} steps in {metrics['wall_s']:.1f} s")
    print(f"results in {out}")


def cmd_replay(args):
    from errormc.benchmarks.config import RunConfig
    from errormc.benchmarks.protocol import replay
    from errormc.networks.weights import save

    if args.init_weights is None:
        raise ValueError("init_weights: replay needs --init-weights W.npz")
    config = RunConfig(**_config_fields(args, MODEL_FIELDS))
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

    conductances = {f"g_{n}": getattr(args, f"g_{n}") for n in ("l", "bas", "api", "den", "ntgt")}
    result = check_bp(
        args.layers,
        seed=args.seed,
        activation=args.activation,
        connectivity=args.connectivity,
        backward=args.backward,
        wt_noise=args.wt_noise,
        lateral_noise=args.lateral_noise,
        dt=args.dt,
        **conductances,
    )
    if args.json:
        keys = ("layers", "connectivity", "backward", "g_api", "angles_deg",
                "rel_delta_error", "max_rel_delta_error")
        print(json.dumps({k: result[k] for k in keys}, indent=2))
        return
    print(f"check-bp {result['layers']} ({result['connectivity']}, {result['backward']}, "
          f"g_api={result['g_api']:g}, seed {args.seed})")
    print("area  angle to backprop (deg)  max rel. error-unit deviation")
    for l, (a, r) in enumerate(zip(result["angles_deg"], result["rel_delta_error"]), start=1):
        print(f"{l:>4}  {a:>23.4f}  {r:>30.2e}")
    print(f"max relative deviation from the backprop recursion: {result['max_rel_delta_error']:.2e}")


def cmd_bench(args):
    if args.what == "speed":
        from errormc.benchmarks.speed import bench_speed, format_table

        rows = bench_speed(out=args.out, steps=args.steps)
        print(format_table(rows))
        if args.out:
            print(f"table in {os.path.join(args.out, 'speed.md')}")


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

    p = sub.add_parser("run", help="train on a task and write a results directory")
    p.add_argument("task", nargs="?", default="teacher-student", help="teacher-student")
    p.add_argument("--model", default="errormc")
    p.add_argument("--network", default="rate", help="rate | spiking")
    p.add_argument("--backend", default="nengo", help="nengo | loihi")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--protocol", default="clean", help="clean | reference")
    p.add_argument("--n-samples", type=int, default=100)
    p.add_argument("--steps-per-sample", type=int, default=20)
    p.add_argument("--settle-steps", type=int, default=None)
    p.add_argument("--out", default=None, help="results directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_flags(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("replay", help="drive a network with given per-step inputs and targets")
    p.add_argument("--stimulus", required=True, help=".npz with inputs[T,n_in], targets, learn")
    p.add_argument("--out", required=True)
    _model_flags(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check-bp", help="compare a settled microcircuit with backprop")
    p.add_argument("--json", action="store_true")
    _model_flags(p, connectivity="layered")
    p.set_defaults(func=cmd_check_bp, wt_noise=0.0, lateral_noise=0.0, seed=0)

    p = sub.add_parser("paper", help="reproduce a figure of the paper")
    p.add_argument("figure", choices=["fig3"])
    p.add_argument("--quick", action="store_true", help="fewer epochs and seeds")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds")
    p.add_argument("--protocol", default="reference", help="reference | clean")
    p.add_argument("--workers", type=int, default=None, help="parallel workers")
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_paper)

    p = sub.add_parser("bench", help="speed benchmarks")
    p.add_argument("what", choices=["speed"])
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
