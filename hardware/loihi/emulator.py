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

`FastEmulator` keeps the same state objects and methods and replaces only
these four with array code over all spikes and all rows at once. Integer sums
do not depend on the order of their terms, and the weight rows of a synapse are
rounded against the same ``rng.rand`` stream in the same (row-major) order, so
spike rasters, compartment states, traces and weights equal the stock
emulator's exactly (tests/test_fast_emulator.py checks this step by step).
The delivered spikes of a step are kept as arrays (``spike_axons`` and
``spike_atoms`` per synapse) instead of lists of ``Spike`` objects.

Synapses whose weight rows differ in shape (none in the networks here) and
floating-point models (``target="simreal"``) run the stock code.
"""

import warnings

import numpy as np

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
        # every row targets compartments 0..n-1 from base 0: a plain row sum
        self.dense = bool(
            np.all(self.base == 0)
            and np.all(self.indices == np.arange(n_targets))
        )


class FastSynapseState(emulator_interface.SynapseState):
    """``SynapseState`` with array code for spike delivery, input, traces and
    the integer weight update (module docstring)."""

    def __init__(self, block_info, pes_error_scale=1.0, strict=True):
        super().__init__(block_info, pes_error_scale=pes_error_scale, strict=strict)
        self.tables = {synapse: SynapseTable(synapse) for synapse in self.slices}
        self.spike_axons = {synapse: np.zeros(0, dtype=np.int64) for synapse in self.slices}
        self.spike_atoms = {synapse: np.zeros(0, dtype=np.int64) for synapse in self.slices}
        self.trace_masks = {synapse: np.zeros(synapse.n_axons, dtype=bool) for synapse in self.traces}
        self._stock_weight_update = self._weight_update
        self._weight_update = self._fast_weight_update

    def inject_current(self, t, spike_inputs, all_axons, spiked):
        axons = {synapse: [] for synapse in self.slices}
        atoms = {synapse: [] for synapse in self.slices}

        def deliver(axon, compartment_idxs):
            axon_idx = np.asarray(axon.map_axon(compartment_idxs), dtype=np.int64)
            if axon.compartment_atoms is None:
                atom = np.zeros(axon_idx.shape, dtype=np.int64)
            else:
                atom = np.asarray(axon.compartment_atoms, dtype=np.int64)[compartment_idxs]
            keep = axon_idx >= 0
            axons[axon.target].append(axon_idx[keep])
            atoms[axon.target].append(atom[keep])

        if t >= 2:  # input spikes take one time-step to arrive
            for spike_input in spike_inputs:
                idxs = np.asarray(spike_input.spike_idxs(t - 1), dtype=np.int64)
                for axon in spike_input.axons:
                    deliver(axon, idxs)
        for axon, a_idx in all_axons.items():
            deliver(axon, spiked[a_idx].nonzero()[0])
        for synapse in self.slices:
            if axons[synapse]:
                self.spike_axons[synapse] = np.concatenate(axons[synapse])
                self.spike_atoms[synapse] = np.concatenate(atoms[synapse])
            else:
                self.spike_axons[synapse] = np.zeros(0, dtype=np.int64)
                self.spike_atoms[synapse] = np.zeros(0, dtype=np.int64)

    def delivered(self, synapse):
        """Axon indices of the spikes delivered to ``synapse`` this step."""
        return self.spike_axons[synapse]

    def update_input(self, input):
        for synapse, s_slice in self.items():
            axon = self.spike_axons[synapse]
            if axon.size == 0:
                continue
            qb = input[0, s_slice]
            table = self.tables[synapse]
            if not table.uniform:
                self._update_input_rows(synapse, qb, axon, self.spike_atoms[synapse])
                continue
            base = table.base[axon]
            used = base >= 0
            row = table.weight_row[axon[used]]
            atom = self.spike_atoms[synapse][used]
            weights = table.weights[row, atom]
            if table.dense:
                n = weights.shape[1]
                qb[:n] += weights.sum(axis=0, dtype=np.int64).astype(qb.dtype)
            else:
                target = base[used, None] + table.indices[row, atom]
                total = np.bincount(
                    target.ravel(), weights=weights.ravel().astype(np.float64), minlength=qb.size
                )
                # |sums| stay far below 2^53: float64 holds them exactly
                qb += total[: qb.size].astype(qb.dtype)

    @staticmethod
    def _update_input_rows(synapse, qb, axons, atoms):
        for axon_idx, atom in zip(axons, atoms):
            base = synapse.axon_compartment_base(int(axon_idx))
            if base is None:
                continue
            weights, indices = synapse.axon_weights_indices(int(axon_idx), atom=int(atom))
            qb[base + indices] += weights

    def update_traces(self, t, rng):
        for synapse, trace in self.traces.items():
            mask = self.trace_masks[synapse]
            axon = self.spike_axons[synapse]
            if axon.size:
                if np.any(mask[axon]) or np.unique(axon).size < axon.size:
                    self.error("Synaptic trace spikes lost")
                mask[axon] = True
            if t % synapse.train_epoch == 0:
                decay = np.exp(-synapse.train_epoch / synapse.tracing_tau)
                trace1 = decay * trace
                trace1[mask] += synapse.tracing_mag
                trace[:] = self._trace_round(trace1, rng=rng)
                mask[:] = False

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


class FastEmulator(emulator_interface.EmulatorInterface):
    """nengo-loihi's ``EmulatorInterface`` with `FastSynapseState` (integer models)."""

    def __init__(self, model, seed=None):
        super().__init__(model, seed=seed)
        if self.block_info.dtype == np.int32:
            self.synapses = FastSynapseState(
                self.block_info,
                pes_error_scale=getattr(model, "pes_error_scale", 1.0),
                strict=self.strict,
            )
