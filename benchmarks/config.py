"""Typed run configurations: one field per CLI flag, validated with field names.

A `RunConfig` describes one run completely; the CLI builds one from its flags
(``--g-api`` is the field ``g_api``), and every results directory holds the
resolved config as ``config.toml``.
"""

import dataclasses
import math
import os
from typing import Optional

from errormc.networks import activations
from errormc.networks.connectivity import BACKWARD_MODES, CONNECTIVITY_MODES
from errormc.networks.errors import ConfigError
from errormc.networks.microcircuit import Conductances, parse_layers

TASKS = ("teacher-student", "digits", "dms", "cartpole")
VARIANTS = ("ideal", "tanh")

#: network settings that default per task (a flag overrides them)
NETWORK_DEFAULTS = dict(connectivity="skip", activation="tanh", g_l=0.03, g_api=0.06,
                        wt_noise=0.5, lateral_noise=0.3)
#: the paper's networks of the stand-alone tasks (MODEL.md 3.3, 3.4)
TASK_NETWORKS = {
    "dms": dict(connectivity="layered", activation="soft_relu,steep_tanh", g_l=0.3,
                eta="4000,4000"),
    ("cartpole", "ideal"): dict(connectivity="layered", activation="linear", g_api=0.0006,
                                wt_noise=0.0, lateral_noise=0.0, eta="1,0.5"),
    ("cartpole", "tanh"): dict(connectivity="layered", activation="tanh,linear",
                               g_api=0.0006, wt_noise=0.0, lateral_noise=0.3,
                               eta="1.5,0.75"),
}

#: defaults that depend on the task and the network: (layers, epochs, training samples)
TASK_DEFAULTS = {
    ("teacher-student", "rate"): ("4-2-1", 100, 100),
    ("teacher-student", "spiking"): ("2-1", 2, 40),
    ("digits", "rate"): ("64-32-10", 10, None),  # None: the whole training split
    ("digits", "spiking"): ("64-10", 1, 300),
    ("dms", "rate"): ("1-2-1", 10, None),
    ("cartpole", "rate"): ("4-4-1", 5, 500),
}
MNIST_LAYERS = {"rate": "784-100-10", "spiking": "784-10"}
NETWORKS = ("rate", "spiking")
BACKENDS = ("nengo", "loihi")
PROTOCOLS = ("clean", "reference")


@dataclasses.dataclass
class RunConfig:
    """Everything that defines one run (MODEL.md 3.9 gives the paper's defaults)."""

    task: str = "teacher-student"
    model: str = "errormc"
    network: Optional[str] = None
    backend: str = "nengo"
    layers: Optional[str] = None
    errors: Optional[str] = None
    epochs: Optional[int] = None
    seed: int = 56789
    task_seed: Optional[int] = None
    protocol: Optional[str] = None
    variant: Optional[str] = None
    connectivity: Optional[str] = None
    backward: str = "bp"
    activation: Optional[str] = None
    error_activation: str = "linear"
    eta: Optional[str] = None
    eta_lateral: float = 0.0
    phi_transfer: bool = True
    wt_noise: Optional[float] = None
    lateral_noise: Optional[float] = None
    g_l: Optional[float] = None
    g_bas: float = 0.1
    g_api: Optional[float] = None
    g_den: float = 0.1
    g_ntgt: float = 0.06
    dt: float = 0.01
    n_samples: Optional[int] = None
    n_test: Optional[int] = None
    steps_per_sample: Optional[int] = None
    settle_steps: Optional[int] = None
    init_weights: Optional[str] = None
    data: Optional[str] = None
    checkpoint_every: int = 1000
    weight_bound: float = 1000.0

    def __post_init__(self):
        if self.network is None:
            # the Loihi backend places only the spiking network on chip
            self.network = "spiking" if self.backend == "loihi" else "rate"
        if (self.task, self.network) in TASK_DEFAULTS:
            layers, epochs, n_samples = TASK_DEFAULTS[(self.task, self.network)]
            if self.layers is None:
                self.layers = MNIST_LAYERS[self.network] if self.data else layers
            if self.epochs is None:
                self.epochs = epochs
            if self.n_samples is None:
                self.n_samples = n_samples
        if self.protocol is None:
            # the DMS task is the authors' script by default (its check values)
            self.protocol = "reference" if self.task == "dms" else "clean"
        if self.task == "cartpole" and self.variant is None:
            self.variant = "ideal"
        if self.steps_per_sample is None:
            # T_pres: 0.2 ms, cart-pole 1 ms (MODEL.md 3.1, 3.3)
            self.steps_per_sample = 100 if self.task == "cartpole" else 20
        key = (self.task, self.variant) if self.task == "cartpole" else self.task
        for name, value in dict(NETWORK_DEFAULTS, **TASK_NETWORKS.get(key, {})).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        self.validate()

    # --- validation -----------------------------------------------------------------

    def validate(self):
        """Raise ValueError naming the field, the bad value and what is allowed."""
        from . import models

        models.get(self.model)
        for name, allowed in (
            ("task", TASKS),
            ("network", NETWORKS),
            ("backend", BACKENDS),
            ("protocol", PROTOCOLS),
            ("connectivity", CONNECTIVITY_MODES),
            ("backward", BACKWARD_MODES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
        if self.variant is not None:
            if self.variant not in VARIANTS:
                raise ConfigError(
                    f"variant: {self.variant!r} is not one of {', '.join(VARIANTS)}")
            if self.task != "cartpole":
                raise ConfigError(f"variant: only the cartpole task has variants, not {self.task!r}")
        layers = parse_layers(self.layers)
        if self.task in ("dms", "cartpole"):
            n_in, n_out = {"dms": (1, 1), "cartpole": (4, 1)}[self.task]
            if layers[0] != n_in or layers[-1] != n_out or len(layers) != 3:
                raise ConfigError(
                    f"layers: the {self.task} task needs {n_in}-N-{n_out}, got {self.layers!r}")
            if self.network != "rate" or self.model != "errormc":
                raise ConfigError(
                    f"network: the {self.task} task runs the rate errormc network, not "
                    f"{self.network} {self.model}")
        self.layers = "-".join(str(n) for n in layers)
        if self.errors is not None:
            errors = parse_layers([1] + parse_layers(self.errors, "errors"), "errors")[1:]
            if len(errors) != len(layers) - 1:
                raise ValueError(
                    f"errors: {self.errors!r} gives {len(errors)} sizes for "
                    f"{len(layers) - 1} areas"
                )
        activations.per_area(self.activation, len(layers) - 1)
        activations.per_area(self.error_activation, len(layers) - 1, "error_activation")
        Conductances(self.g_l, self.g_bas, self.g_api, self.g_den, self.g_ntgt)
        for name in ("epochs", "n_samples", "n_test", "steps_per_sample"):
            if name in ("n_samples", "n_test") and getattr(self, name) is None:
                continue
            _positive_int(name, getattr(self, name))
        for name in ("seed", "task_seed"):
            value = getattr(self, name)
            if value is None and name == "task_seed":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}: must be an integer >= 0, got {value!r}")
        if self.settle_steps is not None:
            _positive_int("settle_steps", self.settle_steps, zero=True)
        _positive_int("checkpoint_every", self.checkpoint_every, zero=True)
        if not _finite(self.weight_bound) or self.weight_bound <= 0:
            raise ValueError(f"weight_bound: must be > 0, got {self.weight_bound!r}")
        for name in ("dt",):
            value = getattr(self, name)
            if not _finite(value) or value <= 0:
                raise ValueError(f"{name}: must be > 0, got {value!r}")
        for name in ("eta_lateral", "wt_noise", "lateral_noise"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise ValueError(f"{name}: must be >= 0, got {value!r}")
        if self.eta is not None:
            self.eta_values()
        if self.init_weights is not None and not os.path.isfile(self.init_weights):
            raise ValueError(f"init_weights: file {self.init_weights!r} does not exist")
        if self.data is not None and not os.path.isfile(self.data):
            from .tasks.digits import MNIST_HELP

            raise ValueError(f"data: file {self.data!r} does not exist. {MNIST_HELP}")
        if self.data is not None and self.task != "digits":
            raise ValueError(f"data: only the digits task reads a data file, not {self.task!r}")
        if self.network == "rate" and self.backend == "loihi":
            raise ValueError(
                "backend: 'loihi' cannot run the rate network (its neuron types and "
                "learning rules have no Loihi mapping); use network 'spiking'"
            )
        if self.network == "spiking" and self.model != "errormc":
            raise ValueError(f"model: the spiking network is errormc only, not {self.model!r}")

    # --- derived values -------------------------------------------------------------

    def layer_sizes(self):
        return parse_layers(self.layers)

    def error_sizes(self):
        if self.errors is None:
            return None
        return parse_layers([1] + parse_layers(self.errors, "errors"))[1:]

    def eta_values(self):
        """Learning rates per area as floats (``"1,0.2,0.05"``), or None."""
        if self.eta is None:
            return None
        parts = str(self.eta).replace(" ", "").split(",")
        try:
            values = [float(p) for p in parts if p]
        except ValueError:
            raise ValueError(f"eta: {self.eta!r} is not a comma-separated list of numbers") from None
        L = len(self.layer_sizes()) - 1
        if len(values) not in (1, L) or any(not _finite(v) or v < 0 for v in values):
            raise ValueError(
                f"eta: {self.eta!r}; give one rate >= 0 or one per area ({L} areas)"
            )
        return values

    def network_kwargs(self):
        """Arguments of `.ErrorMicrocircuit` for this config."""
        kwargs = dict(
            layers=self.layer_sizes(),
            errors=self.error_sizes(),
            activation=self.activation,
            error_activation=self.error_activation,
            connectivity=self.connectivity,
            backward=self.backward,
            eta=self.eta_values(),
            eta_lateral=self.eta_lateral,
            phi_transfer=self.phi_transfer,
            wt_noise=self.wt_noise,
            lateral_noise=self.lateral_noise,
            seed=self.seed,
            weights=self.init_weights,
        )
        kwargs.update({g: getattr(self, g) for g in Conductances.names})
        return kwargs

    # --- serialisation --------------------------------------------------------------

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_toml(self):
        """The resolved config as TOML (``None`` fields are omitted)."""
        lines = []
        for key, value in self.to_dict().items():
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, (int, float)):
                text = repr(value)
            else:
                text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{key} = {text}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, path, overrides=None):
        """Read a config file; ``overrides`` (e.g. from flags) win over its fields."""
        values = read_toml(path, "config")
        for key, value in values.items():
            if isinstance(value, dict):
                raise ValueError(
                    f"config {path!r}: key {key!r} is a table; a run config is flat "
                    "(key = value)"
                )
        values.update(overrides or {})
        return cls.from_dict(values, where=f"config {path!r}")

    @classmethod
    def from_dict(cls, values, where="config"):
        """Build from a mapping; unknown keys and wrong types name the key."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in values:
            if key not in fields:
                raise ValueError(
                    f"{where}: unknown key {key!r}; known keys: {', '.join(fields)}"
                )
        try:
            kwargs = {k: _coerce(k, v, fields[k].type) for k, v in values.items()}
            return cls(**kwargs)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None


def read_toml(path, kind):
    """Parse a TOML file; a missing or malformed file is a ValueError naming it."""
    import tomllib

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{kind}: file {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{kind} {path!r}: not valid TOML ({e})") from None


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(name, value, zero=False):
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if zero else 1):
        raise ValueError(
            f"{name}: must be an integer >= {0 if zero else 1}, got {value!r}"
        )


def _coerce(key, value, annotation):
    """Check a config value against the field's type; ints pass as floats."""
    text = str(annotation)
    if value is None:
        if "Optional" in text:
            return None
        raise ValueError(f"{key}: must not be empty")
    if "bool" in text:
        if not isinstance(value, bool):
            raise ValueError(f"{key}: expected true or false, got {value!r}")
    elif "int" in text:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{key}: expected an integer, got {value!r}")
    elif "float" in text:
        if not _finite(value):
            raise ValueError(f"{key}: expected a number, got {value!r}")
        value = float(value)
    elif "str" in text:
        if isinstance(value, (list, tuple)) and key in ("layers", "errors", "eta", "activation", "error_activation"):
            value = ("-" if key in ("layers", "errors") else ",").join(str(v) for v in value)
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(f"{key}: expected a string, got {value!r}")
        value = str(value)
    return value
