"""One entry per figure of the paper: ``errormc paper <figure>`` calls
``errormc.benchmarks.paper.<figure>.run(out=, quick=, seeds=, protocol=, workers=,
progress=)`` and prints what it returns."""
