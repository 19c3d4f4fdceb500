"""Nengo frontend of the error microcircuit: areas, populations, learning rules."""

from . import builder  # registers the builders with nengo
from .activations import ACTIVATIONS
from .compartments import (
    Dendrite,
    DendriteStack,
    DerivativeReadout,
    Gate,
    Nudging,
    Population,
    Projection,
    Stack,
    StateReadout,
    TargetDrive,
)
from .connectivity import PRIMATE_CONNECTIVITY, forward_mask, learning_rate_matrix
from .initialization import initial_state
from .learning_rules import DendriticPrediction, IdentityDecay, TransposeTracking
from .microcircuit import Area, Conductances, ErrorMicrocircuit, parse_layers
from .neurons import DelayedRate, Identity, ProspectiveRate
from .spiking import SpikingErrorMicrocircuit
