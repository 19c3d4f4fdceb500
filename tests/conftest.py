import os

import matplotlib
import nengo
import pytest

matplotlib.use("Agg")

# nengo's decoder cache pickles numpy objects; a cache written under another numpy
# breaks runs, so tests never read or write it.
nengo.rc.set("decoder_cache", "enabled", "False")

DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.fixture
def data_path():
    return lambda name: os.path.join(DATA, name)
