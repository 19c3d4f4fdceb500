"""`errormc bench backends`: sizes from flags, rows written as they finish."""

import csv

import pytest

from errormc.networks.errors import ConfigError
from errormc.runs import bench_backends
from errormc.runs.bench_backends import sized_tasks, write_table


def test_task_list_sizes_and_bad_input():
    (label, config, metric), = sized_tasks(n_samples=5, n_test=2, epochs=1, names="ts21")
    assert label == "teacher-student 2-1" and metric == "test_mse_final"
    assert config == dict(task="teacher-student", layers="2-1", epochs=1, n_samples=5, n_test=2)
    assert [t[0] for t in sized_tasks()] == ["teacher-student 2-1", "teacher-student 4-2-1",
                                             "digits"]
    with pytest.raises(ConfigError, match="tasks: unknown 'mnist'"):
        sized_tasks(names="ts21,mnist")


def test_rows_are_written_as_they_finish(tmp_path, monkeypatch):
    seen = []
    real = bench_backends.run

    def spy(*args, **kwargs):
        # every earlier run's row is on disk before the next run starts
        path = tmp_path / "backends.csv"
        seen.append(len(list(csv.DictReader(open(path)))) if path.exists() else 0)
        return real(*args, **kwargs)

    monkeypatch.setattr(bench_backends, "run", spy)
    text = write_table(str(tmp_path), sized_tasks(n_samples=2, n_test=1, epochs=1, names="ts21"),
                       progress=False)
    assert seen == [0, 1]
    rows = list(csv.DictReader(open(tmp_path / "backends.csv")))
    assert [r["backend"] for r in rows] == ["nengo", "loihi"]
    assert rows[0]["wall_ratio_loihi_nengo"] == "" and float(rows[1]["wall_ratio_loihi_nengo"]) > 0
    assert rows[1]["emulator"] == "fast"
    assert "wall_ratio_loihi_nengo" in text
