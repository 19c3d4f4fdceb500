"""The authors' numbers, reproduced: MODEL.md 4.2's check values of the reference
protocol for all four models (2 epochs, teacher seed 123055 for both student
seeds), the untrained errormc control and the initial-state checks.

The check values are printed with 5-7 significant digits; each is matched to
within half a unit of its last printed digit (a relative error <= 1e-5 .. 1e-7,
i.e. every digit the spec gives).
"""

from functools import partial

import numpy as np
import pytest

from errormc.runs import models
from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import Session, TeacherStudentProtocol
from errormc.benchmarks.tasks.teacher_student import TeacherStudentTask, teacher_forward
from errormc.networks.initialization import initial_state

FIRST_SEED = 56789  # the teacher seed derives from the first student seed

# MODEL.md 4.2: mean of all 2000 test-step squared errors after 2 epochs
CHECK_MSE = {
    ("2-1", "errormc"): ("0.024351", "0.0047827"),
    ("2-1", "ann"): ("0.00015161", "0.0022289"),
    ("2-1", "sacramento2018"): ("0.00050366", "0.0066626"),
    ("2-1", "dpc"): ("0.00066016", "0.0092618"),
    ("4-2-1", "errormc"): ("0.037872", "0.054332"),
    ("4-2-1", "ann"): ("0.016033", "0.0039688"),
    ("4-2-1", "sacramento2018"): ("0.058224", "0.064644"),
    ("4-2-1", "dpc"): ("0.067560", "0.071444"),
    ("8-4-2-1", "errormc"): ("0.021136", "0.0081289"),
    ("8-4-2-1", "ann"): ("0.0080175", "0.0083016"),
    ("8-4-2-1", "sacramento2018"): ("0.021250", "0.031894"),
    ("8-4-2-1", "dpc"): ("0.021409", "0.033149"),
}
SEEDS = (56789, 12345)


def assert_printed(value, printed):
    """``value`` rounds to the printed decimal string."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    tol = 0.5 * 10.0 ** -decimals * (1 + 1e-9)
    assert abs(value - float(printed)) <= tol, f"{value!r} does not round to {printed}"


def reference_run(model, layers, seed, epochs=2, plastic=True):
    config = RunConfig(model=model, layers=layers, seed=seed, protocol="reference", epochs=epochs)
    spec = models.get(model)
    task = TeacherStudentTask(config.layer_sizes(), FIRST_SEED)
    score = None if spec.score_target is None else partial(spec.score_target, config)
    protocol = TeacherStudentProtocol(
        task, epochs, "reference", rng=spec.shuffle_rng(config),
        target_kind=spec.target_kind, score_target=score,
    )
    n = config.layer_sizes()
    with Session(spec.network(config), n[0], n[-1]) as session:
        metrics = protocol.run(session, plastic=plastic)
    return metrics


@pytest.mark.parametrize("layers,model", sorted(CHECK_MSE))
def test_two_epoch_check_values(layers, model):
    for seed, printed in zip(SEEDS, CHECK_MSE[(layers, model)]):
        m = reference_run(model, layers, seed)
        assert_printed(float(np.mean(m["test_sqerr"])), printed)
        assert m["test_mse_all_steps"] == pytest.approx(np.mean(m["test_sqerr"]))


def test_untrained_errormc_check_values():
    for seed, printed in zip(SEEDS, ("0.095467", "0.082533")):
        m = reference_run("errormc", "4-2-1", seed, epochs=1, plastic=False)
        assert_printed(float(np.mean(m["test_sqerr"])), printed)


def test_initial_state_check_values():
    task = TeacherStudentTask([4, 2, 1], FIRST_SEED)
    assert task.teacher_seed == 123055
    for v, p in zip(task.samples["train"][0], ("0.8482688", "0.97284302", "0.35841242", "0.11071835")):
        assert_printed(v, p)
    for v, p in zip(task.weights[0][0], ("0.696538", "0.945686", "-0.283175", "-0.778563")):
        assert_printed(v, p)
    for v, p in zip(task.weights[1][0], ("0.919641", "-0.310622")):
        assert_printed(v, p)
    targets = ("0.590264", "-0.026615", "0.150562", "0.345056", "0.345849")
    recorded = task.sample_targets("train", "rate")[:5, 0]
    _, direct = teacher_forward(task.samples["train"][:5], task.weights)
    for r, d, p in zip(recorded, direct[:, 0], targets):
        assert_printed(r, p)
        assert_printed(d, p)

    w = initial_state([4, 2, 1], seed=56789)
    for v, p in zip(w["W"][4, :4], ("0.769372", "-0.58552", "0.347262", "-0.622532")):
        assert_printed(v, p)
    for v, p in zip(w["W"][6, 4:6], ("-0.462638", "0.230181")):
        assert_printed(v, p)
    for v, p in zip(w["WIP1"].ravel(), ("1.109222", "0.165131", "-0.291479", "1.184092")):
        assert_printed(v, p)
    B = ("0.296392", "0.239211", "-0.926481", "0", "-0.321926", "0.012386", "0", "0", "0.132973")
    for v, p in zip(w["B"].ravel(), B):
        assert_printed(v, p)


def test_student_output_after_settling():
    config = RunConfig(model="errormc", layers="4-2-1", seed=56789, protocol="reference", epochs=1)
    task = TeacherStudentTask([4, 2, 1], FIRST_SEED)
    with Session(models.get("errormc").network(config), 4, 1) as session:
        data = session.run(task.inputs["train"][:2000], None, np.zeros(2000))
    assert_printed(float(data["output"][-1, 0]), "-0.092224")


@pytest.mark.parametrize("model", ["sacramento2018", "dpc", "ann"])
def test_runner_reproduces_check_values_for_first_seed(model):
    """Through the runner (``errormc run --model X --protocol reference``): the
    first seed's teacher is the paper's, so its check value is reproduced."""
    from errormc.runs.runner import train

    config = RunConfig(model=model, layers="4-2-1", seed=56789, protocol="reference", epochs=2)
    metrics, _ = train(config)
    assert_printed(metrics["test_mse_final_all_steps"], CHECK_MSE[("4-2-1", model)][0])
