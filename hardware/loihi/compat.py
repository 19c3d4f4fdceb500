"""The one module that imports nengo_loihi.

nengo-loihi 1.1 was released for nengo <= 3.2 and warns on import under nengo 4;
the models used here were checked against nengo 4.1, so that one warning is
silenced here, and nowhere else. Every other module of errormc reaches
nengo-loihi through the names below.
"""

import warnings

VERSION_WARNING = ".*has not been tested with your `nengo` version.*"

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=VERSION_WARNING)
    import nengo_loihi
    from nengo_loihi import block
    from nengo_loihi import simulator as simulator_module
    from nengo_loihi.builder import connection as connection_builder
    from nengo_loihi.builder import discretize
    from nengo_loihi.builder import probe as probe_builder
    from nengo_loihi import decode_neurons
    from nengo_loihi.emulator import interface as emulator_interface
    from nengo_loihi.hardware.allocators import Greedy

__all__ = ["VERSION_WARNING", "nengo_loihi", "block", "simulator_module", "connection_builder", "discretize", "probe_builder",
           "decode_neurons", "emulator_interface", "Greedy"]
