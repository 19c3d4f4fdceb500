"""Simulators of the compiled engine: one network, or a batch of networks that
differ only in their data (seeds).

Both build with nengo's builder (`nengo.builder.Model`: the same signals and
operators as ``nengo.Simulator(net, optimize=False)``), lower the operators with
`errormc.hardware.compiled.program.Program`, and run ``run_steps(n)`` as compiled
chunks of at most ``chunk_steps`` steps by one compiled program (its step count
is a run-time value), shared by every simulator, and every seed, of the same
structure. They offer what the project reads
from a ``nengo.Simulator``: ``sim.data[probe]``, ``sim.signals[sig]`` (writable,
as numpy arrays: ``net.get_weights(sim)`` and checkpoints work unchanged),
``run``, ``run_steps``, ``step``, ``reset``, ``clear_probes``, ``trange``,
``close`` and the context manager.

``BatchSimulator([net_1, ..., net_B])`` runs all members as one ``vmap``-ed
program; ``bsim.members[b]`` is member b as a simulator-like view
(``net_b.get_weights(bsim.members[b])``), and ``bsim.data[probe]`` /
``bsim.signals[sig]`` find the member that owns the probe or signal.
"""

import time

import numpy as np
import jax
import jax.numpy as jnp
import nengo
from nengo.builder import Model
from nengo.cache import NoDecoderCache
from nengo.exceptions import SimulatorClosed
from nengo.utils.numpy import maxint

from errormc.networks.errors import ConfigError

from .host import HostInputs
from .program import Program, sampled_rows

#: steps per loop iteration of the compiled chunk, one network / a batch: unrolling
#: lets XLA fuse across steps, which pays for one network (about 3x steps/s at 8);
#: a batch's operations are already vectors over its members, and unrolling only
#: costs compile time (`errormc bench speed --unroll N` measures it)
UNROLL = 8
BATCH_UNROLL = 1
#: steps of a full compiled chunk
CHUNK_STEPS = 1024
#: the smallest capacity of a program for runs shorter than ``chunk_steps``
SHORT_CAPACITY = 16

#: compiled chunks by (traced step, its constants, chunk steps, unroll, batch size)
_COMPILED = {}
MAX_COMPILED = 64


def network_name(network):
    """``ErrorMicrocircuit``, or ``session (ErrorMicrocircuit)`` for a plain
    network around the model."""
    if type(network) is not nengo.Network:
        return type(network).__name__
    inner = [type(n).__name__ for n in network.networks if type(n) is not nengo.Network]
    label = network.label or "Network"
    return f"{label} ({', '.join(inner)})" if inner else label


def default_seed(network):
    """The reference simulator's default: the network's seed + 1, else random."""
    if network.seed is not None:
        return network.seed + 1
    return np.random.randint(maxint)


class ProbeData:
    """``data[key]``: probe data as arrays, anything else from ``model.params``."""

    def __init__(self, owner, member):
        self._owner, self._member = owner, member

    def __getitem__(self, key):
        owner = self._owner
        if key in owner.probe_index[self._member]:
            return owner.probe_data(self._member, key)
        return owner.models[self._member].params[key]

    def __contains__(self, key):
        return key in self._owner.models[self._member].params

    def __iter__(self):
        return iter(self._owner.models[self._member].params)


class SignalValues:
    """``signals[sig]``: a signal's current value as a numpy array (writable for
    signals the model writes; a write is sent to the device before the next run)."""

    def __init__(self, owner, member):
        self._owner, self._member = owner, member

    def __contains__(self, sig):
        return sig in self._owner.programs[self._member].layout

    def __getitem__(self, sig):
        return self._owner.signal_value(self._member, sig)


class Member:
    """One member of a `BatchSimulator`, read like a simulator."""

    def __init__(self, owner, index):
        self._owner = owner
        self.index = index
        self.model = owner.models[index]
        self.data = ProbeData(owner, index)
        self.signals = SignalValues(owner, index)

    @property
    def dt(self):
        return self._owner.dt

    @property
    def n_steps(self):
        return self._owner.n_steps

    @property
    def time(self):
        return self._owner.time

    def trange(self, sample_every=None):
        return self._owner.trange(sample_every=sample_every)

    def _probe_step_time(self):
        """After a checkpoint restore: the batch's step counter from the signals."""
        self._owner._probe_step_time()  # pylint: disable=protected-access


class BatchSimulator:
    """Networks that differ only in their data, run as one compiled program.

    Parameters
    ----------
    networks : list of nengo.Network
        Same structure (objects, operators, shapes, parameters other than
        arrays); each its own initial weights, voltages and inputs.
    dt : float
    seeds : list of int, optional
        Simulator seeds (random processes); default: each network's seed + 1.
    chunk_steps : int
        Most steps of one compiled call (the chunk takes its step count at run
        time: one program for runs of any length).
    unroll : int, optional
        Steps per iteration of the compiled loop (default `BATCH_UNROLL`).
    """

    backend = "jax"

    def __init__(self, networks, dt=0.001, seeds=None, chunk_steps=CHUNK_STEPS,
                 unroll=None, progress_bar=False, _batched=True):
        self.closed = True
        networks = list(networks)
        if not networks:
            raise ConfigError("networks: need at least one network, got none")
        if int(chunk_steps) != chunk_steps or chunk_steps < 2:
            raise ConfigError(f"chunk_steps: must be an integer >= 2, got {chunk_steps!r}")
        if unroll is None:
            unroll = BATCH_UNROLL if _batched else UNROLL
        if int(unroll) != unroll or unroll < 1:
            raise ConfigError(f"unroll: must be a positive integer, got {unroll!r}")
        if not np.isfinite(dt) or dt <= 0:
            raise ConfigError(f"dt: must be > 0, got {dt!r}")
        self.dt = float(dt)
        self.chunk_steps, self.unroll = int(chunk_steps), int(unroll)
        self.batched = _batched
        self.networks = networks
        if seeds is None:
            seeds = [default_seed(net) for net in networks]
        if len(seeds) != len(networks):
            raise ConfigError(f"seeds: {len(seeds)} seeds for {len(networks)} networks")
        self.seeds = [int(s) for s in seeds]

        t0 = time.perf_counter()
        self.models = []
        for net in networks:
            # no decoder cache, as on the nengo backend (`errormc.hardware.backends`)
            model = Model(dt=self.dt, label=f"{net}, dt={self.dt:f}",
                          decoder_cache=NoDecoderCache())
            model.build(net)
            self.models.append(model)
        first = Program(self.models[0], name=network_name(networks[0]))
        self.programs = [first]
        for b, (model, net) in enumerate(zip(self.models[1:], networks[1:]), start=1):
            if len(model.operators) != len(self.models[0].operators):
                self._differs(b)
            self.programs.append(Program(model, order=first.order, name=network_name(net)))
        self._check_structure()
        self.build_time = time.perf_counter() - t0
        self.compile_time = 0.0
        self.probe_index = [{p: k for k, p in enumerate(prog.probes)} for prog in self.programs]
        self._owner_of_probe = {p: b for b, idx in enumerate(self.probe_index) for p in idx}
        self._owner_of_base = {
            base: b for b, prog in enumerate(self.programs) for base in prog.layout.bases
        }
        self.members = [Member(self, b) for b in range(len(networks))]
        self.data = _Dispatch(self, self._owner_of_probe, "data")
        self.signals = _Dispatch(self, self._owner_of_base, "signals", key=lambda s: s.base)
        self.closed = False
        self.reset()

    # --- structure ------------------------------------------------------------------

    def _check_structure(self):
        """Every member must trace to member 0's step; the traced step is also
        the key under which compiled chunks are shared between simulators."""
        keys = [prog.signature() for prog in self.programs]
        key, consts = keys[0]
        for b, (other, other_consts) in enumerate(keys[1:], start=1):
            same = other == key and len(other_consts) == len(consts) and all(
                np.array_equal(a, c) for a, c in zip(other_consts, consts)
            )
            if not same:
                self._differs(b)
        self._key = (key, tuple((c.shape, c.dtype.str, c.tobytes()) for c in consts))

    def _differs(self, b):
        raise ConfigError(
            f"networks: member {b} ({network_name(self.networks[b])}) differs in structure "
            f"from member 0 ({network_name(self.networks[0])}); a batch holds networks "
            "that differ only in their seed"
        )

    # --- state ------------------------------------------------------------------------

    def reset(self, seeds=None):
        """Initial signal values, new input sources (with ``seeds``, one per
        member, if given), no probe data."""
        if self.closed:
            raise SimulatorClosed("Cannot reset closed Simulator.")
        if seeds is not None:
            if len(seeds) != len(self.programs):
                raise ConfigError(f"seeds: {len(seeds)} seeds for {len(self.programs)} networks")
            self.seeds = [int(s) for s in seeds]
        states = [prog.initial_state() for prog in self.programs]
        if self.batched:
            self._mutable = [jnp.asarray(np.stack(v)) for v in zip(*(s[0] for s in states))]
            self._consts = [jnp.asarray(np.stack(v)) for v in zip(*(s[1] for s in states))]
        else:
            self._mutable = [jnp.asarray(v) for v in states[0][0]]
            self._consts = [jnp.asarray(v) for v in states[0][1]]
        self._inputs = [HostInputs(prog, s) for prog, s in zip(self.programs, self.seeds)]
        self._mutable_index = {i: k for k, i in enumerate(self.programs[0].layout.mutable)}
        self._mirror = {}  # host copies of bases, made on first access
        self._dirty = {}  # bases handed out writable: their values as fetched
        self.n_steps = 0
        self.clear_probes()

    @property
    def time(self):
        return self.n_steps * self.dt

    def _host(self, i):
        """The host copy of base ``i``'s flat values (batched: every member's),
        fetched from the device on first access after a run."""
        value = self._mirror.get(i)
        if value is None:
            layout = self.programs[0].layout
            k = self._mutable_index.get(i)
            value = np.array(self._mutable[k] if k is not None
                             else self._consts[layout.readonly.index(i)])
            self._mirror[i] = value
        return value

    def _push(self):
        """Send the bases written through a handed-out array back to the device."""
        for i, pristine in self._dirty.items():
            if not np.array_equal(self._mirror[i], pristine, equal_nan=True):
                self._mutable[self._mutable_index[i]] = jnp.asarray(self._mirror[i])
        self._dirty = {}
        self._mirror = {}

    def signal_value(self, member, sig):
        """Member ``member``'s value of ``sig`` (a numpy view into the host copy)."""
        layout = self.programs[member].layout
        if sig not in layout:
            raise KeyError(f"signal {sig} is not part of this simulation")
        view = layout.view(sig)
        flat = self._host(view.base)
        if self.batched:
            flat = flat[member]
        base_value = flat.reshape(sig.base.shape)
        if sig.is_view:
            value = np.ndarray(shape=sig.shape, dtype=sig.dtype, buffer=base_value,
                               offset=sig.offset, strides=sig.strides)
        else:
            value = base_value
        if view.base in layout.written and not sig.readonly:
            # a write through it must reach the device: the next run sends this
            # base if it differs from the value as fetched (reads cost no upload)
            if view.base not in self._dirty:
                self._dirty[view.base] = self._mirror[view.base].copy()
        else:
            value.setflags(write=False)
        return value

    def _probe_step_time(self):
        """Take the step counter from the signals (after a checkpoint restore)."""
        self.n_steps = int(self.members[0].signals[self.models[0].step])

    # --- running ----------------------------------------------------------------------

    def _program(self, unroll, capacity=None, fresh=False):
        """The compiled chunk (up to ``capacity`` steps, default ``chunk_steps``,
        the count given at run time), shared by every simulator of the same
        structure and batch size (``fresh``: compiled anew all the same)."""
        B = len(self.programs) if self.batched else None
        capacity = capacity or self.chunk_steps
        key = (self._key, capacity, unroll, B)
        fn = _COMPILED.get(key)
        if fn is not None and not fresh:
            return fn
        prog = self.programs[0]
        chunk = prog.chunk(capacity, unroll)
        lead = (B, capacity) if self.batched else (capacity,)
        # shapes only: compiling must not advance the inputs' own counters
        rows = tuple(np.zeros(lead + (op.output.size,)) for op in prog.host_ops)
        if self.batched:
            chunk = jax.vmap(chunk, in_axes=(0, 0, 0, None))
        t0 = time.perf_counter()
        fn = jax.jit(chunk).lower(self._mutable, self._consts, rows, np.int64(0)).compile()
        self.compile_time += time.perf_counter() - t0
        if len(_COMPILED) >= MAX_COMPILED:
            del _COMPILED[next(iter(_COMPILED))]  # the oldest
        _COMPILED[key] = fn
        return fn

    def _inputs_for(self, first, length, capacity=None):
        per_member = [inp.rows(first, length) for inp in self._inputs]
        if capacity is not None and capacity > length:
            pad = capacity - length
            per_member = [tuple(np.concatenate([r, np.zeros((pad,) + r.shape[1:])]) for r in rows)
                          for rows in per_member]
        if not self.batched:
            return per_member[0]
        return tuple(np.stack(r) for r in zip(*per_member))

    def compile(self, long=True, fresh=False):
        """Compile the chunk that ``run_steps`` uses for runs of at least
        ``chunk_steps`` (``long``) or for shorter ones, unless a simulator of this
        structure has (``fresh``: anew all the same, e.g. to time it); returns
        the seconds this simulator spent compiling."""
        self._program(self.unroll if long else 1, fresh=fresh)
        return self.compile_time

    def run_steps(self, steps, progress_bar=None):
        """Run ``steps`` steps, in chunks of at most ``chunk_steps``."""
        if self.closed:
            raise SimulatorClosed("Simulator cannot run because it is closed.")
        steps = int(steps)
        if steps < 0:
            raise ConfigError(f"steps: must be >= 0, got {steps}")
        self._push()
        C = self.chunk_steps
        # the unrolled loop compiles in several times the time of the plain one:
        # worth it for long runs only; a short run gets a program of its own
        # power-of-two capacity, not a long run's padded inputs and probe buffers
        # (both choices depend on ``steps`` alone, so a run repeats bitwise)
        if steps >= C:
            fn = self._program(self.unroll)
        elif steps:
            C = min(C, max(SHORT_CAPACITY, 1 << (steps - 1).bit_length()))
            fn = self._program(1, C)
        while steps > 0:
            n = min(steps, C)
            rows = self._inputs_for(self.n_steps + 1, n, capacity=C)
            self._mutable, probed = fn(self._mutable, self._consts, rows, np.int64(n))
            self._chunks.append((self.n_steps + 1, n, probed))
            self.n_steps += n
            steps -= n

    def block_until_ready(self):
        """Wait for the steps queued so far (runs are dispatched asynchronously)."""
        jax.block_until_ready(self._mutable)

    def run(self, time_in_seconds, progress_bar=None):
        """Run for ``time_in_seconds`` (rounded to steps as nengo does)."""
        self.run_steps(int(np.round(float(time_in_seconds) / self.dt)))

    def step(self):
        """Advance by one step."""
        self.run_steps(1)

    def clear_probes(self):
        self._chunks = []
        self._probe_cache = {}

    def trange(self, sample_every=None):
        period = 1 if sample_every is None else sample_every / self.dt
        steps = np.arange(1, self.n_steps + 1)
        return self.dt * steps[steps % period < 1]

    def probe_data(self, member, probe):
        """Recorded values of ``probe`` of member ``member`` (read-only array)."""
        key = (member, probe)
        cached = self._probe_cache.get(key)
        if cached is not None and cached[0] == len(self._chunks):
            return cached[1]
        k = self.probe_index[member][probe]
        period = self.programs[member].periods[k]
        parts, firsts = [], []
        for first, length, probed in self._chunks:
            values = np.asarray(probed[k])
            values = values[member] if self.batched else values
            if period is None:
                parts.append(values[:length])
                firsts.append(np.arange(first, first + length))
            else:  # recorded in the program: only the sampled steps
                parts.append(values[: sampled_rows(first - 1, length, period)])
        shape = tuple(self.models[member].sig[probe]["in"].shape)
        data = (np.concatenate(parts).reshape((-1,) + shape) if parts
                else np.zeros((0,) + shape))
        if probe.sample_every is not None and period is None:
            steps = np.concatenate(firsts) if firsts else np.zeros(0, dtype=int)
            data = data[steps % (probe.sample_every / self.dt) < 1]
        data.setflags(write=False)
        self._probe_cache[key] = (len(self._chunks), data)
        return data

    # --- lifetime -----------------------------------------------------------------------

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Dispatch:
    """``bsim.data[x]`` / ``bsim.signals[x]``: the owning member's."""

    def __init__(self, owner, table, attr, key=lambda x: x):
        self._owner, self._table, self._attr, self._key = owner, table, attr, key

    def _member(self, x):
        b = self._table.get(self._key(x))
        if b is None:
            raise KeyError(f"{x} belongs to no member of this batch")
        return getattr(self._owner.members[b], self._attr)

    def __getitem__(self, x):
        return self._member(x)[x]

    def __contains__(self, x):
        return self._key(x) in self._table


class Simulator(BatchSimulator):
    """One network on the compiled engine, read like a ``nengo.Simulator``.

    Parameters
    ----------
    network : nengo.Network
    dt : float
    seed : int, optional
        Seed of random processes (default: the network's seed + 1, as nengo).
    chunk_steps : int
        See `BatchSimulator`.
    unroll : int, optional
        Steps per iteration of the compiled loop (default `UNROLL`).
    """

    def __init__(self, network, dt=0.001, seed=None, chunk_steps=CHUNK_STEPS,
                 unroll=None, progress_bar=False, optimize=False):
        super().__init__([network], dt=dt, seeds=None if seed is None else [seed],
                         chunk_steps=chunk_steps, unroll=unroll, _batched=False)
        self.model = self.models[0]
        self.data = self.members[0].data
        self.signals = self.members[0].signals

    def reset(self, seed=None):
        """Initial signal values, new input sources (seeded with ``seed``)."""
        super().reset(None if seed is None else [seed])
