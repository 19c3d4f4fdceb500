"""``errormc paper <figure>``: a figure's grid through the sweep machinery, then
its report (`errormc.benchmarks.paper`)."""

import importlib
import os
import time

from errormc.benchmarks.paper import FIGURES
from errormc.networks.errors import ConfigError

from .sweep import collect, config_hash, resolve, run_sweep


def run_figure(figure, out, quick=False, seeds=None, protocol="reference", workers=None,
               scheduler=None, progress=True, **grid_options):
    """Run ``figure``'s grid into ``out/runs`` and write its report to ``out``.

    Returns the report's text. Runs that finished in an earlier call are kept;
    failed runs are listed in ``out/failed`` and left out of the report.
    """
    if figure not in FIGURES:
        raise ConfigError(f"figure: {figure!r} is not one of {', '.join(FIGURES)}")
    module = importlib.import_module(f"errormc.benchmarks.paper.{figure}")
    configs = resolve(module.grid(quick=quick, seeds=seeds, protocol=protocol, **grid_options),
                      where=figure)
    t0 = time.perf_counter()
    summary = run_sweep(configs, out, workers=workers, scheduler=scheduler, progress=progress,
                        options={"benchmark": figure})
    wall = time.perf_counter() - t0
    names = {config_hash(c) for c in configs}
    runs = [(c, m) for c, m in collect(out) if c["run"] in names]
    if not runs:
        raise ConfigError(f"out: no run of {figure} finished; see {os.path.join(out, 'failed')}")
    epochs = sorted({c.epochs for c in configs})
    header = (f"{figure} ({'quick' if quick else 'full scale'}: "
              f"{'/'.join(map(str, epochs))} epochs, {len({c.seed for c in configs})} seeds, "
              f"protocol {protocol}); {len(runs)} of {len(names)} runs, "
              f"{len(summary['failed']) + len(summary['failed_before'])} failed; "
              f"{wall:.0f} s wall")
    return module.report(runs, out, header)
