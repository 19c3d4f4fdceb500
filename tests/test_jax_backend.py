"""The jax backend (`errormc.hardware.compiled`) against the reference simulator:
the authors' traces, short teacher-student runs of every model, the simulator
interface the project uses, batches of seeds, refusals."""

import json

import numpy as np
import nengo
import pytest

from errormc.benchmarks.protocol import Schedule, Session
from errormc.hardware import Simulator, compiled
from errormc.networks import ErrorMicrocircuit, SpikingErrorMicrocircuit
from errormc.networks.errors import ConfigError
from errormc.runs import models
from errormc.runs.checkpoint import restore_simulator_state, simulator_state
from errormc.runs.config import RunConfig
from errormc.runs.runner import protocol_for, task_for


def assert_close(a, b, rtol, name=""):
    """max |a - b| <= rtol max |b| (exact where b is all zero)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, name
    assert np.max(np.abs(a - b), initial=0) <= rtol * np.max(np.abs(b), initial=0), name


def teacher_student(backend, **config):
    """Two epochs of the reference protocol on a small task: test outputs, final weights."""
    config = RunConfig(layers="4-3-2", epochs=2, n_samples=4, seed=56789,
                       protocol="reference", **config)
    spec = models.get(config.model)
    protocol = protocol_for(config, task_for(config), config.epochs)
    layers = config.layer_sizes()
    with Session(spec.network(config), layers[0], layers[-1], config.dt, backend) as session:
        result = protocol.run(session)
        return result, session.weights()


@pytest.mark.parametrize("model, connectivity", [
    ("errormc", "skip"), ("errormc", "layered"), ("sacramento2018", "layered"),
    ("dpc", "layered"), ("ann", "layered"),
])
def test_jax_teacher_student_equals_the_reference_simulator(model, connectivity):
    ref, ref_w = teacher_student("nengo", model=model, connectivity=connectivity)
    jax_run, jax_w = teacher_student("jax", model=model, connectivity=connectivity)
    assert_close(jax_run["test_outputs"], ref["test_outputs"], 1e-9)
    assert_close(jax_run["test_mse"], ref["test_mse"], 1e-9)
    assert_close(jax_run["val_mse"], ref["val_mse"], 1e-9)
    assert sorted(jax_w) == sorted(ref_w)
    for name in ref_w:
        assert_close(jax_w[name], ref_w[name], 1e-9, name)
    # the run learned: weights moved
    assert any(not np.array_equal(ref_w[k], v) for k, v in
               teacher_student_initial(model, connectivity).items())


def teacher_student_initial(model, connectivity):
    config = RunConfig(layers="4-3-2", epochs=2, n_samples=4, seed=56789, model=model,
                       connectivity=connectivity)
    net = models.get(model).network(config)()
    return {k: v for k, v in net.initial_weights.items() if k.startswith(("W", "B"))}


def session_model(layers, seed, steps, **network):
    """A network fed by a `Schedule` of ``steps`` random rows, its output probed."""
    schedule = Schedule(layers[0], layers[-1])
    with nengo.Network(label="session") as model:
        node = nengo.Node(schedule.process, label="schedule")
        model.net = ErrorMicrocircuit(layers=layers, seed=seed, **network,
                                      **schedule.connect(node))
        model.probe = nengo.Probe(model.net.output.neurons, synapse=None)
    rng = np.random.RandomState(seed)
    model.schedule = schedule
    model.rows = (rng.uniform(0, 1, (steps, layers[0])), rng.uniform(-0.5, 0.5, (steps, layers[-1])))
    schedule.load(*model.rows)
    return model


def test_jax_same_seed_same_result_bitwise():
    runs = []
    for _ in range(2):
        model = session_model([4, 2, 1], 3, 100)
        with Simulator(model, backend="jax", dt=0.01) as sim:
            sim.run_steps(100)
            runs.append((sim.data[model.probe], model.net.get_weights(sim)))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for k in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][k], runs[1][1][k])


def test_jax_simulator_interface_run_step_reset_trange():
    def build():
        model = session_model([4, 2, 1], 1, 50)
        with model:
            model.every = nengo.Probe(model.net.output.neurons, synapse=None, sample_every=0.03)
        return model

    model = build()
    with nengo.Simulator(model, dt=0.01, optimize=False, progress_bar=False) as ref:
        ref.run_steps(20)
    model = build()
    with Simulator(model, backend="jax", dt=0.01) as sim:
        assert sim.backend == "jax" and sim.placement["backend"] == "jax"
        sim.step()
        sim.run_steps(9)
        sim.run(0.1)  # 10 steps
        assert sim.n_steps == 20 and np.isclose(sim.time, 0.2)
        assert_close(sim.data[model.probe], ref.data[ref.model.probes[0]], 1e-12)
        assert_close(sim.data[model.every], ref.data[ref.model.probes[1]], 1e-12)
        assert len(sim.data[model.every]) == 6
        np.testing.assert_allclose(sim.trange(), ref.trange())
        first = np.array(sim.data[model.probe])
        sim.reset()
        assert sim.n_steps == 0 and len(sim.data[model.probe]) == 0
        model.schedule.load(*model.rows)
        sim.run_steps(20)
        np.testing.assert_array_equal(sim.data[model.probe], first)
    with pytest.raises(nengo.exceptions.SimulatorClosed):
        sim.run_steps(1)


def test_jax_checkpoint_resumes_bitwise():
    """Signals written into a jax simulator (a checkpoint restore) continue the run
    exactly as the run that wrote them."""
    model = session_model([4, 2, 1], 2, 200)
    with Simulator(model, backend="jax", dt=0.01) as sim:
        sim.run_steps(100)
        saved = simulator_state(sim, model)
        sim.run_steps(100)
        straight = model.net.get_weights(sim)
    model = session_model([4, 2, 1], 2, 200)
    with Simulator(model, backend="jax", dt=0.01) as sim:
        restore_simulator_state(sim, model, saved)
        assert sim.n_steps == 100
        model.schedule.load(*(r[100:] for r in model.rows), start=100)
        sim.run_steps(100)
        resumed = model.net.get_weights(sim)
    for k in straight:
        np.testing.assert_array_equal(straight[k], resumed[k])


def test_jax_batch_members_equal_single_runs():
    seeds = [0, 1, 2]
    batch_models = [session_model([4, 2, 1], s, 100) for s in seeds]
    with Simulator(batch_models, backend="jax", dt=0.01) as bsim:
        assert isinstance(bsim, compiled.BatchSimulator)
        bsim.run_steps(100)
        batch = [(bsim.data[m.probe], m.net.get_weights(bsim.members[b]))
                 for b, m in enumerate(batch_models)]
    for s, (out, weights) in zip(seeds, batch):
        model = session_model([4, 2, 1], s, 100)
        with nengo.Simulator(model, dt=0.01, optimize=False, progress_bar=False) as ref:
            ref.run_steps(100)
            assert_close(out, ref.data[model.probe], 1e-12)
            ref_w = model.net.get_weights(ref)
        for k in ref_w:
            assert_close(weights[k], ref_w[k], 1e-12, k)
    # the seeds differ: the members are not copies of one another
    assert not np.allclose(batch[0][0], batch[1][0])


@pytest.mark.parametrize("network", [
    dict(slope_std=0.2, offset_std=0.1),
    dict(activation="logistic", error_activation="logistic", slope_std=0.2, offset_std=0.1,
         variability_on="error", connectivity="layered", backward="fa"),
])
def test_jax_variability_and_switches_equal_the_reference_simulator(network):
    """Per-neuron slopes and offsets of phi, and steps with plasticity and
    nudging off (the rules' m = 0 branches), against nengo."""
    runs = []
    for backend in ("nengo", "jax"):
        model = session_model([4, 3, 2], 5, 150, **network)
        rng = np.random.RandomState(1)
        targets = rng.uniform(-0.5, 0.5, (150, 2))
        targets[::7] = np.nan
        model.schedule.load(rng.uniform(0, 1, (150, 4)), targets, rng.uniform(size=150) > 0.3)
        with Simulator(model, backend=backend, dt=0.1) as sim:
            sim.run_steps(150)
            runs.append((sim.data[model.probe], model.net.get_weights(sim)))
    (ref, ref_w), (out, w) = runs
    assert_close(out, ref, 1e-12)
    for k in ref_w:
        assert_close(w[k], ref_w[k], 1e-12, k)
    # it learned: the forward weights moved
    initial = model.net.initial_weights
    assert any(not np.array_equal(ref_w[k], initial[k]) for k in ref_w if k.startswith("W"))


def test_jax_batch_refuses_networks_of_other_structure():
    nets = [session_model([4, 2, 1], 0, 10), session_model([4, 3, 1], 1, 10)]
    with pytest.raises(ConfigError, match="member 1 .* differs in structure"):
        compiled.BatchSimulator(nets, dt=0.01)


def test_jax_refuses_the_spiking_network_in_one_line():
    net = SpikingErrorMicrocircuit("2-2-1", neurons_per_unit=10, error_neurons=10, seed=0)
    with pytest.raises(ConfigError) as info:
        Simulator(net, backend="jax", dt=0.001)
    message = str(info.value)
    assert "\n" not in message
    assert "SpikingErrorMicrocircuit" in message and "SimNeurons(LIF)" in message


def test_jax_refuses_a_python_function_of_a_network_signal():
    with nengo.Network() as net:
        a = nengo.Node([1.0])
        f = nengo.Node(lambda t, x: 2 * x, size_in=1, label="doubler")
        nengo.Connection(a, f, synapse=None)
    with pytest.raises(ConfigError, match="SimPyFunc"):
        Simulator(net, backend="jax", dt=0.01)


def test_jax_inputs_present_input_piecewise_and_lowpass():
    """nengo's own input processes (one random) and filtered connections, against nengo."""
    rng = np.random.RandomState(0)
    with nengo.Network(seed=1) as net:
        present = nengo.Node(nengo.processes.PresentInput(rng.uniform(-1, 1, (7, 3)), 0.03))
        piece = nengo.Node(nengo.processes.Piecewise({0: [1.0, 0.0, 0.5], 0.11: [-1.0, 2.0, 0.0]}))
        # unseeded: its generator is drawn from the simulator's, in step order
        noise = nengo.Node(nengo.processes.WhiteSignal(1.0, high=5), size_out=3)
        total = nengo.Node(size_in=3)
        nengo.Connection(present, total, synapse=None)
        nengo.Connection(piece, total, synapse=nengo.Lowpass(0.05), transform=2.0)
        nengo.Connection(noise, total, synapse=None)
        probes = [nengo.Probe(present), nengo.Probe(noise), nengo.Probe(total),
                  nengo.Probe(total, synapse=0.02)]
    with nengo.Simulator(net, dt=0.01, optimize=False, progress_bar=False) as ref:
        ref.run_steps(40)
    with Simulator(net, backend="jax", dt=0.01) as sim:
        sim.run_steps(40)
        for p in probes:
            np.testing.assert_allclose(sim.data[p], ref.data[p], rtol=1e-12, atol=1e-15)


class Square(nengo.Process):
    """y = x**2, a process only this test implements."""

    def __init__(self, size):
        super().__init__(default_size_in=size, default_size_out=size)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        return lambda t, x: x**2


def test_jax_registry_takes_a_new_implementation_as_one_function():
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput([[0.5, -2.0], [3.0, 1.0]], 0.02))
        square = nengo.Node(Square(2))
        nengo.Connection(stim, square, synapse=None)
        probe = nengo.Probe(square)
    with pytest.raises(ConfigError, match=r"SimProcess\(Square\) x1"):
        Simulator(net, backend="jax", dt=0.01)

    @compiled.implements_process(Square)
    def square_process(op, ctx):
        return lambda s, x: x**2

    try:
        with nengo.Simulator(net, dt=0.01, optimize=False, progress_bar=False) as ref:
            ref.run_steps(8)
        with Simulator(net, backend="jax", dt=0.01) as sim:
            sim.run_steps(8)
        np.testing.assert_array_equal(sim.data[probe], ref.data[probe])
    finally:
        del compiled.registry.PROCESSES[Square]


def test_bench_speed_rows_csv_and_json(tmp_path):
    from errormc.benchmarks.speed import FIELDS, bench_speed, format_json

    rows = bench_speed(out=str(tmp_path), cases=(("4-2-1", "skip"),),
                       runs=(("nengo", 1), ("jax", 2)), steps=64, repeats=1, unroll=1)
    with open(tmp_path / "speed.csv") as f:
        lines = f.read().splitlines()
    assert lines[0] == ",".join(FIELDS)
    assert len(lines) == 3
    assert [(r["backend"], r["batch"]) for r in rows] == [("nengo", 1), ("jax", 2)]
    assert all(r["steps_per_s"] > 0 for r in rows)
    assert rows[0]["compile_s"] == 0 and rows[1]["compile_s"] > 0
    assert json.loads(format_json(rows)) == rows


def test_sampled_probes_record_the_steps_nengo_records():
    """``sample_every`` of whole steps is recorded in the compiled program; a
    fractional period is sampled as nengo samples it; over runs of any length."""
    with nengo.Network(seed=1) as net:
        x = nengo.Node(lambda t: [np.sin(7 * t), t])
        probes = [nengo.Probe(x, synapse=None, sample_every=every)
                  for every in (None, 0.005, 0.0025)]
    for runs in ([7, 1024 + 13, 3, 2050], [1, 1, 1, 20, 5]):
        with nengo.Simulator(net, dt=0.001, progress_bar=False) as ref, \
                Simulator(net, backend="jax", dt=0.001) as sim:
            for n in runs:
                ref.run_steps(n)
                sim.run_steps(n)
            for p in probes:
                np.testing.assert_array_equal(sim.data[p], ref.data[p])
