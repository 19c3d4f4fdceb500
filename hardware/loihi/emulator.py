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
these with array code: all spike delivery of a step is one sparse product
(`FastSynapseState`), all weight rows of a synapse group are rounded at once,
and the compartment update (`FastCompartmentState`) and PES error scaling take
fewer array passes. Integer sums do not depend on the order of their terms, and
the weight rows are rounded against the same ``rng.rand`` stream in the same
(row-major) order, so spike rasters, compartment states, traces and weights
equal the stock emulator's exactly (tests/test_fast_emulator.py checks every
state array after every step, with learning).

Floating-point models (``target="simreal"``) run the stock code; so does the
weight update of a synapse group whose weight rows differ in shape (none in the
networks here).
"""

import warnings

import numpy as np
import scipy.sparse

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
    ``c_r`` the number of spiking routes that reach row ``r`` = (synapse, a, atom)
    in a step, the step's input is

        q += R^T c,

    with ``R`` the (rows x compartments) sparse matrix of those weight rows. Its
    stored values of learning synapse groups are refreshed after every weight
    update.
    """

    def __init__(self, block_info, pes_error_scale=1.0, strict=True):
        super().__init__(block_info, pes_error_scale=pes_error_scale, strict=strict)
        self.block_info = block_info
        self.tables = {synapse: SynapseTable(synapse) for synapse in self.slices}
        self.trace_masks = {synapse: np.zeros(synapse.n_axons, dtype=bool) for synapse in self.traces}
        self._stock_weight_update = self._weight_update
        self._weight_update = self._fast_weight_update
        self._inputs = None

    def attach(self, spike_inputs):
        """Build the routes and ``R`` for the chip's blocks and ``spike_inputs``."""
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
        self._input_offsets = []
        offset = self.n_compartments
        for spike_input in self._inputs:
            self._input_offsets.append(offset)
            for ax in spike_input.axons:
                add(offset + np.arange(spike_input.n_neurons), ax, spike_input.n_neurons)
            offset += spike_input.n_neurons
        self._spiking = np.zeros(offset, dtype=bool)

        cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
        target = cat(target)
        by_target = np.argsort(target, kind="stable")
        self._route_source = cat(source)[by_target]
        self._route_axon = cat(axon)[by_target]
        self._route_atom = cat(atom)[by_target]
        bounds = np.searchsorted(target[by_target], np.arange(len(order) + 1))
        self._route_slices = {syn: slice(bounds[k], bounds[k + 1]) for k, syn in enumerate(order)}

        # R: one row per distinct (synapse, axon, atom) that a route reaches, in
        # synapse order (a synapse's rows are contiguous); routes to the same
        # axon share its row, and a step adds each row times its spike count
        keys = np.stack([target[by_target], self._route_axon, self._route_atom], axis=1)
        rows, self._route_row = np.unique(keys, axis=0, return_inverse=True)
        self._route_row = self._route_row.ravel()
        self._n_rows = len(rows)
        self._row_axon, self._row_atom = rows[:, 1], rows[:, 2]
        row_bounds = np.searchsorted(rows[:, 0], np.arange(len(order) + 1))
        self._row_slices = {syn: slice(row_bounds[k], row_bounds[k + 1]) for k, syn in enumerate(order)}
        lengths, cols, data = [], [], []
        self._data_slices = {}
        n_data = 0
        for synapse in order:
            start = self.slices[synapse].start
            first = n_data
            sl = self._row_slices[synapse]
            for a, at in zip(self._row_axon[sl], self._row_atom[sl]):
                base = synapse.axon_compartment_base(int(a))
                if base is None:
                    lengths.append(0)
                    continue
                w, i = synapse.axon_weights_indices(int(a), atom=int(at))
                lengths.append(w.size)
                cols.append(start + base + np.asarray(i, dtype=np.int64))
                data.append(np.asarray(w, dtype=np.int32))
                n_data += w.size
            self._data_slices[synapse] = slice(first, n_data)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self._R = scipy.sparse.csr_matrix(
            (cat(data).astype(np.int32), cat(cols), indptr),
            shape=(self._n_rows, self.n_compartments),
        )
        self._RT = self._R.T  # CSC view: shares R's data
        self._h = np.zeros(len(self._route_source), dtype=bool)
        self._checked_axons = None

    def _refresh(self, synapse):
        """Copy ``synapse``'s current weights into its rows of ``R``."""
        sl = self._row_slices[synapse]
        table = self.tables[synapse]
        if table.uniform and table.dense:
            w = table.weights[table.weight_row[self._row_axon[sl]], self._row_atom[sl]].ravel()
        else:
            parts = []
            for a, at in zip(self._row_axon[sl], self._row_atom[sl]):
                if synapse.axon_compartment_base(int(a)) is not None:
                    parts.append(synapse.axon_weights_indices(int(a), atom=int(at))[0])
            w = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        self._R.data[self._data_slices[synapse]] = w

    def inject_current(self, t, spike_inputs, all_axons, spiked):
        if all_axons is not self._checked_axons:
            if {ax for ax, _ in all_axons.items()} != self._chip_axons:
                raise RuntimeError("axons differ from the blocks' axons the routes were built from")
            if list(spike_inputs) != self._inputs:
                raise RuntimeError("spike inputs differ from the ones the routes were built from")
            self._checked_axons = all_axons
        spiking = self._spiking
        spiking[: self.n_compartments] = spiked
        spiking[self.n_compartments:] = False
        if t >= 2:  # input spikes take one time-step to arrive
            for spike_input, offset in zip(spike_inputs, self._input_offsets):
                idxs = np.asarray(spike_input.spike_idxs(t - 1), dtype=np.int64)
                spiking[offset + idxs] = True
        self._h[:] = spiking[self._route_source]

    def delivered(self, synapse):
        """Axon indices of the spikes delivered to ``synapse`` this step."""
        rows = self._route_slices[synapse]
        return self._route_axon[rows][self._h[rows]]

    def update_input(self, input):
        active = np.flatnonzero(self._h)
        if active.size:
            counts = np.bincount(self._route_row[active], minlength=self._n_rows).astype(input.dtype)
            # int32 sums wrap like the stock emulator's one-by-one int32 additions
            input[0] += self._RT @ counts

    def update_traces(self, t, rng):
        for synapse, trace in self.traces.items():
            mask = self.trace_masks[synapse]
            axon = self.delivered(synapse)
            if axon.size:
                before = np.count_nonzero(mask)
                mask[axon] = True
                # a spike on an axon already marked (this epoch or this step) is lost
                if np.count_nonzero(mask) - before < axon.size:
                    self.error("Synaptic trace spikes lost")
            if t % synapse.train_epoch == 0:
                decay = np.exp(-synapse.train_epoch / synapse.tracing_tau)
                trace1 = decay * trace
                trace1[mask] += synapse.tracing_mag
                trace[:] = self._trace_round(trace1, rng=rng)
                mask[:] = False

    def update_pes_errors(self, errors):
        """nengo-loihi's ``scale_pes_errors`` (scale, round, clip to +-127, with its
        warnings) on each error, summed per synapse group."""
        for pes_errors in self.pes_errors.values():
            pes_errors[:] = 0
        for synapse, _, e in errors:
            error = np.round(self.pes_error_scale * e).astype(np.int32)
            if error.size and (error.max() > 127 or error.min() < -127):
                error = discretize.scale_pes_errors(e, scale=self.pes_error_scale)
            self.pes_errors[synapse] += error

    def update_weights(self, t, rng):
        super().update_weights(t, rng)
        for synapse in self.pes_errors:
            if t % synapse.learn_epoch == 0:
                self._refresh(synapse)

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
            learn_w * 2 ** (-LEARN_FRAC - shift_bits), clip=2 ** (8 - shift_bits) - 1, rng=rng
        )
        w[:] = np.left_shift(learn_w, wgt_exp + shift_bits)


def stochastic_round(x, rng, clip=None, dtype=np.int32):
    """``sign(x) (floor|x| + [frac|x| > p])``, ``p ~ U[0, 1)`` from ``rng.rand``,
    clipped to ``clip`` in magnitude: nengo-loihi's rounding of learned weights."""
    x_sign = np.sign(x).astype(dtype)
    x_frac, x_int = np.modf(np.abs(x))
    p = rng.rand(*x.shape)
    y = x_int.astype(dtype) + (x_frac > p)
    if clip is not None:
        q = y > clip
        if np.any(q):
            warnings.warn("Clipping learning weights")
        y[q] = clip
    return x_sign * y


class FastCompartmentState(emulator_interface.CompartmentState):
    """``CompartmentState`` with the integer update in fewer array passes.

    The same arithmetic as nengo-loihi's (``decay_int``: ``sign(x) floor(|x| r /
    2^12)`` with ``r = 2^12 - offset - decay``); overflow is first tested with
    one min/max, and nengo-loihi's wrap-around is applied only where a value
    left its range. The noise draw is made every step, as in nengo-loihi, even
    where noise is off, so the emulator's random stream is the same.
    """

    def __init__(self, block_info, strict=True):
        super().__init__(block_info, strict=strict)
        self._r_u = (2**12 - 1 - np.asarray(self.decay_u)).astype(np.int64)
        self._r_v = (2**12 - 0 - np.asarray(self.decay_v)).astype(np.int64)
        self._noise_on = bool(np.any(self.noise.enabled))
        self._q_max = 2 ** discretize.Q_BITS
        self._u_max = 2 ** discretize.U_BITS

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
            noise = self.noise.sample(rng)
        else:
            self.noise._uniform(rng)  # nengo-loihi draws it every step
            noise = None
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
    """nengo-loihi's ``EmulatorInterface`` with `FastCompartmentState` and
    `FastSynapseState` (integer models)."""

    def __init__(self, model, seed=None):
        super().__init__(model, seed=seed)
        if self.block_info.dtype == np.int32:
            self.compartment = FastCompartmentState(self.block_info, strict=self.strict)
            self.synapses = FastSynapseState(
                self.block_info,
                pes_error_scale=getattr(model, "pes_error_scale", 1.0),
                strict=self.strict,
            )
            self.synapses.attach(self.inputs)
