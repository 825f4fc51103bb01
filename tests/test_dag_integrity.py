"""The DAG bag loads, the DAG is thin and documented, and the term Timetable follows the calendar."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pendulum
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.mark.slow  # every DAG file parsed, or every module of the package read and parsed (over test-fast's CPU budget)
def test_dagbag_has_no_import_errors_and_every_task_has_retries_and_a_doc(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags.get("termly_school_improvement_999")
    assert dag is not None
    assert [t.task_id for t in dag.topological_sort()] == [
        "extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports", "assemble_reports",
        "publish"]
    for t in dag.tasks:
        for part in ("What it does", "Usual causes of failure", "Fix and re-run"):  # the operator's three questions
            assert part in (t.doc_md or ""), (t.task_id, part)
        # Transient faults retry; validate's data errors do not (they fail at once with the message).
        assert t.retries == 0 if t.task_id == "validate" else t.retries >= 1, t.task_id
        assert t.retry_exponential_backoff or t.task_id == "validate", t.task_id
        assert t.on_failure_callback, t.task_id  # alerts from the task itself: DAG-level callbacks can be lost
    assert dag.get_task("publish").retries >= 2  # transient: the shared drive may be unreachable
    assert dag.get_task("validate").retries == 0  # data errors are not retried
    assert dag.max_active_runs == 1 and dag.catchup is False


def test_one_dag_per_la_bound_to_its_la_with_term_and_as_of_the_only_params(dagbag):
    from la_config import load_las

    las = load_las()
    termly = sorted(d for d in dagbag.dags if d.startswith("termly_school_improvement"))
    assert termly == sorted(f"termly_school_improvement_{la.la_code}" for la in las)
    for dag_id in termly:
        dag = dagbag.dags[dag_id]
        assert set(dag.params.keys()) == {"term", "as_of"}, dag_id  # la_code, landing, drive are not a run's choice
        for name in ("term", "as_of"):
            assert dag.params.get_param(name).description
        assert dag.params.get_param("term").schema["pattern"].startswith("^")


def test_the_editions_render_as_mapped_tasks_in_the_report_pool(dagbag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = dagbag.dags["termly_school_improvement_999"]
    parts = dag.get_task("build_reports")
    assert isinstance(parts, MappedOperator)
    assert parts._get_specified_expand_input().value == {"part": ["general", "restricted", "drafts"]}
    assert parts.pool == "si_reports" and parts.pool_slots >= 1
    assert {t.task_id for t in parts.downstream_list} == {"assemble_reports"}


def test_each_task_pushes_its_result_as_one_xcom_not_one_per_key(dagbag):
    # TaskFlow reads a `-> dict` annotation as multiple_outputs=True: each key pushed through the api-server again.
    # (The regional DAGs wire the same chain: plugins/termly_tasks.py.)
    for t in dagbag.dags["termly_school_improvement_999"].tasks:
        assert t.multiple_outputs is False, t.task_id


def test_publish_records_an_event_on_the_las_reports_asset(dagbag):
    dag = dagbag.dags["termly_school_improvement_999"]
    outlets = dag.get_task("publish").outlets
    assert [o.uri for o in outlets] == ["school-improvement://999/reports"]


def test_dag_files_are_wiring_only():
    for f in (REPO / "dags").glob("*.py"):
        text = f.read_text()
        assert len(text.splitlines()) < 150, f
        tree = ast.parse(text)
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        # No business rule in the DAG: the stages come from the domain package through the glue module.
        assert not any(m and m.startswith("school_improvement.") for m in imported), f


@pytest.mark.slow  # every DAG file parsed, or every module of the package read and parsed (over test-fast's CPU budget)
def test_domain_package_imports_nothing_from_airflow_nor_the_demo():
    """The production package runs on an LA's downloads: it needs neither Airflow nor the demo generator."""
    files = sorted((REPO / "include" / "school_improvement").rglob("*.py"))
    assert len(files) > 20 and any(f.parent.name == "decisions" for f in files)
    for f in files:
        tree = ast.parse(f.read_text())
        for n in ast.walk(tree):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [n.module or ""] if isinstance(n, ast.ImportFrom) else []
            assert not any(x.split(".")[0] in ("airflow", "demo_feeds") for x in names), f


def test_the_package_tree_shows_the_pipeline():
    pkg = REPO / "include" / "school_improvement"
    stages = ["ingest", "quality", "evidence", "decisions", "editions", "publish"]
    assert all((pkg / s / "__init__.py").is_file() for s in stages)
    assert not (pkg / "demo.py").exists() and (REPO / "include" / "demo_feeds" / "demo_generator.py").is_file()


def test_timetable_runs_once_per_term_on_the_calendar_dates():
    from airflow.timetables.base import TimeRestriction
    from school_improvement.terms import Term, TermCalendar
    from school_term_timetable import SchoolTermTimetable

    tt = SchoolTermTimetable()
    cal = TermCalendar.load()
    start = pendulum.datetime(2025, 8, 1, tz="UTC")
    info = tt.next_dagrun_info(last_automated_data_interval=None,
                               restriction=TimeRestriction(earliest=start, latest=None, catchup=True))
    autumn = Term.parse("2025-26-autumn")
    assert info.data_interval.start.date() == cal.term_dates(autumn)[0]
    assert info.data_interval.end.date() == cal.run_date(autumn)
    # The run date is 15 school days in: half-term closures and weekends do not count.
    assert cal.run_date(autumn) == date(2025, 9, 24)
    nxt = tt.next_dagrun_info(last_automated_data_interval=info.data_interval,
                              restriction=TimeRestriction(earliest=start, latest=None, catchup=True))
    assert nxt.data_interval.start.date() == date(2026, 1, 5)
    # Catch-up off: no runs for terms whose run date has passed.
    now = pendulum.now("UTC")
    info = tt.next_dagrun_info(last_automated_data_interval=None,
                               restriction=TimeRestriction(earliest=start, latest=None, catchup=False))
    assert info is None or info.data_interval.end >= now
    # A manual run is given the data interval of the term its date falls in.
    manual = tt.infer_manual_data_interval(run_after=pendulum.datetime(2026, 2, 2, tz="UTC"))
    assert manual.start.date() == date(2026, 1, 5)
    assert SchoolTermTimetable.deserialize(tt.serialize()).serialize() == tt.serialize()


def test_adding_next_years_dates_is_an_edit_to_the_calendar(tmp_path):
    import yaml
    from school_improvement.terms import CALENDAR_FILE, Term, TermCalendar

    data = yaml.safe_load(CALENDAR_FILE.read_text())
    data["academic_years"]["2027-28"] = {"autumn": {"start": "2027-09-01", "end": "2027-12-17"}}
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(data))
    cal = TermCalendar.load(path)
    assert cal.run_date(Term.parse("2027-28-autumn")) == date(2027, 9, 22)
