"""Teacher-student learning (MODEL.md section 3)."""

import numpy as np

from errormc.runs.config import RunConfig
from errormc.benchmarks.protocol import delay_targets, shuffled
from errormc.runs.runner import train
from errormc.benchmarks.tasks.teacher_student import TeacherStudentTask, teacher_forward


def test_teacher_records_lag_feedforward_output_by_depth_plus_one():
    task = TeacherStudentTask([4, 2, 1], seed=3, n_samples=5, settle_steps=100)
    _, ff = teacher_forward(task.inputs["val"], task.weights)
    # record at step s is the output for the input of step s - (L + 1)
    np.testing.assert_allclose(task.records["val"][3:], ff[:-3], atol=1e-15)
    # one target per sample = the feed-forward output of that sample
    np.testing.assert_allclose(task.sample_targets("test"), teacher_forward(task.samples["test"], task.weights)[1], atol=1e-15)


def test_shuffle_keeps_pairs_and_delays_targets():
    P, L = 5, 2
    x = np.repeat(np.arange(4.0)[:, None], P, axis=0)
    t = 10 * x
    xs, ts, order = shuffled(x, t, np.random.RandomState(0), P, L)
    np.testing.assert_array_equal(xs[P - 1 :: P, 0], order)
    np.testing.assert_array_equal(ts, delay_targets(10 * xs, L))
    np.testing.assert_array_equal(delay_targets(np.arange(6), 2), [0, 1, 0, 1, 2, 3])


def test_teacher_student_421_learns_tenfold():
    config = RunConfig(layers="4-2-1", epochs=20, seed=56789)
    metrics, weights = train(config)
    assert metrics["test_mse_final"] * 10 <= metrics["test_mse_initial"]
    assert all(np.all(np.isfinite(w)) for w in weights.values())
    # validation improves over training
    assert metrics["val_mse"][-1] < metrics["val_mse"][0]
