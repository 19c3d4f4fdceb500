"""The emulator's discretisation of on-chip learning, chosen in this one place.

nengo-loihi turns a PES connection into integer chip state with two model-wide
settings (``nengo_loihi.builder.Model``):

``pes_error_scale``
    errors are multiplied by it, rounded to integers and clipped to +-127 on
    their way to the chip (the learning rate is divided by it, so the update is
    unchanged up to rounding): small errors round to 0 when it is small, large
    errors clip when it is large.
``pes_wgt_exp``
    the weight exponent of learning synapse groups: the largest learned weight
    is ``255 2^(pes_wgt_exp)``-ish in integer units, the resolution is fixed by
    the 8-bit mantissa, so it trades range against resolution.

The learning-rate exponent is fixed by nengo-loihi at 2^-7 with the rest of the
rate folded into the pre-trace increment (``discretize_synapse``), which is
rounded to 1/128 and clipped at 127: not a setting here.

`DISCRETISATION` holds the values used for every ``backend="loihi"`` build; the
measurements behind them are in `MEASUREMENTS`.
"""

from errormc.networks.errors import ConfigError

from .compat import nengo_loihi

#: nengo-loihi 1.1's own defaults
NENGO_LOIHI_DEFAULTS = dict(pes_error_scale=100.0, pes_wgt_exp=4)

DISCRETISATION = dict(NENGO_LOIHI_DEFAULTS)

#: what the choice rests on (filled in from recorded runs)
MEASUREMENTS = ()


def chip_model(dt, label=None, **overrides):
    """A ``nengo_loihi.builder.Model`` with `DISCRETISATION` (and ``overrides``)."""
    settings = dict(DISCRETISATION)
    for key, value in overrides.items():
        if key not in settings:
            raise ConfigError(f"discretisation: unknown {key!r}; choose from {', '.join(settings)}")
        settings[key] = value
    model = nengo_loihi.builder.Model(dt=float(dt), label=label)
    model.pes_error_scale = float(settings["pes_error_scale"])
    model.pes_wgt_exp = int(settings["pes_wgt_exp"])
    return model
