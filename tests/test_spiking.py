"""The spiking error microcircuit learns on both backends (issue 4).

The same network description (`errormc.benchmarks.experiment.spiking_network`)
is trained by the one driver (`experiment.train`, `experiment.spiking_protocol`)
on the Nengo reference simulator and on the nengo-loihi emulator.
"""

import nengo
import numpy as np
import pytest

from errormc.benchmarks import experiment
from errormc.benchmarks.metrics import sample_readout
from errormc.benchmarks.protocol import Session
from errormc.benchmarks.tasks.teacher_student import TeacherStudentTask
from errormc.hardware.backends import Simulator
from errormc.networks.microcircuit import Conductances
from errormc.networks.spiking import SpikingArea, SpikingErrorMicrocircuit

nengo.rc.set("decoder_cache", "enabled", "False")

P = 100  # steps per sample (100 ms)


@pytest.fixture(autouse=True)
def no_decoder_cache():
    nengo.rc.set("decoder_cache", "enabled", "False")


def _task(layers, n_train=40, n_test=20, seed=0):
    return TeacherStudentTask(layers, seed, n_samples=n_train, steps_per_sample=P,
                              settle_steps=0, n_test=n_test)


def _train(layers, backend, epochs, seed=0, **network):
    """The one driver on the spiking network: metrics and the untrained test's
    per-sample outputs (validation left out: the claims are about the test)."""
    task = _task(layers, seed=seed)
    factory = experiment.spiking_network(layers=layers, seed=seed, **network)
    protocol = experiment.spiking_protocol(task, epochs, seed, validation=False)

    def untrained(session, trained):  # noqa: ARG001
        outputs = trained["initial"]["test_outputs"]
        return {"untrained_outputs": sample_readout(outputs, P, protocol.readout_steps)}

    metrics, _, _ = experiment.train(factory, task, protocol, SpikingErrorMicrocircuit.dt,
                                     backend=backend, seed=seed, after=untrained)
    return task, metrics


@pytest.fixture(scope="module")
def results_21():
    """2-1 teacher-student: the same network description, trained on each backend."""
    nengo.rc.set("decoder_cache", "enabled", "False")
    runs = {b: _train([2, 1], b, epochs=3) for b in ("nengo", "loihi")}
    task = runs["nengo"][0]
    return task, {b: m for b, (_, m) in runs.items()}


@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_teacher_student_21_learns(results_21, backend):
    _, metrics = results_21
    m = metrics[backend]
    assert m["test_mse_final"] * 3 <= m["test_mse_initial"], m
    # untrained test (20 samples), 3 epochs of 40 training samples, test (20)
    assert m["simulated_s"] == pytest.approx((20 * 2 + 40 * 3) * 0.1)


def test_backend_parity(results_21):
    task, metrics = results_21
    a = np.ravel(metrics["nengo"]["untrained_outputs"])
    b = np.ravel(metrics["loihi"]["untrained_outputs"])
    # the two backends decode the same untrained network alike ...
    assert np.corrcoef(a, b)[0, 1] >= 0.95
    # ... and the untrained output is not trivially the teacher's
    assert np.mean((a - task.sample_targets("test").ravel()) ** 2) > 0.01


@pytest.mark.slow  # six trained runs to confirm a known gap: a benchmark, not a check
@pytest.mark.xfail(strict=True, reason=(
    "known: the emulator learns 2-1 1.68x worse than the reference in the mean over "
    "seeds 0, 1, 2 (final test MSE 0.00050, 0.00073, 0.00085 vs 0.00037, 0.00034, "
    "0.00053; 1.78x in the geometric mean over seeds 0-5; 1.55x with nengo-loihi's "
    "nearest error rounding and rectified readout, which drift over longer runs), "
    "2.7x before PES ran at the reference rate on the chip and 5.0x before host "
    "inputs were encoded over range 2 with 2 pairs (errormc.hardware.loihi.discretisation)"))
def test_backend_learning_parity(results_21):
    # equal settings on both backends; the emulator's discretisation
    # (errormc.hardware.loihi.discretisation) should keep its learning within
    # 1.5x, in the mean over three seeds (one seed is not enough: the same seed
    # moves 2x between emulator settings; seed 0 alone is within 1.5x, 1.2x)
    _, metrics = results_21
    mse = {b: [metrics[b]["test_mse_final"]] for b in metrics}
    for seed in (1, 2):
        for backend in mse:
            mse[backend].append(_train([2, 1], backend, epochs=3, seed=seed)[1]["test_mse_final"])
    ratio = np.mean(mse["loihi"]) / np.mean(mse["nengo"])
    assert 1 / 1.5 <= ratio <= 1.5, (ratio, mse)


@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_hidden_error_population_matters_421(backend):
    # seed 0, final test MSE with / without hidden learning: reference 0.00115 /
    # 0.01401; emulator 0.00998 / 0.01705 (0.01414 / 0.01390 while the chip's PES
    # floor drifted the learned readouts, errormc.hardware.loihi.readout)
    mse = {}
    for hidden in (True, False):
        # the same learning rates on both backends (the network's defaults)
        _, m = _train([4, 2, 1], backend, epochs=3, hidden_learning=hidden)
        mse[hidden] = m["test_mse_final"]
        assert m["test_mse_final"] < m["test_mse_initial"]
    assert mse[False] >= 1.5 * mse[True], mse


@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_error_pair_emits_no_standing_error(backend):
    """With no error to carry (x = 0), one array of error products still emits
    its decode's bias e(u, 0), a standing error that moves the weights; a pair of
    the same neurons seeing x and -x emits exactly zero, on either backend."""
    eps = {}
    for pairs in (False, True):
        with nengo.Network(seed=5) as model:
            area = SpikingArea(2, "tanh", Conductances(), is_output=False, neurons_per_unit=50,
                               error_neurons=100, tau=0.01, rep_radius=1.5, error_scale=0.5,
                               neuron_type=nengo.LIF(), error_pairs=pairs, seed=11)
            nengo.Connection(nengo.Node([0.6, -0.4]), area.basal, synapse=None)
            probe = nengo.Probe(area.error_relay, synapse=None)
        with Simulator(model, backend=backend, dt=SpikingErrorMicrocircuit.dt) as sim:
            sim.run_steps(300)
        eps[pairs] = sim.data[probe][100:]
    assert np.abs(eps[False].mean(axis=0)).max() > 1e-3
    assert np.array_equal(eps[True], np.zeros_like(eps[True]))
    assert len(area.error_ensembles) == 4  # twice the error populations


def test_structure_and_validation():
    net = SpikingErrorMicrocircuit("4-3-2", neurons_per_unit=20, error_neurons=40, backward="fa")
    assert [a.representation.dimensions for a in net.areas] == [3, 2]
    assert [a.representation.n_neurons for a in net.areas] == [60, 40]
    assert len(net.areas[0].error.ensembles) == 3
    assert all(e.dimensions == 2 and e.n_neurons == 40 for e in net.areas[0].error.ensembles)
    assert [c.label for c in net.learned] == ["W1", "W2"]
    assert net.effective_weights(1).shape == (3, 2)
    # one error scale per area: the hidden error populations see B eps / 0.1
    scaled = SpikingErrorMicrocircuit("4-3-2", error_scale=[0.1, 0.5])
    assert [a.error_scale for a in scaled.areas] == [0.1, 0.5]
    into_x = [c for c in scaled.all_connections if c.post_obj is scaled.areas[0].x_input[0].obj]
    assert [float(np.squeeze(c.transform.init)) for c in into_x
            if c.pre_obj is scaled.backward[1]] == [pytest.approx(10.0)] * 3
    # per-input coding: each input neuron sees one input, half of them each sign
    per_input = SpikingErrorMicrocircuit("4-3-2", neurons_per_unit=6, input_coding="per_input")
    enc = per_input.input_area.encoders
    assert enc.shape == (24, 4) and per_input.input_radius == 0.5
    assert np.array_equal(np.abs(enc), np.repeat(np.eye(4), 6, axis=0))
    assert np.array_equal(enc.sum(axis=0), np.zeros(4))
    off = SpikingErrorMicrocircuit("4-3-2", hidden_learning=False)
    assert [c.label for c in off.learned] == ["W2"]
    for kwargs, field in [
        (dict(backward="pal"), "backward"),
        (dict(eta=[1e-3]), "eta"),
        (dict(eta=-1.0), "eta"),
        (dict(neurons_per_unit=0), "neurons_per_unit"),
        (dict(tau=0.0), "tau"),
        (dict(activation="nope"), "activation"),
        (dict(error_scale=[0.5]), "error_scale"),
        (dict(error_scale=0.0), "error_scale"),
        (dict(input_coding="sparse"), "input_coding"),
    ]:
        with pytest.raises(ValueError, match=field):
            SpikingErrorMicrocircuit("4-3-2", **kwargs)


@pytest.mark.parametrize("coding", ["population", "per_input"])
def test_decoded_forward_matches_initial_weights(coding):
    """Before learning, the network computes the rate model's forward pass,
    whichever way its input population codes the input."""
    x = _task([3, 2], n_train=1, n_test=10, seed=3).samples["test"]
    factory = experiment.spiking_network(layers=[3, 2], seed=5, input_coding=coding)
    with Session(factory, 3, 2, backend="nengo", seed=0) as session:
        W = session.net.initial_weights["W1"]
        c = session.net.conductances.attenuation
        outputs = session.run(np.repeat(x, P, axis=0))["output"]
    out = sample_readout(outputs, P, experiment.readout_steps(P))
    expected = np.tanh(c * x @ W.T)
    assert np.corrcoef(out.ravel(), expected.ravel())[0, 1] > 0.95
    assert np.max(np.abs(out - expected)) < 0.2


def test_skip_connectivity_follows_the_primate_table():
    """Skip projections (MODEL.md 1.11): 1->3 10^-1.5, 1->4 absent, 1->5 10^-1,
    2->4 and 2->5 10^-0.5, 3->5 1; each learns with PES from the error of its post
    area, on chip on Loihi, and bp backward skip weights track their transpose."""
    net = SpikingErrorMicrocircuit("2-2-2-2-2-1", connectivity="skip", neurons_per_unit=20,
                                   error_neurons=40, seed=1)
    s = 10 ** -0.5
    expected = {(3, 1): s**3, (4, 2): s, (5, 1): s**2, (5, 2): s, (5, 3): 1.0}
    assert sorted(net.skip_blocks) == sorted(expected)
    for (i, j), scale in expected.items():
        W = net.initial_weights[f"W{i}_{j}"]
        assert np.all(np.abs(W) <= scale * 1.0 + 1e-12)
        assert net.skip_forward[(i, j)].learning_rule is not None
    assert sorted(net.skip_backward) == sorted((j, i) for i, j in expected)
    sim = Simulator(net, backend="loihi", dt=0.001)
    with sim:
        places = {c["label"]: c["where"] for c in sim.placement["learned_connections"]}
        assert all(places[f"W{i}_{j}"] == "chip" for i, j in expected), places
        sim.run_steps(60)  # past the first bp refresh
        B = net.skip_backward[(3, 5)].output
        assert B.n_refreshes >= 1
        W = net.initial_weights["W5_3"]
        # the refreshed B is the transpose of the effective (learned) forward block
        assert np.corrcoef((B.B - B.noise).ravel(), W.T.ravel())[0, 1] > 0.9
    with pytest.raises(ValueError, match="connectivity"):
        SpikingErrorMicrocircuit("2-2-1", connectivity="ring")
