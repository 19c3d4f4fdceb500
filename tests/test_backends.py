"""The hardware entry point: same network on both backends, placement report."""

import nengo
import numpy as np
import pytest

from errormc.benchmarks.deployment import make_spiking_network
from errormc.hardware.backends import Simulator, chip_neuron_type, check_backend
from errormc.hardware.loihi.placement import quantisation_state

nengo.rc.set("decoder_cache", "enabled", "False")


@pytest.fixture(autouse=True)
def no_decoder_cache():
    nengo.rc.set("decoder_cache", "enabled", "False")


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="backend: unknown 'spinnaker'"):
        check_backend("spinnaker")
    with pytest.raises(ValueError, match="dt"):
        Simulator(nengo.Network(), dt=-1.0)


def test_chip_neuron_type():
    assert type(chip_neuron_type("lif")).__name__ == "LoihiLIF"
    with pytest.raises(ValueError, match="neuron_type"):
        chip_neuron_type("izhikevich")


def test_placement_report_421():
    net, _ = make_spiking_network("4-2-1", seed=0)
    sim_n = Simulator(net, backend="nengo")
    sim_l = Simulator(net, backend="loihi")
    with sim_n, sim_l:
        rep_n, rep_l = sim_n.placement, sim_l.placement
        # every learned connection of the network is in the report ...
        learned = {c.label for c in net.all_connections if c.learning_rule_type is not None}
        assert learned == {"W1", "W2"}
        assert {e["label"] for e in rep_l["learned_connections"]} == learned
        # ... and learns on chip on the loihi backend, on the CPU on nengo
        assert all(e["where"] == "chip" for e in rep_l["learned_connections"])
        assert all(e["where"] == "host" for e in rep_n["learned_connections"])
        # populations on chip, nodes (basal, relays, backward B, target) on host
        chip, host = rep_l["objects"]["chip"], rep_l["objects"]["host"]
        assert "input_area" in chip and "area1.representation" in chip
        assert "area2.error.error_0" in chip
        assert "area1.basal" in host and "area2.error_relay" in host and "B1" in host
        res = rep_l["resources"]
        n_neurons = sum(e.n_neurons for e in net.all_ensembles)
        # compartments: every neuron plus decode compartments
        assert res["compartments"] >= n_neurons
        assert res["learning_synapses"] == 2 * (4 * 50 * 2 + 2 * 50 * 1)  # [+D, -D] per pre neuron
        assert res["cores"] == res["blocks"] > 0
        q = rep_l["quantisation"]
        assert q["pes_error_scale"] == 100.0 and q["error_clip"] == 127
        assert {e["label"] for e in q["learned"]} == learned
        sat = quantisation_state(sim_l, net)
        assert set(sat) == learned and all(0 <= v["saturated"] <= 1 for v in sat.values())
        assert quantisation_state(sim_n, net) == {}


def test_loihi_weight_reader_tracks_transpose():
    """bp: B is refreshed from the learned decoders, starting at W^T + noise on both."""
    net, stream = make_spiking_network("3-2-1", seed=1, backward="bp", wt_noise=0.0)
    W2 = net.initial_weights["W2"]
    for backend in ("nengo", "loihi"):
        with Simulator(net, backend=backend) as sim:
            sim.run_steps(5)
            B = net.effective_weights(1)
            assert net.backward[1].output.n_refreshes >= 1
            # the reader recovers the initial forward matrix from the chip's integers
            assert np.allclose(B, W2.T, atol=0.1 * np.abs(W2).max()), (backend, B, W2)
