"""The paper's figures, one module each: a grid of runs and a report over them
(``grid(quick=, seeds=, protocol=, ...)`` -> config dicts; ``report(runs, out,
header)`` -> ``<fig>.csv``, ``<fig>.png``, ``<fig>.md``). ``errormc paper <fig>``
runs the grid through the sweep machinery and calls the report. A figure without
runs (``STANDALONE = True``, fig8) has ``run(out, quick=, seeds=)`` instead."""

#: the figures ``errormc paper`` knows
FIGURES = ("fig2a", "fig2b", "fig3", "fig4", "fig5", "fig8")
