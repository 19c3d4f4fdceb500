"""PES on the chip at the reference simulator's rate, whatever the pre population's radius.

nengo-loihi 1.1 carries the output of a learned ``Ensemble -> Node`` connection
off the chip through a probe of non-spiking decode compartments. It scales the
decoders into those compartments by ``1 / r`` (``r`` the pre ensemble's radius,
"the same scaling as the ensemble does", ``build_full_chip_connection``) and the
probe's readout back up by ``r`` (``builder/probe.py``), so the decoded value is
unchanged:

    y = r (D / r) a = D a.

The PES update of those weights is built from the rule's learning rate alone,

    d(D / r) = -(kappa dt / n) E a     instead of     -(kappa dt / (n r)) E a,

so the decoded value moves ``r`` times as fast as the reference simulator's
(nengo's ``dD = -(kappa dt / n) E a``; measured in
`errormc.hardware.loihi.discretisation.PES_RATES`). In the spiking
microcircuit the input population's radius is ``sqrt(n_0) / 2``: 2-1 learned its
first weights at 0.71 times the reference's rate, digits (64 inputs) at 4 times,
where its learning loop oscillates (`errormc.hardware.loihi.discretisation`).

`build_full_chip_connection` builds as nengo-loihi does and then, where the
chip model asks for it (``model.pes_radius_correction``, set by
`errormc.hardware.loihi.discretisation.chip_model`), divides the learning rate
of such a connection's learning synapses by ``r`` before the model is
discretised; `pes_radius_correction` puts it in place while one model is built.
"""

import contextlib

import nengo

from .compat import connection_builder, nengo_loihi

_ORIGINAL_BUILD_FULL_CHIP_CONNECTION = connection_builder.build_full_chip_connection


def _decoded_probe(model, conn):
    """Whether ``conn`` is the decoded, probed output of an ensemble (the only
    learned connections nengo-loihi 1.1 puts on the chip)."""
    post = model.objs[conn.post_obj].get("in") if conn.post_obj in model.objs else None
    return (isinstance(conn.pre_obj, nengo.Ensemble)
            and isinstance(post, nengo_loihi.probe.LoihiProbe))


def build_full_chip_connection(model, conn):
    """nengo-loihi's build of an on-chip connection; for a learned decoded probe
    with ``model.pes_radius_correction``, the PES rate divided by the pre radius:

        kappa_chip = kappa / r.
    """
    is_probe = conn.learning_rule_type is not None and _decoded_probe(model, conn)
    built = _ORIGINAL_BUILD_FULL_CHIP_CONNECTION(model, conn)
    if is_probe and getattr(model, "pes_radius_correction", False):
        model.objs[conn]["decoders"].learning_rate /= float(conn.pre_obj.radius)
    return built


@contextlib.contextmanager
def pes_radius_correction():
    """While one nengo-loihi model is built, on-chip connections go through
    `build_full_chip_connection`."""
    connection_builder.build_full_chip_connection = build_full_chip_connection
    try:
        yield
    finally:
        connection_builder.build_full_chip_connection = _ORIGINAL_BUILD_FULL_CHIP_CONNECTION
