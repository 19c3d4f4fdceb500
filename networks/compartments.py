"""Frontend objects of the rate microcircuits: populations, compartments, projections.

One model unit is one Nengo neuron, with gain 1, bias 0 and no encoders, so the
objects here are lighter than `nengo.Ensemble`: their builders (`.builder`) create
the signals of the model's equations and nothing else.

* `Population`: ``n`` units of one neuron type whose somatic input current is the
  conductance-weighted sum of its compartments, :math:`J = \\sum_k g_k x_k`
  (without compartments, the sum of what projects into ``population.neurons``);
  an optional ``reset`` switch restarts its somas from 0 (the DMS trials).
* `Dendrite`: a dendritic compartment, the sum of the projections into it.
* `Gate`: the elementwise product of two compartments, ``d = x * y`` (the phi'
  transfer of hidden error units, MODEL.md 1.6: ``d = (P rho) * (B eps)``).
* `Nudging`: the output error drive ``n = m rho * (t - r)`` with the nudging switch
  ``m`` (1: target present, 0: none, MODEL.md 1.3), a population so that a
  learned connection can start from it.
* `TargetDrive`: the somatic drive of an output pyramidal cell with a voltage
  target (Sacramento et al. 2018, dPC; MODEL.md 2.1).
* `StateReadout` / `Stack`: state signals of populations (rates, ``"derivative"``,
  ``"prospective"``, ...) as the output of one population, without copying where
  the stack is built first: several areas' units as one presynaptic vector.
* `DendriteStack`: several compartments as one postsynaptic vector.
* `Projection`: a connection built as one matrix product into its post object
  (one ``DotInc``), the weights of one model matrix; `ProjectionBlock` names one
  block of it (rows, columns, and the block of its learning rule's delta).

A model matrix spanning several areas (the skip-connectivity W and B, MODEL.md
1.9) is one `Projection` from a `Stack` into a `DendriteStack`.
"""

import nengo
import numpy as np
from nengo.connection import LearningRule
from nengo.params import BoolParam, Parameter


def _unit_ensemble_kwargs(n):
    # the Ensemble parameters a unit population never uses
    return dict(gain=np.ones(n), bias=np.zeros(n), encoders=np.ones((n, 1)))


class Population(nengo.Ensemble):
    """``n_neurons`` model units of ``neuron_type``, one Nengo neuron each.

    Parameters
    ----------
    n_neurons : int
    neuron_type : nengo.neurons.NeuronType
        A rate type of `.neurons` (or of the baselines) with a registered builder.
    inputs : sequence of (object, float), optional
        Compartments and their conductances, ``J = sum_k g_k x_k``; an object is a
        `Dendrite`, `Gate`, `TargetDrive`, `Nudging` or `StateReadout`. Without
        inputs, ``J`` is the sum of the projections into ``self.neurons``.
    reset : nengo.Node or ObjView, optional
        A one-dimensional switch ``m`` (`.ProspectiveRate` units only): at a step
        where ``m = 1`` the somas restart from 0, ``u -> (1 - m) u`` before the
        step (the per-trial reset of the DMS task, MODEL.md 3.4). It must be built
        before the population (a node of an enclosing network).
    reset_history : bool
        With ``reset``: the somas' history buffer is cleared too, so the
        prospective voltage restarts at 0 (otherwise it jumps to
        ``-(tau/dt - 1) u_hist``, as in the reference's DMS script).
    label : str, optional
    """

    inputs = Parameter("inputs", readonly=True)
    reset = Parameter("reset", optional=True, readonly=True)
    reset_history = BoolParam("reset_history", readonly=True)

    def __init__(self, n_neurons, neuron_type, inputs=(), reset=None, reset_history=False,
                 label=None):
        super().__init__(
            n_neurons, 1, neuron_type=neuron_type, label=label, **_unit_ensemble_kwargs(n_neurons)
        )
        self.inputs = tuple((obj, float(g)) for obj, g in inputs)
        self.reset = reset
        self.reset_history = reset_history


class Compartment(nengo.Node):
    """A compartment of ``size`` units: its output is read by somas and learning
    rules. Subclasses say how its value is computed."""

    def __init__(self, size, label=None):
        super().__init__(size_in=size, label=label)


class Dendrite(Compartment):
    """A dendritic compartment: ``x = sum of the projections into it``."""


class Gate(Compartment):
    """``d = x * y``, the elementwise product of two compartments of one size.

    Nothing connects into a gate; ``x`` and ``y`` are `Dendrite`s or
    `StateReadout`s.
    """

    x = Parameter("x", readonly=True)
    y = Parameter("y", readonly=True)

    def __init__(self, x, y, label=None):
        self.x, self.y = x, y
        size = x.n_neurons if isinstance(x, nengo.Ensemble) else x.size_out
        super().__init__(size, label=label)


class TargetDrive(Compartment):
    r"""Somatic drive of an output pyramidal population with a voltage target.

    .. math:: J = m\,(g_{bas} b + g_{ntgt} t) + (1 - m)\, g_f b

    with :math:`g_f = g_O\, g_{bas}/(g_l + g_{bas})`, :math:`g_O = g_l + g_{bas} +
    g_{ntgt}`: a soma of total conductance :math:`g_O` is nudged towards the target
    when ``m = 1`` and relaxes to the attenuated basal potential when ``m = 0``
    (MODEL.md 2.1).

    Parameters
    ----------
    basal : Dendrite
    target, nudging : nengo.Node or ObjView
        The target ``t`` and the switch ``m`` (one dimension).
    g_bas, g_ntgt, free_gain : float
    """

    basal = Parameter("basal", readonly=True)
    target = Parameter("target", readonly=True)
    nudging = Parameter("nudging", readonly=True)

    def __init__(self, basal, target, nudging, g_bas, g_ntgt, free_gain, label=None):
        self.basal, self.target, self.nudging = basal, target, nudging
        self.g_bas, self.g_ntgt, self.free_gain = float(g_bas), float(g_ntgt), float(free_gain)
        super().__init__(basal.size_out, label=label)


class DendriteStack(nengo.Node):
    """Compartments ``[x_1; x_2; ...]`` as one post object (e.g. the basal dendrites
    of every area, into which one forward matrix projects)."""

    members = Parameter("members", readonly=True)

    def __init__(self, members, label=None):
        self.members = tuple(members)
        super().__init__(size_in=sum(m.size_in for m in self.members), label=label)

    def offsets(self):
        """Start of each member in the stacked vector (and the total size last)."""
        return np.concatenate([[0], np.cumsum([m.size_in for m in self.members])]).astype(int)


class Stack(nengo.Ensemble):
    """The signal ``state`` of several populations' neurons as one population output.

    ``stack.neurons`` outputs ``[s_1; s_2; ...]``; nothing is computed twice and
    nothing may connect into it.

    Parameters
    ----------
    members : sequence of nengo.Ensemble
        Populations whose neuron types create ``state`` (``"out"`` is the rates).
    state : str
    """

    members = Parameter("members", readonly=True)
    state = Parameter("state", readonly=True)

    def __init__(self, members, state="out", label=None):
        self.members = tuple(members)
        self.state = state
        n = sum(m.n_neurons for m in self.members)
        super().__init__(n, 1, label=label, **_unit_ensemble_kwargs(n))

    def offsets(self):
        """Start of each member in the stacked vector (and the total size last)."""
        return np.concatenate([[0], np.cumsum([m.n_neurons for m in self.members])]).astype(int)


class StateReadout(Stack):
    """A state signal (``"derivative"``, ``"prospective"``, ...) of ``source``'s
    neurons as the output of a population, one neuron per unit."""

    def __init__(self, source, state, label=None):
        self.source = source
        super().__init__([source], state, label=label or f"{source.label}.{state}")


class DerivativeReadout(StateReadout):
    """The nominal rate derivative rho = phi'(u_breve) of ``source``'s units."""

    def __init__(self, source, label=None):
        super().__init__(source, "derivative", label=label)


class Nudging(nengo.Ensemble):
    """Target drive of the output error units, ``n = m * rho * (t - r)``.

    ``rho`` and ``r`` are the derivative and the rates of ``representation``,
    ``t`` the target and ``m`` the nudging switch; ``nudging.neurons`` outputs ``n``.
    """

    representation = Parameter("representation", readonly=True)
    target = Parameter("target", readonly=True)
    nudging = Parameter("nudging", readonly=True)

    def __init__(self, representation, target, nudging, label=None):
        self.representation, self.target, self.nudging = representation, target, nudging
        n = representation.n_neurons
        super().__init__(n, 1, label=label, **_unit_ensemble_kwargs(n))


class Projection(nengo.Connection):
    """A connection built as one product into its post object, without synapse
    machinery: ``post += W pre`` (matrix), ``post += w * pre`` (scalar or vector
    transform) or ``post += pre`` (``transform=None``). A ``synapse`` (default none)
    filters the presynaptic signal first."""

    _blocks = None  # ProjectionBlocks made by `block`

    def __init__(self, pre, post, transform=None, synapse=None, **kwargs):
        super().__init__(pre, post, transform=transform, synapse=synapse, **kwargs)
        self._blocks = []

    def block(self, rows, cols):
        """The block ``W[rows, cols]`` of this projection's matrix (a `ProjectionBlock`)."""
        block = ProjectionBlock(self, rows, cols)
        self._blocks.append(block)
        return block


class BlockRule(LearningRule):
    """The block ``[rows, cols]`` of a projection's learning rule, a probe target
    (``"delta"``, ``"plasticity"``)."""

    def __init__(self, rule, rows, cols):
        super().__init__(rule.connection, rule.learning_rule_type)
        self.rule, self.rows, self.cols = rule, rows, cols

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)


class ProjectionBlock:
    """Block ``[rows, cols]`` of a `Projection`'s matrix (e.g. one area's block of
    the skip-connectivity W). ``learning_rule`` probes the block of the rule's
    ``"delta"``; it is None if the projection does not learn."""

    def __init__(self, projection, rows, cols):
        self.projection, self.rows, self.cols = projection, rows, cols
        rule = projection.learning_rule
        self.learning_rule = None if rule is None else BlockRule(rule, rows, cols)
