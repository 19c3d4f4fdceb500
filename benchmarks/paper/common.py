"""What the paper figures share: a grid of run configs through the sweep
machinery, and the files every figure writes.

A figure module is a grid (`configs`) plus a summary (`report`): `run_grid`
executes the grid with `errormc.benchmarks.sweep.run_sweep` (each config
resumably into ``OUT/runs/<hash>``, on Dask workers) and hands back every
finished run's config and metrics; the sweep's report hook calls the module's
``report(runs, out)`` on the same pairs, so ``errormc report OUT`` redraws a
figure from its runs.
"""

import json
import os

from errormc.networks.errors import ConfigError

from .. import sweep


def seed_list(seeds, quick_seeds, quick, paper_seeds):
    """The first ``seeds`` of the paper's list (default: all, or ``quick_seeds``)."""
    n = seeds if seeds is not None else (quick_seeds if quick else len(paper_seeds))
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"seeds: need an integer >= 1, got {n!r}")
    if n > len(paper_seeds):
        return list(paper_seeds) + [1000 + i for i in range(n - len(paper_seeds))]
    return list(paper_seeds[:n])


def run_grid(grid, out, benchmark, workers=None, progress=True):
    """Run ``grid`` into ``out``; return ``[(config dict, metrics)]`` of the
    finished runs in grid order (failed runs are recorded in ``out/failed``)."""
    if out is None:
        raise ConfigError(f"out: {benchmark} needs an output directory (--out DIR)")
    os.makedirs(out, exist_ok=True)
    sweep.run_sweep(grid, out, workers=workers, progress=progress,
                    options={"benchmark": benchmark})
    runs = []
    for config in grid:
        name = sweep.config_hash(config)
        path = os.path.join(out, "runs", name, "metrics.json")
        if os.path.isfile(path):
            with open(path) as f:
                runs.append((dict(config.to_dict(), run=name), json.load(f)))
    return runs


def title(figure, quick, seeds, epochs, protocol, backend):
    """The figure title: which scale, how many seeds and epochs."""
    return (f"{figure} ({'quick' if quick else 'full'}: {seeds} seed{'s' if seeds != 1 else ''}, "
            f"{epochs} epochs, protocol {protocol}, backend {backend})")


def save_figure(fig, path):
    import matplotlib.pyplot as plt

    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
