"""errormc: cortical error-neuron microcircuits as Nengo networks.

Max, Jaras, Granier, Wilmes & Petrovici, "'Backpropagation and the brain' realized
in cortical error neuron microcircuits", PLOS Comp. Biol. 2026.

The package installs as one namespace: ``errormc.networks`` (the model),
``errormc.hardware`` (backends and costs), ``errormc.benchmarks`` (tasks, the
driver, studies, paper figures), ``errormc.runs`` (configs, runs, sweeps) and
``errormc.cli``. A source checkout works through ``pip install -e .``.
"""

__version__ = "0.1.0"

from errormc.networks import ErrorMicrocircuit, SpikingErrorMicrocircuit  # noqa: E402
from errormc.networks.errors import ConfigError  # noqa: E402
