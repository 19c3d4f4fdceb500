"""Neuron types of the rate microcircuits.

`ProspectiveRate` is a somatic compartment with forward-Euler leak dynamics and the
prospective ("look-ahead") voltage of MODEL.md 1.3-1.4; `DelayedRate` is the ANN
unit whose voltage is replaced every step (MODEL.md 2.3); `Identity` passes its
input current through unchanged (the input area). Their builders are in `.builder`.
"""

import numpy as np
from nengo.neurons import NeuronType
from nengo.params import BoolParam, NdarrayParam, NumberParam, StringParam

from . import activations


class SomaticRate(NeuronType):
    """A rate unit with a somatic voltage: activation and initial voltage."""

    activation = StringParam("activation", readonly=True)
    initial_voltage = NdarrayParam("initial_voltage", shape=("*",), optional=True)
    slope = NdarrayParam("slope", default=None, shape=("*",), optional=True, readonly=True)
    offset = NdarrayParam("offset", default=None, shape=("*",), optional=True, readonly=True)

    def rate_function(self):
        """phi with this population's per-neuron slopes and offsets, if any."""
        return activations.phi(self.activation, self.slope, self.offset)

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

    def initial_state(self, n_neurons):
        """Initial values of the per-neuron signals the builder creates."""
        u0 = self.initial_voltages(n_neurons)
        return {
            "voltage": u0,
            "history": u0,
            "prospective": u0,
            "derivative": activations.dphi(self.activation)(u0),
        }


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
    slope, offset : array_like, optional
        Per-neuron slope and offset of :math:`\varphi` (MODEL.md 1.5, Fig. 5);
        the derivative stays nominal.
    """

    # per-neuron signals the builder creates (probeable as e.g. "prospective")
    state = {"voltage": 0.0, "history": 0.0, "prospective": 0.0, "derivative": 0.0}
    spiking = False

    conductance = NumberParam("conductance", low=0, low_open=True, readonly=True)
    prospective = BoolParam("prospective", readonly=True)

    def __init__(
        self, activation="tanh", conductance=0.19, prospective=True, initial_voltage=None,
        slope=None, offset=None,
    ):
        super().__init__()
        self.activation = activations.canonical_name(activation)
        self.conductance = conductance
        self.prospective = prospective
        self.initial_voltage = initial_voltage
        self.slope = slope
        self.offset = offset

    def step(self, dt, J, output, **state):
        # Steady state of the soma, u = J / g_tot; used by nengo for ``rates``.
        output[...] = self.rate_function()(J / self.conductance)


class DelayedRate(SomaticRate):
    r"""Rate unit without look-ahead whose voltage is replaced every step.

    .. math:: r^k = \varphi(u^k),\quad \rho^k = \varphi'(u^k),\quad u^{k+1} = J^k

    so a layer responds to its input with exactly one step of delay (the ANN of
    MODEL.md 2.3; the gain gamma is the conductance of its input compartment). Its
    ``prospective`` signal is the voltage itself.
    """

    state = {"voltage": 0.0, "derivative": 0.0}
    spiking = False
    negative = True

    def __init__(self, activation="tanh", initial_voltage=None):
        super().__init__()
        self.activation = activations.canonical_name(activation)
        self.initial_voltage = initial_voltage

    def initial_state(self, n_neurons):
        u0 = self.initial_voltages(n_neurons)
        return {"voltage": u0, "derivative": activations.dphi(self.activation)(u0)}

    def step(self, dt, J, output, **state):
        output[...] = activations.phi(self.activation)(J)


class Identity(NeuronType):
    """Rate equal to the input current, with no delay (the input area, r_0 = x)."""

    state = {}
    spiking = False
    negative = True

    def step(self, dt, J, output):
        output[...] = J
