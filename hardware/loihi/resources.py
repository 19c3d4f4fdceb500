"""Chip resources of a built nengo-loihi model after allocation to cores and chips.

`chip_resources(sim)` allocates the model's blocks with nengo-loihi's own
``Greedy`` allocator (one block per core, chips filled in order; it needs no
chip) and reports, per core and in total, what the blocks occupy against the
per-core limits of the constants profile (`errormc.hardware.energy.load_constants`):

    compartments            <= chip.compartments_per_core   (1024 on Loihi 1)
    input axons             <= chip.input_axons_per_core
    output axon slots       <= chip.output_axons_per_core
    synapse memory (bits)   <= chip.synapse_bits_per_core

with synapse memory as nengo-loihi encodes it (``Synapse.bits()``: weights,
indices, per-axon headers in 64-bit words). Each core also gets a position
on the chip's tile mesh (``tile = core // cores_per_tile``, ``x = tile mod
mesh_tiles_x``, ``y = tile div mesh_tiles_x``), used to count spike hops.

A block over a per-core limit raises `ResourceError` naming it (no number of
chips helps); a network needing more chips than ``max_chips`` raises
`ResourceError` saying how many it needs.
"""

import math
import warnings
from collections import OrderedDict

import numpy as np

from ..energy import load_constants
from .compat import Greedy


class ResourceError(ValueError):
    """The network does not fit the chip(s) it was asked to fit."""


LIMITS = (
    ("compartments", "chip.compartments_per_core"),
    ("input_axons", "chip.input_axons_per_core"),
    ("output_axons", "chip.output_axons_per_core"),
    ("synapse_bits", "chip.synapse_bits_per_core"),
)


def block_usage(block):
    """What one block occupies on its core (plain ints)."""
    syns = list(block.synapses)
    return OrderedDict(
        compartments=int(block.compartment.n_compartments),
        synapses=int(sum(s.size() for s in syns)),
        learning_synapses=int(sum(s.size() for s in syns if s.learning)),
        synapse_bits=int(sum(s.bits() for s in syns)),
        input_axons=int(sum(s.n_axons for s in syns)),
        output_axons=int(sum(a.axon_slots() for a in block.axons)),
    )


def tile_position(core, constants):
    """``(tile, x, y)`` of core index ``core`` on its chip's tile mesh."""
    per_tile = int(constants["chip.cores_per_tile"])
    nx = int(constants["chip.mesh_tiles_x"])
    tile = core // per_tile
    return tile, tile % nx, tile // nx


def chip_resources(sim, constants=None, max_chips=None, blocks_info=None):
    """Resources of ``sim.model`` after allocation (nengo-loihi ``Greedy``).

    Parameters
    ----------
    sim : nengo_loihi.Simulator
        A built nengo-loihi simulator (emulator or hardware target).
    constants : `errormc.hardware.energy.Constants`, optional
        Profile with the per-core limits and mesh (default ``davies2018``).
    max_chips : int, optional
        Raise `ResourceError` if the network needs more chips (1: must fit one chip).
    blocks_info : list of dict, optional
        `errormc.hardware.counters.describe_blocks` rows, to name the cores.

    Returns
    -------
    dict
        ``chips`` (needed), ``cores``, ``tiles`` (occupied, per chip summed),
        totals ``compartments``, ``synapses``, ``learning_synapses``,
        ``synapse_bits``, ``input_axons``, ``output_axons``; ``limits`` (per core);
        ``cores_detail``: per core ``chip``, ``core``, ``tile``, ``x``, ``y``,
        ``block`` and its usage with ``utilisation`` (fraction of each limit).
    """
    if constants is None:
        constants = load_constants()
    model = sim.model
    blocks = list(model.blocks)
    limits = OrderedDict((name, int(constants[key])) for name, key in LIMITS)
    usages = [block_usage(b) for b in blocks]
    over = []
    for block, usage in zip(blocks, usages):
        for name, limit in limits.items():
            if usage[name] > limit:
                over.append(f"{block.label}: {name} {usage[name]} > {limit} per core")
    if over:
        raise ResourceError(
            "network does not fit Loihi cores (a block exceeds a per-core limit): "
            + "; ".join(over)
        )

    per_chip = int(constants["chip.cores_per_chip"])
    n_chips = max(1, math.ceil(len(blocks) / per_chip))
    if max_chips is not None and n_chips > max_chips:
        raise ResourceError(
            f"network does not fit {max_chips} chip(s): it needs {n_chips} chips "
            f"({len(blocks)} cores at {per_chip} cores per chip)"
        )

    board = _allocate(model, n_chips, per_chip)
    where = {}
    for chip_idx, chip in enumerate(board.chips):
        for core_idx, core in enumerate(chip.cores):
            for block in core.blocks:
                where[id(block)] = (chip_idx, core_idx)

    cores = []
    tiles = set()
    for i, (block, usage) in enumerate(zip(blocks, usages)):
        chip_idx, core_idx = where[id(block)]
        tile, x, y = tile_position(core_idx, constants)
        tiles.add((chip_idx, tile))
        row = OrderedDict(chip=chip_idx, core=core_idx, tile=tile, x=x, y=y, block=str(block.label))
        if blocks_info is not None:
            row["group"] = blocks_info[i]["group"]
        row.update(usage)
        row["utilisation"] = OrderedDict(
            (name, usage[name] / limit) for name, limit in limits.items()
        )
        cores.append(row)

    out = OrderedDict(
        chips=len(board.chips),
        cores=len(cores),
        tiles=len(tiles),
        allocator="nengo_loihi.hardware.allocators.Greedy",
    )
    for key in ("compartments", "synapses", "learning_synapses", "synapse_bits",
                "input_axons", "output_axons"):
        out[key] = int(sum(u[key] for u in usages))
    out["limits"] = limits
    out["max_utilisation"] = OrderedDict(
        (name, max((c["utilisation"][name] for c in cores), default=0.0)) for name in limits
    )
    out["cores_detail"] = cores
    return out


def _allocate(model, n_chips, cores_per_chip):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Greedy(cores_per_chip=cores_per_chip)(model, n_chips=n_chips)


def core_positions(resources):
    """Arrays ``(chip, x, y)`` per block (emulator order) from `chip_resources`."""
    rows = resources["cores_detail"]
    return (
        np.array([r["chip"] for r in rows]),
        np.array([r["x"] for r in rows]),
        np.array([r["y"] for r in rows]),
    )
