"""What crosses chip <-> host each step, against a hand count on the 2-1 network."""

import nengo

from errormc.benchmarks.experiment import spiking_network
from errormc.benchmarks.protocol import Session
from errormc.hardware.loihi.counters import ActivityCounter
from errormc.hardware.loihi.placement import traffic_totals

nengo.rc.set("decoder_cache", "enabled", "False")


def test_host_traffic_of_the_21_network_is_the_hand_count():
    """Hand count for the 2-1 spiking microcircuit under nengo-loihi 1.1.

    Host -> chip (spike-encoded values; each value is K on/off pairs of spike trains,
    K = 2 for ensembles (errormc.hardware.loihi.encoding), 1 for the gate's neurons):
      input x (2, from the session's ``schedule`` node, which holds every per-step
      row) and the input offset (2) into the input population; the target (from the
      schedule too), padded by the host into the 2-D error population input (2); the nudging gate
      onto the error neurons (1); the learned drive b_1 = D_1 a_0, back from the
      host node ``basal`` into the representation (1; splitter rule 3 put ``basal``
      on the host). The apical nudging eps -> representation stays on chip (the
      ``eps`` node only sums, and nengo-loihi removes it).
    Host -> chip PES: the output error (1) into the learning synapses of W1.
    Chip -> host: the decoded output (1), the learned decoders' output D_1 a_0 (1)
      and the error population's eps for the PES error relay (1; rule 4: no on-chip
      error source), each read from an on/off pair of decode compartments.
    """
    session = Session(spiking_network(layers=[2, 1], seed=0), 2, 1, backend="loihi")
    net, sim = session.net, session.sim

    def names(labels):  # the network's objects, without its own label
        return tuple(label.removeprefix("SpikingErrorMicrocircuit.") for label in labels)

    rows = {(r["direction"], names(r["sources"]), names(r["targets"])): r
            for r in sim.placement["host_traffic"]}
    expected = {
        ("host->chip", ("schedule",), ("input_area",)): (2, "input"),
        ("host->chip", ("input_offset",), ("input_area",)): (2, "input"),
        ("host->chip", ("schedule",), ("area1.error.error_0",)): (2, "input"),
        ("host->chip", ("gate",), ("area1.error.error_0",)): (1, "input"),
        ("host->chip", ("area1.basal",), ("area1.representation",)): (1, "learned drive"),
        ("host->chip PES", ("area1.error_relay",), ("W1_probe (learning synapses)",)): (1, "PES error"),
        ("chip->host", ("area1.representation",), ("output",)): (1, "readout"),
        ("chip->host", ("input_area",), ("area1.basal",)): (1, "learned output"),
        ("chip->host", ("area1.error.error_0",), ("area1.error_relay",)): (1, "error readout"),
    }
    assert {k: (r["values"], r["role"]) for k, r in rows.items()} == expected
    loop = {k for k, r in rows.items() if r["learning_loop"]}
    assert loop == {k for k, (_, role) in expected.items() if role not in ("input", "readout")}
    # values into ensembles: K on/off pairs each (the chip model's encoding);
    # into neurons (the gate): nengo-loihi's one pair
    pairs = sim.model.node_neurons.pairs_per_dim
    for (direction, sources, _), r in rows.items():
        if direction == "host->chip":
            assert r["channels"] == 2 * r["values"] * (1 if sources == ("gate",) else pairs)
        if direction == "chip->host":
            assert r["compartments"] == 2 * r["values"]
    totals = traffic_totals(sim.placement["host_traffic"])
    assert totals["host->chip"] == {"crossings": 5, "values": 8, "learning_loop_values": 1}
    assert totals["host->chip PES"] == {"crossings": 1, "values": 1, "learning_loop_values": 1}
    assert totals["chip->host"] == {"crossings": 3, "values": 3, "learning_loop_values": 2}

    # the emulator's own traffic in a run agrees: one PES error and 6 compartments per step
    counter = ActivityCounter(sim, net)
    with sim:
        sim.run_steps(30)
    t = counter.totals()
    assert t["errors_in"] == 30 * 1
    assert t["values_out"] == 30 * sum(r["compartments"] for r in rows.values()
                                       if r["direction"] == "chip->host")
    # spikes in: at most one per spike channel per step
    assert 0 < t["host_spikes_in"] <= 30 * sum(r.get("channels", 0) for r in rows.values()
                                               if r["direction"] == "host->chip")
