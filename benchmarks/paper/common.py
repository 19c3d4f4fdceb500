"""What the paper figures share: seed lists, titles and the files every figure
writes.

A figure module is a grid (`grid`: run config dicts) plus a summary (`report`):
``errormc paper`` (`errormc.runs.paper.run_figure`) runs the grid through the
sweep machinery (each config resumably into ``OUT/runs/<hash>``) and calls the
module's ``report(runs, out, header)`` on the finished runs; so does
``errormc report OUT``.
"""

import csv
import os

import matplotlib.pyplot as plt

from errormc.networks.errors import ConfigError


def seed_list(seeds, quick_seeds, quick, paper_seeds):
    """The first ``seeds`` of the paper's list (default: all, or ``quick_seeds``)."""
    n = seeds if seeds is not None else (quick_seeds if quick else len(paper_seeds))
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"seeds: need an integer >= 1, got {n!r}")
    if n > len(paper_seeds):
        return list(paper_seeds) + [1000 + i for i in range(n - len(paper_seeds))]
    return list(paper_seeds[:n])


def title(figure, quick, seeds, epochs, protocol, backend):
    """The figure title: which scale, how many seeds and epochs."""
    return (f"{figure} ({'quick' if quick else 'full'}: {seeds} seed{'s' if seeds != 1 else ''}, "
            f"{epochs} epochs, protocol {protocol}, backend {backend})")


def save_figure(fig, path):
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_csv(rows, path, columns):
    """``rows`` (dicts) as CSV with ``columns``, atomically; missing values empty."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    os.replace(tmp, path)
    return path


def run_row(config, metrics, **cells):
    """One CSV row of a finished run: its grid ``cells``, seed and test MSEs."""
    return dict(cells, seed=int(config["seed"]), test_mse=metrics["test_mse_final"],
                test_mse_initial=metrics["test_mse_initial"], wall_s=metrics.get("wall_s"))


def over_seeds(rows, fields, statistics):
    """``{key: statistics(test MSEs)}``, key = the row's ``fields`` (a cell of
    the figure; its rows are the seeds), in key order."""
    cells = {}
    for r in rows:
        cells.setdefault(tuple(r[f] for f in fields), []).append(r["test_mse"])
    return {k: statistics(v) for k, v in sorted(cells.items())}


def markdown_table(corner, columns, lines):
    """A markdown table: the header ``corner | columns...``, then a line
    ``label | cells...`` per ``(label, cells)`` of ``lines``."""
    out = [f"| {corner} | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    out += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in lines]
    return "\n".join(out)


def write_report(figure, rows, out, heading, columns, plot, table):
    """Write ``<figure>.csv`` (``rows``), ``<figure>.png`` (``plot(rows, path,
    heading)``) and ``<figure>.md`` (``heading`` over ``table``); return the text."""
    write_csv(rows, os.path.join(out, f"{figure}.csv"), columns)
    plot(rows, os.path.join(out, f"{figure}.png"), heading)
    text = heading + "\n\n" + table + "\n"
    write_text(os.path.join(out, f"{figure}.md"), text)
    return text


def figure_report(figure, rows_from_runs, columns, plot, format_table, name=None, subject="",
                  caption="", rows_from_failed=None):
    """The ``report(runs, out, heading=None, failed=())`` of a figure module: for
    finished runs ((config, metrics) pairs), `write_report` with the rows
    ``rows_from_runs(runs)`` and the table ``caption + format_table(rows)``;
    returns the text. The heading is ``heading`` (default ``"<name> from <n>
    runs"``, name: ``figure``) followed by ``subject``.

    ``failed`` ((config, error record) pairs, `errormc.runs.sweep.collect_failed`)
    become rows too where the figure shows them (``rows_from_failed``, e.g.
    Fig. 5's diverged runs); otherwise only the heading counts them."""

    def report(runs, out, heading=None, failed=()):
        rows = rows_from_runs(runs)
        if rows_from_failed is not None:
            rows += rows_from_failed(failed)
        if heading is None:
            heading = f"{name or figure} from {len(runs)} runs"
        return write_report(figure, rows, out, heading + subject, columns, plot,
                            caption + format_table(rows))

    report.__doc__ = (f"Write {figure}.csv, {figure}.png and {figure}.md for finished runs; "
                      "return the text.")
    return report


def write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
