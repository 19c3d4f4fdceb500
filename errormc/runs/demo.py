"""``errormc run`` alone: the deployment demo.

The spiking error microcircuit learns the bundled 8x8 digits on the Nengo
reference simulator and on the nengo-loihi emulator: the same config on both
backends, one run directory each under ``out``, and side by side
``deployment.md`` (accuracy before and after learning, wall time, and whether the
run learned), ``deployment.json`` and ``deployment.png``.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from .config import BACKENDS
from .results import RunDirectory, check_out
from .runner import run

#: digits subset sized to finish within ~5 minutes on 2 cores
DEMO = dict(task="digits", network="spiking", n_samples=100, n_test=100, epochs=1)


def learned(metrics):
    """Whether training raised the test accuracy above the untrained network's."""
    return metrics["test_accuracy"] > metrics["test_accuracy_initial"]


def deployment_demo(out, progress=True):
    """Run the demo into ``out``; return the table as text."""
    check_out(out, run=False)
    rows = []
    for backend in BACKENDS["spiking"]:
        metrics = run(dict(DEMO, backend=backend), out=os.path.join(out, backend),
                      progress=progress)
        rows.append((backend, metrics))
    lines = [
        f"digits, spiking errormc {rows[0][1].get('layers', '64-10')}, "
        f"{DEMO['n_samples']} training and {DEMO['n_test']} test images, "
        f"{DEMO['epochs']} epoch",
        "",
        "| backend | test accuracy untrained | trained | learned | wall s |",
        "|---|---|---|---|---|",
    ]
    for backend, m in rows:
        verdict = "yes" if learned(m) else "no: not better than untrained at this budget"
        lines.append(f"| {backend} | {m['test_accuracy_initial']:.1%} | {m['test_accuracy']:.1%} "
                     f"| {verdict} | {m['wall_s']:.1f} |")
    table = "\n".join(lines)
    directory = RunDirectory(out)
    directory.write_json("deployment.json", dict(rows))
    directory.write_figure("deployment.png", _figure(rows))
    with open(directory.file("deployment.md"), "w") as f:
        f.write(table + "\n")
    return table


def _figure(rows):
    """Accuracy before and after learning, per backend, against chance."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    x = np.arange(len(rows))
    before = [m["test_accuracy_initial"] for _, m in rows]
    after = [m["test_accuracy"] for _, m in rows]
    ax.bar(x - 0.2, before, 0.4, color="0.7", label="untrained")
    ax.bar(x + 0.2, after, 0.4, color="C3", label="trained")
    ax.axhline(0.1, color="k", lw=0.8, ls=":", label="chance")
    ax.set_xticks(x, [b for b, _ in rows])
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"spiking errormc on digits, {DEMO['n_samples']} training images")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
