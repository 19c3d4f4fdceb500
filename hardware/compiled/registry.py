"""Which JAX function implements which Nengo operator.

An implementation is a small function ``lower(op, ctx) -> step`` registered with
`implements`; ``step(s)`` is traced once per simulator step, in Nengo's step
order, on a `Frame` ``s`` holding the values of every signal:

* ``s[sig]`` reads a signal (views are resolved against their base),
* ``s[sig] = value`` sets it, ``s.inc(sig, value)`` adds to it,
* ``s[key]`` with a key from ``ctx.const(array)`` reads a constant array.

Array parameters of an operator (noise, identity targets) go through
``ctx.const`` so that networks that differ only in their seed share one program
(`errormc.hardware.compiled.BatchSimulator` gives each member its own values);
Python scalars may be used directly: they are part of the program. A ``step`` of
``None`` means the operator does nothing at run time.

Processes (`nengo.builder.processes.SimProcess`) and neuron types
(`nengo.builder.neurons.SimNeurons`) dispatch once more, on the exact type of
the process or neuron type (`implements_process`, `implements_neurons`); a
subclass is never run as its parent, since it may step differently.
"""

from nengo.exceptions import BuildError

#: operator type -> lower(op, ctx)
OPERATORS = {}
#: process type -> lower(op, ctx) returning ``f(s, x) -> y`` (x None without input)
PROCESSES = {}
#: neuron type -> lower(op, ctx) returning a step like an operator's
NEURONS = {}


def _register(table, types):
    def register(fn):
        for t in types:
            table[t] = fn
        return fn

    return register


def implements(*op_types):
    """Register ``lower(op, ctx) -> step`` for the operator types ``op_types``."""
    return _register(OPERATORS, op_types)


def implements_process(*process_types):
    """Register ``lower(op, ctx) -> f(s, x)`` for ``SimProcess`` of these process types."""
    return _register(PROCESSES, process_types)


def implements_neurons(*neuron_types):
    """Register ``lower(op, ctx) -> step`` for ``SimNeurons`` of these neuron types."""
    return _register(NEURONS, neuron_types)


def describe(op):
    """``OperatorType`` or ``OperatorType(ProcessOrNeuronType)``: what needs an implementation."""
    inner = getattr(op, "process", None) or getattr(op, "neurons", None)
    if inner is not None and not isinstance(inner, (list, tuple)):
        name = getattr(type(inner), "__name__", "")
        if name and type(op).__name__ in ("SimProcess", "SimNeurons"):
            return f"{type(op).__name__}({name})"
    return type(op).__name__


def lookup(op):
    """The implementation of ``op``, or None if it has none."""
    return OPERATORS.get(type(op))


class Unsupported(BuildError):
    """An operator (or its process or neuron type) the compiled engine cannot run."""

    def __init__(self, message, op):
        super().__init__(f"jax backend: {describe(op)} {message} ({op})")
        self.what = describe(op)


def unsupported(message, op):
    """The error an implementation raises for an operator it cannot run."""
    return Unsupported(message, op)
