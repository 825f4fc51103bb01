"""The termly run as Airflow tasks, wired once and used by the per-LA DAGs and the regional DAGs alike.

extract -> validate -> assess_evidence -> categorise -> flag_letters -> build_reports (mapped: general, restricted, drafts)
-> assemble_reports -> publish. Each task runs one stage of school_improvement.pipeline for the LA it is given
(a constant in a per-LA DAG and in each LA's task group of a regional DAG) and returns paths and counts only.
"""

from __future__ import annotations

from datetime import timedelta

from la_config import AS_OF_PATTERN, REPO, TERM_PATTERN
from notifiers import on_task_failure
from si_sources import source_assets
from stage_runner import run_task_stage

# Operator docs, one Markdown file per task: what it does, usual causes of failure, how to fix and re-run.
DOCS = {p.stem: p.read_text() for p in (REPO / "dags" / "task_docs").glob("*.md")}
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True,
                "max_retry_delay": timedelta(minutes=30), "on_failure_callback": on_task_failure}
REPORT_PARTS = ("general", "restricted", "drafts")  # school_improvement.pipeline.REPORT_PARTS
# Renders are the memory-hungry stage: the pool's slots are the GiB of worker memory set aside for them
# (airflow-init creates it from SI_REPORT_POOL_GIB), and each render takes the GiB a county-sized part peaks at.
REPORT_POOL = "si_reports"
REPORT_POOL_SLOTS = 2


def params() -> dict:
    """The declared Params: the LA is bound to its DAG, and its folders come from include/config/las.yaml."""
    from airflow.sdk import Param

    return {
        # Optional Params are nullable: the UI's trigger form refuses a blank required field.
        "term": Param(None, type=["null", "string"], pattern=TERM_PATTERN,
                      description="YYYY-YY-autumn|spring|summer, e.g. 2025-26-autumn. Blank: the term of the run's date."),
        "as_of": Param(None, type=["null", "string"], pattern=AS_OF_PATTERN,
                       description="YYYY-MM-DD the edition and its flags are dated, within the term (its first "
                                   "day to its last); evidence dated after it is said on the front page. Blank: the "
                                   "term's scheduled run date (a later re-run too)."),
    }


def reports_asset(la_code: str):
    """The LA's published reports: one asset event per edition, carrying the edition's metadata."""
    from airflow.sdk import Asset

    return Asset(name=f"school_improvement_reports_{la_code}", uri=f"school-improvement://{la_code}/reports")


def termly_chain(la_code, outlet, map_parts: bool = True):
    """Wire the termly tasks for `la_code`; `outlet` is the LA's Asset, or an AssetAlias for a regional DAG.

    The report parts are one task mapped over REPORT_PARTS, or with `map_parts=False` (the regional DAG) one task per
    part, side by side: downstream of a mapped task the scheduler's trigger-rule check is a database query per waiting
    task instance per loop, which over a region's LAs costs more than the mapping is worth.
    """
    from airflow.sdk import task as sdk_task

    def task(**kwargs):
        # Each task's result (paths and counts) is one XCom. Left to itself, TaskFlow reads the `-> dict` annotation
        # as multiple_outputs=True and pushes every key as an XCom of its own besides the whole: 81 pushes through the
        # api-server for one LA's 10 tasks (its access log), where nothing reads a key on its own.
        return sdk_task(multiple_outputs=False, **kwargs)

    @task(doc_md=DOCS["extract"], inlets=source_assets())
    def extract(la: str) -> dict:
        from airflow.sdk import get_current_context
        from si_sources import record_source_versions

        out = run_task_stage("extract", la)
        record_source_versions(get_current_context(), out["run_dir"])  # which version of each fetched source it saw
        return out

    @task(doc_md=DOCS["validate"], retries=0)
    def validate(la: str) -> dict:
        return run_task_stage("validate", la)

    @task(doc_md=DOCS["assess_evidence"])
    def assess_evidence(la: str) -> dict:
        return run_task_stage("assess_evidence", la)

    @task(doc_md=DOCS["categorise"])
    def categorise(la: str) -> dict:
        return run_task_stage("categorise", la)

    @task(doc_md=DOCS["flag_letters"])
    def flag_letters(la: str) -> dict:
        return run_task_stage("flag_letters", la)

    @task(doc_md=DOCS["build_reports"], pool=REPORT_POOL, pool_slots=REPORT_POOL_SLOTS,
          map_index_template="{{ report_part }}")
    def build_reports(la: str, part: str) -> dict:
        from airflow.sdk import get_current_context

        get_current_context()["report_part"] = part  # the map index shows the part's name in the UI
        return run_task_stage("build_report_part", la, part=part)

    @task(doc_md=DOCS["assemble_reports"])
    def assemble_reports(la: str) -> dict:
        return run_task_stage("assemble_reports", la)

    @task(doc_md=DOCS["publish"], retries=4, outlets=[outlet])
    def publish(la: str, counts: dict, letters: dict) -> dict:
        from shared_drive import publish_and_announce

        return publish_and_announce(la, counts, letters, outlet)

    # Each stage reads its inputs from the run's artefacts, so the chain's order is plain dependencies (>>), not the
    # upstream task's result as an argument: an XCom argument costs every task, at its start, requests through its
    # supervisor to the api-server (the XCom, and in a mapped task group two counts of task instances to find its map
    # index), about 3 of the 10 requests a task made. Only publish reads results: the counts and letters it announces.
    extracted, validated = extract(la_code), validate(la_code)
    assessed, counted, flagged = assess_evidence(la_code), categorise(la_code), flag_letters(la_code)
    extracted >> validated >> assessed >> counted >> flagged
    if map_parts:
        parts = build_reports.partial(la=la_code).expand(part=list(REPORT_PARTS))
    else:
        parts = [build_reports.override(task_id=f"build_reports_{p}", map_index_template=None)(la_code, p)
                 for p in REPORT_PARTS]
    assembled = assemble_reports(la_code)
    flagged >> parts >> assembled
    published = publish(la_code, counted, flagged)
    assembled >> published
    return published
