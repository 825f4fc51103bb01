"""Termly school improvement: extract -> validate -> categorise -> flag letters -> build reports -> publish.

Wiring only: the rules live in include/school_improvement, the Airflow glue in plugins/si_airflow.py.
One DAG per LA in include/config/las.yaml; one run per school term (SchoolTermTimetable).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from school_term_timetable import SchoolTermTimetable
from si_airflow import (configured_las, on_task_failure, run_config, run_stage, send_success_summary,
                        shared_drive_path)

# Operator docs, one Markdown file per task: what it does, usual causes of failure, how to fix and re-run.
DOCS = {p.stem: p.read_text() for p in (Path(__file__).parent / "task_docs").glob("*.md")}
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True,
                "max_retry_delay": timedelta(minutes=30), "on_failure_callback": on_task_failure}


def build(la: dict, dag_id: str):
    @dag(dag_id=dag_id, schedule=SchoolTermTimetable(), start_date=pendulum.datetime(2024, 9, 1, tz="Europe/London"),
         catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS, tags=["school-improvement", la["la_code"]],
         doc_md=__doc__, params={
             "la_code": Param(la["la_code"], type="string", description="The LA's DfE code, e.g. 873."),
             # Optional Params are nullable: the UI's trigger form refuses a blank required field.
             "term": Param(None, type=["null", "string"], pattern=r"^(\d{4}-\d{2}-(autumn|spring|summer))?$",
                           description="YYYY-YY-autumn|spring|summer, e.g. 2025-26-autumn. Blank: the term of the run's date."),
             "landing": Param(la["landing"], type="string", description="Folder holding this term's feeds "
                              "(or <landing>/<la_code>/<term>/)."),
             "shared_drive": Param(la["shared_drive"], type="string", description="Where reports go: a folder or smb://host/share/path."),
             "shared_drive_conn_id": Param(la.get("shared_drive_conn_id") or None, type=["null", "string"],
                                           description="Airflow Connection for an SMB shared drive; blank for a folder."),
         })
    def termly():
        @task(doc_md=DOCS["extract"])
        def extract() -> dict:
            ctx = get_current_context()
            cfg = run_config(ctx["params"], ctx)
            from si_airflow import work_dir
            run_stage("extract", cfg, archive_dir=f"{work_dir()}/archive")
            return cfg

        @task(doc_md=DOCS["validate"], retries=0)
        def validate(cfg: dict) -> dict:
            run_stage("validate", cfg)
            return cfg

        @task(doc_md=DOCS["categorise"])
        def categorise(cfg: dict) -> dict:
            return {"cfg": cfg, "counts": run_stage("categorise", cfg)}

        @task(doc_md=DOCS["flag_letters"])
        def flag_letters(res: dict) -> dict:
            return {**res, "letters": run_stage("flag_letters", res["cfg"])}

        @task(doc_md=DOCS["build_reports"])
        def build_reports(res: dict) -> dict:
            run_stage("build_reports", res["cfg"])
            return res

        @task(doc_md=DOCS["publish"], retries=4, outlets=[Asset(f"school-improvement://{la['la_code']}/reports")])
        def publish(res: dict) -> dict:
            ctx = get_current_context()
            dest = shared_drive_path(ctx["params"]["shared_drive"], ctx["params"].get("shared_drive_conn_id", ""))
            result = {**res, "published": run_stage("publish", res["cfg"], shared_drive=dest)}
            send_success_summary(ctx, result)  # counts per level, letters flagged, where the reports are
            return result

        publish(build_reports(flag_letters(categorise(validate(extract())))))

    return termly()


for i, la in enumerate(configured_las()):
    build(la, "termly_school_improvement" if i == 0 else f"termly_school_improvement_{la['la_code']}")
