"""The paper's figures, one module each: a grid of runs and a report over them
(``grid(quick=, seeds=, protocol=, ...)`` -> config dicts; ``report(runs, out,
header)`` -> ``<fig>.csv``, ``<fig>.png``, ``<fig>.md``). ``errormc paper <fig>``
runs the grid through the sweep machinery and calls the report."""

#: the figures ``errormc paper`` knows
FIGURES = ("fig3", "fig4", "fig5")
