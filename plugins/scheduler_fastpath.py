"""The scheduler's cost per waiting task instance: Airflow 3.3.2's scheduler pass, the same decisions for less CPU.

Each scheduler loop calls DagRun.update_state on the running regional run, which loads every task instance of the
run and checks the dependencies of every waiting one (England: 1,530). py-spy on benchmarks/bench_scheduler.py
--loops showed where a pass went, and each place is patched here, answering as Airflow's own code does:
- TaskInstance.get_dagrun asked SQLAlchemy for a state object of each of the TI's ~60 attributes to see whether its
  run was loaded (`inspect(self).attrs.dag_run`): read from the instance's __dict__ instead (the same test);
- NotPreviouslySkippedDep built the set of every finished TI's id for each waiting one: skipped where no direct
  upstream task branches (Airflow's loop would then do nothing);
- DagRun.fetch_task_instances joined the run to each TI's row and decoded each TI's trace context: the run is set
  once, the trace context loaded only if read;
- DagRun._get_ready_tis re-selected every waiting TI to compare states it already held: compared in the session;
- TriggerRuleDep (all_success, in a DAG without setup, teardown or mapped tasks) scanned every finished TI for each
  waiting one after building its upstream setups from all its upstream relatives: the finished TIs are grouped by
  task once a pass; any other case is Airflow's own method;
- TaskInstance.executor_config: the pickle of an empty dict is answered without building dill's Unpickler;
- in the scheduler's process only, Python's collector runs its young collections less often (tune_gc): the
  objects a pass creates had made it scan the scheduler's whole heap every few passes.
Together, at load 9-11, a pass at England's start went from 0.37-0.40 s of CPU to 0.18-0.19 (0.11-0.12 with the
collector tuned), and half-way from 0.50-0.56 to 0.14 (0.08-0.10 tuned) (bench_scheduler.py --loops [--tuned-gc],
alternating pairs of 8 passes); in the deployment, every chain waiting, the scheduler went from 0.17-0.34 s of CPU
per second to 0.083-0.132 (bench_scheduler.py --las 153 --seconds 60, three alternating pairs with main at load
1.3-12; at load 1.3-1.7, 0.337 against 0.132).

Airflow imports every module in the plugins folder when it loads plugins, which the scheduler does before its first
loop (the regional DAG's timetable is a plugin). Only on the Airflow version it was read against: an upgrade drops
every patch (re-read the methods named above, then raise FOR_AIRFLOW). SI_SCHEDULER_FASTPATH=0 leaves Airflow's
methods alone (to compare, or if in doubt); `airflow_own()` puts them back for a while, which
tests/test_scheduler_fastpath*.py and `bench_scheduler.py --check` use to compare decisions with Airflow's own.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import weakref

from airflow.plugins_manager import AirflowPlugin

FOR_AIRFLOW = "3.3.2"


_PATCHED: list[tuple[type, str, object, object]] = []  # (class, attribute, Airflow's, ours), in install order


def _patch(owner: type, name: str, ours) -> None:
    _PATCHED.append((owner, name, owner.__dict__[name], ours))
    setattr(owner, name, ours)


@contextlib.contextmanager
def airflow_own():
    """Airflow's own methods back in place for the duration (to compare answers: tests and
    benchmarks/bench_scheduler.py --check). Result processors SQLAlchemy has already built for a database stay
    as built (the executor_config shortcut)."""
    for owner, name, airflow_attr, _ in _PATCHED:
        setattr(owner, name, airflow_attr)
    try:
        yield
    finally:
        for owner, name, _, ours in _PATCHED:
            setattr(owner, name, ours)


def _install() -> bool:
    import airflow
    from airflow.models.taskinstance import TaskInstance

    if os.environ.get("SI_SCHEDULER_FASTPATH", "1") == "0" or airflow.__version__ != FOR_AIRFLOW:
        return False
    if getattr(TaskInstance.get_dagrun, "airflow_method", None):
        # installed already (Airflow's plugin loader and `import scheduler_fastpath` are two modules): share its list
        _PATCHED[:] = TaskInstance.get_dagrun.patched
        return True

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
    _patch(TaskInstance, "get_dagrun", get_dagrun)
    _install_skip_check()
    _install_fetch_without_join()
    _install_changed_states_in_session()
    _install_all_success_by_task()
    _install_empty_executor_config()
    get_dagrun.patched = _PATCHED
    if in_scheduler(sys.argv):
        tune_gc()
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
    _patch(NotPreviouslySkippedDep, "_get_dep_statuses", _get_dep_statuses)


def _install_fetch_without_join() -> None:
    """DagRun.fetch_task_instances (each scheduler loop loads every waiting and finished task instance of the run
    through it: England, 1,530 each loop) did two things per row that the loop does not need:
    - it joins the run's row to each task instance's (TaskInstance.dag_run is lazy="joined"). The run is one object,
      already in the session, so SQLAlchemy read the run's columns 1,530 times only to refresh it, each time
      building the set of the run's unloaded attributes (InstanceState.unloaded);
    - it decodes each task instance's context_carrier (its trace parent: JSON, Airflow's serialisation, then a
      MutableDict), which only the api-server and the triggerer read.
    Here the task instances are selected as Airflow does (the same rows in the same order) without the join, the
    run is selected once and set as each one's dag_run (the object the join gave), and context_carrier is deferred:
    SQLAlchemy loads it if anything reads it, and any later query of the same rows fills it in."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance as TI
    from sqlalchemy import or_, select
    from sqlalchemy.orm import defer, lazyload
    from sqlalchemy.orm.attributes import set_committed_value

    airflow_method = DagRun.fetch_task_instances

    def fetch_task_instances(dag_id=None, run_id=None, task_ids=None, state=None, *, session=None):
        if session is None:
            return airflow_method(dag_id=dag_id, run_id=run_id, task_ids=task_ids, state=state)  # opens a session
        tis = (select(TI).options(lazyload(TI.dag_run), defer(TI.context_carrier))  # Airflow: joinedload(TI.dag_run)
               .where(TI.dag_id == dag_id, TI.run_id == run_id).order_by(TI.task_id, TI.map_index))
        if state:  # as Airflow's, line for line
            if isinstance(state, str):
                tis = tis.where(TI.state == state)
            elif None in state:
                if all(x is None for x in state):
                    tis = tis.where(TI.state.is_(None))
                else:
                    tis = tis.where(or_(TI.state.in_(s for s in state if s), TI.state.is_(None)))
            else:
                tis = tis.where(TI.state.in_(state))
        if task_ids is not None:
            tis = tis.where(TI.task_id.in_(task_ids))
        found = list(session.scalars(tis).all())
        if found:  # the join was an inner one on (dag_id, run_id): every task instance has this one run
            run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one()
            for ti in found:
                set_committed_value(ti, "dag_run", run)
        return found

    fetch_task_instances.airflow_method = airflow_method
    fetch_task_instances.__doc__ = airflow_method.__doc__
    _patch(DagRun, "fetch_task_instances", staticmethod(fetch_task_instances))


def _install_changed_states_in_session() -> None:
    """DagRun._get_ready_tis ends by asking whether the dependency checks changed any waiting task instance's state
    (flag_upstream_failed sets UPSTREAM_FAILED or SKIPPED in memory): it selects every task instance whose
    dependencies were not met (England: 1,529 at the start), joined to the run again, and compares each one's state
    with the state it had before its check. Those rows are the session's own objects (the waiting task instances the
    loop just checked; SQLAlchemy does not overwrite a loaded attribute from a new row), so the select only read
    the same states back, at a third of a pass. Here the same comparison is made on those objects after the same
    flush the select's autoflush did; a task instance not among them (none expected) is still selected as Airflow
    does. Airflow's method runs unchanged otherwise: only its TI.filter_for_tis call, the select's filter, is
    answered with "nothing to select" for the duration of the call (the scheduler's loop is one thread), and the
    task instances it was given are compared instead."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance as TI
    from sqlalchemy import select

    airflow_method = DagRun._get_ready_tis

    def _get_ready_tis(self, schedulable_tis, finished_tis, session):
        asked = []
        filter_for_tis = TI.__dict__["filter_for_tis"]  # the classmethod object, restored as it was

        def nothing_to_select(tis):
            asked.append(tis)
            return None

        TI.filter_for_tis = nothing_to_select
        try:
            ready_tis, changed_tis, expansion_happened = airflow_method(self, schedulable_tis, finished_tis, session)
        finally:
            TI.filter_for_tis = filter_for_tis
        old_states = asked[-1] if asked else {}
        if old_states:
            if session.autoflush:
                session.flush()  # what the select's autoflush did
            by_key = {ti.key: ti for ti in schedulable_tis}
            others = {key: state for key, state in old_states.items() if key not in by_key}
            changed_tis = any(by_key[key].state != state for key, state in old_states.items() if key in by_key)
            if others and not changed_tis:  # not one of the objects checked: Airflow's own select for those
                fresh_tis = session.scalars(select(TI).where(TI.filter_for_tis(others))).all()
                changed_tis = any(ti.state != others[ti.key] for ti in fresh_tis)
        return ready_tis, changed_tis, expansion_happened

    _get_ready_tis.airflow_method = airflow_method
    _get_ready_tis.__doc__ = airflow_method.__doc__
    _patch(DagRun, "_get_ready_tis", _get_ready_tis)


def _dag_shape(dag) -> tuple[bool, bool] | None:
    """(has a setup or teardown task, has a mapped task or mapped task group) of a scheduler-side (serialized) DAG,
    worked out once per DAG object: its tasks do not change once it is deserialized. None if not cacheable."""
    if dag is None or type(dag).__hash__ is not object.__hash__:
        return None
    shape = _DAG_SHAPES.get(dag)
    if shape is None:
        tasks = list(dag.task_dict.values())
        shape = (any(t.is_setup or t.is_teardown for t in tasks), any(t.get_needs_expansion() for t in tasks))
        _DAG_SHAPES[dag] = shape
    return shape


_DAG_SHAPES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_FINISHED_BY_TASK: list = [None, -1, {}]  # the pass's finished task instances (the list itself), its length, by task


def _install_all_success_by_task() -> None:
    """TriggerRuleDep, for each waiting task instance, builds the set of its task's upstream setups from all its
    upstream relatives (get_upstreams_only_setups: a third of a pass at the start of England's run) and then scans
    every finished task instance of the run for its direct upstream ones (mid-run, 765 waiting x 765 finished).
    In a DAG with no setup or teardown task and nothing mapped (the regional DAG), for a task whose rule is
    all_success, Airflow's answer comes down to the states of its direct upstream task instances: here the pass's
    finished task instances are grouped by task once, and read for each waiting one. When all of those finished are
    successes, the answer is Airflow's: passing if every direct upstream succeeded, else the same failing status
    (its reason built as Airflow builds it). Anything else (another rule, a failed, skipped or removed upstream,
    which Airflow acts on by setting the state, a DAG with setups or mapping, no finished list) goes to Airflow's
    own method."""

    from airflow.ti_deps.deps.trigger_rule_dep import TriggerRuleDep, _UpstreamTIStates
    from airflow.utils.state import TaskInstanceState
    from airflow.task.trigger_rule import TriggerRule

    airflow_method = TriggerRuleDep._evaluate_trigger_rule
    success_state = TaskInstanceState.SUCCESS

    def _evaluate_trigger_rule(self, *, ti, dep_context, session):
        task = ti.task
        finished = dep_context.finished_tis
        shape = _dag_shape(getattr(task, "dag", None))
        if (shape is None or shape != (False, False) or finished is None
                or task.trigger_rule != TriggerRule.ALL_SUCCESS or task.is_teardown):
            return _evaluate_trigger_rule.airflow_method(self, ti=ti, dep_context=dep_context, session=session)
        cached_list, cached_len, by_task = _FINISHED_BY_TASK
        if cached_list is not finished or cached_len != len(finished):
            by_task = {}
            for finished_ti in finished:
                by_task.setdefault(finished_ti.task_id, []).append(finished_ti)
            _FINISHED_BY_TASK[:] = [finished, len(finished), by_task]
        upstream_ids = task.upstream_task_ids
        states = [up.state for task_id in upstream_ids for up in by_task.get(task_id, ())]
        success = states.count(success_state)
        if success != len(states):  # a failed, skipped, removed... upstream: Airflow decides (and sets the state)
            return _evaluate_trigger_rule.airflow_method(self, ti=ti, dep_context=dep_context, session=session)
        num_failures = len(upstream_ids) - success  # Airflow: upstream - success - removed, removed = 0 here
        if num_failures <= 0:
            return iter(())
        upstream_states = _UpstreamTIStates(success=success, skipped=0, failed=0, upstream_failed=0, removed=0,
                                            done=success, success_setup=0, skipped_setup=0)
        trigger_rule_str = getattr(task.trigger_rule, "value", task.trigger_rule)
        return iter((self._failing_status(reason=(
            f"Task's trigger rule '{trigger_rule_str}' requires all upstream tasks to have "
            f"succeeded, but found {num_failures} non-success(es). "
            f"upstream_states={upstream_states}, "
            f"upstream_task_ids={task.upstream_task_ids}")),))

    _evaluate_trigger_rule.airflow_method = airflow_method
    _patch(TriggerRuleDep, "_evaluate_trigger_rule", _evaluate_trigger_rule)


def _install_empty_executor_config() -> None:
    """TaskInstance.executor_config is a dill pickle; none of the project's tasks sets one, so every row holds the
    pickle of an empty dict, and building dill's Unpickler for it was 13% of a pass (1,530 rows each loop). Those
    exact bytes are answered with a new empty dict, as unpickling them gives; any other value goes to Airflow's
    own decoding (its pod_override handling included)."""
    from airflow.utils.sqlalchemy import ExecutorConfigType

    airflow_method = ExecutorConfigType.result_processor

    def result_processor(self, dialect, coltype):
        process = airflow_method(self, dialect, coltype)
        raw = self.impl_instance.result_processor(dialect, coltype) or (lambda value: value)
        empty = self.pickler.dumps({}, self.protocol)  # what Airflow's bind_processor writes for {}

        def process_empty_first(value):
            return {} if value is not None and raw(value) == empty else process(value)

        return process_empty_first

    result_processor.airflow_method = airflow_method
    _patch(ExecutorConfigType, "result_processor", result_processor)


# Python's collector, at its defaults (700, 10, 10), ran a young collection every 700 new objects: a pass creates
# hundreds of thousands (1,530 task instances and SQLAlchemy's state for each), and the ones alive for the whole pass
# were moved on to the old generation, so the whole heap (the scheduler's DAGs included) was scanned every few
# passes: a third of a pass's CPU, in-process and in the deployment (py-spy). Young collections every 50,000 new
# objects: the same objects are freed (by reference count at once, or by the collector a little later).
SCHEDULER_GC_THRESHOLD = (50_000, 20, 10)


def in_scheduler(argv: list[str]) -> bool:
    """`airflow scheduler`: not the api-server, the dag-processor, the workers or their task processes."""
    return argv[1:2] == ["scheduler"] and os.path.basename(argv[0]).startswith("airflow")


def tune_gc() -> None:
    """The scheduler's collector thresholds (SCHEDULER_GC_THRESHOLD); bench_scheduler.py --loops --tuned-gc."""
    gc.set_threshold(*SCHEDULER_GC_THRESHOLD)


INSTALLED = _install()


class SchedulerFastpathPlugin(AirflowPlugin):
    name = "si_scheduler_fastpath"
