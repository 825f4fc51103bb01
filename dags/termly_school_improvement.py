"""Termly school improvement, one DAG per LA: extract -> validate -> assess evidence -> categorise -> flag letters
-> build reports (general, restricted and drafts side by side) -> assemble -> publish.

Wiring only: the rules live in include/school_improvement, the Airflow glue in plugins/ (termly_tasks wires the
tasks). Each LA in include/config/las.yaml gets the DAG `termly_school_improvement_<la_code>`, bound to that LA:
its folders come from the config, and a run can choose only the declared Params `term` and `as_of`.
One run per school term (SchoolTermTimetable); each publish records an event on the LA's reports Asset.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_parsing_context
from la_config import load_las
from school_term_timetable import SchoolTermTimetable
from termly_tasks import DEFAULT_ARGS, params, reports_asset, termly_chain


def build(la):
    # An LA in a region is scheduled by regional_school_improvement_<region>; its own DAG is for manual runs.
    @dag(dag_id=la.dag_id, schedule=None if la.region else SchoolTermTimetable(), start_date=pendulum.datetime(2024, 9, 1, tz="Europe/London"),
         catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS, tags=["school-improvement", la.la_code],
         doc_md=__doc__ + f"\n\nLA {la.la_code} {la.la_name}: feeds from `{la.landing}`, reports to `{la.shared_drive}`.",
         params=params())
    def termly():
        termly_chain(la.la_code, reports_asset(la.la_code))

    return termly()


_parsing = get_parsing_context()  # a task process builds only its own DAG (Airflow's documented optimisation)
for _la in load_las():
    if not _parsing.dag_id or _parsing.dag_id == _la.dag_id:
        build(_la)
