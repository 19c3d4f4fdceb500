"""One run's results directory: config, metrics, arrays and figures.

Files are written to a temporary name and renamed into place, so a file is
either complete or absent, also after a crash; a whole run is written in a fresh
directory and renamed into place (`prepare_out`), so a directory never mixes the
files of two runs.
"""

import contextlib
import json
import os
import shutil
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from errormc.networks.errors import ConfigError
from errormc.networks.weights import save

CHECKPOINT = "checkpoint.npz"
#: the one before, kept by the runs of a seed batch
PREVIOUS_CHECKPOINT = "checkpoint.previous.npz"
FAILED = "failed.json"
METRICS = "metrics.json"
#: epochs done so far, in a running run's working directory (sweeps read it)
PROGRESS = "progress.json"


def read_metrics(path):
    """The metrics of the finished run in directory ``path``, or None (no run
    finished there)."""
    try:
        with open(os.path.join(os.fspath(path), METRICS)) as f:
            return json.load(f)
    except (FileNotFoundError, NotADirectoryError):
        return None


def working_dir(path):
    """Where the run for ``path`` is written until it is complete: ``.NAME.running``
    beside it (found again by ``--resume``, also after a crash)."""
    path = os.path.abspath(os.fspath(path))
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.running")


def check_out(path, field="out", force=False, run=True):
    """Refuse an output path before any computing starts.

    A path that is a file, under a file, or in a folder that cannot be written is
    refused; with ``run``, so is a folder that holds a finished run (unless
    ``force``) or other files, and a path whose run is unfinished (continue it
    with ``--resume``, or ``force`` a new one).
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"{field}: {path!r} is a file, not a directory")
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ConfigError(f"{field}: {path!r} lies under {probe!r}, which is a file")
    try:
        # a real write: permissions alone do not tell (root, read-only mounts, /proc)
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as e:
        raise ConfigError(f"{field}: cannot write to {probe!r} ({e.strerror})") from None
    if not run:
        return path
    work = working_dir(path)
    if os.path.isdir(work) and not force:
        what = ("failed (see failed.json there)" if os.path.exists(os.path.join(work, FAILED))
                else "unfinished")
        raise ConfigError(f"{field}: the run of {path!r} is {what} in {work!r}; continue it "
                          f"with errormc run --resume {path}, or pass --force to start over")
    if not os.path.isdir(path) or not os.listdir(path):
        return path
    if os.path.isfile(os.path.join(path, METRICS)):
        if force:
            return path
        raise ConfigError(f"{field}: {path!r} holds a finished run; choose another "
                          "directory or pass --force to replace it")
    raise ConfigError(f"{field}: {path!r} is not empty and is not a run directory")


def start_working_dir(path, force=False):
    """A new, empty working directory for the run of ``path`` (any earlier one
    removed): for drivers that write into it (checkpoints) before they complete
    it with ``prepare_out(path, resume=True)``. Returns its `RunDirectory`."""
    path = os.path.abspath(path)
    check_out(path, force=force)
    work = working_dir(path)
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    return RunDirectory(work)


@contextlib.contextmanager
def prepare_out(path, force=False, resume=False):
    """A `RunDirectory` in `working_dir` (``path``), renamed to ``path`` when complete.

    A complete run replaces what was at ``path`` (only reached with ``force``); a
    run that raises stays in the working directory with its checkpoint or failure
    record, named in the error, and ``path`` is untouched. ``resume`` continues in
    the existing working directory.
    """
    path = os.path.abspath(path)
    work = working_dir(path)
    if not resume:
        start_working_dir(path, force)
    directory = RunDirectory(work)
    try:
        yield directory
    except BaseException:
        if set(os.listdir(work)) <= {"config.toml"}:
            # nothing computed: leave nothing behind that looks like a run
            shutil.rmtree(work, ignore_errors=True)
        raise
    _swap(work, path)
    directory.path = path


def _swap(work, path):
    """Put ``work`` at ``path``, removing what was there after the rename."""
    old = None
    if os.path.exists(path):
        old = f"{work}.old"
        os.replace(path, old)
    os.replace(work, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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

    def write_progress(self, done, epochs):
        """Record that ``done`` of ``epochs`` epochs have finished."""
        return self.write_json(PROGRESS, {"epochs_done": int(done), "epochs": int(epochs)})

    def write_metrics(self, metrics):
        return self.write_json(METRICS, metrics)

    def write_json(self, name, value):
        text = json.dumps(_jsonable(value), indent=2, sort_keys=True)
        return atomic_write_text(self.file(name), text + "\n")

    def write_arrays(self, name, arrays):
        return save(self.file(name), arrays)

    def write_figure(self, name, figure):
        path = self.file(name)
        tmp = f"{path}.tmp.png"
        figure.savefig(tmp, dpi=120, bbox_inches="tight")
        plt.close(figure)
        os.replace(tmp, path)
        return path
