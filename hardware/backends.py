"""One entry point for both backends; the only module that imports nengo_loihi.

nengo-loihi 1.1 was released for nengo <= 3.2 and warns on import under nengo 4;
the models used here were checked against nengo 4.1, so that one warning is
silenced here, and nowhere else.
"""

import warnings

import nengo

BACKENDS = ("nengo", "loihi")


def import_nengo_loihi():
    """Import nengo_loihi without its nengo-version warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*has not been tested with your `nengo` version.*"
        )
        import nengo_loihi  # pylint: disable=import-outside-toplevel
    return nengo_loihi


def Simulator(network, backend="nengo", dt=0.001, progress_bar=False, **kwargs):
    """Build ``network`` on the chosen backend.

    Parameters
    ----------
    network : nengo.Network
    backend : "nengo" or "loihi"
        ``nengo``: the Nengo reference simulator. ``loihi``: the nengo-loihi
        emulator (``target="sim"``), with its chip constraints.
    dt : float
        Simulator time step (the microcircuit uses ms, dt = 0.01).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend: unknown {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "nengo":
        return nengo.Simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
    nengo_loihi = import_nengo_loihi()
    return nengo_loihi.Simulator(
        network, dt=dt, target="sim", progress_bar=progress_bar, **kwargs
    )
