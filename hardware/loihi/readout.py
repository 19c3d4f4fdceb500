"""Values decoded off the chip, read from signed compartments.

nengo-loihi 1.1 reads a value decoded from an on-chip ensemble, ``y = D a``,
off the chip through ``2 d`` non-spiking compartments fed by the weights
``[+W, -W]`` (``W = D / r``, ``r`` the ensemble's radius) and probes their
voltages as

    y = r (v_+ - v_-),    v_+- = max(0, +-W a + c a)    (nengo-loihi: vmin = 0),

where ``c`` is a common mode of the two weight columns, zero as built. A
learned readout does not keep it there: nengo-loihi's PES updates the columns
with errors ``-e`` and ``+e``, and the chip's product of pre-trace and error is
shifted right by two bits (``(x_1 e) >> 2``, a floor), so each column moves by
``floor(-x_1 e / 4)`` and ``floor(x_1 e / 4)``: their difference is unbiased,
their mean moves by -1/2 on every update whose product is not a multiple of 4
(measured: -10 mantissa steps after one digits epoch, against a learned
difference of 19, `errormc.hardware.loihi.discretisation.COMMON_MODE`).
Rectified, a negative ``c`` is a dead zone around ``y = 0`` that grows all
through training; on digits the summed drift finally overflows the
compartments' input.

With ``model.readout_signed`` the compartments keep negative voltages (the
lowest the chip allows, ``-(2^23 - 1)``) and the probe reads

    y = r (v_+ - v_-) / 2 = r ((W_+ - W_-) / 2) a,

in which the common mode cancels exactly; unlearned readouts (``W_- = -W_+``
up to the separate rounding of the two columns) read what nengo-loihi reads.
Beyond the readout threshold only ``v_+`` resets, so a value that wraps comes
back as the mean of itself and its wrapped rest (4.5 radii: 3.45, nengo-loihi's
2.35; ``tests/test_chip_encoding.py``). `signed_readouts` puts this in place
while one model is built. The drift itself is kept out of the weights by sending the PES
error on multiples of 4 (`errormc.hardware.loihi.encoding.StochasticErrorRounding`).
"""

import contextlib

import numpy as np

from .compat import discretize, probe_builder

#: the lowest voltage a Loihi compartment holds (nengo-loihi's ``vmin`` range)
CHIP_VMIN = -(2 ** 23) + 1

_ORIGINAL_CONN_PROBE = probe_builder.conn_probe
_ORIGINAL_DISCRETIZE_COMPARTMENT = discretize.discretize_compartment


def conn_probe(model, nengo_probe):
    """nengo-loihi's build of a decoded readout; with ``model.readout_signed``,
    read from signed compartments as ``r (v_+ - v_-) / 2``."""
    _ORIGINAL_CONN_PROBE(model, nengo_probe)
    if not getattr(model, "readout_signed", False):
        return
    probe = model.objs[nengo_probe]["out"]
    for block in probe.target:
        # as low as the chip allows: discretize_compartment bounds it
        block.compartment.vmin = -np.inf
    probe.weights = [None if w is None else 0.5 * w for w in probe.weights]


def discretize_compartment(comp, w_max):
    """nengo-loihi's discretisation of a compartment, with ``vmin`` held to the
    chip's range (nengo-loihi would give an unbounded one ``-(2^31 - 1)``)."""
    info = _ORIGINAL_DISCRETIZE_COMPARTMENT(comp, w_max)
    comp.vmin = max(comp.vmin, CHIP_VMIN)
    return info


@contextlib.contextmanager
def signed_readouts():
    """While one nengo-loihi model is built, decoded readouts go through
    `conn_probe` and compartments through `discretize_compartment`."""
    probe_builder.conn_probe = conn_probe
    discretize.discretize_compartment = discretize_compartment
    try:
        yield
    finally:
        probe_builder.conn_probe = _ORIGINAL_CONN_PROBE
        discretize.discretize_compartment = _ORIGINAL_DISCRETIZE_COMPARTMENT
