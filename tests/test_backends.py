"""The hardware entry point: same network on both backends, placement report."""

import nengo
import numpy as np
import pytest
from nengo.builder.ensemble import get_activities

from errormc.benchmarks.experiment import spiking_network
from errormc.benchmarks.protocol import Session
from errormc.hardware.backends import Simulator, chip_neuron_type, check_backend
from errormc.hardware.loihi.placement import quantisation_state
from errormc.networks import SpikingErrorMicrocircuit

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
    factory = spiking_network(layers=[4, 2, 1], seed=0)
    session_n = Session(factory, 4, 1, backend="nengo")
    session_l = Session(factory, 4, 1, backend="loihi")
    net, sim_n, sim_l = session_l.net, session_n.sim, session_l.sim
    with session_n, session_l:
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
        # (labels qualified by the network's label within the session's model)
        chip, host = ([o.removeprefix("SpikingErrorMicrocircuit.") for o in objs]
                      for objs in (chip, host))
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


def test_bp_backward_weights_follow_the_learned_forward_mapping():
    """bp during learning: after the output decoders have learned, B is the transpose
    of the forward mapping they now compute, fitted here independently (nengo's
    tuning curves of the hidden population at our own points, least squares
    against tanh), and far from where it started."""
    def factory(input, target, nudging, plasticity):  # noqa: ARG001
        return SpikingErrorMicrocircuit([3, 2, 1], backward="bp", wt_noise=0.0,
                                        eta=[1e-2, 1e-2], seed=1, input=input, target=target,
                                        nudging=nudging)

    rng = np.random.RandomState(0)
    P, n = 100, 30
    x = np.repeat(rng.uniform(0, 1, (n, 3)), P, axis=0)
    t = np.repeat(rng.uniform(-0.6, 0.6, (n, 1)), P, axis=0)
    t[np.arange(len(t)) % P < 30] = np.nan  # nudged once the pipeline has caught up
    with Session(factory, 3, 1) as session:
        net = session.net
        B0 = np.array(net.effective_weights(1))
        session.run(x, t, np.ones(len(x)))
        session.run(x[:200], None, np.zeros(200))  # no target: decoders frozen, B refreshed
        B = np.array(net.effective_weights(1))
        conn = net.forward[2]
        D = session.sim.signals[session.sim.model.sig[conn]["weights"]]
        ens = conn.pre_obj
        points = nengo.dists.UniformHypersphere().sample(
            2000, 2, rng=np.random.RandomState(7)) * net.areas[0].rep_radius
        A = get_activities(session.sim.data[ens], ens, points)
        features = np.hstack([np.tanh(points), np.ones((len(points), 1))])
        W_eff = np.linalg.lstsq(features, A @ D.T, rcond=None)[0][:2].T
    moved = np.linalg.norm(B - B0)
    assert moved > 0.3
    assert np.linalg.norm(B - W_eff.T) < 0.1 * moved


def test_bp_backward_weights_of_a_fixed_area_stay_initial():
    """bp with an area that does not learn (eta 0): its forward mapping never
    changes, so its B stays the initial W^T + N on both backends (nothing to
    read back: a fixed connection has no learned decoders on the chip)."""
    factory = spiking_network(layers=[3, 2, 1], seed=1, backward="bp", eta=[1e-2, 0.0])
    for backend in ("nengo", "loihi"):
        with Session(factory, 3, 1, backend=backend) as session:
            net = session.net
            session.sim.run_steps(60)  # past one bp_refresh (50 ms)
            assert np.array_equal(net.backward[1].output.B, net.initial_weights["B1"]), backend


def test_loihi_weight_reader_recovers_the_initial_forward_matrix():
    """bp: before learning, B read back through each backend's weight reader (on
    Loihi from the chip's integers) is the transpose of the initial W."""
    factory = spiking_network(layers=[3, 2, 1], seed=1, backward="bp", wt_noise=0.0)
    for backend in ("nengo", "loihi"):
        with Session(factory, 3, 1, backend=backend) as session:
            net = session.net
            W2 = net.initial_weights["W2"]
            session.sim.run_steps(5)
            B = net.effective_weights(1)
            assert net.backward[1].output.n_refreshes >= 1
            # the reader recovers the initial forward matrix from the chip's integers
            assert np.allclose(B, W2.T, atol=0.1 * np.abs(W2).max()), (backend, B, W2)
