"""`errormc bench backends`: sizes from flags, rows written as they finish."""

import csv

import nengo
import pytest

from errormc.benchmarks.speed_backends import task_list, write_backends_table
from errormc.networks.errors import ConfigError

nengo.rc.set("decoder_cache", "enabled", "False")


def test_task_list_sizes_and_bad_input():
    (label, _, kwargs, metric), = task_list("ts21", n_train=5, n_test=2, epochs=1)
    assert label == "teacher_student 2-1" and metric == "test_mse"
    assert kwargs == dict(layers="2-1", n_train=5, n_test=2, epochs=1)
    assert [t[0] for t in task_list()] == ["teacher_student 2-1", "teacher_student 4-2-1", "digits"]
    with pytest.raises(ConfigError, match="tasks: unknown 'mnist'"):
        task_list("ts21,mnist")
    with pytest.raises(ConfigError, match="epochs"):
        task_list("ts21", epochs=0)


def test_rows_are_written_as_they_finish(tmp_path, monkeypatch):
    import errormc.benchmarks.speed_backends as sb

    seen = []
    real = sb.bench_backends

    def spy(*args, on_row=None, **kwargs):
        def record(row):
            on_row(row)
            # the row is on disk before the next run starts
            with open(tmp_path / "backends.csv") as f:
                seen.append(len(list(csv.DictReader(f))))
        return real(*args, on_row=record, **kwargs)

    monkeypatch.setattr(sb, "bench_backends", spy)
    text = write_backends_table(str(tmp_path), task_list("ts21", n_train=2, n_test=1, epochs=1),
                                progress=False)
    assert seen == [1, 2]
    rows = list(csv.DictReader(open(tmp_path / "backends.csv")))
    assert [r["backend"] for r in rows] == ["nengo", "loihi"]
    assert rows[0]["wall_ratio_loihi_nengo"] == "" and float(rows[1]["wall_ratio_loihi_nengo"]) > 0
    assert rows[1]["emulator"] == "fast"
    assert "wall_ratio_loihi_nengo" in text
