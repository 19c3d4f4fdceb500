"""Per-step stimulus as a nengo `Process`: one row of an array per simulator step."""

import numpy as np
import nengo

from .errors import ConfigError


class StepRows(nengo.Process):
    """Output row ``rows[k - start]`` at simulator step k (clamped to the array).

    The per-step inputs, targets and switches of an experiment: ``load`` puts the
    rows of the next phase in place, starting at step ``start`` (the number of steps
    the simulator has already run). The output depends only on the simulator's
    step count, so ``sim.reset()`` starts the loaded rows over, a checkpoint needs
    nothing of it but the loaded arrays, and a compiled backend can read the rows
    as an array indexed by step.

    Parameters
    ----------
    size_out : int
        Width of a row.
    """

    def __init__(self, size_out, **kwargs):
        super().__init__(default_size_in=0, default_size_out=size_out, **kwargs)
        self.rows = np.zeros((1, size_out))
        self.start = 0

    def load(self, rows, start=0):
        """Present ``rows`` (T, size_out) from simulator step ``start`` on."""
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != self.default_size_out or len(rows) == 0:
            raise ConfigError(
                f"rows: shape {rows.shape}, expected (T > 0, {self.default_size_out})"
            )
        self.rows = rows
        self.start = int(start)
        return len(rows)

    def row_index(self, step):
        """Index of the row shown at simulator step ``step`` (1 for the first step)."""
        return min(max(step - 1 - self.start, 0), len(self.rows) - 1)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        def step_rows(t):
            return self.rows[self.row_index(int(round(t / dt)))]

        return step_rows
