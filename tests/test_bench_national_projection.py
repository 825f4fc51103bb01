"""The national benchmark's projection by parts, fed a run as large as England: it must give that run back.

Made-up figures built to be consistent (the services paid their per-second cost at the run's size plus a fixed CPU
per task instance), so a projection that counts the services' per-second cost twice gives a longer wall."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_national  # noqa: E402

PENDING = ((30, 0.05), (1530, 0.20))


def _run(n: int, tasks_cpu: float, steady: float, per_task: float = 0.08, workers: float = 0.06) -> dict:
    """A run of `n` task instances whose wall solves wall = CPU x steady / 2 slots, its services paying
    pending_per_s(n) per second of wall and `per_task` per task instance."""
    per_s = bench_national.pending_per_s(n, PENDING)
    fixed = tasks_cpu + (per_task + workers) * n
    wall = fixed * steady / (2 - per_s * steady)
    services = per_task * n + per_s * wall
    return {"wall": wall, "split": {"supervisor": workers, "workers_rest": 0.0, "api-server": services / n / 2,
                                    "scheduler": services / n / 2, "dag-processor": 0.0, "wall": wall,
                                    "task_instances": n}}


def test_the_services_per_second_grow_with_the_task_instances_on_the_measured_line():
    assert bench_national.pending_per_s(30, PENDING) == pytest.approx(0.05)
    assert bench_national.pending_per_s(780, PENDING) == pytest.approx(0.125)
    assert bench_national.pending_per_s(1530, PENDING) == pytest.approx(0.20)
    assert bench_national.pending_per_s(10, PENDING) == pytest.approx(0.05)  # never below the small figure


@pytest.mark.parametrize("n", [1530, 80])
def test_a_run_projected_to_its_own_size_gives_its_own_wall_and_cpu(n):
    run = _run(n, tasks_cpu=2859.0 * n / 1530, steady=1.21)
    out = bench_national.england_by_parts(run["split"], proj_tasks=2859.0 * n / 1530, task_instances=n,
                                          start_cpu=0.0, slots=2, steady=1.21, pending=PENDING)
    assert out["wall"] == pytest.approx(run["wall"])
    assert out["services_per_task"] == pytest.approx(0.08)


def test_a_small_run_projected_to_england_gives_what_england_would_measure():
    small, big = _run(80, tasks_cpu=150.0, steady=1.21), _run(1530, tasks_cpu=2859.0, steady=1.21)
    out = bench_national.england_by_parts(small["split"], proj_tasks=2859.0, task_instances=1530, start_cpu=0.0,
                                          slots=2, steady=1.21, pending=PENDING)
    assert out["wall"] == pytest.approx(big["wall"])


def _at(s: float):
    from datetime import datetime, timedelta, timezone

    return datetime(2026, 11, 27, tzinfo=timezone.utc) + timedelta(seconds=s)


def test_each_workers_gaps_split_at_the_next_tasks_queued_time():
    import celery_region  # noqa: F401  (the module the tasks' figures come from)

    def t(host, queued, start, end, seen=None):
        return {"hostname": host, "queued": _at(queued), "start": _at(start), "end": _at(end),
                "seen": _at(seen) if seen is not None else None}
    tasks = [t("w0", 0, 1, 10, seen=11), t("w0", 5, 10.5, 20, seen=22),  # queued before the slot freed: 0.5 s worker
             t("w0", 21, 21.25, 30),                                      # queued 1 s after: 1 s scheduler, 0.25 worker
             t("w1", 0, 1, 2, seen=2.5), {"hostname": "w1", "queued": None, "start": None, "end": None}]
    got = bench_national.slot_gaps(tasks)
    assert got["gaps"] == 2
    assert got["sched"] == pytest.approx(1.0)
    assert got["worker"] == pytest.approx(0.75)
    assert got["seen_median"] == pytest.approx(1.0)  # 0.5, 1, 2


def test_the_executor_reading_each_tasks_result_is_read_from_the_schedulers_log(tmp_path):
    import celery_region

    (tmp_path / "scheduler.log").write_text(
        "2026-11-27T01:21:07.241717Z [info     ] Received executor event with state queued for task instance "
        "TaskInstanceKey(dag_id='d', task_id='la_888.extract', run_id='r', try_number=1, map_index=-1)\n"
        "2026-11-27T01:21:08.500000Z [info     ] Received executor event with state success for task instance "
        "TaskInstanceKey(dag_id='d', task_id='la_888.extract', run_id='r', try_number=1, map_index=-1)\n"
        "2026-11-27T01:21:09.000000Z [info     ] Received executor event with state failed for task instance "
        "TaskInstanceKey(dag_id='d', task_id='la_201.validate', run_id='r', try_number=1, map_index=-1)\n")
    got = celery_region.executor_events(tmp_path)
    assert got == {"la_888.extract": _at(0).replace(hour=1, minute=21, second=8, microsecond=500000),
                   "la_201.validate": _at(0).replace(hour=1, minute=21, second=9)}
    assert celery_region.executor_events(tmp_path / "absent") == {}
