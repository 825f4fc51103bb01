"""Fetch the public sources (GIAS, Ofsted management information, Explore Education Statistics), each on its own schedule.

Wiring only: the hook and task body live in plugins/si_sources.py, the fetching in school_improvement.ingest.sources.
One DAG per source, for the whole deployment (the sources are national): each updates one Asset, whose versions
the termly DAGs record. Hosts come from the Connections si_gias, si_ofsted and si_ees.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import CronTriggerTimetable, EventsTimetable, dag, get_current_context, task
from si_airflow import on_task_failure
from si_sources import fetch_source_task, release_dates, source_asset

DOC = (Path(__file__).parent / "task_docs" / "fetch_source.md").read_text()
LONDON = "Europe/London"
SCHEDULES = {
    "gias": CronTriggerTimetable("0 6 * * 1", timezone=LONDON),  # weekly, Monday 06:00
    "ofsted": CronTriggerTimetable("0 6 20 * *", timezone=LONDON),  # monthly, after the month's MI is out
    # When a release is due: the dates in include/config/sources.yaml (none: trigger by hand).
    "ees": EventsTimetable(event_dates=release_dates(), restrict_to_events=True) if release_dates() else None,
}


def build(source: str):
    @dag(dag_id=f"fetch_sources_{source}", schedule=SCHEDULES[source], catchup=False, max_active_runs=1,
         start_date=pendulum.datetime(2025, 1, 1, tz=LONDON), doc_md=__doc__, tags=["school-improvement", "sources"],
         default_args={"retries": int(os.environ.get("SI_FETCH_RETRIES", "2")), "retry_delay": timedelta(minutes=30), "retry_exponential_backoff": True,
                       "max_retry_delay": timedelta(hours=4), "on_failure_callback": on_task_failure})
    def fetch_sources():
        @task(task_id=f"fetch_{source}", doc_md=DOC, outlets=[source_asset(source)])
        def fetch() -> dict:
            return fetch_source_task(source, get_current_context())

        fetch()

    return fetch_sources()


for name in SCHEDULES:
    build(name)
