"""The comparison models of the paper's Fig. 3 (MODEL.md section 2), each a
`nengo.Network` with the interface of `.ErrorMicrocircuit`.

* `DendriticMicrocircuit` ("sacramento2018"): Sacramento et al. 2018;
* `DendriticPredictiveCoding` ("dpc"): dendritic hierarchical predictive coding;
* `ANN` ("ann"): the layered rate network trained with exact backprop.
"""

from . import common  # registers builders
from .ann import ANN
from errormc.networks.compartments import StateReadout, TargetDrive
from errormc.networks.neurons import DelayedRate

from .common import ApicalSilencing
from .dendritic_pc import DendriticPredictiveCoding
from .learning_rates import FIG3_ETA, paper_eta
from .sacramento2018 import DendriticMicrocircuit

__all__ = [
    "ANN",
    "ApicalSilencing",
    "DelayedRate",
    "DendriticMicrocircuit",
    "DendriticPredictiveCoding",
    "FIG3_ETA",
    "StateReadout",
    "TargetDrive",
    "paper_eta",
]
