"""The weights file format (``.npz``) and its validation.

Arrays (post x pre):

* forward: ``W1..WL`` (weights into area l; layered), or one ``W`` over the
  concatenated rates ``[input; area 1; ...; area L]`` (skip, MODEL.md 1.9);
* backward: ``B1..B{L-1}`` (error of area l+1 -> error dendrites of area l), or one
  ``B`` over all error units (skip);
* lateral: ``WIP1..WIPL`` (P, representation -> error), ``BPI1..BPIL`` (Q, error ->
  apical);
* optional: ``Bnoise`` / ``Bnoise1..`` (the fixed noise of ``bp`` mode, shaped like
  the backward weights), ``u1..uL`` and ``e1..eL`` (initial somatic voltages of
  representation and error units).
"""

import os

import numpy as np


def expected_shapes(layers, errors, connectivity, backward):
    """Required and optional array names with their shapes."""
    L = len(layers) - 1
    required, optional = {}, {}
    if connectivity == "skip":
        required["W"] = (sum(layers),) * 2
        required["B"] = (sum(errors),) * 2
        optional["Bnoise"] = (sum(errors),) * 2
    else:
        for l in range(1, L + 1):
            required[f"W{l}"] = (layers[l], layers[l - 1])
        for l in range(1, L):
            required[f"B{l}"] = (errors[l - 1], errors[l])
            optional[f"Bnoise{l}"] = (errors[l - 1], errors[l])
    for l in range(1, L + 1):
        required[f"WIP{l}"] = (errors[l - 1], layers[l])
        required[f"BPI{l}"] = (layers[l], errors[l - 1])
        optional[f"u{l}"] = (layers[l],)
        optional[f"e{l}"] = (errors[l - 1],)
    return required, optional


def read_arrays(source, field="init_weights"):
    """``(arrays, where)`` from a path (``.npz``) or a mapping of arrays; ``where``
    names the source in error messages."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ValueError(f"{field}: file {path!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: np.array(data[k]) for k in data.files}
        except Exception as e:  # noqa: BLE001 - any unreadable file is a user error
            raise ValueError(f"{field}: cannot read {path!r} as .npz ({e})") from None
        return arrays, f"{field} {path!r}"
    return {k: np.asarray(v) for k, v in dict(source).items()}, field


def load_arrays(source, required, optional=None, field="init_weights"):
    """Read ``source`` and validate it against ``{name: shape}`` of required and
    optional arrays; return the arrays found, as floats.

    Raises
    ------
    ValueError
        Naming the file, the array and its expected and actual shape, for a
        missing file, a missing array, a wrong shape or a non-finite value.
    """
    arrays, where = read_arrays(source, field)
    optional = optional or {}
    out = {}
    for name, shape in list(required.items()) + list(optional.items()):
        shape = tuple(shape)
        if name not in arrays:
            if name in required:
                raise ValueError(
                    f"{where}: missing array {name!r} (expected shape {shape}; "
                    f"has {sorted(arrays) or 'no arrays'})"
                )
            continue
        value = np.asarray(arrays[name], dtype=float)
        if value.shape != shape:
            raise ValueError(
                f"{where}: array {name!r} has shape {value.shape}, expected {shape}"
            )
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{where}: array {name!r} contains NaN or inf")
        out[name] = value
    return out


def load(source, layers, errors, connectivity, backward, field="init_weights"):
    """Read and validate an error microcircuit's weights from a path or a mapping
    of arrays (`load_arrays` with the shapes of `expected_shapes`)."""
    required, optional = expected_shapes(layers, errors, connectivity, backward)
    return load_arrays(source, required, optional, field)


def save(path, arrays):
    """Write arrays to ``path`` (.npz), atomically."""
    path = os.fspath(path)
    tmp = f"{path}.tmp.npz"
    np.savez(tmp, **{k: np.asarray(v) for k, v in arrays.items()})
    os.replace(tmp, path)
    return path
