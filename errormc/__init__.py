"""errormc: cortical error-neuron microcircuits as Nengo networks.

Max, Jaras, Granier, Wilmes & Petrovici, "'Backpropagation and the brain' realized
in cortical error neuron microcircuits", PLOS Comp. Biol. 2026.
"""

import os as _os

__version__ = "0.1.0"

# Installed, ``networks/``, ``hardware/`` and ``benchmarks/`` sit inside this
# package. In a source checkout they sit beside it, and a Python started in the
# repository root (``python -m pytest``, ``python -m errormc.cli``) finds this
# folder before the installed package: let it find the wings there too.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_checkout, "networks", "microcircuit.py")):
    __path__.append(_checkout)  # noqa: F821 - a package's own __path__

from errormc.networks import ErrorMicrocircuit, SpikingErrorMicrocircuit  # noqa: E402
