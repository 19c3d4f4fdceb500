"""Dendritic compartments that are not plain sums.

A basal or apical dendrite is a linear sum of its synaptic inputs, which a
passthrough `nengo.Node` already is. The objects here compute what a sum cannot:

* `DerivativeReadout`: the rate derivative rho = phi'(u_breve) of a representation
  population, as a population that lateral connections can start from (the phi'
  transfer of MODEL.md 1.6 travels from representation to error units);
* `Product`: the error dendrite with phi' transfer, d = (P rho) * (B eps), the
  elementwise product of its input slices (MODEL.md 1.6);
* `Nudging`: the output error units' target drive m rho_L * (t - r_L), with the
  nudging switch m (1: target present, 0: no target at that step, MODEL.md 1.3).
"""

import numpy as np
import nengo
from nengo.params import IntParam


class StateReadout(nengo.Ensemble):
    """A state signal (``"derivative"``, ``"prospective"``, ...) of ``source``'s
    neurons as the output of a population, one neuron per unit.

    Its neurons' output *is* the source's signal; nothing is simulated twice and
    nothing may connect into it.

    Parameters
    ----------
    source : nengo.Ensemble
        A population whose neuron type's builder creates the signal ``state``.
    state : str
    """

    def __init__(self, source, state, label=None):
        self.source = source
        self.state = state
        super().__init__(
            source.n_neurons,
            1,
            label=label or f"{source.label}.{state}",
            gain=np.ones(source.n_neurons),
            bias=np.zeros(source.n_neurons),
        )


class DerivativeReadout(StateReadout):
    """The nominal rate derivative rho = phi'(u_breve) of ``source``'s units."""

    def __init__(self, source, label=None):
        super().__init__(source, "derivative", label=label)


class Product(nengo.Process):
    """Elementwise product of ``factors`` consecutive input slices of ``size`` each.

    .. math:: y = x_{[0:n]} \\odot x_{[n:2n]} \\odot \\dots

    Parameters
    ----------
    size : int
        Length of each factor (and of the output).
    factors : int
        Number of factors.
    """

    size = IntParam("size", low=1, readonly=True)
    factors = IntParam("factors", low=2, readonly=True)

    def __init__(self, size, factors=2, **kwargs):
        self.size = size
        self.factors = factors
        super().__init__(
            default_size_in=size * factors, default_size_out=size, **kwargs
        )

    def make_step(self, shape_in, shape_out, dt, rng, state):
        n, k = self.size, self.factors

        def step_product(t, x):
            return np.prod(x.reshape(k, n), axis=0)

        return step_product


class Nudging(nengo.Process):
    """Target drive of the output error units, ``m * rho * (t - r)``.

    Input: ``[rho; t; r; m]``, three slices of ``size`` and the switch ``m``.
    """

    size = IntParam("size", low=1, readonly=True)

    def __init__(self, size, **kwargs):
        self.size = size
        super().__init__(default_size_in=3 * size + 1, default_size_out=size, **kwargs)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        n = self.size

        def step_nudging(t, x):
            return x[-1] * (x[:n] * (x[n : 2 * n] - x[2 * n : 3 * n]))

        return step_nudging
