"""Driving a network with per-step inputs, targets and plasticity.

A `Schedule` feeds one row per simulator step to the network's input, target and
plasticity nodes; `Session` builds a network around a schedule on a backend and
runs phases of given arrays; `replay` is the simplest use: one phase, every
per-step quantity recorded.
"""

import numpy as np
import nengo

from errormc.hardware.backends import Simulator
from errormc.networks import ErrorMicrocircuit, parse_layers
from errormc.networks.errors import ConfigError
from errormc.networks.stimulus import StepRows

from .metrics import phase_mse, sample_readout, squared_errors


class Schedule:
    """Per-step rows ``[input, target, nudging, plasticity, *extras]`` for a
    network's nodes.

    The rows are presented by a `errormc.networks.stimulus.StepRows` process (a
    Node output, reset by ``sim.reset()``); ``load`` sets the arrays of the next
    phase. A NaN target row becomes target 0 with nudging off. ``extras`` name
    further one-dimensional per-step switches (e.g. ``reset``, ``tracking``); a
    switch not given to ``load`` is 0.
    """

    def __init__(self, n_in, n_out, extras=()):
        self.n_in, self.n_out = n_in, n_out
        self.extras = tuple(extras)
        self._switch = n_in + n_out  # column of the nudging switch
        self.size = n_in + n_out + 2 + len(self.extras)
        self.process = StepRows(self.size)

    def rows(self, inputs, targets=None, learn=None, **extras):
        """The per-step rows of a phase."""
        inputs = np.asarray(inputs, dtype=float)
        T = len(inputs)
        k = self._switch
        rows = np.zeros((T, self.size))
        rows[:, : self.n_in] = inputs
        if targets is not None:
            present = ~np.isnan(np.asarray(targets, dtype=float)).any(axis=1)
            rows[present, self.n_in : k] = np.asarray(targets)[present]
            rows[:, k] = present
        rows[:, k + 1] = 1.0 if learn is None else np.asarray(learn, dtype=float)
        for name, values in extras.items():
            if name not in self.extras:
                raise ConfigError(f"{name}: not a switch of this schedule {self.extras}")
            rows[:, k + 2 + self.extras.index(name)] = values
        return rows

    def load(self, inputs, targets=None, learn=None, start=0, **extras):
        """Present a phase from simulator step ``start`` on; returns its length."""
        return self.process.load(self.rows(inputs, targets, learn, **extras), start)

    def connect(self, node):
        """Slices of ``node`` (a Node with this schedule's process) per role."""
        n_in, k = self.n_in, self._switch
        roles = dict(
            input=node[:n_in],
            target=node[n_in:k],
            nudging=node[k : k + 1],
            plasticity=node[k + 1 : k + 2],
        )
        for i, name in enumerate(self.extras):
            roles[name] = node[k + 2 + i : k + 3 + i]
        return roles


def check_stimulus(inputs, targets, learn, n_in, n_out):
    """Validate stimulus arrays; raise ConfigError naming the field and value."""
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim != 2 or inputs.shape[1] != n_in:
        raise ConfigError(f"inputs: shape {inputs.shape}, expected (T, {n_in})")
    if not np.all(np.isfinite(inputs)):
        bad = np.argwhere(~np.isfinite(inputs))[0]
        raise ConfigError(f"inputs: NaN or inf at step {bad[0]}, unit {bad[1]}")
    T = len(inputs)
    if targets is not None:
        targets = np.asarray(targets, dtype=float)
        if targets.shape != (T, n_out):
            raise ConfigError(f"targets: shape {targets.shape}, expected ({T}, {n_out})")
        partial = np.isnan(targets).any(axis=1) & ~np.isnan(targets).all(axis=1)
        if np.any(partial) or np.any(np.isinf(targets)):
            step = int(np.argmax(partial | np.isinf(targets).any(axis=1)))
            raise ConfigError(
                f"targets: step {step} is partly NaN or inf; a target row is either "
                "all numbers or all NaN (no target)"
            )
    if learn is not None:
        learn = np.asarray(learn)
        if learn.shape != (T,):
            raise ConfigError(f"learn: shape {learn.shape}, expected ({T},)")
        learn = learn.astype(bool)
    return inputs, targets, learn


class Session:
    """A network wired to a `Schedule` and built on a backend.

    Parameters
    ----------
    network : callable
        ``network(input=..., target=..., nudging=..., plasticity=...) ->
        nengo.Network`` with attributes ``layers``, ``output`` and ``get_weights(sim)``
        (e.g. a partial of `.ErrorMicrocircuit`). A network with a ``readout``
        attribute ``(obj, synapse)`` is read there (the spiking network's filtered
        decoded output); otherwise at ``output.neurons`` unfiltered.
    n_in, n_out : int
    dt : float, optional
        Simulator time step; default: the one the network declares (``net.dt``).
    backend : str
    record : callable, optional
        ``record(net) -> {name: (obj, attr)}`` of extra probes, or ``(obj, attr,
        sample_every)`` for one recorded every ``sample_every`` (nengo's probe
        argument).
    seed : int, optional
        Simulator seed (the spiking network's decoders and tuning curves).
    sim_options : dict, optional
        Passed to the backend's simulator (e.g. the Loihi ``emulator``).
    build : bool
        False leaves ``sim`` empty, for a driver that builds several sessions'
        models into one batched simulator and hands each its member (`Batch`).
    extras : tuple of str
        Further per-step switches handed to ``network`` by name (`Schedule`).
    """

    def __init__(self, network, n_in, n_out, dt=None, backend="nengo", record=None, seed=None,
                 sim_options=None, build=True, extras=()):
        self.schedule = Schedule(n_in, n_out, extras)
        with nengo.Network(label="session") as self.model:
            node = nengo.Node(self.schedule.process, label="schedule")
            self.net = network(**self.schedule.connect(node))
            obj, synapse = getattr(self.net, "readout", None) or (self.net.output.neurons, None)
            self.probes = {"output": nengo.Probe(obj, synapse=synapse)}
            for name, (obj, attr, *every) in (record(self.net) if record else {}).items():
                self.probes[name] = nengo.Probe(obj, attr, synapse=None,
                                                sample_every=every[0] if every else None)
        self.sim = (Simulator(self.model, backend=backend, dt=dt, seed=seed, **(sim_options or {}))
                    if build else None)
        self.steps = 0

    def run(self, inputs, targets=None, learn=None, **extras):
        """Run one phase; return the probed data of its steps (``extras``: the
        per-step arrays of the schedule's further switches)."""
        T = self.schedule.load(inputs, targets, learn, start=self.sim.n_steps, **extras)
        self.sim.clear_probes()
        self.sim.run_steps(T)
        self.steps += T
        return {name: np.array(self.sim.data[p]) for name, p in self.probes.items()}

    def weights(self):
        return self.net.get_weights(self.sim)

    def _learned(self):
        """(weights, [deltas]) signal arrays of every learned connection."""
        sim = self.sim
        for conn in self.model.all_connections:
            rules = conn.learning_rule
            if rules is None:
                continue
            if isinstance(rules, dict):
                rules = list(rules.values())
            elif not isinstance(rules, (list, tuple)):
                rules = [rules]
            yield (sim.signals[sim.model.sig[conn]["weights"]],
                   [sim.signals[sim.model.sig[rule]["delta"]] for rule in rules])

    def weight_state(self):
        """The learned weights as the reference holds them after the last step:
        with the updates computed in that step, which Nengo adds only at the
        start of the next step (MODEL.md 1.7 applies them at the end of the
        step). A list of arrays for `set_weight_state`."""
        return [weights + sum(deltas) for weights, deltas in self._learned()]

    def set_weight_state(self, state):
        """Write learned weights from `weight_state` back into the simulator
        (pending updates are discarded)."""
        for (weights, deltas), value in zip(self._learned(), state):
            weights[...] = value
            for delta in deltas:
                delta[...] = 0

    def weights_after_step(self):
        """`weights` with the last step's updates applied (see `weight_state`)."""
        saved = [weights.copy() for weights, _ in self._learned()]
        for (weights, _), value in zip(self._learned(), self.weight_state()):
            weights[...] = value
        try:
            return self.weights()
        finally:
            for (weights, _), value in zip(self._learned(), saved):
                weights[...] = value

    def signal(self, obj, key):
        """The simulator's array of ``obj``'s signal ``key`` (e.g. a rule's delta)."""
        return self.sim.signals[self.sim.model.sig[obj][key]]

    def close(self):
        if self.sim is not None:
            self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Batch:
    """Sessions that differ only in their seed, run as one batched simulator.

    Each member keeps its own network, schedule, probes and weights; the
    compiled backend steps them together (``Simulator([models], backend="jax")``),
    and `run` drives one protocol generator per member in lockstep (their
    phases have the same lengths: the runs differ only in their data).
    """

    def __init__(self, factories, n_in, n_out, dt, seeds, backend="jax", record=None):
        self.sessions = [Session(f, n_in, n_out, dt=dt, build=False, record=record)
                         for f in factories]
        self.sim = Simulator([s.model for s in self.sessions], backend=backend, dt=dt,
                             seed=list(seeds))
        for session, member in zip(self.sessions, self.sim.members):
            session.sim = member

    @classmethod
    def of(cls, session):
        """One built `Session` as a batch of one (it stays the session's to close)."""
        batch = cls.__new__(cls)
        batch.sessions, batch.sim = [session], session.sim
        return batch

    def step(self, phases):
        """Run one phase ``(inputs, targets, learn)`` per member, in lockstep."""
        lengths = {len(x) for x, _, _ in phases}
        if len(lengths) != 1:
            raise ValueError(f"batch: members ask for phases of {sorted(lengths)} steps; "
                             "batched runs must differ only in their data")
        for session, (x, t, learn) in zip(self.sessions, phases):
            session.schedule.load(x, t, learn, start=self.sim.n_steps)
        T = lengths.pop()
        self.sim.clear_probes()
        self.sim.run_steps(T)
        for session in self.sessions:
            session.steps += T

    def run(self, generators):
        """Drive ``generators`` (`TeacherStudentProtocol.chunks`, one per member) to
        their end; return their results."""
        phases = [next(g) for g in generators]
        while True:
            self.step(phases)
            results, next_phases = [], []
            for session, g in zip(self.sessions, generators):
                output = np.array(session.sim.data[session.probes["output"]])
                try:
                    next_phases.append(g.send(output))
                except StopIteration as done:
                    results.append(done.value)
            if results:
                if len(results) != len(generators):
                    raise ValueError("batch: members ended at different phases")
                return results
            phases = next_phases

    def close(self):
        self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def replay(inputs, targets=None, learn=None, dt=0.01, backend="nengo", **network):
    """Drive an error microcircuit step by step; no shuffling, no settling.

    Parameters
    ----------
    inputs : (T, n_in) array
    targets : (T, n_out) array, optional
        NaN rows mean no target (no nudging) at that step.
    learn : (T,) bool array, optional
        Plasticity on at that step (default: on).
    dt : float
    **network
        Arguments of `.ErrorMicrocircuit` (layers, weights, connectivity, ...).

    Returns
    -------
    dict
        ``output_rates[T, n_out]``; per area l ``rep_rates{l}``,
        ``rep_prospective{l}``, ``err_rates{l}``, each as computed during that step
        (MODEL.md 1.7); and the final weights in the weights-file names.
    """
    layers = parse_layers(network["layers"])
    inputs, targets, learn = check_stimulus(inputs, targets, learn, layers[0], layers[-1])

    def record(net):
        out = {}
        for l, area in enumerate(net.areas, start=1):
            out[f"rep_rates{l}"] = (area.representation.neurons, "output")
            out[f"rep_prospective{l}"] = (area.representation.neurons, "prospective")
            out[f"err_rates{l}"] = (area.error.neurons, "output")
        return out

    def build(**nodes):
        return ErrorMicrocircuit(**dict(network, **nodes))

    with Session(build, layers[0], layers[-1], dt, backend, record) as session:
        data = session.run(inputs, targets, learn)
        result = {"output_rates": data.pop("output")}
        result.update(data)
        result.update(session.weights())
    return result


def sample_ends(sequence, steps_per_sample):
    """One entry per sample: the last step of each presentation chunk."""
    return np.asarray(sequence)[steps_per_sample - 1 :: steps_per_sample]


def delay_targets(targets, steps):
    """Delay targets by ``steps`` steps: t'[k] = t[k - steps], t'[:steps] = t[:steps]
    (the pipeline delay of an L-area network, MODEL.md 3.1 step 5)."""
    if steps <= 0:
        return np.array(targets, copy=True)
    return np.concatenate([targets[:steps], targets[:-steps]])


def shuffled(inputs, targets, rng, steps_per_sample, delay):
    """Shuffle samples (one permutation from ``rng``), re-expand, delay targets.

    The pairs are read at the last step of each chunk, where a target delayed by
    fewer steps than a chunk still belongs to its own sample.
    """
    x = sample_ends(inputs, steps_per_sample)
    t = sample_ends(targets, steps_per_sample)
    order = rng.permutation(len(x))
    x = np.repeat(x[order], steps_per_sample, axis=0)
    t = np.repeat(t[order], steps_per_sample, axis=0)
    return x, delay_targets(t, delay), order


PROTOCOLS = ("reference", "clean")


class ProtocolState:
    """Where a protocol run stands: enough to continue it after a crash.

    Attributes
    ----------
    stage : str
        ``test0`` (the untrained test, if any), ``settle``, ``train``, ``val``,
        ``test`` or ``done``.
    epoch : int
    offset : int
        Steps of the current stage already run.
    stage_arrays : tuple
        ``(inputs, targets, learn, score_targets)`` of the current stage.
    outputs : list of arrays
        Output rates recorded so far in a scored stage.
    current : dict
        The current (last shuffled) arrays of each split.
    rng_state : tuple
        State of the shuffling generator.
    val_mse, val_epochs : list
    result : dict
        The test's result, once done.
    """

    FIELDS = ("stage", "epoch", "offset", "val_mse", "val_epochs", "steps")

    def __init__(self, current, rng_state):
        self.stage = "settle"
        self.epoch = 0
        self.offset = 0
        self.steps = 0
        self.stage_arrays = None
        self.outputs = []
        self.current = current
        self.rng_state = rng_state
        self.val_mse, self.val_epochs = [], []
        self.result = None
        self.initial = None

    def to_arrays(self):
        """Flat dict of arrays and a JSON-able dict, for a checkpoint."""
        arrays = {}
        for split, (x, t) in self.current.items():
            arrays[f"current_{split}_inputs"], arrays[f"current_{split}_targets"] = x, t
        if self.stage_arrays is not None:
            for name, value in zip(("inputs", "targets", "learn", "score"), self.stage_arrays):
                if value is not None:
                    arrays[f"stage_{name}"] = value
        if self.outputs:
            arrays["outputs"] = np.concatenate(self.outputs)
        if self.initial is not None:
            arrays["initial_outputs"] = self.initial["test_outputs"]
            arrays["initial_targets"] = self.initial["test_targets"]
        kind, keys, pos, has_gauss, cached = self.rng_state
        arrays["rng_keys"] = keys
        info = {f: getattr(self, f) for f in self.FIELDS}
        info["rng"] = [kind, int(pos), int(has_gauss), float(cached)]
        if self.initial is not None:
            info["initial_mse"] = self.initial["test_mse"]
        return arrays, info

    @classmethod
    def from_arrays(cls, arrays, info):
        current = {
            split: (arrays[f"current_{split}_inputs"], arrays[f"current_{split}_targets"])
            for split in ("train", "val", "test")
        }
        kind, pos, has_gauss, cached = info["rng"]
        state = cls(current, (kind, arrays["rng_keys"], pos, has_gauss, cached))
        for f in cls.FIELDS:
            setattr(state, f, info[f])
        if "stage_inputs" in arrays:
            state.stage_arrays = tuple(
                arrays.get(f"stage_{name}") for name in ("inputs", "targets", "learn", "score")
            )
        if "outputs" in arrays:
            state.outputs = [arrays["outputs"]]
        if "initial_mse" in info:
            state.initial = {"test_mse": info["initial_mse"],
                             "test_outputs": arrays["initial_outputs"],
                             "test_targets": arrays["initial_targets"]}
        return state


class TeacherStudentProtocol:
    """Settling, epochs of training and validation, and a test (MODEL.md 3.1).

    The one driver of every run: rate and spiking networks, every model, every
    backend, teacher-student and classification tasks.

    ``protocol="reference"`` keeps the authors' quirks: plasticity stays on during
    validation (without nudging), validation runs on the arrays of the previous
    shuffle (raw and unshuffled the first time), and the error of a step is the
    squared norm over output units. ``"clean"`` validates without plasticity, on
    each pass's own shuffle, with the mean over output units.

    A run is a sequence of stages (settle, train and validation per epoch, test);
    each stage runs in chunks, after each of which a callback may checkpoint the
    `ProtocolState`, from which `run` continues exactly.

    Parameters
    ----------
    task : TeacherStudentTask or ClassificationTask
    epochs : int
    protocol : "reference" or "clean"
    rng : numpy.random.RandomState
        Private generator of the shuffles (in the reference protocol, the model's
        generator after its construction draws, MODEL.md 3.8).
    target_kind : "rate" or "voltage"
        The teacher record the student is nudged towards.
    score_target : callable, optional
        Maps targets to what output rates are scored against (default: as is).
    test_skip : int
        Steps dropped at the start of a validation or test pass before averaging.
    target_delay : int, optional
        Steps the training targets lag their inputs (default: L, the pipeline
        delay of the rate network's areas; 0 for the spiking network, whose
        synapses filter instead of delaying).
    onset_steps : int
        Plasticity is off for the first ``onset_steps`` steps of every training
        sample, while the network's filtered pipeline (its target pathway
        included: the target is shown throughout) catches up with the new input.
        The spiking network, whose nudging the plasticity switch gates, is then
        neither nudged nor learning.
    readout_steps : int, optional
        ``None``: every step of a scored pass is scored (rate networks). ``k``: a
        sample's output is the mean of its last ``k`` steps, scored against the
        sample's target (spiking networks, whose outputs are filtered spikes).
    initial_test : bool
        Test once before settling (``test0``): the untrained network's score in
        the same simulation, where a second untrained run would cost as much as
        training (spiking networks). Rate runs take their untrained control from
        a separate run with plasticity off, as the paper does.
    test : bool
        False: no test pass after the last epoch (a task that scores otherwise,
        e.g. the cart-pole's closed loop).
    validation : bool
        False: no validation passes (a study that only trains and tests, e.g.
        the energy study).
    """

    def __init__(self, task, epochs, protocol="clean", rng=None, target_kind="rate",
                 test_skip=10, score_target=None, target_delay=None, onset_steps=0,
                 readout_steps=None, initial_test=False, test=True, validation=True):
        if protocol not in PROTOCOLS:
            raise ConfigError(f"protocol: unknown {protocol!r}; choose from {', '.join(PROTOCOLS)}")
        if int(epochs) != epochs or epochs < 1:
            raise ConfigError(f"epochs: must be a positive integer, got {epochs!r}")
        P = task.steps_per_sample
        if not 0 <= onset_steps < P:
            raise ConfigError(f"onset_steps: must be in [0, {P}), got {onset_steps!r}")
        if readout_steps is not None and not 1 <= readout_steps <= P:
            raise ConfigError(f"readout_steps: must be in [1, {P}], got {readout_steps!r}")
        self.task = task
        self.epochs = int(epochs)
        self.protocol = protocol
        self.rng = np.random.RandomState(task.seed) if rng is None else rng
        self.target_kind = target_kind
        self.score_target = score_target
        self.test_skip = test_skip
        self.reduce = "sum" if protocol == "reference" else "mean"
        self.delay = len(task.layers) - 1 if target_delay is None else int(target_delay)
        self.onset_steps = int(onset_steps)
        self.readout_steps = readout_steps
        self.initial_test = bool(initial_test)
        self.test = bool(test)
        self.validation = bool(validation)

    def validates(self, epoch):
        """Validation epochs: every E/10 epochs from epoch 0, or every epoch if E < 10."""
        E = self.epochs
        return self.validation and (E == 1 or (10 * epoch) % E == 0)

    def start(self):
        """The state before the first step."""
        targets = self.task.targets(self.target_kind)
        current = {k: (self.task.inputs[k], targets[k]) for k in ("train", "val", "test")}
        state = ProtocolState(current, self.rng.get_state())
        state.stage = "test0" if self.initial_test else self._settle_or_train()
        return state

    def _settle_or_train(self):
        # no settling stage without settling steps: a callback between stages
        # sees the stage that runs next
        return "settle" if self.task.settle_steps else "train"

    def _shuffle(self, state, split):
        """Shuffle the split's *current* arrays (the previous shuffle, or the raw
        sequence the first time), as the reference does: shuffles compose.
        A task with ``shuffles = False`` (genMNIST) keeps its fixed order and
        has no target delay; no permutation is drawn."""
        x, t = state.current[split]
        if not getattr(self.task, "shuffles", True):
            return x, t
        x, t, _ = shuffled(x, t, self.rng, self.task.steps_per_sample, self.delay)
        state.current[split] = (x, t)
        return x, t

    def _enter(self, state, plastic):
        """The arrays (inputs, targets, learn, score targets) of the current stage."""
        learn = 1.0 if plastic else 0.0
        if state.stage == "settle":
            x = self.task.inputs["train"][: self.task.settle_steps]
            return x, None, np.zeros(len(x)), None
        if state.stage == "train":
            x, t = self._shuffle(state, "train")
            plasticity = np.full(len(x), learn)
            plasticity[np.arange(len(x)) % self.task.steps_per_sample < self.onset_steps] = 0.0
            return x, t, plasticity, None
        if state.stage == "val":
            if self.protocol == "reference":
                # the arrays from before this validation's own shuffle, and
                # plasticity on without a target
                x, t = state.current["val"]
                self._shuffle(state, "val")
                return x, None, np.full(len(x), learn), t
            x, t = self._shuffle(state, "val")
            return x, None, np.zeros(len(x)), t
        x, t = self._shuffle(state, "test")
        return x, None, np.zeros(len(x)), t

    def _next_stage(self, state):
        if state.stage == "test0":
            return self._settle_or_train()
        if state.stage == "settle":
            return "train"
        if state.stage == "train" and self.validates(state.epoch):
            return "val"
        if state.stage in ("train", "val"):
            state.epoch += 1
            if state.epoch < self.epochs:
                return "train"
            return "test" if self.test else "done"
        return "done"

    def _score(self, outputs, targets):
        """Per-step (or per-sample, with ``readout_steps``) squared errors and the
        pass's MSE."""
        if self.score_target is not None:
            targets = self.score_target(targets)
        if self.readout_steps is not None:
            P = self.task.steps_per_sample
            per_sample = squared_errors(
                sample_readout(outputs, P, self.readout_steps), targets[P - 1 :: P],
                self.reduce,
            )
            return per_sample, float(np.mean(per_sample))
        per_step = squared_errors(outputs, targets, self.reduce)
        return per_step, phase_mse(per_step, self.test_skip)

    def run(self, session, progress=None, plastic=True, state=None, chunk_steps=None,
            on_chunk=None, snapshot_every=0, on_snapshot=None, after_epoch=None):
        """Run the protocol on ``session`` from ``state`` (default: the start).

        Parameters
        ----------
        session : Session
        progress : callable, optional
            ``progress(epoch, val_mse)`` after each epoch.
        plastic : bool
            False runs the whole protocol with plasticity off (untrained control).
        state : ProtocolState, optional
            Continue from this state (the session must hold the matching
            simulator state).
        chunk_steps : int, optional
            Run stages in chunks of this many steps.
        on_chunk : callable, optional
            ``on_chunk(state)`` after each chunk (checkpoints, guards).
        snapshot_every : int
            N_rec: call ``on_snapshot(index, state)`` after every step whose
            count over the whole run (settling included) is a multiple of it,
            after that step's weight update (MODEL.md 1.7 step 9); 0: never.
        after_epoch : callable, optional
            ``after_epoch(epoch)`` after each epoch (its validation included), on
            the same simulator (e.g. a closed-loop evaluation).

        Returns
        -------
        dict
            ``test_mse``, ``test_mse_all_steps``, ``test_sqerr``, ``val_mse``,
            ``val_epochs``, ``steps`` (all steps of the run, resumed ones included),
            ``initial`` (the untrained test, with ``initial_test``), ``last_train``
            (the inputs and targets of the last training pass, as the network saw
            them).
        """
        chunks = self.chunks(progress, plastic, state, chunk_steps, on_chunk,
                             snapshot_every, on_snapshot, after_epoch)
        try:
            phase = next(chunks)
            while True:
                phase = chunks.send(session.run(*phase)["output"])
        except StopIteration as done:
            return done.value

    def chunks(self, progress=None, plastic=True, state=None, chunk_steps=None,
               on_chunk=None, snapshot_every=0, on_snapshot=None, after_epoch=None):
        """The protocol as a generator of phases, for drivers that step several
        runs together (seeds batched on a compiled backend).

        Yields ``(inputs, targets, learn)`` of the next chunk to run and receives
        the chunk's output rows; returns (``StopIteration.value``) what `run`
        returns. Arguments as for `run`.
        """
        if state is None:
            state = self.start()
        else:
            self.rng.set_state(state.rng_state)
        while state.stage != "done":
            if state.stage_arrays is None:
                state.stage_arrays = self._enter(state, plastic)
                state.rng_state = self.rng.get_state()
            x, t, learn, score = state.stage_arrays
            T = len(x)
            step = chunk_steps or T
            while state.offset < T:
                a, b = state.offset, min(state.offset + step, T)
                if snapshot_every:
                    # end the chunk at the next snapshot step
                    due = snapshot_every - state.steps % snapshot_every
                    b = min(b, a + due)
                output = yield x[a:b], None if t is None else t[a:b], learn[a:b]
                if score is not None:
                    state.outputs.append(output)
                state.offset = b
                state.steps += b - a
                if snapshot_every and state.steps % snapshot_every == 0:
                    on_snapshot(state.steps // snapshot_every, state)
                if on_chunk is not None and b < T:
                    on_chunk(state)
            if score is not None:
                per_step, mse = self._score(np.concatenate(state.outputs), score)
                if state.stage == "val":
                    state.val_mse.append(mse)
                    state.val_epochs.append(state.epoch)
                elif state.stage == "test0":
                    state.initial = {"test_mse": mse,
                                     "test_outputs": np.concatenate(state.outputs),
                                     "test_targets": score}
                else:
                    state.result = {"test_mse": mse,
                                    "test_mse_all_steps": float(np.mean(per_step)),
                                    "test_sqerr": per_step,
                                    "test_outputs": np.concatenate(state.outputs),
                                    "test_targets": score}
            finished_epoch = state.stage == "val" or (
                state.stage == "train" and not self.validates(state.epoch)
            )
            epoch = state.epoch
            state.stage = self._next_stage(state)
            state.offset, state.stage_arrays, state.outputs = 0, None, []
            if finished_epoch and after_epoch is not None:
                after_epoch(epoch)
            if finished_epoch and progress is not None:
                progress(epoch, state.val_mse[-1] if state.val_mse else None)
            if on_chunk is not None and state.stage != "done":
                on_chunk(state)
        return dict(state.result or {}, val_mse=list(state.val_mse),
                    val_epochs=list(state.val_epochs), steps=state.steps,
                    initial=state.initial, last_train=state.current["train"])


class TrialProtocol:
    """Trials with a reset: validation before each epoch, training, a test
    (the delayed match-to-sample protocol of MODEL.md 3.4).

    A trial is a sequence of input frames and one target. Each trial starts by
    resetting the representation somas (the ``reset`` switch), runs its frames, then
    one extra step on its last frame; only that step is plastic (training) and
    only that step is scored (validation, test: the squared error of the output
    rate). Training nudges the output towards the target on every step;
    validation and test never do. The ``bp`` backward weights follow the forward
    weights at every step (the ``tracking`` switch), as in the reference, whose
    lateral plasticity flag keeps that refresh on.

    Parameters
    ----------
    trials : dict
        ``train``/``val``/``test`` -> (list of (T_i,) or (T_i, n_in) input arrays,
        (N,) or (N, n_out) targets).
    epochs : int
    """

    def __init__(self, trials, epochs):
        if int(epochs) != epochs or epochs < 1:
            raise ConfigError(f"epochs: must be a positive integer, got {epochs!r}")
        self.trials = trials
        self.epochs = int(epochs)

    @staticmethod
    def arrays(inputs, targets, train):
        """Per-step arrays of one pass: inputs, targets (NaN: no nudging), learn,
        reset, tracking, and the index of each trial's scored (extra) step."""
        frames, ends = [], []
        for x in inputs:
            x = np.asarray(x, dtype=float).reshape(len(x), -1)
            frames.append(np.concatenate([x, x[-1:]]))
            ends.append(len(x))
        lengths = np.array([len(f) for f in frames])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        T = int(lengths.sum())
        x = np.concatenate(frames)
        targets = np.asarray(targets, dtype=float).reshape(len(inputs), -1)
        extra = starts + np.array(ends)
        t = np.full((T, targets.shape[1]), np.nan)
        learn = np.zeros(T)
        if train:
            t[:] = np.repeat(targets, lengths, axis=0)
            learn[extra] = 1.0
        reset = np.zeros(T)
        reset[starts] = 1.0
        return dict(inputs=x, targets=t, learn=learn, reset=reset,
                    tracking=np.ones(T)), extra

    def _pass(self, session, split, train):
        inputs, targets = self.trials[split]
        stage, extra = self.arrays(inputs, targets, train)
        data = session.run(stage.pop("inputs"), stage.pop("targets"), stage.pop("learn"),
                           **stage)
        out = data["output"][extra]
        targets = np.asarray(targets, dtype=float).reshape(len(out), -1)
        return squared_errors(out, targets, "sum"), len(stage["reset"])

    def run(self, session, progress=None):
        """Run ``epochs`` x (validation, training), then the test.

        Returns
        -------
        dict
            ``val_mse_per_epoch`` (mean over validation trials, before each
            epoch), ``val_trial_mse`` (epochs x trials), ``test_mse``,
            ``test_trial_mse``, ``steps``.
        """
        val, steps = [], 0
        for epoch in range(self.epochs):
            errors, n = self._pass(session, "val", train=False)
            val.append(errors)
            _, m = self._pass(session, "train", train=True)
            steps += n + m
            if progress is not None:
                progress(epoch, float(np.mean(errors)))
        test, n = self._pass(session, "test", train=False)
        return dict(val_mse_per_epoch=[float(np.mean(v)) for v in val],
                    val_trial_mse=[list(map(float, v)) for v in val],
                    test_mse=float(np.mean(test)), test_trial_mse=list(map(float, test)),
                    steps=steps + n)
