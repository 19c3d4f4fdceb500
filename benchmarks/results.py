"""One run's results directory: config, metrics, arrays and figures.

Files are written to a temporary name and renamed into place, so a file is
either complete or absent, also after a crash.
"""

import json
import os

import numpy as np


def atomic_write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


class RunDirectory:
    """The results directory of one run.

    Parameters
    ----------
    path : str
        Created if absent.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        os.makedirs(self.path, exist_ok=True)

    def file(self, name):
        return os.path.join(self.path, name)

    def write_config(self, config):
        return atomic_write_text(self.file("config.toml"), config.to_toml())

    def write_metrics(self, metrics):
        return self.write_json("metrics.json", metrics)

    def write_json(self, name, value):
        text = json.dumps(_jsonable(value), indent=2, sort_keys=True)
        return atomic_write_text(self.file(name), text + "\n")

    def write_arrays(self, name, arrays):
        from errormc.networks.weights import save

        return save(self.file(name), arrays)

    def write_figure(self, name, figure):
        import matplotlib.pyplot as plt

        path = self.file(name)
        tmp = f"{path}.tmp.png"
        figure.savefig(tmp, dpi=120, bbox_inches="tight")
        plt.close(figure)
        os.replace(tmp, path)
        return path
