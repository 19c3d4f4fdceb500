"""Cost model: constants table, linearity, hand-computed energies and times, reports."""

import json
import os

import numpy as np
import pytest

from errormc.hardware.energy import (
    COMPONENTS,
    Constants,
    barrier_time,
    cost_phase,
    dynamic_energy,
    load_constants,
    route_hops,
    step_times,
)


@pytest.fixture(scope="module")
def davies2018():
    return load_constants("davies2018")


def _raw():
    import tomllib

    from errormc.hardware import energy

    with open(os.path.join(energy.CONSTANTS_DIR, "davies2018.toml"), "rb") as f:
        return tomllib.load(f)


def test_constants_are_the_cited_figures(davies2018):
    # Davies et al. 2018, Table 2 (0.75 V) and the per-chip static power, as cited
    expected = {
        "energy.synaptic_op": (23.6, "pJ"), "time.synaptic_op": (3.5, "ns"),
        "energy.synaptic_update": (120.0, "pJ"), "time.synaptic_update": (6.1, "ns"),
        "energy.neuron_update_active": (81.0, "pJ"), "time.neuron_update_active": (8.4, "ns"),
        "energy.neuron_update_inactive": (52.0, "pJ"), "time.neuron_update_inactive": (5.3, "ns"),
        "energy.spike_within_tile": (1.7, "pJ"), "time.spike_within_tile": (2.1, "ns"),
        "energy.tile_hop_ew": (3.0, "pJ"), "time.tile_hop_ew": (4.1, "ns"),
        "energy.tile_hop_ns": (4.0, "pJ"), "time.tile_hop_ns": (6.5, "ns"),
        "time.barrier_sync_min": (113.0, "ns"), "time.barrier_sync_max": (465.0, "ns"),
        "chip.compartments_per_core": (1024, "compartments"), "chip.cores_per_chip": (128, "cores"),
    }
    for key, (value, unit) in expected.items():
        assert davies2018[key] == value and davies2018.entries[key]["unit"] == unit, key
    assert 103 < davies2018["power.static_per_chip"] < 105
    for c in davies2018.citations():
        assert c["citation"] and c["source"], c["name"]
        if c["source"] == "davies2018" and c["name"].split(".")[0] in ("energy", "time"):
            assert "pre-silicon" in c["note"]
    assert davies2018.si("energy.synaptic_op") == pytest.approx(23.6e-12)
    assert davies2018.si("power.static_per_chip") == pytest.approx(0.1044)


def test_core_limits_match_nengo_loihi(davies2018):
    from errormc.hardware.loihi.compat import block

    assert davies2018["chip.compartments_per_core"] == block.MAX_COMPARTMENTS
    assert davies2018["chip.synapse_bits_per_core"] == block.MAX_SYNAPSE_BITS
    assert davies2018["chip.input_axons_per_core"] == block.MAX_IN_AXONS
    assert davies2018["chip.output_axons_per_core"] == block.MAX_OUT_AXONS


def test_bad_profiles():
    with pytest.raises(ValueError, match="profile"):
        load_constants("loihi9")
    data = _raw()
    data["energy"]["synaptic_op"]["source"] = "nowhere"
    with pytest.raises(ValueError, match="unknown source"):
        Constants(data)
    data = _raw()
    del data["time"]["synaptic_op"]["unit"]
    with pytest.raises(ValueError, match="lacks 'unit'"):
        Constants(data)


def _counts(**kw):
    counts = dict(
        synaptic_ops=np.array([1000, 0]), learning_updates=np.array([0, 50]),
        active_compartments=np.array([10, 0]), idle_compartments=np.array([0, 20]),
        messages=np.array([7]), route_src=[0],
    )
    counts.update(kw)
    return counts


def test_dynamic_energy_hand_computed(davies2018):
    hops = (np.array([2]), np.array([1]), np.array([False]))
    e = dynamic_energy(_counts(), hops, davies2018)
    assert e["synaptic_ops"].tolist() == pytest.approx([1000 * 23.6e-12, 0])
    assert e["learning"].tolist() == pytest.approx([0, 50 * 120e-12])
    assert e["neuron_updates"].tolist() == pytest.approx([10 * 81e-12, 20 * 52e-12])
    # 7 messages, each 1.7 pJ + 2 east-west hops x 3.0 pJ + 1 north-south hop x 4.0 pJ
    assert e["spike_routing"].tolist() == pytest.approx([7 * (1.7 + 6.0 + 4.0) * 1e-12, 0])


def test_energy_is_linear_in_each_count(davies2018):
    hops = (np.array([3]), np.array([2]), np.array([False]))
    base = dynamic_energy(_counts(), hops, davies2018)
    for field, component in (("synaptic_ops", "synaptic_ops"), ("learning_updates", "learning"),
                             ("active_compartments", "neuron_updates"),
                             ("messages", "spike_routing")):
        doubled = dynamic_energy(_counts(**{field: 2 * _counts()[field]}), hops, davies2018)
        for comp in COMPONENTS:
            factor = 2.0 if comp == component else 1.0
            if field == "active_compartments" and comp == "neuron_updates":
                # active and idle updates add: only the active part doubles
                assert doubled[comp][0] == pytest.approx(2 * base[comp][0])
                assert doubled[comp][1] == pytest.approx(base[comp][1])
            else:
                assert doubled[comp] == pytest.approx(factor * base[comp]), (field, comp)


def test_the_table_is_the_only_source_of_numbers(davies2018):
    data = _raw()
    for section in ("energy",):
        for entry in data[section].values():
            entry["value"] *= 3.0
    tripled = Constants(data)
    hops = (np.array([1]), np.array([1]), np.array([False]))
    a = dynamic_energy(_counts(), hops, davies2018)
    b = dynamic_energy(_counts(), hops, tripled)
    for comp in COMPONENTS:
        assert b[comp] == pytest.approx(3.0 * a[comp])
    # all time entries x 2: every step time doubles
    data = _raw()
    for entry in data["time"].values():
        entry["value"] *= 2.0
    doubled = Constants(data)
    per_step = {f: np.array([[100, 3], [0, 0]]) for f in
                ("synaptic_ops", "learning_updates", "active_compartments", "idle_compartments")}
    per_step["messages"] = np.array([[4], [0]])
    t1, _ = step_times(per_step, [0], hops, 5, davies2018)
    t2, _ = step_times(per_step, [0], hops, 5, doubled)
    assert t2 == pytest.approx(2 * t1)


def test_barrier_time_ends_and_interpolation(davies2018):
    assert barrier_time(1, davies2018) == pytest.approx(113e-9)
    assert barrier_time(32, davies2018) == pytest.approx(465e-9)
    assert barrier_time(2, davies2018) == pytest.approx((113 + 352 / 31) * 1e-9)
    assert barrier_time(100, davies2018) == pytest.approx(465e-9)  # clipped to one chip's mesh


def test_step_times_hand_computed(davies2018):
    # two cores; core 0 sends on route 0 (1 E-W hop) in step 0 only
    per_step = dict(
        synaptic_ops=np.array([[10, 100], [0, 0]]),
        learning_updates=np.array([[0, 4], [0, 0]]),
        active_compartments=np.array([[5, 2], [0, 0]]),
        idle_compartments=np.array([[0, 3], [5, 5]]),
        messages=np.array([[6], [0]]),
    )
    hops = (np.array([1]), np.array([0]), np.array([False]))
    t, slowest = step_times(per_step, [0], hops, 1, davies2018)
    core0 = 10 * 3.5 + 5 * 8.4 + 6 * 2.1 + 4.1
    core1 = 100 * 3.5 + 4 * 6.1 + 2 * 8.4 + 3 * 5.3
    assert t[0] == pytest.approx((max(core0, core1) + 113) * 1e-9)
    assert t[1] == pytest.approx((5 * 5.3 + 113) * 1e-9)
    assert slowest.tolist()[0] == 1


def test_route_hops_on_the_mesh():
    rows = [dict(chip=0, x=0, y=0), dict(chip=0, x=3, y=2), dict(chip=1, x=0, y=0)]
    routes = [dict(src=0, dst=1), dict(src=1, dst=0), dict(src=0, dst=0), dict(src=0, dst=2)]
    ew, ns, inter = route_hops(routes, {"cores_detail": rows})
    assert ew.tolist() == [3, 3, 0, 0]
    assert ns.tolist() == [2, 2, 0, 0]
    assert inter.tolist() == [False, False, False, True]


def test_cost_of_a_counted_run(davies2018):
    """Costs of a real emulator run equal its counts x the table, term by term."""
    import nengo

    from errormc.hardware.backends import Simulator
    from errormc.hardware.loihi.compat import nengo_loihi as nl
    from errormc.hardware.loihi.counters import ActivityCounter
    from errormc.hardware.loihi.resources import chip_resources

    with nengo.Network(seed=0) as net:
        a = nengo.Ensemble(8, 1, label="a", neuron_type=nl.neurons.LoihiSpikingRectifiedLinear(),
                           gain=nengo.dists.Choice([0.0]), bias=nengo.dists.Choice([250.0]))
        b = nengo.Ensemble(5, 1, label="b", gain=nengo.dists.Choice([1.0]),
                           bias=nengo.dists.Choice([0.0]))
        nengo.Connection(a.neurons, b.neurons, transform=np.zeros((5, 8)))
    sim = Simulator(net, backend="loihi", dt=0.001)
    counter = ActivityCounter(sim, net)
    res = chip_resources(sim, davies2018, max_chips=1, blocks_info=counter.blocks)
    with sim:
        with counter.phase("go"):
            sim.run_steps(100)
    report = cost_phase(counter, res, davies2018, "go", samples=2)
    e = report["energy_J"]
    # hand-computed from test_counters' counts: 760 ops, 800 active + 500 idle
    # updates, 152 messages from core 0 to core 1 (same tile: no hops)
    assert e["synaptic_ops"] == pytest.approx(760 * 23.6e-12)
    assert e["neuron_updates"] == pytest.approx(800 * 81e-12 + 500 * 52e-12)
    assert e["spike_routing"] == pytest.approx(152 * 1.7e-12)
    assert e["learning"] == 0
    assert e["static"] == pytest.approx(0.1044 * 1 * report["time_s"]["total"])
    assert report["energy_per_sample_mJ"] == pytest.approx(e["total"] / 2 * 1e3)
    assert report["edp_mJ_ms"] == pytest.approx(
        report["energy_per_sample_mJ"] * report["latency_per_sample_ms"])
    # the slowest core sets each step; step 1 has no spikes delivered yet
    t = counter.per_step
    assert report["time_s"]["total"] > 100 * 113e-9
    # the energy report agrees with the placement report and the resources
    assert report["chip"]["compartments"] == sim.placement["resources"]["compartments"] == 13
    assert report["chip"]["synapses"] == sim.placement["resources"]["synapses"] == 40
    assert res["synapses"] == 40 and t("spikes").shape == (100, 2)
    json.dumps(report)
    sim.close()


def test_energy_run_writes_its_files(tmp_path):
    from errormc.benchmarks import energy

    table = energy.run("teacher-student", out=str(tmp_path), layers="2-1", samples=1,
                       progress=False, profile="sanafe")
    assert "estimated from emulator counts" in table
    assert "Renner" in table and "Shrestha" in table
    for name in ("energy.json", "energy.md", "energy_breakdown.png"):
        assert os.path.getsize(tmp_path / name) > 0
    report = json.loads((tmp_path / "energy.json").read_text())
    for phase in ("training", "inference"):
        assert report["energy_per_sample_mJ"][phase] > 0
        assert report["latency_per_sample_ms"][phase] > 0
        assert report["edp"][phase] == pytest.approx(
            report["energy_per_sample_mJ"][phase] * report["latency_per_sample_ms"][phase])
        for key in ("synaptic_ops", "learning_updates", "spikes", "active_compartments",
                    "idle_compartments", "spike_messages", "host_spikes_in", "values_out",
                    "errors_in", "learning_epochs"):
            assert key in report["counts"][phase]
    assert report["counts"]["training"]["errors_in"] > 0  # PES errors cross the host link
    # every presented step is counted once, in its stage: the untrained test
    # (20 samples), one training sample, the test (20), 100 steps each
    assert report["steps"] == {"untrained test": 2000, "training": 100, "inference": 2000}
    assert report["training"]["steps"] == 100 and report["inference"]["steps"] == 2000
    # one PES error value per step and learning synapse group (the 2-1 network has one)
    assert report["counts"]["training"]["errors_in"] == 100
    assert "test_mse" in report
    assert report["placement_check"]["agree"]
    assert report["constants"]["profile"] == "sanafe"
    assert set(report["profiles"]) == {"davies2018", "sanafe"}
    assert "| davies2018 | training |" in table and "| sanafe | training |" in table
    assert report["label"] == "estimated from emulator counts"
    # chip only is a lower bound of the deployed figures, in energy and in latency
    for phase in ("training", "inference"):
        chip, dep = report["chip_only"][phase], report["deployed"][phase]
        assert "lower bound" in chip["label"]
        assert dep["latency_per_sample_ms"] > 100 * chip["latency_per_sample_ms"]
        for part in ("whole_chip", "per_used_core"):
            assert dep["energy_per_sample_mJ"][part] > chip["energy_per_sample_mJ"][part] > 0
        assert chip["energy_per_sample_mJ"]["per_used_core"] < chip["energy_per_sample_mJ"]["whole_chip"]
        # one host round trip of 8 ms per step, 100 steps per sample
        assert dep["latency_per_sample_ms"] == pytest.approx(
            100 * 8.0 + chip["latency_per_sample_ms"])
    assert report["host_traffic"]["totals"]["host->chip PES"]["values"] == 1


def test_a_shorter_presentation_is_counted_and_costed_as_such(tmp_path):
    from errormc.benchmarks import energy

    energy.run("teacher-student", out=str(tmp_path), layers="2-1", samples=1, progress=False,
               steps_per_sample=50)
    report = json.loads((tmp_path / "energy.json").read_text())
    # 20 test samples before and after, one training sample, 50 steps each
    assert report["steps"] == {"untrained test": 1000, "training": 50, "inference": 1000}
    assert report["counts"]["training"]["errors_in"] == 50
    chip, dep = report["chip_only"]["training"], report["deployed"]["training"]
    assert dep["latency_per_sample_ms"] == pytest.approx(50 * 8.0 + chip["latency_per_sample_ms"])


def test_energy_run_rejects_bad_input(tmp_path):
    from errormc.benchmarks import energy

    with pytest.raises(ValueError, match="task"):
        energy.run("cartpole", out=str(tmp_path))
    with pytest.raises(ValueError, match="samples"):
        energy.run("teacher-student", out=str(tmp_path), samples=0)
    with pytest.raises(ValueError, match="layers"):
        energy.run("digits", out=str(tmp_path), layers="5-10", samples=1)
    with pytest.raises(ValueError, match="input_coding"):
        energy.run("digits", out=str(tmp_path), samples=1, input_coding="sparse")
    with pytest.raises(ValueError, match="eta"):
        energy.run("digits", out=str(tmp_path), samples=1, eta=float("nan"))
    for steps in (30, 52.5):  # not beyond the 30-step onset; not whole
        with pytest.raises(ValueError, match="steps_per_sample"):
            energy.run("digits", out=str(tmp_path), samples=1, steps_per_sample=steps)
    with pytest.raises(ValueError, match="areas"):
        energy.scaling([0], out=str(tmp_path))


@pytest.mark.slow
def test_scaling_writes_table_and_plot(tmp_path):
    from errormc.benchmarks import energy

    table = energy.scaling(range(2, 4), out=str(tmp_path), samples=1, progress=False)
    assert "skip projections" in table  # the default students (connectivity="skip")
    for name in ("scaling.csv", "scaling.md", "scaling.json", "scaling.png"):
        assert os.path.getsize(tmp_path / name) > 0
    rows = json.loads((tmp_path / "scaling.json").read_text())["rows"]
    assert [r["areas"] for r in rows] == [2, 3]
    assert rows[1]["compartments"] > rows[0]["compartments"]


@pytest.fixture(scope="module")
def sanafe():
    return load_constants("sanafe")


def test_sanafe_profile_is_the_cited_file(sanafe):
    """The figures of SANA-FE's sanafe/examples/loihi.yaml (commit af110515), as cited."""
    expected = {
        "energy.synaptic_op": 35.5, "time.synaptic_op": 3.8,
        "energy.neuron_update_inactive": 51.2, "time.neuron_update_inactive": 6.0,
        "energy.neuron_update_active": 51.2 + 21.6, "time.neuron_update_active": 6.0 + 3.7,
        "energy.spike_generated": 69.3, "time.spike_generated": 30.0,
        "energy.message_out": 111.0, "time.message_out": 5.1, "time.message_in": 16.0,
        "energy.tile_hop_ew": 3.0, "energy.tile_hop_ns": 4.2,
    }
    for key, value in expected.items():
        assert sanafe[key] == pytest.approx(value), key
        assert sanafe.entries[key]["source"] == "sanafe_arch", key
    # what SANA-FE does not give is borrowed, and says so
    for key in ("energy.synaptic_update", "power.static_per_chip"):
        assert sanafe.entries[key]["source"] != "sanafe_arch"
        assert "NOT in SANA-FE" in sanafe.entries[key]["note"]
    assert "af110515f480a13929fd595b1b927225a36d048a" in sanafe.sources["sanafe_arch"]["citation"]


def test_spike_generation_and_messages_out_are_costed(sanafe, davies2018):
    hops = (np.array([0]), np.array([0]), np.array([False]))
    counts = _counts(spikes=np.array([4, 0]))
    e = dynamic_energy(counts, hops, sanafe)
    assert e["spike_generation"].tolist() == pytest.approx([4 * 69.3e-12, 0])
    # 7 messages within a tile: message out 111 pJ each (no separate within-tile figure)
    assert e["spike_routing"].tolist() == pytest.approx([7 * 111.0e-12, 0])
    assert dynamic_energy(counts, hops, davies2018)["spike_generation"].tolist() == [0, 0]
    per_step = {f: np.array([[0, 0]]) for f in
                ("synaptic_ops", "learning_updates", "active_compartments", "idle_compartments")}
    per_step["spikes"] = np.array([[2, 0]])
    per_step["messages"] = np.array([[3]])
    t, _ = step_times(per_step, [0], hops, 1, sanafe, route_dst=[1])
    # core 0: 2 spikes x 30 ns + 3 messages x (2.1 + 5.1) ns; core 1: 3 x 16 ns in; + barrier
    assert t[0] == pytest.approx((max(2 * 30 + 3 * 7.2, 3 * 16.0) + 113) * 1e-9)


def test_deployed_cost_hand_computed(davies2018):
    from errormc.hardware.energy import deployed_cost

    d = deployed_cost(dynamic=1e-6, t_chip=2e-3, steps=100, p_chips=0.1044,
                      p_cores=0.1044 * 9 / 128, constants=davies2018)
    t = 2e-3 + 100 * 8e-3
    assert d["time_s"] == pytest.approx(t)
    e = d["energy_J"]
    assert e["static_whole_chip"] == pytest.approx(0.1044 * t)
    assert e["static_per_used_core"] == pytest.approx(0.1044 * 9 / 128 * t)
    assert e["host"] == pytest.approx(28.48 * t)
    assert e["total_whole_chip"] == pytest.approx(1e-6 + 0.1044 * t + 28.48 * t)
    assert d["io_every_10"]["time_s"] == pytest.approx(2e-3 + 100 * 1.5e-3)
