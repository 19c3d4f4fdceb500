"""Reading the data files users name (stimuli, initial weights, MNIST): one reader."""

import numpy as np

from errormc.networks.errors import ConfigError


def read_npz(path, field, names, help_text=""):
    """The numeric arrays ``names`` of an ``.npz`` file; a file that cannot be read
    as one, lacks an array or holds non-numeric data is a `ConfigError` naming it."""
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise ConfigError(f"{field}: {path!r} is not a readable .npz file ({e}). "
                          f"{help_text}".strip()) from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ConfigError(f"{field}: {path!r} is a .npy array, not an .npz file "
                          f"with arrays {', '.join(names)}. {help_text}".strip())
    with f:
        missing = [k for k in names if k not in f.files]
        if missing:
            raise ConfigError(f"{field}: {path!r} lacks array(s) {', '.join(missing)} "
                              f"(has {', '.join(f.files) or 'none'}). {help_text}".strip())
        try:
            arrays = {k: np.asarray(f[k]) for k in names}
        except (OSError, ValueError, EOFError) as e:
            raise ConfigError(f"{field}: {path!r} has an unreadable array ({e})") from None
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise ConfigError(f"{field}: array {k!r} of {path!r} has dtype {a.dtype}, "
                              "expected numbers")
    return arrays
