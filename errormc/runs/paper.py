"""``errormc paper <figure>``: a figure's grid through the sweep machinery, then
its report (`errormc.benchmarks.paper`)."""

import importlib
import os
import time

from errormc.benchmarks.paper import FIGURES
from errormc.networks.errors import ConfigError

from .sweep import collect, collect_failed, config_hash, resolve, run_sweep


def run_figure(figure, out, quick=False, seeds=None, protocol="reference", workers=None,
               scheduler=None, progress=True, **grid_options):
    """Run ``figure``'s grid into ``out/runs`` and write its report to ``out``.

    Returns the report's text. Runs that finished in an earlier call are kept;
    failed runs are listed in ``out/failed``; a figure that shows them (Fig. 5's
    diverged runs) gets them, the others count them in the header. A
    standalone figure (``STANDALONE``, e.g. fig8) is computed by its ``run``.
    """
    if figure not in FIGURES:
        raise ConfigError(f"figure: {figure!r} is not one of {', '.join(FIGURES)}")
    module = importlib.import_module(f"errormc.benchmarks.paper.{figure}")
    if getattr(module, "STANDALONE", False):
        # a computation without runs (fig8): no grid, no sweep
        for name, value in grid_options.items():
            if value is not None:
                raise ConfigError(f"{name}: {figure} runs no networks; leave it out")
        if protocol not in ("reference", "clean"):
            raise ConfigError(f"protocol: {protocol!r} is not one of reference, clean")
        os.makedirs(out, exist_ok=True)
        return module.run(out, quick=quick, seeds=seeds)
    configs = resolve(module.grid(quick=quick, seeds=seeds, protocol=protocol, **grid_options),
                      where=figure)
    t0 = time.perf_counter()
    summary = run_sweep(configs, out, workers=workers, scheduler=scheduler, progress=progress,
                        options={"benchmark": figure})
    wall = time.perf_counter() - t0
    names = {config_hash(c) for c in configs}
    runs = [(c, m) for c, m in collect(out) if c["run"] in names]
    failed = [(c, r) for c, r in collect_failed(out) if c["run"] in names]
    if not runs:
        raise ConfigError(f"out: no run of {figure} finished; see {os.path.join(out, 'failed')}")
    epochs = sorted({c.epochs for c in configs})
    header = (f"{figure} ({'quick' if quick else 'full scale'}: "
              f"{'/'.join(map(str, epochs))} epochs, {len({c.seed for c in configs})} seeds, "
              f"protocol {protocol}); {len(runs)} of {len(names)} runs, "
              f"{len(summary['failed']) + len(summary['failed_before'])} failed; "
              f"{wall:.0f} s wall")
    return module.report(runs, out, header, failed=failed)
