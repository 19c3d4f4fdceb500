"""Activity counts of the nengo-loihi emulator against hand-computed values."""

import numpy as np
import nengo
import pytest

from errormc.hardware.backends import Simulator
from errormc.hardware.loihi.compat import nengo_loihi
from errormc.hardware.loihi.counters import BLOCK_FIELDS, ActivityCounter
from errormc.hardware.loihi.resources import ResourceError, chip_resources


def _driven_network(n_pre=8, n_post=5, bias=250.0):
    """``n_pre`` bias-driven spiking neurons into ``n_post`` silent ones (dense weights)."""
    with nengo.Network(seed=0) as net:
        a = nengo.Ensemble(
            n_pre, 1, label="a", neuron_type=nengo_loihi.neurons.LoihiSpikingRectifiedLinear(),
            gain=nengo.dists.Choice([0.0]), bias=nengo.dists.Choice([bias]),
        )
        b = nengo.Ensemble(n_post, 1, label="b", gain=nengo.dists.Choice([1.0]),
                           bias=nengo.dists.Choice([0.0]))
        # zero weights: b stays silent, but every weight is still read per spike
        nengo.Connection(a.neurons, b.neurons, transform=np.zeros((n_post, n_pre)))
        net.probe = nengo.Probe(a.neurons)
    return net


def _counted(net, steps=None):
    """The emulator of ``net`` with an `ActivityCounter`; with ``steps``, run
    that many steps and closed."""
    sim = Simulator(net, backend="loihi", dt=0.001)
    counter = ActivityCounter(sim, net)
    if steps is not None:
        with sim:
            sim.run_steps(steps)
    return sim, counter


def test_known_rate_into_known_fanout():
    # LoihiSpikingRectifiedLinear with input J = 250 (dt = 1 ms): the voltage
    # gains J dt = 0.25 per step and spikes when it *exceeds* 1, i.e. on step 5;
    # it restarts from 0, so every 5th step: 20 spikes per neuron in 100 steps.
    n_pre, n_post, T = 8, 5, 100
    net = _driven_network(n_pre, n_post)
    sim, counter = _counted(net, T)
    spikes = n_pre * (T // 5)
    # a spike of step t is delivered in step t + 1: the spikes of step 100 are not
    delivered = n_pre * (T // 5 - 1)
    chip = counter.summary()["chip"]
    blocks = {b["group"]: b for b in counter.summary()["blocks"]}
    assert blocks["a"]["spikes"] == spikes == 160
    assert np.count_nonzero(sim.data[net.probe]) == spikes  # the emulator's own record
    assert blocks["b"]["synaptic_ops"] == delivered * n_post == 760
    assert blocks["a"]["spike_messages"] == delivered == 152
    assert chip["synaptic_ops"] == 760 and chip["spikes"] == 160
    # a's compartments integrate their bias every step; b's never leave zero
    assert blocks["a"]["active_compartments"] == n_pre * T
    assert blocks["b"]["active_compartments"] == 0
    assert blocks["b"]["idle_compartments"] == n_post * T
    assert chip["learning_updates"] == 0 and chip["errors_in"] == 0


def test_per_step_counts_and_phases():
    net = _driven_network()
    sim, counter = _counted(net)
    with sim:
        with counter.phase("first"):
            sim.run_steps(10)
        counter.label("second")  # from now on, as a driver's callback labels its stages
        sim.run_steps(10)
    spikes = counter.per_step("spikes")[:, 0]
    # spikes on steps 5, 10, 15, 20 (index 4, 9, ...): all 8 neurons at once
    assert np.flatnonzero(spikes).tolist() == [4, 9, 14, 19]
    assert spikes.sum() == 32
    ops = counter.per_step("synaptic_ops")[:, 1]
    assert np.flatnonzero(ops).tolist() == [5, 10, 15]  # one step later, x fan-out 5
    assert np.all(ops[[5, 10, 15]] == 8 * 5)
    assert counter.steps("first") == counter.steps("second") == 10
    assert counter.totals("first")["spikes"][0] == 16
    assert counter.totals("second")["synaptic_ops"][1] == 2 * 40
    # every compartment is updated every step, active or idle
    both = counter.per_step("active_compartments") + counter.per_step("idle_compartments")
    assert np.all(both == counter.compartments)


def test_idle_network_counts_nothing():
    with nengo.Network(seed=0) as net:
        a = nengo.Ensemble(12, 1, label="a", gain=nengo.dists.Choice([1.0]),
                           bias=nengo.dists.Choice([0.0]))
        b = nengo.Ensemble(6, 1, label="b", gain=nengo.dists.Choice([1.0]),
                           bias=nengo.dists.Choice([0.0]))
        nengo.Connection(a.neurons, b.neurons, transform=np.ones((6, 12)))
    sim, counter = _counted(net, 50)
    chip = counter.summary()["chip"]
    assert chip["spikes"] == chip["synaptic_ops"] == chip["spike_messages"] == 0
    assert chip["active_compartments"] == 0
    assert chip["idle_compartments"] == (12 + 6) * 50
    assert chip["host_spikes_in"] == chip["values_out"] == chip["errors_in"] == 0


def _learning_network(n_pre=20, d=2):
    with nengo.Network(seed=1) as net:
        stim = nengo.Node(0.5, label="stim")
        pre = nengo.Ensemble(n_pre, 1, label="pre")
        nengo.Connection(stim, pre)
        post = nengo.Node(size_in=d, label="post")
        conn = nengo.Connection(pre, post, function=lambda x: np.zeros(d),
                                learning_rule_type=nengo.PES(1e-3))
        # the error depends on the chip's output (a host node, as in SpikingErrorMicrocircuit)
        err = nengo.Node(lambda t, x: np.linspace(0.1, -0.2, d), size_in=d, label="error")
        nengo.Connection(post, err, synapse=None)
        nengo.Connection(err, conn.learning_rule)
    return net


def test_learning_updates_and_host_traffic():
    n_pre, d, T = 20, 2, 103
    net = _learning_network(n_pre, d)
    sim, counter = _counted(net, T)
    chip = counter.summary()["chip"]
    # the learned decoders sit on 2 d on/off decode compartments: 2 d n_pre weights
    learning_synapses = 2 * d * n_pre
    assert counter.learning_synapses.sum() == learning_synapses == 80
    # nengo-loihi's PES learns every learn_epoch = 4 steps
    epochs = T // 4
    assert chip["learning_epochs"] == epochs == 25
    assert chip["learning_updates"] == learning_synapses * epochs == 2000
    # every step the host writes d error values and reads the 2 d decode compartments
    assert chip["errors_in"] == d * T
    assert chip["values_out"] == 2 * d * T
    kinds = [b["kind"] for b in counter.blocks]
    assert kinds == ["population", "learned readout"]


def test_a_host_input_spike_reads_only_the_synapses_it_has():
    """Host values enter an ensemble as spikes (2 on/off pairs per dimension,
    `errormc.hardware.loihi.discretisation`: 12 input channels here); with
    per-input encoders (`errormc.networks.spiking.per_input_encoders`) each
    delivered spike reads the 4 neurons of its own dimension, with random
    encoders all 12."""
    from errormc.networks.spiking import per_input_encoders

    d, per_dim, T = 3, 4, 50
    ops, host = {}, {}
    for per_input in (False, True):
        with nengo.Network(seed=0) as net:
            stim = nengo.Node([0.3, -0.2, 0.1])
            kwargs = dict(encoders=per_input_encoders(d, per_dim)) if per_input else {}
            ens = nengo.Ensemble(d * per_dim, d, label="a", **kwargs)
            nengo.Connection(stim, ens, synapse=None)
        sim, counter = _counted(net, T)
        ops[per_input] = {b["group"]: b for b in counter.summary()["blocks"]}["a"]["synaptic_ops"]
        host[per_input] = counter.totals()["host_spikes_in"]
    # the same host spikes; those of the last step (at most one per channel) are
    # not delivered yet
    assert host[False] == host[True] > 0
    delivered = ops[False] // (d * per_dim)
    assert ops[False] == delivered * d * per_dim
    assert host[False] - 2 * 2 * d <= delivered <= host[False]
    assert ops[True] == delivered * per_dim


def test_counter_needs_the_emulator():
    with nengo.Network() as net:
        nengo.Ensemble(5, 1)
    with Simulator(net, backend="nengo", dt=0.001) as sim:
        with pytest.raises(ValueError, match="emulator"):
            ActivityCounter(sim, net)


def test_detach_restores_the_emulator():
    net = _driven_network()
    sim, counter = _counted(net)
    with sim:
        sim.run_steps(5)
        counter.detach()
        sim.run_steps(5)
    assert counter.n_steps == 5


def test_unknown_field():
    net = _driven_network()
    sim, counter = _counted(net)
    with pytest.raises(ValueError, match="field"):
        counter.per_step("joules")
    assert set(BLOCK_FIELDS) <= set(counter.totals())
    sim.close()


def test_spiking_microcircuit_blocks_are_named_and_resources_agree():
    from errormc.benchmarks.experiment import spiking_network
    from errormc.benchmarks.protocol import Session

    factory = spiking_network(layers=[2, 2, 1], seed=0, neurons_per_unit=10, error_neurons=20)
    session = Session(factory, 2, 1, backend="loihi")
    sim = session.sim
    counter = ActivityCounter(sim, session.net)
    res = chip_resources(sim, blocks_info=counter.blocks)
    placement = sim.placement["resources"]
    with sim:
        sim.run_steps(20)
    groups = {b["group"] for b in counter.blocks}
    assert {"input_area", "area1.representation", "area1.error", "area2.representation",
            "area2.error"} <= groups
    assert any(b["kind"] == "learned readout" for b in counter.blocks)
    # placement report, resources and the counted emulator agree
    assert placement["compartments"] == res["compartments"] == counter.compartments.sum()
    assert placement["synapses"] == res["synapses"] == counter.synapses.sum()
    assert placement["learning_synapses"] == res["learning_synapses"] == counter.learning_synapses.sum()
    assert res["cores"] == placement["cores"] and res["chips"] == 1


def test_resource_errors():
    from errormc.hardware.energy import Constants, load_constants

    with nengo.Network(seed=0) as net:
        for i in range(3):
            nengo.Ensemble(10, 1, label=f"e{i}")
    sim = Simulator(net, backend="loihi", dt=0.001)
    base = load_constants()
    res = chip_resources(sim, base, max_chips=1)
    assert (res["cores"], res["chips"], res["compartments"]) == (3, 1, 30)
    assert [(c["tile"], c["x"], c["y"]) for c in res["cores_detail"]] == [(0, 0, 0)] * 3

    def profile(**chip):
        data = {"profile": {"name": "test"}, "sources": base.sources,
                "chip": {k.split(".", 1)[1]: dict(e) for k, e in base.entries.items()
                         if k.startswith("chip.")}}
        for k, v in chip.items():
            data["chip"][k]["value"] = v
        return Constants(data)

    # two cores per chip: three blocks need two chips
    small = profile(cores_per_chip=2)
    assert chip_resources(sim, small)["chips"] == 2
    with pytest.raises(ResourceError, match="needs 2 chips"):
        chip_resources(sim, small, max_chips=1)
    with pytest.raises(ResourceError, match="compartments 10 > 8 per core"):
        chip_resources(sim, profile(compartments_per_core=8))
    sim.close()
