"""The national benchmark's inputs: England's real LAs and school counts, and the demo built at those counts.

The benchmark itself (a Celery run, minutes) is run by `make bench-national`, not here: these tests check only
what it is fed, fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_national  # noqa: E402
from demo_feeds.demo_generator import generate_demo  # noqa: E402
from school_improvement.ingest.feeds import read_landing  # noqa: E402

TERM = "2025-26-autumn"


def test_england_is_153_las_with_their_real_names_and_state_funded_counts(shared_dfe):
    las = bench_national.england(shared_dfe / "metadata")
    assert len(las) == 153 and len({la["la_code"] for la in las}) == 153
    by_code = {la["la_code"]: la for la in las}
    assert by_code["873"]["la_name"] == "Cambridgeshire" and by_code["874"]["la_name"] == "Peterborough"
    # Surrey in the January 2025 census: 299 primary, 59 secondary, 26 special + 8 AP, 4 nursery (no independents)
    assert by_code["936"]["phases"] == {"Primary": 299, "Secondary": 59, "Special": 34, "Nursery": 4}
    assert by_code["936"]["schools"] == 396
    assert all(set(la["phases"]) <= {"Primary", "Secondary", "Special", "Nursery"} for la in las)


def test_n_las_are_spread_over_the_size_range_and_codes_pick_those(shared_dfe):
    las = bench_national.england(shared_dfe / "metadata")
    three = bench_national.choose(las, ["3"])
    sizes = sorted(la["schools"] for la in las)
    assert [la["schools"] for la in three] == [sizes[0], sizes[len(sizes) // 2], sizes[-1]]
    assert [la["la_code"] for la in bench_national.choose(las, ["873", "936"])] == ["873", "936"]
    assert len(bench_national.choose(las, ["500"])) == 153
    with pytest.raises(SystemExit, match="999"):
        bench_national.choose(las, ["873", "999"])


@pytest.mark.slow  # the demo generated at an LA's real school counts (over test-fast's CPU budget)
def test_the_demo_at_an_las_real_counts_holds_exactly_those_schools_per_phase(tmp_path):
    phases = {"Primary": 61, "Secondary": 12, "Special": 5, "Nursery": 2}
    demo = generate_demo(tmp_path, la_code="857", terms=[TERM], phases=phases)
    assert demo["schools"] == 80
    gias = {f.kind: f for f in read_landing(tmp_path / "857" / TERM)}["gias"].schools
    # GIAS's phase of a special school is "Not applicable"
    assert gias["phase"].value_counts().to_dict() == {"Primary": 61, "Secondary": 12, "Not applicable": 5,
                                                      "Nursery": 2}
    assert gias["urn"].between(990001, 999999).all()  # fictional URNs only
    with pytest.raises(ValueError, match="no phase"):
        generate_demo(tmp_path / "x", la_code="857", terms=[TERM], phases={"All-through": 3})


def test_a_region_maps_its_largest_las_first_from_their_stated_school_counts(tmp_path, monkeypatch):
    """The bench states each LA's roster in las.yaml; regions() (the list the regional DAG maps over, so the map
    indexes) puts the largest first, ties and unstated counts in the file's order; without the counts, the file's."""
    from celery_region import REGION, write_las
    from la_config import load_las, regions

    monkeypatch.setenv("SI_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("SI_SHARED_DRIVE", str(tmp_path / "drive"))
    las = [{"la_code": c, "la_name": f"LA {c}", "ran_schools": n}
           for c, n in (("201", 34), ("888", 627), ("839", 120), ("202", 120))]
    assert regions(write_las(tmp_path, las))[REGION] == ["888", "839", "202", "201"]
    assert [la.schools for la in load_las(tmp_path / "las.yaml")] == [34, 627, 120, 120]
    assert regions(write_las(tmp_path, las, sizes=False))[REGION] == ["201", "888", "839", "202"]

    bad = tmp_path / "bad.yaml"
    bad.write_text((tmp_path / "las.yaml").read_text() + "- {la_code: '203', landing: /x, shared_drive: /y, "
                   "region: bench, schools: -5}\n")
    with pytest.raises(ValueError, match=r"LA entry 5 \('203'\): schools"):
        load_las(bad)


def test_idle_slot_time_is_split_into_before_between_and_the_tail():
    """Two slots, a 100 s run: idle 0-2 s (both slots: before), 2-3, 40-42 and 50-52 s (one slot: between tasks),
    then one task alone from 60 s and none after 95 s (the tail)."""
    from datetime import datetime, timedelta

    at = lambda s: datetime(2026, 1, 1) + timedelta(seconds=s)  # noqa: E731
    tasks = [{"start": at(a), "end": at(b)} for a, b in ((2, 50), (3, 40), (42, 60), (52, 95))]
    got = bench_national.occupancy({"slots": 2, "run_start": at(0), "run_end": at(100), "tasks": tasks})
    assert got == {"busy": 146.0, "idle": 54.0, "head": 4.0, "middle": 5.0, "tail": 45.0, "idle_queued": 0.0}
    # The third task queued at 39 s: of its slot's 2 s idle before it started, all was the worker's side; the
    # fourth queued at 51.5 s: half a second of the 2 s.
    tasks[2]["queued"], tasks[3]["queued"] = at(39), at(51.5)
    got = bench_national.occupancy({"slots": 2, "run_start": at(0), "run_end": at(100), "tasks": tasks})
    assert got["idle_queued"] == 2.5 and got["middle"] == 5.0


def test_the_benchmark_runs_the_services_with_docker_composes_settings():
    """What is measured is what is deployed: the dag-processor's re-parse interval and the workers' heartbeat are
    read from docker-compose.yaml, not set again in the benchmark."""
    import yaml
    from celery_region import COMPOSE_SETTINGS, compose_settings

    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    settings = compose_settings()
    assert set(settings) == set(COMPOSE_SETTINGS)
    for name, value in settings.items():
        where = "airflow-worker" if "__WORKERS__" in name else "airflow-dag-processor"
        assert str(compose["services"][where]["environment"][name]) == value, name
    assert int(settings["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"]) > 30  # not Airflow's default


def test_the_slot_held_after_each_task_is_read_from_the_task_log_and_the_workers_log(tmp_path):
    from celery_region import exit_holds

    logs = tmp_path / "airflow-home" / "logs" / "dag_id=d" / "run_id=r"
    for ti, last, finished in (("0a-1", "10:00:05.000000", "10:00:06.020000"), ("0b-2", "10:00:07.500000",
                                                                                 "10:00:07.530000")):
        task_log = logs / f"task_id=t{ti}" / "map_index=0" / "attempt=1.log"
        task_log.parent.mkdir(parents=True)
        task_log.write_text(f'{{"timestamp":"2026-11-26T10:00:01.000000Z","event":"start","ti_id":"{ti}"}}\n'
                            f'{{"timestamp":"2026-11-26T{last}Z","event":"done"}}\nnot json\n')
        with open(tmp_path / "worker_0.log", "a") as fh:
            fh.write(f"2026-11-26T{finished}Z [info     ] Workload finished  [supervisor] duration=4.2 exit_code=0 "
                     f"workload_id={ti} workload_type=ExecuteTask\n")
    assert [round(h, 2) for h in exit_holds(tmp_path)] == [0.03, 1.02]
