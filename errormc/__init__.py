"""errormc: cortical error-neuron microcircuits as Nengo networks.

Max, Jaras, Granier, Wilmes & Petrovici, "'Backpropagation and the brain' realized
in cortical error neuron microcircuits", PLOS Comp. Biol. 2026.
"""

__version__ = "0.1.0"

from errormc.networks import ErrorMicrocircuit  # noqa: E402
