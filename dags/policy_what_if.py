"""Policy what-if: one term's feeds under two rule sets (`rules_a`, `rules_b`), triggered by hand.

Writes which schools change category or letters, and why (compare.csv and compare.pdf), under
`$SI_WORK_DIR/what-if/<la>/<term>/<a>-vs-<b>/`. It publishes nothing to the managers' editions on the shared drive.
Wiring only: the comparison is school_improvement.decisions.what_if, run by plugins/stage_runner.py.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from si_airflow import configured_las, on_task_failure, run_policy_what_if

DOC = """### What it does
Reads one term's feeds (as the termly DAG does), categorises and flags letters under rule set A and rule set B,
and writes the schools that change, with the reasons, to the work folder. Nothing is published.
### Usual causes of failure
A rule set id that does not exist or fails validation; a term with no feeds in the landing folder; a critical
data problem in a feed (the message names file, row and column).
### Fix and re-run
Correct the rule set (include/rules/) or the feed, then trigger the DAG again with the same Params.
"""


@dag(dag_id="policy_what_if", schedule=None, start_date=pendulum.datetime(2024, 9, 1, tz="Europe/London"),
     catchup=False, max_active_runs=1, tags=["school-improvement", "what-if"], doc_md=__doc__, params={
         "la_code": Param(configured_las()[0]["la_code"], type="string", pattern=r"^\d{3}$",
                          description="The LA's DfE code (three digits), e.g. 873."),
         "term": Param("", type="string", pattern=r"^\d{4}-\d{2}-(autumn|spring|summer)$",
                       description="The term whose feeds are compared, e.g. 2025-26-spring."),
         "rules_a": Param("cambs-2021-23", type="string", pattern=r"^[a-z0-9][a-z0-9-]*$",
                          description="Rule set A: an id under include/rules/ (the rules in force, say)."),
         "rules_b": Param("cambs-2025-report-cards", type="string", pattern=r"^[a-z0-9][a-z0-9-]*$",
                          description="Rule set B: an id under include/rules/ (the revision being considered)."),
     })
def policy_what_if():
    @task(doc_md=DOC, retries=0, on_failure_callback=on_task_failure)
    def compare() -> dict:
        # paths and counts only in XCom
        return run_policy_what_if(get_current_context()["params"], configured_las())

    compare()


policy_what_if()
