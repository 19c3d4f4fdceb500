"""Local learning rules of the error microcircuit, as Nengo learning rule types.

Each rule's update of a step is multiplied by a one-dimensional *plasticity* switch
``m`` (1 plastic, 0 frozen): the rule reads it from the Node (or Node slice) given
as ``plasticity``, or, without one, from what is connected into
``conn.learning_rule`` (nothing connected means frozen, as for `nengo.PES` without
an error). Updates computed in step k are added to the weights at the start of step k+1,
before they are read, exactly as MODEL.md 1.7 applies them at the end of step k.

The rules modify ``"decoders"``, which in Nengo is the weight matrix of a
connection from neurons to a non-neural object (here a dendrite node).
"""

import numpy as np
from nengo.learning_rules import LearningRuleType
from nengo.params import Default, NdarrayParam, NumberParam, Parameter


class SwitchedRule(LearningRuleType):
    """A rule of this module: its update is multiplied by the plasticity switch.

    Parameters
    ----------
    learning_rate : float
    plasticity : nengo.Node or ObjView, optional
        One-dimensional switch ``m`` read directly (no connection into the rule).
    """

    modifies = "decoders"
    probeable = ("delta", "plasticity")

    plasticity = Parameter("plasticity", readonly=True, optional=True)

    def __init__(self, learning_rate, plasticity=None):
        super().__init__(learning_rate, size_in=1 if plasticity is None else 0)
        self.plasticity = plasticity


class DendriticPrediction(SwitchedRule):
    r"""Forward plasticity driven by the dendritic prediction error (MODEL.md 1.8).

    For a connection from presynaptic rates :math:`r_{pre}` into the basal dendrite
    :math:`b` of a population with prospective voltage :math:`\breve u`,

    .. math::

        \Delta W^k = dt\,\eta\,m^k\,
            (\breve u^k - c\, b^{k-1})\,(r_{pre}^{k-1})^T

    where :math:`c = g_{bas}/(g_l + g_{bas} + g_{api})` attenuates the basal input
    to the soma and :math:`m^k` is the plasticity input. Since
    :math:`\breve u^k = c\, b^{k-1} + g_{api}\tau\, a^{k-1}`, the update is the
    apical (error) potential times the presynaptic rate: local in space and time.

    Parameters
    ----------
    learning_rate : float
        :math:`\eta`, per ms.
    attenuation : float
        :math:`c`, the somatic attenuation of the basal potential.
    soma : nengo.Ensemble
        Population whose prospective voltage is the postsynaptic term; its basal
        dendrite is the connection's ``post``.
    activation : str, optional
        If given, the postsynaptic term compares rates instead of voltages,
        :math:`\varphi(\breve u^k) - \varphi(c\, b^{k-1})` (the "activation"
        variant of Urbanczik & Senn used by Sacramento et al. 2018, MODEL.md 2.1).
    blocks : sequence of (slice, slice, float), optional
        For a matrix spanning several areas (skip connectivity): the blocks
        ``(rows, columns, eta)`` that learn, each with its own rate; the other
        entries are fixed. Default: the whole matrix with ``learning_rate``.
    """

    learning_rate = NumberParam("learning_rate", low=0, readonly=True, default=1.0)
    attenuation = NumberParam("attenuation", low=0, readonly=True, default=0.5263)
    soma = Parameter("soma", readonly=True)
    activation = Parameter("activation", readonly=True, optional=True)
    blocks = Parameter("blocks", readonly=True, optional=True)

    def __init__(
        self,
        learning_rate=Default,
        attenuation=Default,
        soma=None,
        activation=None,
        blocks=None,
        plasticity=None,
    ):
        super().__init__(learning_rate, plasticity)
        self.attenuation = attenuation
        self.soma = soma
        self.activation = activation
        self.blocks = None if blocks is None else tuple(blocks)


class TransposeTracking(SwitchedRule):
    r"""Backward weights that follow the transpose of a forward connection (``bp``).

    .. math::

        B^{k+1} = (I_{m_{post} \times n_{post}} W^k I_{n_{pre} \times m_{pre}})^T + N
        \quad\text{at plastic steps}

    with :math:`W^k` the forward weights *before* their update of step k, so B lags W
    by one update, and :math:`N` fixed noise (MODEL.md 1.9). Not local: a synapse
    cannot read the weight of another synapse. It is the idealised ``bp`` mode.

    Parameters
    ----------
    forward : nengo.Connection
        The forward connection whose (transposed) weights are tracked.
    noise : ndarray
        Fixed additive noise :math:`N`, shaped like the backward weights.
    scale : float
        The weights follow ``scale`` times the noisy transpose (default 1; -1
        locks Sacramento et al.'s interneuron-to-apical weights to -B, MODEL.md 2.1).
    blocks : sequence of (slice, slice, slice, slice), optional
        For matrices spanning several areas (skip connectivity): the tracked
        blocks ``(rows, columns)`` of the backward weights, each with the block
        ``(rows, columns)`` of the forward weights it follows; the other entries
        are fixed. Default: the whole matrix.
    """

    forward = Parameter("forward", readonly=True)
    noise = NdarrayParam("noise", shape=("...",), readonly=True)
    scale = NumberParam("scale", readonly=True, default=1.0)
    blocks = Parameter("blocks", readonly=True, optional=True)

    def __init__(self, forward, noise, scale=1.0, blocks=None, plasticity=None):
        super().__init__(1.0, plasticity)
        self.forward = forward
        self.noise = np.asarray(noise, dtype=float)
        self.scale = scale
        self.blocks = None if blocks is None else tuple(blocks)


class IdentityDecay(SwitchedRule):
    r"""Lateral weights decaying towards a scaled rectangular identity (MODEL.md 1.10).

    .. math:: \Delta P^k = -dt\,\eta\,m^k\,(P^k - s\,I)

    Parameters
    ----------
    learning_rate : float
        :math:`\eta`, per ms.
    scale : float
        :math:`s`, the value the diagonal decays to.
    """

    learning_rate = NumberParam("learning_rate", low=0, readonly=True, default=0.0)
    scale = NumberParam("scale", readonly=True, default=1.0)

    def __init__(self, learning_rate=Default, scale=Default, plasticity=None):
        super().__init__(learning_rate, plasticity)
        self.scale = scale
