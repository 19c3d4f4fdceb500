"""A vectorised drop-in for nengo-loihi's emulator, bit for bit the same.

nengo-loihi 1.1's ``EmulatorInterface`` spends most of its time in Python loops
over single spikes and single synapse rows:

* ``SynapseState.inject_current`` makes one ``Axon.Spike`` object per spike,
* ``SynapseState.update_input`` adds one weight row per spike,

      q_b[base(a) + idx(a, atom)] += w(a, atom)      for every delivered spike (a, atom),

* ``SynapseState.update_traces`` keeps a Python set of the axons that spiked,
* the integer weight update rounds one synapse row at a time,

      w' = 2^(e + s) round_p( (w 2^(F - e) + (trace e^T lr_int) 2^(F + lr_exp - o)) 2^(-F - s) ),

  with ``round_p`` stochastic rounding against ``rng.rand`` (one draw per
  weight), ``F = LEARN_FRAC``, ``e`` the weight exponent, ``s`` the shift bits
  and ``o`` the learning overflow bits.

`FastEmulator` keeps nengo-loihi's state objects and interface and replaces
these with array code, in as few array calls per step as it can (the networks
here are small: a step's cost is mostly the number of calls, not their size):

* all spike input of a step is one sum over the rows of a sparse matrix of
  the sources that spiked, and a dense product for wide fixed synapse groups
  (`FastSynapseState`); integer sums do not depend on the order of their terms,
* all weight rows of a synapse group are rounded at once, against the same
  ``rng.rand`` stream in the same (row-major) order,
* the compartment update runs in float64 on integer values, exactly
  (`FastCompartmentState`), with nengo-loihi's integer code where a value
  would wrap around,
* the step loop of a simulator with a host (`FastStepRunner`) moves spikes,
  errors and probed values between host and chip without nengo-loihi's
  per-message bookkeeping.

Spike rasters, compartment states, traces, weights and the values the host
receives equal the stock emulator's exactly (tests/test_fast_emulator.py
checks every state array after every step, with learning, and whole
simulators against each other).

Floating-point models (``target="simreal"``) and chips whose weight rows repeat
a target compartment run the stock code; so does the weight update of a
synapse group whose weight rows differ in shape (none in the networks here).
"""

import warnings

import numpy as np
import scipy.sparse
from scipy.sparse import _sparsetools

from .compat import discretize, emulator_interface

LEARN_FRAC = discretize.LEARN_FRAC


class SynapseTable:
    """One synapse group's weights and indices as stacked arrays.

    ``weights`` is ``(n_weight_rows, n_populations, n_targets)``; the
    synapse's own ``weights`` list is re-pointed at views of it, so the
    emulator's updates and every reader see one array.
    """

    def __init__(self, synapse):
        shapes = {w.shape for w in synapse.weights}
        self.uniform = len(shapes) == 1 and len(synapse.weights) > 0
        if not self.uniform:
            return
        self.weights = np.stack(synapse.weights)
        self.indices = np.stack(synapse.indices).astype(np.int64)
        synapse.weights = [self.weights[k] for k in range(len(self.weights))]
        n_axons = synapse.n_axons
        self.weight_row = (
            np.arange(n_axons) if synapse.axon_to_weight_map is None
            else np.asarray(synapse.axon_to_weight_map, dtype=np.int64)
        )
        if synapse.axon_compartment_bases is None:
            self.base = np.zeros(n_axons, dtype=np.int64)
        else:
            self.base = np.asarray(synapse.axon_compartment_bases, dtype=np.int64)
        n_targets = self.weights.shape[2]
        # every row targets compartments 0..n-1 from base 0
        self.dense = bool(
            np.all(self.base == 0)
            and np.all(self.indices == np.arange(n_targets))
        )


class FastSynapseState(emulator_interface.SynapseState):
    """``SynapseState`` with array code for spike delivery, input, traces and
    the integer weight update (module docstring).

    Every (spike source -> target synapse axon, atom) pair is one *route*: an
    on-chip compartment through one of its block's axons, or a host spike
    input neuron through one of its axons. A spike on a route adds the weight
    row ``w(a, atom)`` at ``base(a) + idx(a, atom)`` of its synapse's block. With
    ``s`` the step's 0/1 spike vector over all sources, the step's input is

        q = M^T s,        M[src, c] = sum of w over the routes of src that reach c,

    summed over the rows of ``M`` (sparse, by source) of the sources that
    spiked. The entries of ``M`` that learning weights reach are
    ``M_static + A w_learn`` (``A`` counts which learning weights each entry
    sums) and are recomputed after every weight update. A wide fixed synapse
    group (one dense weight table ``W`` of at least `WIDE` weights, at block
    offset ``b``) is left out of ``M``: with ``c`` the step's spike count per
    weight row, its input is the dense product

        q[b : b + n_targets] += c^T W = g (c^T V),

    exact: in float32 where ``W = g V`` (``g`` a power of two) keeps every
    partial sum of ``c^T V`` an integer below 2^24, else in float64.
    """

    #: weights of a synapse group above which its input is a dense product
    WIDE = 32768

    def __init__(self, block_info, pes_error_scale=1.0, strict=True):
        super().__init__(block_info, pes_error_scale=pes_error_scale, strict=strict)
        self.block_info = block_info
        self.tables = {synapse: SynapseTable(synapse) for synapse in self.slices}
        self.trace_masks = {synapse: np.zeros(synapse.n_axons, dtype=bool) for synapse in self.traces}
        self._trace_decay = {synapse: np.exp(-synapse.train_epoch / synapse.tracing_tau)
                             for synapse in self.traces}
        self._trace_buffers = {synapse: np.zeros(synapse.n_axons) for synapse in self.traces}
        self._stock_weight_update = self._weight_update
        self._weight_update = self._fast_weight_update
        self._inputs = None

    @staticmethod
    def supports(block_info):
        """Whether no weight row of ``block_info`` repeats a target index (the
        stock emulator's ``qb[idx] += w`` then adds such a row's weights once per
        target, which a sum over ``M`` would not) and every learning synapse
        group's weight rows have one shape (`SynapseTable`)."""
        for block in block_info.blocks:
            for synapse in block.synapses:
                if synapse.learning and len({np.shape(w) for w in synapse.weights}) != 1:
                    return False
                for idx in synapse.indices:
                    idx = np.sort(np.asarray(idx), axis=-1)
                    if idx.size and np.any(idx[..., 1:] == idx[..., :-1]):
                        return False
        return True

    def attach(self, spike_inputs):
        """Build the routes and ``M`` for the chip's blocks and ``spike_inputs``."""
        self._inputs = list(spike_inputs)
        order = list(self.slices)
        index = {synapse: k for k, synapse in enumerate(order)}
        source, axon, atom, target = [], [], [], []
        self._chip_axons = set()

        def add(src, ax, n):
            comp = np.arange(n)
            mapped = np.asarray(ax.map_axon(comp), dtype=np.int64)
            atoms = (np.zeros(n, dtype=np.int64) if ax.compartment_atoms is None
                     else np.asarray(ax.compartment_atoms, dtype=np.int64))
            keep = mapped >= 0
            source.append(src[keep])
            axon.append(mapped[keep])
            atom.append(atoms[keep])
            target.append(np.full(int(keep.sum()), index[ax.target], dtype=np.int64))

        for block in self.block_info.blocks:
            start = self.block_info.slices[block].start
            n = block.compartment.n_compartments
            for ax in block.axons:
                self._chip_axons.add(ax)
                add(start + np.arange(n), ax, n)
        # host spike inputs: sources numbered after the chip's compartments
        self._input_offsets = {}
        offset = self.n_compartments
        for spike_input in self._inputs:
            self._input_offsets[spike_input] = offset
            for ax in spike_input.axons:
                add(offset + np.arange(spike_input.n_neurons), ax, spike_input.n_neurons)
            offset += spike_input.n_neurons
        self._n_sources = offset
        self._s = np.zeros(offset, dtype=bool)

        cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
        source, axon, atom, target = cat(source), cat(axon), cat(atom), cat(target)

        # every synapse group's routes (for `delivered`); those that learn read
        # theirs every step, for their traces
        self._routes = {synapse: (source[target == k], axon[target == k])
                        for synapse, k in index.items()}
        self._learning = [(synapse,) + self._routes[synapse] for synapse in self.pes_errors]
        self._delivered = {synapse: np.zeros(0, dtype=np.int64) for synapse in self.pes_errors}
        # learning weights: one vector, the tables' weights one after another
        learn_offset, n_learn = {}, 0
        for synapse in self.pes_errors:
            learn_offset[synapse] = n_learn
            n_learn += self.tables[synapse].weights.size

        # wide fixed synapse groups (one dense weight table of at least WIDE
        # weights): a product of their weight table with the step's spike count
        # per weight row, instead of a sum over M
        self._wide = []
        in_m = np.ones(len(target), dtype=bool)
        for synapse, k in index.items():
            table = self.tables[synapse]
            if (synapse in learn_offset or not (table.uniform and table.dense)
                    or table.weights.size < self.WIDE):
                continue
            on = target == k
            in_m &= ~on
            n_pop, n_t = table.weights.shape[1:]
            W = table.weights.reshape(-1, n_t).astype(np.int64)
            # W = g V with g the largest power of two dividing every weight (the
            # weight exponent): where every partial sum of c^T V is an integer
            # below 2^24 (at most one spike per route), float32 is exact and reads
            # half the memory of float64
            nonzero = np.abs(W[W != 0])
            g = int(np.min(nonzero & -nonzero)) if nonzero.size else 1
            V = W // g
            if int(on.sum()) * int(np.abs(V).max(initial=0)) < 2**24:
                weights, scale = V.astype(np.float32), float(g)
            else:
                weights, scale = W.astype(np.float64), None
            self._wide.append((source[on], table.weight_row[axon[on]] * n_pop + atom[on],
                               weights, scale, self.slices[synapse].start, n_t))
        source, axon, atom, target = source[in_m], axon[in_m], atom[in_m], target[in_m]

        # one row per distinct (synapse, axon, atom) that a route reaches: its
        # target compartments, and its weights (fixed) or their positions in the
        # learning vector
        keys = np.stack([target, axon, atom], axis=1)
        rows, route_row = np.unique(keys, axis=0, return_inverse=True)
        route_row = route_row.ravel()
        row_cols, row_vals, row_learn = [], [], []
        for k, a, at in rows:
            synapse = order[k]
            a, at = int(a), int(at)
            base = synapse.axon_compartment_base(a)
            if base is None:
                i = w = learn = np.zeros(0, dtype=np.int64)
            elif synapse in learn_offset:
                table = self.tables[synapse]
                r = int(table.weight_row[a])
                n_pop, n_t = table.weights.shape[1:]
                i = table.indices[r, at]
                w = np.zeros(n_t, dtype=np.int64)
                learn = learn_offset[synapse] + (r * n_pop + at) * n_t + np.arange(n_t)
            else:
                w, i = synapse.axon_weights_indices(a, atom=at)
                learn = np.full(len(w), -1, dtype=np.int64)
            row_cols.append(self.slices[synapse].start + (base or 0) + np.asarray(i, dtype=np.int64))
            row_vals.append(np.asarray(w, dtype=np.int64))
            row_learn.append(np.asarray(learn, dtype=np.int64))
        lengths = np.array([len(c) for c in row_cols], dtype=np.int64)
        src = np.repeat(source, lengths[route_row] if len(route_row) else 0)
        cols = cat([row_cols[r] for r in route_row])
        vals = cat([row_vals[r] for r in route_row])
        learn = cat([row_learn[r] for r in route_row])

        # M[src, c]: the entries summed over routes and rows, sorted by source
        n = self.n_compartments
        entry_keys, entry = np.unique(src * n + cols, return_inverse=True)
        entry = entry.ravel()
        n_entries = len(entry_keys)
        static = np.zeros(n_entries, dtype=np.int64)
        np.add.at(static, entry, vals)
        on = learn >= 0
        A = scipy.sparse.csr_matrix(
            (np.ones(int(on.sum()), dtype=np.int64), (entry[on], learn[on])),
            shape=(n_entries, n_learn),
        )
        A.sum_duplicates()
        self._learned = np.flatnonzero(np.diff(A.indptr) > 0)
        A = A[self._learned]
        self._A = (A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data.astype(np.int64))
        self._static = static[self._learned]
        self._learn_tables = [self.tables[synapse].weights for synapse in self.pes_errors]
        # the usual case: each such entry of M is one learning weight, and nothing else
        one = (np.all(np.diff(self._A[0]) == 1) and np.all(self._A[2] == 1)
               and not np.any(self._static))
        self._gather = self._A[1] if one else None
        entry_src = entry_keys // n if n else entry_keys
        self._M_indptr = np.searchsorted(entry_src, np.arange(self._n_sources + 1)).astype(np.int64)
        self._M_cols = (entry_keys % n if n else entry_keys).astype(np.int64)
        self._M_lengths = np.diff(self._M_indptr)
        # integer weights as floats: the step's sums are of integers below 2^53, exact
        self._M_data = static.astype(np.float64)
        self._refresh()
        self._q = np.zeros(n, dtype=np.int64)
        self._pending = {}
        self._checked_axons = None

    def _refresh(self):
        """Put the current learning weights into ``M``."""
        if not len(self._learned):
            return
        tables = self._learn_tables
        w = (tables[0].ravel() if len(tables) == 1 else np.concatenate([t.ravel() for t in tables]))
        if self._gather is not None:
            self._M_data[self._learned] = w[self._gather]
            return
        y = self._static.copy()
        indptr, indices, data = self._A
        _sparsetools.csr_matvec(len(y), len(w), indptr, indices, data, w.astype(np.int64), y)
        self._M_data[self._learned] = y

    def add_spikes(self, spike_input, t, spike_idxs):
        """Queue host spikes of ``spike_input`` for time-step ``t`` (as its
        ``add_spikes``), as source numbers."""
        offset = self._input_offsets.get(spike_input)
        if offset is None:
            spike_input.add_spikes(t, spike_idxs)
            return
        idxs = np.asarray(spike_idxs, dtype=np.int64)
        if idxs.size:
            self._pending.setdefault(int(t), []).append(offset + idxs)

    def inject_current(self, t, spike_inputs, all_axons, spiked):
        if all_axons is not self._checked_axons:
            if {ax for ax, _ in all_axons.items()} != self._chip_axons:
                raise RuntimeError("axons differ from the blocks' axons the routes were built from")
            if list(spike_inputs) != self._inputs:
                raise RuntimeError("spike inputs differ from the ones the routes were built from")
            self._checked_axons = all_axons
        s = self._s
        n = self.n_compartments
        s[:n] = spiked
        s[n:] = False
        if t >= 2:  # input spikes take one time-step to arrive
            pending = self._pending.pop(t - 1, None)
            if pending:
                s[np.concatenate(pending)] = True
            for spike_input in spike_inputs:
                if spike_input.spikes:  # spikes given to the input itself
                    idxs = np.asarray(spike_input.spike_idxs(t - 1), dtype=np.int64)
                    s[self._input_offsets[spike_input] + idxs] = True
        # q = M^T s from the rows of M of the sources that spiked
        act = np.flatnonzero(s)
        m = int(np.add.reduce(self._M_lengths[act]))
        cols, data = np.empty(m, dtype=np.int64), np.empty(m)
        _sparsetools.csr_row_index(len(act), act, self._M_indptr, self._M_cols, self._M_data,
                                   cols, data)
        # (bincount of nothing gives integers)
        q = self._q = np.bincount(cols, weights=data, minlength=n) if m else np.zeros(n)
        for src, row, weights, scale, start, n_t in self._wide:
            counts = np.bincount(row[s[src]], minlength=len(weights))
            if scale is None:
                q[start:start + n_t] += counts @ weights  # integers below 2^53: exact
            else:
                y = counts.astype(np.float32) @ weights  # integers below 2^24: exact
                q[start:start + n_t] += y.astype(np.float64) * scale
        for synapse, src, axon in self._learning:
            self._delivered[synapse] = axon[np.flatnonzero(s[src])]

    def delivered(self, synapse):
        """Axon indices of the spikes delivered to ``synapse`` this step."""
        if synapse in self._delivered:
            return self._delivered[synapse]
        src, axon = self._routes[synapse]
        return axon[self._s[src]]

    def update_input(self, input):
        # integer sums (exact in float64) to int64, then to int32 modulo 2^32 like the
        # stock emulator's one-by-one int32 additions
        np.copyto(input[0], self._q.astype(np.int64), casting="unsafe")

    def update_traces(self, t, rng):
        for synapse, trace in self.traces.items():
            mask = self.trace_masks[synapse]
            axon = self._delivered[synapse]
            if axon.size:
                before = np.count_nonzero(mask)
                mask[axon] = True
                # a spike on an axon already marked (this epoch or this step) is lost
                if np.count_nonzero(mask) - before < axon.size:
                    self.error("Synaptic trace spikes lost")
            if t % synapse.train_epoch == 0:
                # trace' = round_p(decay trace + mag [spiked]): nengo-loihi's
                # ``decay * trace``, then ``+= tracing_mag`` where an axon spiked
                trace1 = self._trace_buffers[synapse]
                np.multiply(trace, self._trace_decay[synapse], out=trace1)
                np.add(trace1, synapse.tracing_mag, out=trace1, where=mask)
                np.copyto(trace, stochastic_round(trace1, rng, clip=127, name="synapse trace"),
                          casting="unsafe")
                mask[:] = False

    def update_pes_errors(self, errors):
        """nengo-loihi's ``scale_pes_errors`` (scale, round, clip to +-127, with its
        warnings) on each error, summed per synapse group."""
        pes = self.pes_errors
        if len(errors) == 1 and len(pes) == 1:  # one error, for the one group
            synapse, _, e = errors[0]
            error = np.rint(self.pes_error_scale * e)
            if error.size and np.maximum.reduce(np.abs(error), axis=None) > 127:
                error = discretize.scale_pes_errors(e, scale=self.pes_error_scale)
            np.copyto(pes[synapse], error, casting="unsafe")
            return
        for pes_errors in pes.values():
            pes_errors[:] = 0
        for synapse, _, e in errors:
            error = np.rint(self.pes_error_scale * e)
            if error.size and np.maximum.reduce(np.abs(error), axis=None) > 127:
                error = discretize.scale_pes_errors(e, scale=self.pes_error_scale)
            pes[synapse] += error.astype(np.int32)

    def update_weights(self, t, rng):
        learned = False
        for synapse, pes_error in self.pes_errors.items():
            if t % synapse.learn_epoch == 0:
                trace = self.traces[synapse]
                e = np.concatenate((-pes_error, pes_error))
                self._weight_update(synapse, np.outer(trace, e), rng=rng)
                learned = True
        if learned:
            self._refresh()

    def _fast_weight_update(self, synapse, delta_ws, rng=None):
        table = self.tables[synapse]
        if not table.uniform or table.weights.shape[1] != 1 or synapse.axon_to_weight_map is not None:
            self._stock_weight_update(synapse, delta_ws, rng=rng)
            return
        cfg = synapse.synapse_cfg
        wgt_exp, shift_bits = cfg.real_weight_exp, cfg.shift_bits
        overflow = discretize.learn_overflow_bits(n_factors=2)
        w = table.weights[:, 0, :]
        product = discretize.shift(
            delta_ws * synapse._lr_int, LEARN_FRAC + synapse._lr_exp - overflow
        )
        learn_w = discretize.shift(w, LEARN_FRAC - wgt_exp) + product
        learn_w[:] = stochastic_round(
            learn_w * 2 ** (-LEARN_FRAC - shift_bits), rng, clip=2 ** (8 - shift_bits) - 1,
            name="learning weights",
        )
        w[:] = np.left_shift(learn_w, wgt_exp + shift_bits)


def stochastic_round(x, rng, clip=None, name="values"):
    """``sign(x) (floor|x| + [frac|x| > p])``, ``p ~ U[0, 1)`` from ``rng.rand``,
    clipped to ``clip`` in magnitude: nengo-loihi's rounding of traces and
    learned weights, as floats (integers, exact; the caller casts)."""
    nonneg = x.size == 0 or np.minimum.reduce(x, axis=None) >= 0  # traces: no signs to take
    frac, y = np.modf(x if nonneg else np.abs(x))
    y += frac > rng.rand(*x.shape)
    if clip is not None and y.size and np.maximum.reduce(y, axis=None) > clip:
        warnings.warn(f"Clipping {name}")
        np.minimum(y, clip, out=y)
    return y if nonneg else np.copysign(y, x, out=y)


class FastCompartmentState(emulator_interface.CompartmentState):
    """``CompartmentState`` with the integer update in fewer array passes.

    The same arithmetic as nengo-loihi's: ``decay_int(x) = sign(x) floor(|x| r /
    2^12)`` with ``r = 2^12 - offset - decay`` is ``trunc(x (r / 2^12))`` in
    float64, exact (``|x| < 2^24``, ``r <= 2^12``: the product has at most 37
    significant bits, and ``r / 2^12`` is a power-of-two scaling), as are the
    sums, clipping and comparisons of those integers. Where a value of ``q0``,
    the current or ``u2`` would leave its range (nengo-loihi wraps it around and
    warns), the step is redone in nengo-loihi's integer code. The noise draw is
    made every step, as in nengo-loihi, even where noise is off, so the
    emulator's random stream is the same.
    """

    def __init__(self, block_info, strict=True):
        super().__init__(block_info, strict=strict)
        self._r_u = (2**12 - 1 - np.asarray(self.decay_u)).astype(np.int64)
        self._r_v = (2**12 - 0 - np.asarray(self.decay_v)).astype(np.int64)
        self._f_u = self._r_u / 4096.0
        self._f_v = self._r_v / 4096.0
        self._noise_on = bool(np.any(self.noise.enabled))
        self._q_max = 2 ** discretize.Q_BITS
        self._u_max = 2 ** discretize.U_BITS
        n = self.n_compartments
        # float64 copies of the integer parameters: ufuncs of one dtype take the fast loops
        self._bias = self.bias.astype(np.float64)
        self._vmin, self._vmax = self.vmin.astype(np.float64), self.vmax.astype(np.float64)
        self._vth = self.vth.astype(np.float64)
        self._cu = np.zeros((3, n))  # current, u2, q0 2^(U_BITS - Q_BITS): one range test
        self._v = np.zeros(n)
        self._refractory = np.zeros(n, dtype=bool)

    def _check(self, x, limit, bits, name):
        # |x| >= limit also flags x = -limit (in range): the exact test decides
        if x.size and np.abs(x).max() >= limit and (x.max() >= limit or x.min() < -limit):
            self._overflow(x, bits=bits, name=name)

    @staticmethod
    def _decay(x, r):
        # sign(x) floor(|x| r / 2^12) = (x r) >> 12 rounded towards zero: add
        # 2^12 - 1 to negative products before the (flooring) arithmetic shift
        t = x * r
        t += (t >> 63) & 4095
        t >>= 12
        return t.astype(x.dtype)

    def update(self, rng):
        if self._noise_on:
            self._update_int(self.noise.sample(rng))
            return
        self.noise._uniform(rng)  # nengo-loihi draws it every step, for its random stream
        if self.n_compartments == 0:
            return
        q0 = self.input[0, :]
        cu = self._cu
        c, u2, q = cu[0], cu[1], cu[2]
        np.multiply(q0, float(self._u_max // self._q_max), out=q)
        np.multiply(self.current, self._f_u, out=c)
        np.trunc(c, out=c)
        np.add(c, q0, out=c)
        np.add(c, self._bias, out=u2)
        # q0 in [-2^Q_BITS, 2^Q_BITS), current and u2 in [-2^U_BITS, 2^U_BITS)
        if (np.maximum.reduce(cu, axis=None) >= self._u_max
                or np.minimum.reduce(cu, axis=None) < -self._u_max):
            self._update_int(None)  # a value wraps around: nengo-loihi's integer code
            return
        v = self._v
        np.multiply(self.voltage, self._f_v, out=v)
        np.trunc(v, out=v)
        np.add(v, u2, out=v)
        np.maximum(v, self._vmin, out=v)  # np.clip(v, vmin, vmax)
        np.minimum(v, self._vmax, out=v)
        refractory = self._refractory
        np.greater(self.ref_count, 0, out=refractory)
        np.copyto(v, 0.0, where=refractory)
        spiked = self.spiked
        np.greater(v, self._vth, out=spiked)
        np.copyto(v, 0.0, where=spiked)
        np.copyto(self.voltage, v, casting="unsafe")  # integers: exact
        np.copyto(self.current, c, casting="unsafe")
        np.copyto(self.ref_count, self.ref, where=spiked)
        np.add(self.spike_count, spiked, out=self.spike_count)
        np.subtract(self.ref_count, 1, out=self.ref_count)
        np.maximum(self.ref_count, 0, out=self.ref_count)

    def _update_int(self, noise):
        """The step in integer arithmetic, with ``noise`` (None: none)."""
        q0 = self.input[0, :]
        if noise is not None:
            q0[~(self.noise.target_u)] += noise[~(self.noise.target_u)]
        self._check(q0, self._q_max, discretize.Q_BITS, "q0")
        self.current[:] = self._decay(self.current, self._r_u) + q0
        self._check(self.current, self._u_max, discretize.U_BITS, "current")
        u2 = self.current + self.bias
        if noise is not None:
            u2[self.noise.target_u] += noise[self.noise.target_u]
        self._check(u2, self._u_max, discretize.U_BITS, "u2")
        v = self.voltage
        np.add(self._decay(v, self._r_v), u2, out=v)
        np.maximum(v, self.vmin, out=v)  # np.clip(v, vmin, vmax), in two passes
        np.minimum(v, self.vmax, out=v)
        v[self.ref_count > 0] = 0
        spiked = self.spiked
        np.greater(self.voltage, self.vth, out=spiked)
        if spiked.any():
            self.voltage[spiked] = 0
            self.ref_count[spiked] = self.ref[spiked]
            self.spike_count[spiked] += 1
        np.subtract(self.ref_count, 1, out=self.ref_count)
        np.maximum(self.ref_count, 0, out=self.ref_count)


class FastEmulator(emulator_interface.EmulatorInterface):
    """nengo-loihi's ``EmulatorInterface`` with `FastCompartmentState`,
    `FastSynapseState` and `FastProbeState` (integer models)."""

    def __init__(self, model, seed=None):
        super().__init__(model, seed=seed)
        self._fast = (self.block_info.dtype == np.int32
                      and emulator_interface.CompartmentState.MAX_DELAY == 1
                      and FastSynapseState.supports(self.block_info))
        if self._fast:
            self.compartment = FastCompartmentState(self.block_info, strict=self.strict)
            self.synapses = FastSynapseState(
                self.block_info,
                pes_error_scale=getattr(model, "pes_error_scale", 1.0),
                strict=self.strict,
            )
            self.synapses.attach(self.inputs)
            self.probes = FastProbeState(self.block_info, list(model.probes), model.dt)

    def host2chip(self, spikes, errors):
        if not self._fast:
            super().host2chip(spikes, errors)
            return
        synapses = self.synapses
        offsets, pending = synapses._input_offsets, synapses._pending
        for spike_input, t, spike_idxs in spikes:
            offset = offsets.get(spike_input)
            if offset is None:
                synapses.add_spikes(spike_input, t, spike_idxs)
            elif len(spike_idxs):
                pending.setdefault(int(t), []).append(offset + np.asarray(spike_idxs))
        synapses.update_pes_errors(errors)

    def host2chip_sources(self, t, sources, errors):
        """`host2chip` with the spikes of all inputs for time-step ``t`` given as
        source numbers (`FastSynapseState`)."""
        if len(sources):
            self.synapses._pending.setdefault(int(t), []).append(sources)
        self.synapses.update_pes_errors(errors)

    def step(self):
        """Advance the simulation by 1 step (``dt`` seconds): nengo-loihi's
        step (the input of its one-step delay written, not shifted and added)."""
        if not self._fast:
            super().step()
            return
        self.t += 1
        rng = self.rng
        synapses, compartment = self.synapses, self.compartment
        synapses.inject_current(self.t, self.inputs, self.axons, compartment.spiked)
        synapses.update_input(compartment.input)  # the input of MAX_DELAY = 1 step
        synapses.update_traces(self.t, rng)
        synapses.update_weights(self.t, rng)
        compartment.update(rng)
        self.probes.update(self.t, compartment)


class FastProbeState(emulator_interface.ProbeState):
    """``ProbeState`` that keeps no per-step outputs for the probes in ``live``:
    those are read from the compartment state right after the step
    (`FastStepRunner`)."""

    def __init__(self, block_info, probes, dt):
        super().__init__(block_info, probes, dt)
        self.live = frozenset()

    def update(self, t, compartment):
        live = self.live
        for probe, block_slices in self.probes.items():
            if probe in live:
                continue
            target_attr = getattr(compartment, probe.key)
            for k, block_slice in enumerate(block_slices.values()):
                output = target_attr[block_slice][probe.slice[k]]
                if output.base is not None:
                    output = output.copy()
                self.outputs[probe][k].append(output)


class FastStepRunner:
    """nengo-loihi's ``StepRunner.emu_bidirectional_with_host`` loop (host step,
    host -> chip, emulator step, chip -> host, every step) with its transfers
    done directly.

    Host -> chip: every sender's queued ``(t, x)`` becomes spikes ``x.nonzero()``
    at step ``round(t / dt)`` of its spike input, or a PES error summed per
    (step, synapse) as nengo-loihi does, then scaled (`FastSynapseState`).
    Chip -> host: each probe that feeds the host is ``probe.weight_outputs`` of
    the compartment state after the step, received at ``dt (t + 1)``, as
    nengo-loihi's ``ProbeState.send`` gives it for a one-step send; the emulator
    keeps no per-step copy of it.
    """

    def __init__(self, runner):
        self.runner = runner
        self.host, self.emulator = runner.host, runner.emulator
        model = runner.model
        self.dt = model.dt
        self.spike_queues = []
        offsets = self.emulator.synapses._input_offsets
        sources = []  # the source number of each element of the senders' values, in order
        for sender, receiver in model.host2chip_senders.items():
            spike_target = model.spike_targets[receiver]
            assert spike_target is not None
            self.spike_queues.append((runner.queues[sender], spike_target))
            if spike_target in offsets and sender.size_in == spike_target.n_neurons:
                sources.append(offsets[spike_target] + np.arange(sender.size_in))
            else:
                sources = None
        self.queues = [queue for queue, _ in self.spike_queues]
        self.sources = (np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
                        ) if sources is not None else None
        self.error_queues = []
        for sender, receiver in model.host2chip_pes_senders.items():
            conn = model.nengo_probe_conns[receiver.error_target]
            synapse = model.objs[conn]["decoders"]
            assert synapse.learning
            self.error_queues.append((runner.queues[sender], synapse))
        probes = self.emulator.probes
        n = self.emulator.block_info.n_compartments
        self.receivers = []
        for probe, receiver in runner.probes_receivers.items():
            assert probe.synapse is None, "Filtering should be done on host-side connection"
            # each block's probed compartments, as indices into the state arrays
            parts = [(np.arange(n)[block_slice][probe.slice[k]], probe.weights[k])
                     for k, block_slice in enumerate(probes.probes[probe].values())]
            self.receivers.append((probe, probe.key, parts, receiver))
        probes.live = frozenset(probe for probe, *_ in self.receivers)

    @classmethod
    def install(cls, sim):
        """Run ``sim`` (a ``nengo_loihi.Simulator``) with this loop where it runs
        the bidirectional emulator loop on a `FastEmulator`; returns whether it does."""
        runner = getattr(sim, "_runner", None)
        if (runner is None or runner.run_steps != runner.emu_bidirectional_with_host
                or not getattr(runner.emulator, "_fast", False)):
            return False
        runner.run_steps = cls(runner).run_steps
        return True

    def host2chip(self):
        dt, emulator = self.dt, self.emulator
        queues = self.queues
        errors = {}
        for queue, synapse in self.error_queues:
            for t, x in queue:
                errors_ti = errors.setdefault(round(t / dt), {})
                if synapse in errors_ti:
                    errors_ti[synapse] += x
                else:
                    errors_ti[synapse] = x.copy()
            queue.clear()
        errors = [(synapse, ti, e) for ti, ee in errors.items() for synapse, e in ee.items()]
        # one value per sender, of one time, and nobody watching host2chip (the
        # counters wrap it): every sender's spikes in one array pass
        if (self.sources is not None and queues and "host2chip" not in vars(emulator)
                and all(len(queue) == 1 for queue in queues)):
            t = queues[0][0][0]
            if all(queue[0][0] == t for queue in queues):
                x = np.concatenate([queue[0][1] for queue in queues])
                for queue in queues:
                    queue.clear()
                emulator.host2chip_sources(round(t / dt), self.sources[np.flatnonzero(x)], errors)
                return
        spikes = []
        for queue, spike_target in self.spike_queues:
            for t, x in queue:
                spikes.append((spike_target, round(t / dt), x.nonzero()[0]))
            queue.clear()
        emulator.host2chip(spikes, errors)

    def chip2host(self):
        emulator = self.emulator
        compartment = emulator.compartment
        t_receive = self.dt * (emulator.t + 1)
        for probe, key, parts, receiver in self.receivers:
            state = getattr(compartment, key)
            # probe.weight_outputs of the one step's outputs, without its checks:
            # the same (1, n) arrays, products and sum
            outputs = []
            for idx, weights in parts:
                output = state[idx].reshape(1, -1)
                outputs.append(output if weights is None else output.dot(weights))
            if probe.is_transformed:
                x = sum(outputs)
            else:
                x = np.column_stack(outputs)
                if probe.reindexing is not None:
                    x = x[..., probe.reindexing]
            receiver.receive(t_receive, x[0])

    def run_steps(self, steps):
        timers = self.runner.timers
        timers.start("run")
        host, emulator = self.host, self.emulator
        for _ in range(steps):
            host.step()
            self.host2chip()
            emulator.step()
            self.chip2host()
        timers.stop("run")
