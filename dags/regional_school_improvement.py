"""Regional school improvement: the termly run for every LA of a region, one mapped task group per LA.

Wiring only (the tasks are plugins/termly_tasks.py's, as in the per-LA DAGs). Each region named in
include/config/las.yaml (`region:` on its LAs) gets the DAG `regional_school_improvement_<region>`, and the termly
task group is expanded over the region's LA codes as the DAG file reads them from that config, largest first by
each LA's stated `schools` (plugins/la_config.regions: the scheduler starts equal-priority tasks in map-index order,
so the longest chain starts first), so each LA runs its own chain (one LA's bad feed stops only that LA).

The LA codes are a list written into the DAG when its file is parsed, not an upstream task's XCom: with an XCom
the scheduler reads the map's length from the database, and checks that upstream task's state, for every waiting
task instance of every LA in each loop, which was about half of its CPU with England's 153 LAs mapped (py-spy of
benchmarks/bench_scheduler.py). The config was already read at parse time to decide which regional DAGs exist, and a
bad entry is a DAG import error naming the file, entry and field; an edit to the region's LAs applies from the
file's next parse (the dag-processor's min_file_process_interval; docker-compose.yaml sets 600 s), to runs created
after it (a run keeps the DAG version it started with).

The report parts (general, restricted, drafts) render side by side as three tasks per LA (Airflow cannot map again
inside a mapped group), all in the `si_reports` pool, sized by memory, so a region never starts every render at once.
Each LA's publish records an event on that LA's reports Asset through the region's AssetAlias.

An LA in a region is scheduled by its region's DAG; its own DAG stays for manual re-runs of that LA.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAlias, dag, task_group
from la_config import regions
from school_term_timetable import SchoolTermTimetable
from termly_tasks import DEFAULT_ARGS, params, termly_chain


def build(region: str, la_codes: list[str]):
    alias = AssetAlias(f"school_improvement_reports_{region}")

    @dag(dag_id=f"regional_school_improvement_{region}", schedule=SchoolTermTimetable(),
         start_date=pendulum.datetime(2024, 9, 1, tz="Europe/London"), catchup=False, max_active_runs=1,
         default_args=DEFAULT_ARGS, tags=["school-improvement", "regional", region], doc_md=__doc__,
         params=params())
    def regional():
        @task_group
        def la(la_code: str):
            termly_chain(la_code, alias, map_parts=False)

        la.expand(la_code=la_codes)

    return regional()


for _region, _las in regions().items():
    build(_region, _las)
