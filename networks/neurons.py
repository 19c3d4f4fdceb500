"""Neuron types of the rate microcircuit.

`ProspectiveRate` is a somatic compartment with forward-Euler leak dynamics and the
prospective ("look-ahead") voltage of MODEL.md 1.3-1.4; `Identity` passes its input
current through unchanged (the input area).
"""

import numpy as np
import nengo
from nengo.neurons import NeuronType
from nengo.params import BoolParam, NdarrayParam, NumberParam, StringParam

from . import activations


class SomaticRate(NeuronType):
    """A rate unit with a somatic voltage: activation and initial voltage."""

    activation = StringParam("activation", readonly=True)
    initial_voltage = NdarrayParam("initial_voltage", shape=("*",), optional=True)

    def initial_voltages(self, n_neurons):
        """The initial somatic voltage of ``n_neurons`` units (default 0)."""
        if self.initial_voltage is None:
            return np.zeros(n_neurons)
        u0 = np.asarray(self.initial_voltage, dtype=float)
        if u0.shape != (n_neurons,):
            raise ValueError(
                f"initial_voltage: shape {u0.shape} does not match {n_neurons} neurons"
            )
        return u0


class ProspectiveRate(SomaticRate):
    r"""Rate unit with a leaky soma and a prospective voltage.

    The input current :math:`J` is the conductance-weighted dendritic drive
    (e.g. :math:`g_{bas} b + g_{api} a` for representation units). Each step

    .. math::

        \breve u^k &= u^{k-1} + \frac{\tau}{dt}\,(u^k - u^{k-1}),
            \qquad \tau = 1 / g_{tot} \\
        r^k &= \varphi(\breve u^k), \qquad \rho^k = \varphi'(\breve u^k) \\
        u^{k+1} &= u^k + dt\,(J^k - g_{tot}\, u^k)

    Rates are read from the prospective voltage *before* the Euler step, so a unit
    responds to its dendritic input with exactly one step of delay and, since the
    Euler step and the look-ahead share :math:`\tau`,
    :math:`\breve u^{k+1} = J^k / g_{tot}` (MODEL.md 1.4).

    Parameters
    ----------
    activation : str
        Name of :math:`\varphi` (see `errormc.networks.activations`).
    conductance : float
        Total conductance :math:`g_{tot}` (leak plus dendritic couplings), 1/ms.
    prospective : bool
        If False, rates are :math:`\varphi(u^k)` (non-prospective), while the
        derivative and the prospective voltage are computed as above (MODEL.md 1.12).
    initial_voltage : array_like, optional
        Somatic voltage :math:`u^0`; the history buffer starts equal to it.
    """

    # per-neuron signals the builder creates (probeable as e.g. "prospective")
    state = {"voltage": 0.0, "history": 0.0, "prospective": 0.0, "derivative": 0.0}
    spiking = False

    conductance = NumberParam("conductance", low=0, low_open=True, readonly=True)
    prospective = BoolParam("prospective", readonly=True)

    def __init__(
        self, activation="tanh", conductance=0.19, prospective=True, initial_voltage=None
    ):
        super().__init__()
        self.activation = activations.canonical_name(activation)
        self.conductance = conductance
        self.prospective = prospective
        self.initial_voltage = initial_voltage

    def step(self, dt, J, output, **state):
        # Steady state of the soma, u = J / g_tot; used by nengo for ``rates``.
        output[...] = activations.phi(self.activation)(J / self.conductance)


class ResettableRate(ProspectiveRate):
    r"""`ProspectiveRate` whose soma can be reset to zero at chosen steps.

    With the reset input :math:`m^k` (1: reset at step k, 0: not; see `SomaReset`)
    the step reads the voltage :math:`(1 - m^k)\,u^k`:

    .. math::

        \tilde u^k &= (1 - m^k)\, u^k, \qquad
        \breve u^k = h^k + \frac{\tau}{dt}\,(\tilde u^k - h^k) \\
        r^k &= \varphi(\breve u^k) \text{ or } \varphi(\tilde u^k), \qquad
        h^{k+1} = \tilde u^k, \qquad
        u^{k+1} = \tilde u^k + dt\,(J^k - g_{tot}\,\tilde u^k)

    The history :math:`h` (the previous step's voltage) is kept through a reset, as
    the reference's DMS script does (it resets the soma between trials, MODEL.md
    3.4), so the first prospective voltage after a reset is
    :math:`-(\tau/dt - 1)\, h`; with ``reset_history=True`` the history is
    cleared as well and the prospective voltage restarts at 0.

    Parameters
    ----------
    reset_history : bool
        Also clear the history buffer on a reset (:math:`h^k \to 0`).
    (others as `ProspectiveRate`)
    """

    reset_history = BoolParam("reset_history", readonly=True)

    def __init__(self, activation="tanh", conductance=0.19, prospective=True,
                 reset_history=False, initial_voltage=None):
        super().__init__(activation, conductance, prospective, initial_voltage)
        self.reset_history = reset_history


class SomaReset(nengo.Node):
    """The reset input of a population of `ResettableRate` units.

    A one-dimensional passthrough: connect a 0/1 signal into it; at steps where
    it is non-zero the somatic voltages of ``target`` restart from 0.

    Parameters
    ----------
    target : nengo.Ensemble
        A population with a `ResettableRate` neuron type, created in the same
        network before this object (Nengo builds a network's ensembles first).
    """

    def __init__(self, target, label=None):
        if not isinstance(target.neuron_type, ResettableRate):
            raise ValueError(
                f"SomaReset: target {target} has neuron type {target.neuron_type}, "
                "not ResettableRate"
            )
        self.target = target
        super().__init__(size_in=1, label=label or f"{target.label}.reset")


class Identity(NeuronType):
    """Rate equal to the input current, with no delay (the input area, r_0 = x)."""

    state = {}
    spiking = False
    negative = True

    def step(self, dt, J, output):
        output[...] = J
