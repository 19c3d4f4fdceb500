"""Where a network runs (Nengo reference simulator, Loihi emulator) and what it costs."""

from .backends import BACKENDS, Simulator
