"""The compiled engine: a built Nengo model as one jitted JAX program.

``Simulator(net, dt=0.01)`` (or ``errormc.hardware.Simulator(net, backend="jax")``)
builds the network with nengo's builder and runs its operators, in the reference
simulator's step order, as one pure float64 step function looped over compiled
chunks of steps. It is read like a ``nengo.Simulator``: ``sim.data[probe]``,
``sim.signals[sig]``, ``net.get_weights(sim)``, ``run_steps``, ``run``, ``step``,
``reset``, ``close``.

``BatchSimulator([net_1, ..., net_B], dt=0.01)`` (or ``Simulator([...],
backend="jax")``) runs networks that differ only in their seed (same structure;
own weights, voltages and inputs) as one ``vmap``-ed program, with a leading
member axis::

    with BatchSimulator(models, dt=0.01) as sim:
        sim.run_steps(20000)
        out_b = sim.data[probe_of_member_b]            # any member's probe
        w_b = net_b.get_weights(sim.members[b])        # a member as a simulator

A network whose structure differs is refused, naming the member. Compiled chunks
are shared by every simulator of one structure (and batch size), so seeds after
the first compile nothing.

Every operator type needs an implementation (`.nengo_ops`, `.errormc_ops`): a
function ``lower(op, ctx) -> step`` registered with `implements` (processes:
`implements_process`, neuron types: `implements_neurons`); see `.registry`. A
network using an operator without one is refused at build time, naming it.
Python code without input from the network (Node functions of time, input
processes) runs on the host ahead of each chunk (`.host`).
"""

import os

# XLA's CPU "thunk" runtime (jaxlib's default since 0.4.32) dispatches each fused
# kernel of a program separately; a step of these networks is ~100 small kernels,
# and the classic runtime, which compiles the whole loop into one function, runs
# them 1.1x (a batch of ten 32-16-8-4-2-1 skip networks) to 3.5x (one 8-4-2-1)
# faster (`errormc bench speed`; jax issue 25190 reports the same for while loops).
# XLA reads the flag once, when jax first starts a backend: set before any use;
# a user's own setting wins. The one place this is set.
_RUNTIME_FLAG = "--xla_cpu_use_thunk_runtime"
if _RUNTIME_FLAG not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_RUNTIME_FLAG}=false".strip()

import jax  # noqa: E402

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
