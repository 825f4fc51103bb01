"""The regional DAG: one task group per LA of the region (read from the LA config when the DAG is parsed).

Parsed here with a region of three LAs: a group per LA, largest first, each task process building only its own
LA's group, the chain passing no results between tasks. Its run is tested where it runs in production, on the
CeleryExecutor (tests/test_celery_regional.py): three demo LAs, one with a broken attendance feed, which stops at
validate and publishes nothing while the others publish, each recording an event on its own reports Asset.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # DAG files parsed, Airflow imported
REGION = "demo_east"


def _las(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"las": entries}))
    return path


def _entry(code: str, region: str = REGION) -> dict:
    return {"la_code": code, "la_name": f"LA {code} (demo)", "region": region,
            "landing": "${SI_LANDING}", "shared_drive": "${SI_SHARED_DRIVE}"}


def _dagbag(las_file: Path):
    from airflow.dag_processing.dagbag import DagBag

    old = os.environ.get("SI_LAS_FILE")
    os.environ["SI_LAS_FILE"] = str(las_file)
    try:
        return DagBag(dag_folder=str(REPO / "dags"))
    finally:
        if old is None:
            del os.environ["SI_LAS_FILE"]
        else:
            os.environ["SI_LAS_FILE"] = old


def test_one_regional_dag_per_region_with_a_task_group_per_la_largest_first(tmp_path):
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup
    from airflow.task.priority_strategy import validate_and_load_priority_weight_strategy

    entries = [{**_entry(code), "schools": n} for code, n in (("873", 120), ("874", 610), ("875", 120))]
    las = _las(tmp_path / "las.yaml", [*entries, _entry("876", region="")])
    bag = _dagbag(las)
    assert bag.import_errors == {}
    assert sorted(d for d in bag.dags if d.startswith("regional_")) == [f"regional_school_improvement_{REGION}"]
    dag = bag.dags[f"regional_school_improvement_{REGION}"]
    assert set(dag.params.keys()) == {"term", "as_of"}
    # One plain group per LA, from the config as parsed: for a task in a mapped group the scheduler queries the
    # database twice per waiting task instance per loop (dags/regional_school_improvement.py).
    groups = {g: dag.task_group_dict[g] for g in ("la_873", "la_874", "la_875")}
    assert not any(isinstance(g, MappedTaskGroup) for g in dag.task_group_dict.values())
    assert {t.task_id.split(".")[0] for t in dag.tasks} == set(groups)
    for code in ("873", "874", "875"):
        assert [t.task_id for t in dag.topological_sort() if t.task_id.startswith(f"la_{code}.")][0] == \
            f"la_{code}.extract"
        renders = [t for t in dag.tasks if t.task_id.startswith(f"la_{code}.build_reports_")]
        assert sorted(t.task_id.split(".")[1] for t in renders) == ["build_reports_drafts", "build_reports_general",
                                                                   "build_reports_restricted"]
        assert {t.pool for t in renders} == {"si_reports"}
        assert {t.downstream_task_ids == {f"la_{code}.assemble_reports"} for t in renders} == {True}
    # The scheduler starts the ready task of highest weight first: every LA's earlier stage before any later one
    # (as the mapped group did), and at each stage the largest LA first (874; 873 before 875, the file's order).
    weight = validate_and_load_priority_weight_strategy("downstream").get_weight

    class TI:
        def __init__(self, task):
            self.task = task

    order = [t.task_id for t in sorted(dag.tasks, key=lambda t: -weight(TI(t)))]
    stages = ["extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports_",
              "assemble_reports", "publish"]
    assert [next(i for i, s in enumerate(stages) if t.split(".")[1].startswith(s)) for t in order] == \
        sorted(next(i for i, s in enumerate(stages) if t.split(".")[1].startswith(s)) for t in order)
    assert [t.split(".")[0] for t in order if t.endswith(".extract") or t.endswith(".publish")] == \
        ["la_874", "la_873", "la_875"] * 2
    # An LA in a region is scheduled by its region; its own DAG is for manual runs. 876 has no region.
    assert bag.dags["termly_school_improvement_873"].timetable.__class__.__name__ == "NullTimetable"
    assert bag.dags["termly_school_improvement_876"].timetable.__class__.__name__ == "SchoolTermTimetable"
    for t in dag.tasks:
        assert t.doc_md and "What it does" in t.doc_md, t.task_id
        assert t.on_failure_callback, t.task_id


def test_a_task_process_builds_its_own_las_group_only(tmp_path, monkeypatch):
    """A task process parses the DAG file to find its task: with England's 153 LAs every group it built cost it
    about 5 ms; Airflow's parsing context names the DAG and task, so only that LA's group (and DAG) is built."""
    from airflow.sdk.definitions.context import _AIRFLOW_PARSING_CONTEXT_DAG_ID, _AIRFLOW_PARSING_CONTEXT_TASK_ID

    las = _las(tmp_path / "las.yaml", [_entry("873"), _entry("874"), _entry("875")])
    dag_id = f"regional_school_improvement_{REGION}"
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID, dag_id)
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_TASK_ID, "la_874.publish")
    bag = _dagbag(las)
    ours = [d for d in bag.dags if d.startswith(("termly_", "regional_"))]
    assert bag.import_errors == {} and ours == [dag_id]  # no per-LA DAG, no other region's
    own = bag.dags[dag_id]
    assert {t.task_id.split(".")[0] for t in own.tasks} == {"la_874"} and len(own.tasks) == 10
    publish = own.task_dict["la_874.publish"]
    assert publish.upstream_task_ids == {"la_874.assemble_reports", "la_874.categorise", "la_874.flag_letters"}
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID, "termly_school_improvement_875")
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_TASK_ID, "extract")
    assert [d for d in _dagbag(las).dags if d.startswith(("termly_", "regional_"))] == ["termly_school_improvement_875"]
    monkeypatch.delenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID)
    monkeypatch.delenv(_AIRFLOW_PARSING_CONTEXT_TASK_ID)
    assert len(_dagbag(las).dags[dag_id].tasks) == 30  # the dag-processor's parse: every LA


def test_the_chain_passes_no_results_between_tasks_but_publishs_counts_and_letters(tmp_path):
    """Stages read their inputs from the run's artefacts: the chain's order is plain dependencies, so no task but
    publish pulls an XCom at its start (each pull: requests through the supervisor to the api-server)."""
    from airflow.sdk.definitions.xcom_arg import XComArg

    bag = _dagbag(_las(tmp_path / "las.yaml", [_entry("873"), _entry("874")]))
    for dag_id in (f"regional_school_improvement_{REGION}", "termly_school_improvement_873"):
        dag = bag.dags[dag_id]
        pulls = {}
        for t in dag.tasks:
            args = [*getattr(t, "op_args", ()), *getattr(t, "op_kwargs", {}).values(),
                    *getattr(t, "partial_kwargs", {}).get("op_kwargs", {}).values()]
            pulls[t.task_id] = sorted(a.operator.task_id.split(".")[-1] for a in args if isinstance(a, XComArg))
        prefix = "la_873." if dag_id.startswith("regional") else ""
        publishes = ["la_873.publish", "la_874.publish"] if prefix else ["publish"]
        assert {k: v for k, v in pulls.items() if v} == {p: ["categorise", "flag_letters"] for p in publishes}, dag_id
        order = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
        assert order[f"{prefix}validate"] == [f"{prefix}extract"]
        assert order[f"{prefix}categorise"] == [f"{prefix}assess_evidence"]
        assert order[f"{prefix}publish"] == [f"{prefix}assemble_reports", f"{prefix}categorise",
                                             f"{prefix}flag_letters"]

