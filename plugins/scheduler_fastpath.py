"""The scheduler's cost per waiting task instance: TaskInstance.get_dagrun without SQLAlchemy's `inspect(ti).attrs`.

Each scheduler loop calls DagRun.update_state on the running regional run, which checks the trigger rule of every
waiting task instance (England: 1,530), and each check asks `ti.get_dagrun()` for the run. Airflow 3.3.2's
get_dagrun first tests whether the TI's `dag_run` relationship is loaded with `inspect(self).attrs.dag_run`, and
`InstanceState.attrs` builds a state object for each of the TI's ~60 mapped attributes (once per TI each loop, as the
TIs are loaded afresh): py-spy on benchmarks/bench_scheduler.py --loops put 36% of a scheduler pass there.

SQLAlchemy keeps a loaded attribute's value in the instance's __dict__ (what `attrs.X.loaded_value` reads), so the
test below is the same one, read directly. Anything else falls through to Airflow's own method, unchanged. Airflow
imports every module in the plugins folder when it loads plugins, which the scheduler does before its first loop
(the regional DAG's timetable is a plugin); tests/test_scheduler_fastpath.py checks the shortcut matches Airflow's.
Only on the Airflow version it was read against: an upgrade drops it (re-read get_dagrun, then raise FOR_AIRFLOW).
SI_SCHEDULER_FASTPATH=0 leaves Airflow's method alone (to compare, or if in doubt).
"""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

FOR_AIRFLOW = "3.3.2"


def _install() -> bool:
    import airflow
    from airflow.models.taskinstance import TaskInstance

    if os.environ.get("SI_SCHEDULER_FASTPATH", "1") == "0" or airflow.__version__ != FOR_AIRFLOW:
        return False
    if getattr(TaskInstance.get_dagrun, "airflow_method", None):
        return True  # installed already (Airflow's plugin loader and `import scheduler_fastpath` are two modules)

    def get_dagrun(self, *, session=None):
        dag_run = self.__dict__.get("dag_run")  # loaded and not None: as Airflow's first branch
        if dag_run is None:
            airflow_method = get_dagrun.airflow_method
            return airflow_method(self, session=session) if session is not None else airflow_method(self)
        task = getattr(self, "task", None)
        if task is not None:
            dag_run.dag = task.dag
        return dag_run

    get_dagrun.airflow_method = TaskInstance.get_dagrun  # Airflow's own (tests replace it to see it called)
    get_dagrun.__doc__ = TaskInstance.get_dagrun.__doc__
    TaskInstance.get_dagrun = get_dagrun
    _install_skip_check()
    return True


def _install_skip_check() -> None:
    """NotPreviouslySkippedDep acts only when a direct upstream task is a branching (SkipMixin) operator, but builds
    the set of every finished task instance's id for each waiting task instance first: as many finished times as
    many waiting, each loop (mid-run, 765 of each: 23% of a pass). None of the regional DAG's tasks branches."""
    from airflow.ti_deps.deps.not_previously_skipped_dep import NotPreviouslySkippedDep

    airflow_method = NotPreviouslySkippedDep._get_dep_statuses

    def _get_dep_statuses(self, ti, dep_context, *, session):
        if not any(parent.inherits_from_skipmixin for parent in ti.task.get_direct_relatives(upstream=True)):
            return iter(())  # Airflow's loop over the upstream tasks would do nothing
        return _get_dep_statuses.airflow_method(self, ti, dep_context, session=session)

    _get_dep_statuses.airflow_method = airflow_method
    NotPreviouslySkippedDep._get_dep_statuses = _get_dep_statuses


INSTALLED = _install()


class SchedulerFastpathPlugin(AirflowPlugin):
    name = "si_scheduler_fastpath"
