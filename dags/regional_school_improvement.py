"""Regional school improvement: the termly run for every LA of a region, one mapped task group per LA.

Wiring only (the tasks are plugins/termly_tasks.py's, as in the per-LA DAGs). Each region named in
include/config/las.yaml (`region:` on its LAs) gets the DAG `regional_school_improvement_<region>`:
the termly task group is expanded over the region's LA codes, read from the config when the DAG file is parsed,
largest first by each LA's stated `schools` (plugins/la_config.regions: the scheduler starts equal-priority tasks in
map-index order, so the longest chain starts first), so each LA runs its own chain (one LA's bad feed stops only that
LA). The list is a literal of the parsed DAG, not an XCom of the run: with an XCom the scheduler read the map length
from the database for every pending task instance in each loop, 0.3-0.4 of a core while England's 153 LAs waited,
against 0.03 with the literal (benchmarks/bench_scheduler.py). `la_codes`, first in every run, checks the config
still names the same LAs (an edited las.yaml: `airflow dags reserialize`, then a new run). The report parts
(general, restricted, drafts) render side by side as three tasks per LA (Airflow cannot map again inside a
mapped group), all in the `si_reports` pool, sized by memory, so a region never starts every render at once. Each LA's
publish records an event on that LA's reports Asset through the region's AssetAlias.

An LA in a region is scheduled by its region's DAG; its own DAG stays for manual re-runs of that LA.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAlias, dag, task, task_group
from la_config import regions
from school_term_timetable import SchoolTermTimetable
from termly_tasks import DEFAULT_ARGS, params, termly_chain


def build(region: str):
    alias = AssetAlias(f"school_improvement_reports_{region}")

    @dag(dag_id=f"regional_school_improvement_{region}", schedule=SchoolTermTimetable(),
         start_date=pendulum.datetime(2024, 9, 1, tz="Europe/London"), catchup=False, max_active_runs=1,
         default_args=DEFAULT_ARGS, tags=["school-improvement", "regional", region], doc_md=__doc__,
         params=params())
    def regional():
        @task(doc_md=f"**What it does.** Checks that include/config/las.yaml still names the LAs of region `{region}` "
                     "this run maps (read when the DAG file was parsed), and returns them.\n\n"
                     "**Usual causes of failure.** The file does not load (its error names the entry and field), or "
                     "it was edited since the DAG file was last parsed.\n\n"
                     "**Fix and re-run.** Correct the file; after an edit run `airflow dags reserialize` (or wait for "
                     "the next parse), then trigger a new run: this run's LAs are fixed.")
        def la_codes(parsed: list[str]) -> list[str]:
            from airflow.sdk.exceptions import AirflowFailException

            configured = regions()[region]
            if configured != parsed:
                raise AirflowFailException(
                    f"include/config/las.yaml names the LAs {configured} for region {region}, but this run maps "
                    f"{parsed} (the DAG file as last parsed): run `airflow dags reserialize`, then trigger a new run")
            return parsed

        @task_group
        def la(la_code: str):
            termly_chain(la_code, alias, map_parts=False)

        codes = regions()[region]  # a literal of the parsed DAG: see the module doc
        la_codes(codes) >> la.expand(la_code=codes)

    return regional()


for _region in regions():
    build(_region)
