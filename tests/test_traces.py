"""The Nengo network reproduces the authors' per-step reference traces."""

import numpy as np
import pytest

from errormc.benchmarks.protocol import Session, TeacherStudentProtocol, replay
from errormc.benchmarks.tasks.teacher_student import TeacherStudentTask
from errormc.networks import ErrorMicrocircuit
from errormc.networks.initialization import initial_state, model_rng

TRACES = {
    "421_skip": dict(
        file="trace_errormc_421_skip.npz",
        layers=[4, 2, 1],
        connectivity="skip",
        backward="bp",
        activation="tanh",
    ),
    "642_layered_fa": dict(
        file="trace_errormc_642_layered_fa.npz",
        layers=[6, 4, 2],
        connectivity="layered",
        backward="fa",
        activation="tanh,linear",
    ),
}


def stored_weights(t, connectivity):
    w = {}
    if connectivity == "skip":
        w.update(W=t["init_WPP_0"], B=t["init_BII_0"], Bnoise=t["BII_noise_0"])
    else:
        w.update(W1=t["init_WPP_0"], W2=t["init_WPP_1"], B1=t["init_BII_0"])
    for l in (1, 2):
        w[f"WIP{l}"] = t[f"init_WIP_{l - 1}"]
        w[f"BPI{l}"] = t[f"init_BPI_{l - 1}"]
        w[f"u{l}"] = t[f"init_uP_{l - 1}"]
        w[f"e{l}"] = t[f"init_uI_{l - 1}"]
    return w


def rel_err(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b))


def final_forward(result, connectivity):
    if connectivity == "skip":
        return [result["W"]]
    return [result["W1"], result["W2"]]


@pytest.mark.parametrize("backend", ["nengo", "jax"])
@pytest.mark.parametrize("name", sorted(TRACES))
def test_replay_reproduces_every_step(name, backend, data_path):
    """The authors' traces, step by step, on the reference simulator and on the
    compiled engine alike."""
    spec = TRACES[name]
    t = np.load(data_path(spec["file"]))
    targets = np.where(t["target_injected"][:, None], t["target"], np.nan)
    result = replay(
        t["input"],
        targets,
        t["plastic"],
        backend=backend,
        layers=spec["layers"],
        weights=stored_weights(t, spec["connectivity"]),
        connectivity=spec["connectivity"],
        backward=spec["backward"],
        eta=t["eta_fw"],
        activation=spec["activation"],
    )
    n1 = spec["layers"][1]
    assert rel_err(result["output_rates"], t["out_rate"]) < 1e-9
    assert rel_err(result["rep_rates1"], t["rP_breve_all"][:, :n1]) < 1e-9
    assert rel_err(result["rep_prospective1"], t["uP_breve_all"][:, :n1]) < 1e-9
    assert rel_err(result["rep_prospective2"], t["uP_breve_all"][:, n1:]) < 1e-9
    assert rel_err(result["err_rates1"], t["rI_breve_all"][:, :n1]) < 1e-9
    assert rel_err(result["err_rates2"], t["rI_breve_all"][:, n1:]) < 1e-9
    finals = [t["final_WPP_0"]] + ([t["final_WPP_1"]] if "final_WPP_1" in t else [])
    for ours, ref in zip(final_forward(result, spec["connectivity"]), finals):
        assert rel_err(ours, ref) < 1e-9
    if spec["connectivity"] == "skip":
        assert rel_err(result["B"], t["final_BII_0"]) < 1e-9
    else:
        np.testing.assert_array_equal(result["B1"], t["final_BII_0"])  # fa: fixed
    # and the final somatic voltages
    assert rel_err(np.concatenate([result["u1"], result["u2"]]), t["uP_after_all"][-1]) < 1e-9


@pytest.mark.parametrize("name", sorted(TRACES))
def test_reference_protocol_from_seed_reproduces_trace(name, data_path):
    """Initial state, teacher, data, shuffles and phases all from the seed alone."""
    spec = TRACES[name]
    t = np.load(data_path(spec["file"]))
    seed = int(t["student_seed"])
    layers = spec["layers"]
    init = initial_state(layers, connectivity=spec["connectivity"], backward=spec["backward"], seed=seed)
    np.testing.assert_array_equal(init["u1"], t["init_uP_0"])
    np.testing.assert_array_equal(init["WIP1"], t["init_WIP_0"])
    task = TeacherStudentTask(layers, seed, n_samples=10, settle_steps=200, activation=spec["activation"])
    assert task.teacher_seed == int(t["teacher_seed"])
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(task.records[split], t[f"teacher_target_{split}_raw"], atol=1e-15)

    outputs = []

    class Recording(Session):
        def run(self, *args, **kwargs):
            data = super().run(*args, **kwargs)
            outputs.append(data["output"])
            return data

    def build(**nodes):
        return ErrorMicrocircuit(
            layers,
            seed=seed,
            connectivity=spec["connectivity"],
            backward=spec["backward"],
            eta=t["eta_fw"],
            activation=spec["activation"],
            **nodes,
        )

    rng = model_rng(seed, layers, connectivity=spec["connectivity"], backward=spec["backward"])
    protocol = TeacherStudentProtocol(task, 1, "reference", rng=rng)
    with Recording(build, layers[0], layers[-1]) as session:
        metrics = protocol.run(session)
        weights = session.weights()
    assert rel_err(np.concatenate(outputs), t["out_rate"]) < 1e-9
    np.testing.assert_allclose(metrics["test_sqerr"], t["MSE_test_time_series"], rtol=1e-9, atol=1e-14)
    for ours, ref in zip(final_forward(weights, spec["connectivity"]), [t["final_WPP_0"]] + ([t["final_WPP_1"]] if "final_WPP_1" in t else [])):
        assert rel_err(ours, ref) < 1e-9
