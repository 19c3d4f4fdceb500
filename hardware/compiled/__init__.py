"""The compiled engine: a built Nengo model as one jitted JAX program.

``Simulator(net)`` runs the network's operators (nengo's builder, the reference
simulator's step order) as one pure step function scanned over chunks of steps,
in float64; ``BatchSimulator([net_1, ..., net_B])`` runs networks that differ
only in their seed as one ``vmap``-ed program. Every operator type needs an
implementation in `.registry` (`.nengo_ops`, `.errormc_ops`); a network using
one without is refused at build time, naming it.
"""

import jax

# float64 everywhere, as the reference simulator; the one place this is set
jax.config.update("jax_enable_x64", True)

from . import errormc_ops, nengo_ops  # noqa: E402  register the implementations
from .registry import implements, implements_neurons, implements_process  # noqa: E402
from .simulator import BatchSimulator, Simulator  # noqa: E402

__all__ = [
    "BatchSimulator",
    "Simulator",
    "errormc_ops",
    "implements",
    "implements_neurons",
    "implements_process",
    "nengo_ops",
]
