"""Regional school improvement: the termly run for every LA of a region, one task group per LA.

Wiring only (the tasks are plugins/termly_tasks.py's, as in the per-LA DAGs). Each region named in
include/config/las.yaml (`region:` on its LAs) gets the DAG `regional_school_improvement_<region>`, with one task
group per LA of the region, `la_<code>` (e.g. `la_888.validate`), each running that LA's own chain, so one LA's bad
feed stops only that LA. The LAs are read from the config when the DAG file is parsed, as the list of regional DAGs
already is: a bad entry is a DAG import error naming the file, entry and field, and an edit to a region's LAs applies
from the file's next parse (the dag-processor's min_file_process_interval; docker-compose.yaml sets 600 s; or
`airflow dags reserialize`), to runs created after it (a run keeps the DAG version it started with).

Why one group per LA rather than one task group mapped over the LA codes (dynamic task mapping, as this DAG was):
the scheduler re-checks every waiting task instance of a running run in each of its loops, and for a task in a
mapped group each check is two database queries of its own (its trigger rule by map index, and the group's mapped
upstream), where a plain task's is answered from the run's finished task instances, read once per loop. With
England's 153 LAs in one region (1,530 task instances) one loop's DagRun.update_state took 2.2-2.9 s of CPU mapped
against 0.5-0.8 s as groups (SQLite, in-process, alternating pairs: benchmarks/bench_scheduler.py --loops). The
dag-processor's parse and serialisation of the DAG cost about 3 s instead of 0.1 s, once per parse; a task process,
which parses the file to find its task, builds its own LA's group only (Airflow's parsing context, below): 0.045 s
of CPU per task as with the mapped group, not 0.6-0.75 s for all 153 groups. The list was known at parse time
either way, so mapping bought nothing.

Priority: the scheduler starts the ready task of highest priority first. Each LA's group gives its tasks a priority
weight of 10 x (number of LAs) + the LAs after it in plugins/la_config.regions' order (largest first by each LA's
stated `schools`), under Airflow's default "downstream" weight rule: a stage earlier in the chain still outranks a
later one across all LAs (each LA's extract before any validate, as with the mapped group), and among the LAs at
the same stage the largest starts first, so its chain (the longest: its renders grow with its schools) does not run
alone at the end while the other slots stand idle (longest processing time first).

The report parts (general, restricted, drafts) render side by side as three tasks per LA, all in the `si_reports`
pool, sized by memory, so a region never starts every render at once. Each LA's publish records an event on that
LA's reports Asset through the region's AssetAlias.

An LA in a region is scheduled by its region's DAG; its own DAG stays for manual re-runs of that LA.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAlias, TaskGroup, dag, get_parsing_context
from la_config import regions
from school_term_timetable import SchoolTermTimetable
from termly_tasks import DEFAULT_ARGS, params, termly_chain

CHAIN_LENGTH = 10  # the longest run of tasks downstream of one (extract: itself and 9 after it)


def la_priority(rank: int, count: int) -> int:
    """The priority weight of the LA at `rank` (0: the largest) of `count`: the LA order breaks ties between tasks at
    the same stage only, because the "downstream" weight rule multiplies it by the tasks downstream (1 to
    CHAIN_LENGTH) and CHAIN_LENGTH x count exceeds (CHAIN_LENGTH - 1) x (the largest weight)."""
    return CHAIN_LENGTH * count + (count - 1 - rank)


def build(region: str, la_codes: list[str], only_task: str | None = None):
    alias = AssetAlias(f"school_improvement_reports_{region}")

    @dag(dag_id=f"regional_school_improvement_{region}", schedule=SchoolTermTimetable(),
         start_date=pendulum.datetime(2024, 9, 1, tz="Europe/London"), catchup=False, max_active_runs=1,
         default_args=DEFAULT_ARGS, tags=["school-improvement", "regional", region], doc_md=__doc__,
         params=params())
    def regional():
        for rank, code in enumerate(la_codes):
            if only_task and not only_task.startswith(f"la_{code}."):
                continue  # a task process builds its own LA's group only (see below)
            with TaskGroup(group_id=f"la_{code}", tooltip=f"LA {code}",
                           default_args={"priority_weight": la_priority(rank, len(la_codes))}):
                termly_chain(code, alias, map_parts=False)

    return regional()


# A task process parses this file to find its task (Airflow sets the parsing context to its DAG and task): it builds
# its own region's DAG with its own LA's group only. Every group built costs it about 5 ms (0.8 s of CPU per task
# with England's 153 LAs), and nothing of another LA's chain is used to run this one: its task's relatives, the
# XComs publish reads and the Assets are all within the group. The dag-processor (no context) builds everything.
_parsing = get_parsing_context()
for _region, _las in regions().items():
    if _parsing.dag_id and _parsing.dag_id != f"regional_school_improvement_{_region}":
        continue
    _own = [c for c in _las if (_parsing.task_id or "").startswith(f"la_{c}.")]
    build(_region, _las, only_task=_parsing.task_id if _own else None)
