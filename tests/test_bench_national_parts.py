"""The national benchmark's exact task CPU and its projection by parts (plugins/task_cpu.py's lines read back from the
workers' logs; the CPU around each task instance and the scheduler's cost over England's waiting task instances).

Fed made-up figures, so each step can be followed by hand; the benchmark itself runs with `make bench-national`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_national  # noqa: E402
import celery_region  # noqa: E402


def _res(tasks: list[dict]) -> dict:
    # run CPU per process; the workers' run CPU is what the exact task CPU and the supervisors leave
    return {"tasks": tasks, "wall": 50.0, "worker_run_cpu": 30.0,
            "processes": {"worker_0": {"run_cpu": 15.5, "stop_cpu": 0.5}, "worker_1": {"run_cpu": 15.0},
                          "api-server": {"run_cpu": 2.0}, "scheduler": {"run_cpu": 4.0},
                          "dag-processor": {"run_cpu": 0.4}}}


def _task(la: str, stage: str, own: float | None, sup: float | None, sampled: float | None = None) -> dict:
    return {"task_id": f"la_{la}.{stage}", "la_code": la, "cpu": sampled, "cpu_exact": own, "supervisor_s": sup,
            "peak_mib": 100.0}


def test_the_split_around_each_task_is_what_the_exact_task_cpu_leaves_per_task_instance():
    tasks = [_task("201", "extract", 5.0, 0.5), _task("201", "validate", 7.0, 0.5),
             _task("888", "extract", 6.0, 0.5), _task("888", "validate", 8.0, 0.5)]
    split = bench_national.overhead_split(_res(tasks))
    assert split["task_cpu"] == pytest.approx(26.0)
    assert split["supervisor"] == pytest.approx(0.5)
    assert split["workers_rest"] == pytest.approx((30.0 - 26.0 - 2.0) / 4)
    assert split["api-server"] == pytest.approx(0.5) and split["scheduler"] == pytest.approx(1.0)
    assert split["per_task"] == pytest.approx(0.5 + 0.5 + 0.5 + 1.0 + 0.1)
    assert split["tasks_per_la"] == 2
    assert split["stop"] == pytest.approx(0.5)  # worker_0's stop: once per deployment, not per task
    assert split["workers_main"] is None  # the pool processes' totals were not logged
    split = bench_national.overhead_split({**_res(tasks), "pool_cpu": 3.0})
    assert split["pools_between"] == pytest.approx((3.0 - 2.0) / 4)
    assert split["workers_main"] == pytest.approx((30.0 - 26.0 - 3.0) / 4)


def test_without_every_tasks_exact_figure_there_is_no_split_and_the_sampled_figure_stands_in():
    tasks = [_task("201", "extract", 5.0, 0.5), _task("201", "validate", None, None, sampled=6.5)]
    assert bench_national.overhead_split(_res(tasks)) == {}
    assert [bench_national.task_cpu(t) for t in tasks] == [5.0, 6.5]


def test_england_by_parts_adds_the_services_per_second_of_wall_over_the_waiting_task_instances():
    # here: 20 task instances over 40 s of wall; the services 0.3 s per task instance, of which 0.1 s/s x 40 s / 20
    # is their cost per second of wall, whatever runs
    split = {"supervisor": 0.1, "workers_rest": 0.2, "api-server": 0.1, "scheduler": 0.15, "dag-processor": 0.05,
             "wall": 40.0, "task_instances": 20}
    out = bench_national.england_by_parts(split, proj_tasks=3000.0, task_instances=1531, start_cpu=20.0, slots=2,
                                          steady=1.0, pending=((31, 0.1), (1531, 0.5)))
    services_per_task = 0.3 - 0.1 * 40.0 / 20
    per_s = 0.1 + (0.5 - 0.1)  # at England's size: the small figure and the whole difference (it does not fall)
    fixed = 3000.0 + (0.3 + services_per_task) * 1531
    assert out["services_per_task"] == pytest.approx(services_per_task)
    assert out["per_s"] == pytest.approx(per_s)
    assert out["wall"] == pytest.approx(fixed / (2 - per_s))
    assert out["cpu"] == pytest.approx(fixed + per_s * out["wall"] + 20.0)
    # the services' whole cost here was their cost per second: nothing more per task instance
    idle = bench_national.england_by_parts({**split, "scheduler": 0.05}, 3000.0, 1531, 20.0, 2, 1.0,
                                           ((31, 0.1), (1531, 0.1)))
    assert idle["services_per_task"] == 0.0 and idle["per_s"] == pytest.approx(0.1)


def test_each_tasks_exact_cpu_is_read_from_the_workers_logs(tmp_path):
    (tmp_path / "worker_0.log").write_text(
        "2026-11-26T19:53:10.1Z [info     ] Workload finished              [supervisor] duration=1.9\n"
        "2026-11-26T19:53:10.2Z [info     ] task CPU: ti_id=01a2-aa task_s=1.234 supervisor_s=0.120 [task_cpu]\n")
    (tmp_path / "worker_1.log").write_text(
        "2026-11-26T19:53:11.2Z [info     ] task CPU: ti_id=01a2-bb task_s=0.050 supervisor_s=0.090 pool_pid=71 "
        "pool_s=0.500 [task_cpu]\n"
        "2026-11-26T19:53:12.2Z [info     ] task CPU: ti_id=01a2-cc task_s=0.020 supervisor_s=0.030 pool_pid=71 "
        "pool_s=0.700 [task_cpu]\n")
    got = celery_region.task_cpu_by_ti(tmp_path)
    assert got["01a2-aa"] == {"ti_id": "01a2-aa", "task_s": 1.234, "supervisor_s": 0.12}
    assert got["01a2-bb"] == {"ti_id": "01a2-bb", "task_s": 0.05, "supervisor_s": 0.09, "pool_pid": 71, "pool_s": 0.5}
    assert celery_region.pool_cpu(got) == pytest.approx(0.7)  # the pool process's total at its last task
