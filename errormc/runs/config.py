"""Typed run configurations: one field per CLI flag, validated with field names.

A `RunConfig` describes one run completely; the CLI builds one from its flags
(``--g-api`` is the field ``g_api``), and every results directory holds the
resolved config as ``config.toml``.

Every field is either used by the run's network and model or refused: a field
left empty (``None``) takes the default of that network, model and task, and a
field the network does not use must stay empty (`FIELDS_UNUSED`), so
``config.toml`` records exactly what ran.
"""

import dataclasses
import math
import os
import re
import tomllib
from typing import Optional

from errormc.benchmarks.experiment import SPIKING_PRESENTATION, readout_steps
from errormc.benchmarks.tasks.digits import MNIST_HELP
from errormc.networks import activations, weights
from errormc.networks.connectivity import BACKWARD_MODES, CONNECTIVITY_MODES
from errormc.networks.errors import ConfigError, user_input as _user
from errormc.networks.microcircuit import Conductances, parse_layers
from errormc.networks.spiking import INPUT_CODINGS

from .models import MODELS, get as get_model

TASKS = ("teacher-student", "digits", "genmnist", "dms", "cartpole")
#: tasks that drive their own protocol (`errormc.benchmarks.tasks.dms`, ``.cartpole``)
STANDALONE_TASKS = ("dms", "cartpole")
VARIANTS = ("ideal", "tanh")
NETWORKS = ("rate", "spiking")
BACKENDS = {"rate": ("nengo", "jax"), "spiking": ("nengo", "loihi")}
#: rate networks run compiled unless asked (``backend="nengo"``: the reference
#: simulator every test compares against); the spiking network on nengo
DEFAULT_BACKEND = {"rate": "jax", "spiking": "nengo"}
PROTOCOLS = ("clean", "reference")
#: the Loihi emulators: errormc's vectorised, bit-exact one, or nengo-loihi's own
EMULATORS = ("fast", "stock")
MNIST_LAYERS = {"rate": "784-100-10", "spiking": "784-10"}
#: genMNIST from a local MNIST file: 784-pixel images out (MODEL.md 3.5)
GENMNIST_MNIST_LAYERS = "10-100-784"
#: snapshots of the backprop comparison, every N_rec steps (MODEL.md 3.2, 3.5)
SNAPSHOT_EVERY = {"teacher-student": 2000, "genmnist": 500}
VARIABILITY_ON = ("rep", "error")

#: defaults that depend on the task and the network
TASK_DEFAULTS = {
    ("teacher-student", "rate"): dict(layers="4-2-1", epochs=100, n_samples=100),
    ("teacher-student", "spiking"): dict(layers="2-1", epochs=2, n_samples=40, n_test=20,
                                         steps_per_sample=100),
    ("digits", "rate"): dict(layers="64-32-10", epochs=10),  # n_samples: the whole split
    ("digits", "spiking"): dict(layers="64-10", epochs=1, n_samples=300,
                                steps_per_sample=80, neurons_per_unit=10, error_neurons=60,
                                eta="0.03"),
    # MODEL.md 3.5: logistic layered errormc, small weights, short settling
    ("genmnist", "rate"): dict(layers="10-100-64", epochs=100, n_samples=10,
                               connectivity="layered", activation="logistic", eta="1.0,0.1",
                               lateral_noise=0.03, weight_range=0.1, settle_steps=100),
    # MODEL.md 3.4: soft-ReLU hidden, steep tanh output, fast leak; the authors'
    # script is the default protocol (its check values)
    ("dms", "rate"): dict(layers="1-2-1", epochs=10, connectivity="layered",
                          activation="soft_relu,steep_tanh", eta="4000,4000", g_l=0.3,
                          protocol="reference"),
    # MODEL.md 3.3: T_pres 1 ms, 2000 settling steps; the rest per variant
    ("cartpole", "rate"): dict(layers="4-4-1", epochs=5, n_samples=500, steps_per_sample=100,
                               settle_steps=2000, connectivity="layered", g_api=0.0006,
                               wt_noise=0.0, variant="ideal"),
}

#: defaults of a task's variants (MODEL.md 3.3)
VARIANT_DEFAULTS = {
    ("cartpole", "ideal"): dict(activation="linear", lateral_noise=0.0, eta="1,0.5"),
    ("cartpole", "tanh"): dict(activation="tanh,linear", lateral_noise=0.3, eta="1.5,0.75"),
}

#: defaults of the networks (MODEL.md 3.9 for the rate network)
NETWORK_DEFAULTS = {
    "rate": dict(connectivity="skip", backward="bp", activation="tanh", g_l=0.03, g_bas=0.1,
                 g_api=0.06, g_den=0.1, g_ntgt=0.06,
                 error_activation="linear", eta_lateral=0.0, phi_transfer=True,
                 wt_noise=0.5, lateral_noise=0.3, dt=0.01, steps_per_sample=20,
                 protocol="clean", weight_range=1.0, slope_std=0.0, offset_std=0.0,
                 variability_on="rep"),
    "spiking": dict(connectivity="layered", backward="bp", activation="tanh", wt_noise=0.1,
                    g_l=0.03, g_bas=0.1, g_api=0.06, g_den=0.1, g_ntgt=0.06,
                    dt=0.001, settle_steps=0, neurons_per_unit=50, error_neurons=100,
                    input_coding="population", protocol="clean", **SPIKING_PRESENTATION),
}

#: what the comparison models fix or leave out (MODEL.md section 2)
MODEL_FIXED = {
    "errormc": {},
    "sacramento2018": dict(connectivity="layered"),
    "dpc": dict(connectivity="layered"),
    "ann": dict(connectivity="layered"),
}

SPIKING_ONLY = ("neurons_per_unit", "error_neurons", "input_coding", "onset_steps",
                "readout_steps")
ERRORMC_ONLY = ("errors", "error_activation", "phi_transfer", "lateral_noise", "weight_range",
                "slope_std", "offset_std", "variability_on")
#: fields a network or model does not use: they must stay empty
FIELDS_UNUSED = {
    "rate": SPIKING_ONLY,
    "spiking": ERRORMC_ONLY + ("eta_lateral", "init_weights", "snapshot_every"),
    "sacramento2018": ERRORMC_ONLY,
    "dpc": ERRORMC_ONLY,
    "ann": ERRORMC_ONLY + ("eta_lateral", "wt_noise"),
}
#: fields a task with its own protocol does not use (its trials, its closed loop,
#: no checkpoints or divergence guard: the runs are minutes long)
TASK_FIELDS_UNUSED = {
    "dms": ("n_samples", "n_test", "steps_per_sample", "settle_steps", "init_weights",
            "weight_range", "slope_std", "offset_std", "variability_on", "compare",
            "snapshot_every", "checkpoint_every", "weight_bound"),
    "cartpole": ("n_test", "slope_std", "offset_std", "variability_on", "compare",
                 "snapshot_every", "checkpoint_every", "weight_bound"),
}
#: what a task with its own protocol fixes
TASK_FIXED = {"dms": dict(connectivity="layered"), "cartpole": dict(connectivity="layered")}

#: largest network accepted, in bytes of weight and state arrays
MEMORY_LIMIT = 4 * 2**30


@dataclasses.dataclass
class RunConfig:
    """Everything that defines one run (MODEL.md 3.9 gives the paper's defaults)."""

    task: str = "teacher-student"
    model: str = "errormc"
    network: Optional[str] = None
    backend: Optional[str] = None
    layers: Optional[str] = None
    errors: Optional[str] = None
    epochs: Optional[int] = None
    seed: int = 56789
    task_seed: Optional[int] = None
    protocol: Optional[str] = None
    variant: Optional[str] = None
    connectivity: Optional[str] = None
    backward: Optional[str] = None
    activation: Optional[str] = None
    error_activation: Optional[str] = None
    eta: Optional[str] = None
    eta_lateral: Optional[float] = None
    phi_transfer: Optional[bool] = None
    wt_noise: Optional[float] = None
    lateral_noise: Optional[float] = None
    weight_range: Optional[float] = None
    slope_std: Optional[float] = None
    offset_std: Optional[float] = None
    variability_on: Optional[str] = None
    g_l: Optional[float] = None
    g_bas: Optional[float] = None
    g_api: Optional[float] = None
    g_den: Optional[float] = None
    g_ntgt: Optional[float] = None
    dt: Optional[float] = None
    n_samples: Optional[int] = None
    n_test: Optional[int] = None
    steps_per_sample: Optional[int] = None
    settle_steps: Optional[int] = None
    onset_steps: Optional[int] = None
    readout_steps: Optional[int] = None
    neurons_per_unit: Optional[int] = None
    error_neurons: Optional[int] = None
    input_coding: Optional[str] = None
    compare: Optional[str] = None
    snapshot_every: Optional[int] = None
    init_weights: Optional[str] = None
    data: Optional[str] = None
    emulator: Optional[str] = None
    checkpoint_every: Optional[int] = None
    weight_bound: Optional[float] = None

    def __post_init__(self):
        for name, allowed in (("task", TASKS), ("model", tuple(MODELS))):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
        if self.network is None:
            # the Loihi backend places only the spiking network on chip
            self.network = "spiking" if self.backend == "loihi" else "rate"
        if self.network not in NETWORKS:
            raise ConfigError(f"network: {self.network!r} is not one of {', '.join(NETWORKS)}")
        if self.backend is None:
            self.backend = DEFAULT_BACKEND[self.network]
        if (self.task, self.network) not in TASK_DEFAULTS:
            raise ConfigError(f"network: the {self.task} task runs on the "
                              f"{' or '.join(n for t, n in TASK_DEFAULTS if t == self.task)} "
                              f"network, not {self.network!r}")
        if self.backend == "loihi":
            self.emulator = "fast" if self.emulator is None else self.emulator
            if self.emulator not in EMULATORS:
                raise ConfigError(f"emulator: {self.emulator!r} is not one of "
                                  f"{', '.join(EMULATORS)}")
        elif self.emulator is not None:
            raise ConfigError("emulator: only the loihi backend has an emulator; leave it out")
        standalone = self.task in STANDALONE_TASKS
        if self.checkpoint_every is None and not standalone:
            self.checkpoint_every = 0 if self.backend == "loihi" else 1000
        elif self.backend == "loihi" and self.checkpoint_every != 0:
            raise ConfigError("checkpoint_every: the Loihi emulator's state cannot be "
                              "saved and restored; leave it out (0)")
        if self.backend == "loihi" and self.weight_bound is not None:
            raise ConfigError("weight_bound: on the Loihi emulator weights are the chip's "
                              "8-bit integers, bounded by construction; the divergence "
                              "guard checks that they stay finite; leave it out")
        if self.weight_bound is None and self.backend != "loihi" and not standalone:
            self.weight_bound = 1000.0
        self._refuse_unused()
        self._resolve_defaults()
        self.validate()

    def _refuse_unused(self):
        """A field the network or model does not use must be left empty."""
        unused = set(FIELDS_UNUSED[self.network])
        if self.network == "rate":
            unused |= set(FIELDS_UNUSED.get(self.model, ()))
        what = ("the spiking network" if self.network == "spiking"
                else f"the {self.model} model")
        for name in sorted(unused):
            if getattr(self, name) is not None:
                raise ConfigError(f"{name}: not used by {what}; leave it out")
        for name in TASK_FIELDS_UNUSED.get(self.task, ()):
            if getattr(self, name) is not None:
                raise ConfigError(f"{name}: not used by the {self.task} task; leave it out")
        for name, value in TASK_FIXED.get(self.task, {}).items():
            given = getattr(self, name)
            if given is not None and given != value:
                raise ConfigError(f"{name}: the {self.task} task is {value}, not {given!r}")
        if self.task in STANDALONE_TASKS and self.model != "errormc":
            raise ConfigError(f"model: the {self.task} task runs errormc only, not "
                              f"{self.model!r}")
        if self.variant is not None:
            if not any(t == self.task for t, _ in VARIANT_DEFAULTS):
                raise ConfigError(f"variant: only the cartpole task has variants, not "
                                  f"{self.task!r}")
            if (self.task, self.variant) not in VARIANT_DEFAULTS:
                raise ConfigError(f"variant: {self.variant!r} is not one of "
                                  f"{', '.join(VARIANTS)}")
        if self.network == "rate":
            for name, value in MODEL_FIXED[self.model].items():
                given = getattr(self, name)
                if given is not None and given != value:
                    raise ConfigError(f"{name}: the {self.model} model is {value}, not {given!r}")
        if self.task_seed is not None and self.task not in ("teacher-student", "cartpole"):
            raise ConfigError(f"task_seed: only the teacher-student and cartpole tasks have a "
                              f"teacher; "
                              f"the {self.task} split derives from seed")
        if self.n_test is not None and (self.task, self.network) == ("teacher-student", "rate"):
            raise ConfigError("n_test: the rate teacher-student task has n_samples samples "
                              "in each of train, validation and test; use n_samples")
        if self.data is not None and self.task not in ("digits", "genmnist"):
            raise ConfigError(f"data: only digits and genmnist read a data file, not {self.task!r}")
        if self.snapshot_every is not None and self.compare is None:
            raise ConfigError("snapshot_every: weight snapshots are for the backprop "
                              "comparison; give compare = bp or leave it out")

    def _resolve_defaults(self):
        defaults = dict(NETWORK_DEFAULTS[self.network])
        if self.network == "rate":
            defaults.update(MODEL_FIXED[self.model])
            for name in FIELDS_UNUSED.get(self.model, ()):
                defaults.pop(name, None)
            if self.model in ("sacramento2018", "dpc"):
                defaults.pop("eta_lateral")  # empty: the paper's table (MODEL.md 3.2)
        for name in TASK_FIELDS_UNUSED.get(self.task, ()):
            defaults.pop(name, None)
        defaults.update(TASK_DEFAULTS[(self.task, self.network)])
        variant = self.variant or defaults.get("variant")
        defaults.update(VARIANT_DEFAULTS.get((self.task, variant), {}))
        if self.data:
            defaults["layers"] = (GENMNIST_MNIST_LAYERS if self.task == "genmnist"
                                  else MNIST_LAYERS[self.network])
        if self.compare is not None:
            defaults["snapshot_every"] = SNAPSHOT_EVERY.get(self.task, 2000)
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.network == "spiking" and self.readout_steps is None:
            self.readout_steps = readout_steps(self.steps_per_sample)
        if self.network == "rate" and self.settle_steps is None and self.task == "teacher-student":
            _positive_int("n_samples", self.n_samples)
            _positive_int("steps_per_sample", self.steps_per_sample)
            # one pass over the training set, at most the paper's 2000 steps
            self.settle_steps = min(self.n_samples * self.steps_per_sample, 2000)
        if self.network == "rate" and self.settle_steps is None and self.task != "dms":
            self.settle_steps = 10 * self.steps_per_sample

    # --- validation -----------------------------------------------------------------

    def validate(self):
        """Raise ConfigError naming the field, the bad value and what is allowed."""
        get_model(self.model)
        for name, allowed in (
            ("backend", BACKENDS[self.network]),
            ("protocol", PROTOCOLS),
            ("connectivity", CONNECTIVITY_MODES),
            ("backward", BACKWARD_MODES),
        ) + ((("input_coding", INPUT_CODINGS),) if self.network == "spiking" else ()):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(
                    f"{name}: {value!r} is not one of {', '.join(allowed)} for the "
                    f"{self.network} network"
                )
        if not isinstance(self.layers, str) or not re.fullmatch(r"\d+(-\d+)+", self.layers.strip()):
            raise ConfigError(f"layers: {self.layers!r} is not a list of sizes like 8-4-2-1")
        layers = _user(parse_layers, self.layers)
        self.layers = "-".join(str(n) for n in layers)
        if self.errors is not None:
            if not re.fullmatch(r"\d+(-\d+)*", str(self.errors).strip()):
                raise ConfigError(f"errors: {self.errors!r} is not a list of sizes like 4-2-1")
            errors = self.error_sizes()
            if any(e <= 0 for e in errors):
                raise ConfigError(f"errors: sizes must be positive, got {self.errors!r}")
            if len(errors) != len(layers) - 1:
                raise ConfigError(
                    f"errors: {self.errors!r} gives {len(errors)} sizes for "
                    f"{len(layers) - 1} areas"
                )
        _user(activations.per_area, self.activation, len(layers) - 1)
        if self.error_activation is not None:
            _user(activations.per_area, self.error_activation, len(layers) - 1, "error_activation")
        _user(Conductances, self.g_l, self.g_bas, self.g_api, self.g_den, self.g_ntgt)
        for name in ("epochs", "n_samples", "n_test", "steps_per_sample", "neurons_per_unit",
                     "error_neurons", "readout_steps"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        for name in ("seed", "task_seed"):
            value = getattr(self, name)
            if value is None and name == "task_seed":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name}: must be an integer >= 0, got {value!r}")
        for name in ("settle_steps", "onset_steps"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name), zero=True)
        if self.onset_steps is not None and self.onset_steps >= self.steps_per_sample:
            raise ConfigError(f"onset_steps: {self.onset_steps} must be below "
                              f"steps_per_sample ({self.steps_per_sample})")
        if self.readout_steps is not None and self.readout_steps > self.steps_per_sample:
            raise ConfigError(f"readout_steps: {self.readout_steps} exceeds "
                              f"steps_per_sample ({self.steps_per_sample})")
        if self.checkpoint_every is not None:
            _positive_int("checkpoint_every", self.checkpoint_every, zero=True)
        if self.weight_bound is not None and (not _finite(self.weight_bound)
                                              or self.weight_bound <= 0):
            raise ConfigError(f"weight_bound: must be > 0, got {self.weight_bound!r}")
        if not _finite(self.dt) or self.dt <= 0:
            raise ConfigError(f"dt: must be > 0, got {self.dt!r}")
        for name in ("eta_lateral", "wt_noise", "lateral_noise"):
            value = getattr(self, name)
            if value is not None and (not _finite(value) or value < 0):
                raise ConfigError(f"{name}: must be >= 0, got {value!r}")
        if self.eta is not None:
            self.eta_values()
        if self.init_weights is not None:
            if not os.path.isfile(self.init_weights):
                raise ConfigError(f"init_weights: file {self.init_weights!r} does not exist")
            if self.model == "errormc":
                # read now, not after building: wrong arrays are the user's to fix
                _user(weights.load, self.init_weights, layers,
                      self.error_sizes() or layers[1:], self.connectivity, self.backward)
        if self.data is not None and not os.path.isfile(self.data):
            raise ConfigError(f"data: file {self.data!r} does not exist. {MNIST_HELP}")
        if self.compare is not None:
            if self.compare != "bp":
                raise ConfigError(f"compare: {self.compare!r} is not one of bp")
            if self.network != "rate" or self.task == "digits" or self.model == "ann":
                raise ConfigError("compare: the backprop comparison is for rate networks of "
                                  "the cortical models (errormc, sacramento2018, dpc) on the "
                                  "regression tasks (teacher-student, genmnist)")
            _positive_int("snapshot_every", self.snapshot_every)
        for name in ("weight_range", "slope_std", "offset_std"):
            value = getattr(self, name)
            if value is not None and (not _finite(value) or value < 0):
                raise ConfigError(f"{name}: must be a number >= 0, got {value!r}")
        if self.variability_on is not None and self.variability_on not in VARIABILITY_ON:
            raise ConfigError(f"variability_on: {self.variability_on!r} is not one of "
                              f"{', '.join(VARIABILITY_ON)}")
        if self.task == "genmnist":
            if self.n_samples != 10:
                raise ConfigError(f"n_samples: genmnist has exactly 10 samples (one per "
                                  f"digit), got {self.n_samples!r}")
            if self.model != "errormc":
                raise ConfigError(f"model: genmnist runs errormc only, not {self.model!r}")
        if self.task in STANDALONE_TASKS:
            n_in, n_out = {"dms": (1, 1), "cartpole": (4, 1)}[self.task]
            if layers[0] != n_in or layers[-1] != n_out or len(layers) != 3:
                raise ConfigError(f"layers: the {self.task} task needs {n_in}-N-{n_out}, "
                                  f"got {self.layers!r}")
        if self.network == "spiking" and self.model != "errormc":
            raise ConfigError(f"model: the spiking network is errormc only, not {self.model!r}")
        if self.network == "spiking" and self.protocol != "clean":
            raise ConfigError("protocol: 'reference' reproduces the authors' rate-network "
                              "harness; the spiking network runs the clean protocol")
        if self.network == "rate" and self.task in ("teacher-student", "cartpole"):
            if self.settle_steps > self.n_samples * self.steps_per_sample:
                raise ConfigError(
                    f"settle_steps: {self.settle_steps} exceeds the training sequence "
                    f"({self.n_samples} samples x {self.steps_per_sample} steps)"
                )
        need = self.memory_estimate()
        if need > MEMORY_LIMIT:
            raise ConfigError(
                f"layers: {self.layers} needs about {need / 2**30:.1f} GiB of weights and "
                f"state, more than the {MEMORY_LIMIT / 2**30:.0f} GiB a run may use"
            )

    def memory_estimate(self):
        """Bytes of the weight and state arrays the network will hold (float64):
        skip connectivity has one square matrix over all units, forward and
        backward; the spiking network's populations and decoders scale with the
        neurons per unit."""
        n = self.layer_sizes()
        total = sum(n)
        if self.network == "spiking":
            per_unit = self.neurons_per_unit or 50
            neurons = per_unit * total + (self.error_neurons or 100) * sum(n[1:])
            return 8 * (neurons * 10 + per_unit * sum(a * b for a, b in zip(n, n[1:])) * 4)
        if self.connectivity == "skip":
            return 8 * 4 * total * total
        return 8 * 4 * sum(a * b for a, b in zip(n, n[1:])) + 8 * 16 * total

    # --- derived values -------------------------------------------------------------

    def layer_sizes(self):
        return parse_layers(self.layers)

    def error_sizes(self):
        if self.errors is None:
            return None
        return [int(e) for e in str(self.errors).strip().split("-")]

    def eta_values(self):
        """Learning rates per area as floats (``"1,0.2,0.05"``), or None."""
        if self.eta is None:
            return None
        parts = str(self.eta).replace(" ", "").split(",")
        try:
            values = [float(p) for p in parts if p]
        except ValueError:
            raise ConfigError(f"eta: {self.eta!r} is not a comma-separated list of numbers") from None
        L = len(self.layer_sizes()) - 1
        if len(values) not in (1, L) or any(not _finite(v) or v < 0 for v in values):
            raise ConfigError(
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
            weight_range=self.weight_range,
            slope_std=self.slope_std,
            offset_std=self.offset_std,
            variability_on=self.variability_on,
            seed=self.seed,
            weights=self.init_weights,
        )
        kwargs.update({g: getattr(self, g) for g in Conductances.names})
        # fields a task leaves empty (`TASK_FIELDS_UNUSED`) keep the network's defaults
        for name in TASK_FIELDS_UNUSED.get(self.task, ()):
            if kwargs.get(name, 0) is None:
                del kwargs[name]
        return kwargs

    def spiking_kwargs(self):
        """Arguments of `.SpikingErrorMicrocircuit` for this config."""
        kwargs = dict(
            layers=self.layer_sizes(),
            neurons_per_unit=self.neurons_per_unit,
            error_neurons=self.error_neurons,
            input_coding=self.input_coding,
            activation=self.activation,
            connectivity=self.connectivity,
            backward=self.backward,
            wt_noise=self.wt_noise,
            seed=self.seed,
        )
        if self.eta is not None:
            eta = self.eta_values()
            # one rate for every area: the network takes it bare (a list is one per area)
            kwargs["eta"] = eta[0] if len(eta) == 1 else eta
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
                raise ConfigError(
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
                raise ConfigError(
                    f"{where}: unknown key {key!r}; known keys: {', '.join(fields)}"
                )
        try:
            kwargs = {k: _coerce(k, v, fields[k].type) for k, v in values.items()}
            return cls(**kwargs)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None


def read_toml(path, kind):
    """Parse a TOML file; a missing or malformed file is a ValueError naming it."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"{kind}: file {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{kind} {path!r}: not valid TOML ({e})") from None


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(name, value, zero=False):
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if zero else 1):
        raise ConfigError(
            f"{name}: must be an integer >= {0 if zero else 1}, got {value!r}"
        )


def _coerce(key, value, annotation):
    """Check a config value against the field's type; ints pass as floats."""
    text = str(annotation)
    if value is None:
        if "Optional" in text:
            return None
        raise ConfigError(f"{key}: must not be empty")
    if "bool" in text:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
    elif "int" in text:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
    elif "float" in text:
        if not _finite(value):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        value = float(value)
    elif "str" in text:
        if isinstance(value, (list, tuple)) and key in ("layers", "errors", "eta", "activation", "error_activation"):
            value = ("-" if key in ("layers", "errors") else ",").join(str(v) for v in value)
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        value = str(value)
    return value
