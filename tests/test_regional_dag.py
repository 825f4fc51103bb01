"""The regional DAG: one task group per LA of the region (read from the LA config when the DAG is parsed).

Parsed with a region of three LAs, and run (dag.test() in its own Python process) over two demo LAs of a region,
one with a broken attendance feed: the good LA publishes and records an event on its own reports Asset
(through the region's AssetAlias) carrying the edition's metadata; the broken LA stops at validate and
publishes nothing; neither reads the other's folders.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # Airflow runs whole terms
TERM = "2025-26-autumn"
REGION = "demo_east"

RUNNER = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
dr = bag.dags[sys.argv[2]].test(run_conf=json.loads(sys.argv[3]))
print(f"RUN STATE: {dr.state}", flush=True)
"""


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


def _break_attendance(term_folder: Path) -> None:
    path = next(term_folder.glob("*_abs_*.csv"))
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    cells = lines[3].split(",")
    cells[3] = "abc"  # PERCTOT
    lines[3] = ",".join(cells)
    path.write_bytes(("\ufeff" + "\r\n".join(lines)).encode("utf-8"))


@pytest.fixture(scope="module")
def regional_run(tmp_path_factory, airflow_db):
    from small_demo import small_demo  # the fan-out is under test, not the county's size

    root = tmp_path_factory.mktemp("regional")
    summary = {code: small_demo(root / "landing", la_code=code, terms=[TERM]) for code in ("999", "998")}
    _break_attendance(root / "landing" / "998" / TERM)
    (root / "drive").mkdir()
    (root / "drive" / ".school-improvement-share").write_text("")  # the LA marks the real share once
    las = _las(root / "las.yaml", [_entry("999"), _entry("998")])
    home = root / "home"
    home.mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
           "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}", "GX_ANALYTICS_ENABLED": "False",
           "SI_WORK_DIR": str(root / "work"), "SI_LANDING": str(root / "landing"), "SI_LAS_FILE": str(las),
           "SI_SHARED_DRIVE": str(root / "drive"), "SI_HISTORY_URL": f"sqlite:///{root / 'history.sqlite'}"}
    airflow_db(home)  # a copy of the session's migrated database (tests/conftest.py)
    with open(root / "run.log", "w") as fh:
        subprocess.run([sys.executable, "-c", RUNNER, str(REPO / "dags"), f"regional_school_improvement_{REGION}",
                        json.dumps({"term": TERM})], env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=2400)
    with sqlite3.connect(home / "airflow.db") as con:
        states = {(t, m): s for t, m, s in con.execute("select task_id, map_index, state from task_instance")}
        events = [(uri, json.loads(extra)) for uri, extra in con.execute(
            "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id")]
    return {"root": root, "log": (root / "run.log").read_text(errors="replace"), "states": states, "events": events,
            "maintained": summary["999"]["maintained"]}


def test_each_la_runs_its_own_chain_one_broken_feed_stops_only_its_la(regional_run):
    states, log = regional_run["states"], regional_run["log"]
    assert "RUN STATE: failed" in log, log[-4000:]  # the region's run reports the broken LA
    # 999 is good, 998 has a broken attendance feed
    for task in ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports_general",
                 "build_reports_restricted", "build_reports_drafts", "assemble_reports", "publish"):
        assert states[(f"la_999.{task}", -1)] == "success", (task, states)
    assert states[("la_998.extract", -1)] == "success" and states[("la_998.validate", -1)] == "failed"
    for task in ("assess_evidence", "categorise", "flag_letters", "assemble_reports", "publish"):
        assert states[(f"la_998.{task}", -1)] == "upstream_failed", (task, states)
    drive = regional_run["root"] / "drive"
    assert (drive / "999" / "2025-26" / "autumn" / "current.json").is_file()
    assert not (drive / "998").exists()
    assert "998_abs_" in log and "PERCTOT" in log


def test_the_good_las_asset_event_carries_its_editions_metadata(regional_run):
    events = regional_run["events"]
    assert [uri for uri, _ in events] == ["school-improvement://999/reports"]
    meta = events[0][1]
    assert meta["la_code"] == "999" and meta["term"] == TERM and meta["edition"] == "edition-001"
    assert meta["status"] == "published" and meta["edition_path"].endswith("999/2025-26/autumn/edition-001")
    assert sum(meta["schools_per_level"].values()) == regional_run["maintained"]  # every maintained school
    assert meta["rule_set"] == "cambs-2021-23"
    assert meta["letters"] and "history" not in json.dumps(meta) and "sqlite" not in json.dumps(meta)


def test_each_las_work_stays_in_its_own_folders(regional_run):
    work = regional_run["root"] / "work"
    assert sorted(p.name for p in work.iterdir()) == ["998", "999", "archive"]
    assert (work / "999" / TERM).is_dir() and not list((work / "998" / TERM).rglob("staged"))
