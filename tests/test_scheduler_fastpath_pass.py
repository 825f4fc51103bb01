"""plugins/scheduler_fastpath.py, a scheduler pass: the trigger rule read from the finished task instances grouped by
task, the empty executor_config, Airflow's own methods on demand; and (slow) the whole pass's decisions against
Airflow's own over a run of the regional DAG in the states a run goes through."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm.attributes import set_committed_value

REPO = Path(__file__).resolve().parents[1]


def _serialized(build):
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG(f"fastpath_{uuid.uuid4().hex[:8]}") as dag:
        build()
    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))


def _ti(dag, task_id, state=None):
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    ti = TaskInstance(task=dag.get_task(task_id), run_id="r", dag_version_id=uuid.uuid4())
    ti.state = state
    run = DagRun(dag_id=dag.dag_id, run_id="r")
    run.dag = dag
    set_committed_value(ti, "dag_run", run)  # loaded: no database
    return ti


def _chain_of_three(trigger_rule="all_success"):
    from airflow.providers.standard.operators.empty import EmptyOperator

    def build():
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        [a, b] >> EmptyOperator(task_id="c", trigger_rule=trigger_rule)

    return _serialized(build)


def _statuses(method, ti, finished):
    from airflow.ti_deps.dep_context import DepContext
    from airflow.ti_deps.deps.trigger_rule_dep import TriggerRuleDep

    ctx = DepContext(flag_upstream_failed=False, finished_tis=finished)
    return list(method(TriggerRuleDep(), ti=ti, dep_context=ctx, session=None))


UPSTREAM = [{}, {"a": "success"}, {"a": "success", "b": "success"}, {"a": "failed"}, {"a": "success", "b": "skipped"},
            {"a": "upstream_failed"}, {"b": "removed"}, {"a": "success", "b": "removed"}]


@pytest.mark.parametrize("trigger_rule", ["all_success", "all_done", "one_success"])
@pytest.mark.parametrize("finished_states", UPSTREAM)
def test_trigger_rule_as_airflows(trigger_rule, finished_states):
    import scheduler_fastpath  # noqa: F401
    from airflow.ti_deps.deps.trigger_rule_dep import TriggerRuleDep

    dag = _chain_of_three(trigger_rule)
    finished = [_ti(dag, task_id, state) for task_id, state in finished_states.items()]
    ti = _ti(dag, "c")
    ours = _statuses(TriggerRuleDep._evaluate_trigger_rule, ti, finished)
    airflows = _statuses(TriggerRuleDep._evaluate_trigger_rule.airflow_method, ti, finished)
    assert ours == airflows


def test_trigger_rule_read_by_task_only_where_airflow_would_only_count(monkeypatch):
    """The shortcut answers for all_success with every finished upstream a success; Airflow's method is asked
    otherwise (a failed upstream, another rule, a DAG with a setup task or a mapped task)."""
    import scheduler_fastpath  # noqa: F401
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.ti_deps.deps.trigger_rule_dep import TriggerRuleDep

    calls = []
    monkeypatch.setattr(TriggerRuleDep._evaluate_trigger_rule, "airflow_method",
                        lambda self, ti, dep_context, session: calls.append(ti.task_id) or iter(()))

    def asked(dag, finished_states, task_id="c"):
        calls.clear()
        finished = [_ti(dag, t, s) for t, s in finished_states.items()]
        _statuses(TriggerRuleDep._evaluate_trigger_rule, _ti(dag, task_id), finished)
        return bool(calls)

    assert not asked(_chain_of_three(), {"a": "success"})
    assert asked(_chain_of_three(), {"a": "failed"})
    assert asked(_chain_of_three("all_done"), {"a": "success"})

    def with_setup():
        s = EmptyOperator(task_id="s").as_setup()
        s >> EmptyOperator(task_id="c")

    assert asked(_serialized(with_setup), {"s": "success"})

    def with_mapped():
        m = EmptyOperator.partial(task_id="m").expand_kwargs([{}, {}])
        m >> EmptyOperator(task_id="c")

    assert asked(_serialized(with_mapped), {})


@pytest.mark.parametrize("value", [{}, {"key": 1}, {"pod_override": None}, None])
def test_executor_config_as_airflow_decodes_it(value):
    import dill
    import scheduler_fastpath  # noqa: F401
    from airflow.utils.sqlalchemy import ExecutorConfigType
    from sqlalchemy.dialects import sqlite

    column = ExecutorConfigType(pickler=dill)
    dialect = sqlite.dialect()
    stored = column.bind_processor(dialect)(value)
    ours = column.result_processor(dialect, None)(stored)
    airflows = ExecutorConfigType.result_processor.airflow_method(column, dialect, None)(stored)
    assert ours == airflows == value
    if isinstance(ours, dict):
        ours["added"] = 1  # a dict of its own each time, not one shared
        assert column.result_processor(dialect, None)(stored) == value


def test_airflow_own_puts_back_and_reinstalls():
    import scheduler_fastpath
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.ti_deps.deps.trigger_rule_dep import TriggerRuleDep

    ours = (TaskInstance.get_dagrun, DagRun._get_ready_tis, TriggerRuleDep._evaluate_trigger_rule,
            DagRun.fetch_task_instances)
    assert len(scheduler_fastpath._PATCHED) == 6 and all(hasattr(m, "airflow_method") for m in ours)
    with scheduler_fastpath.airflow_own():
        assert not any(hasattr(m, "airflow_method") for m in (
            TaskInstance.get_dagrun, DagRun._get_ready_tis, TriggerRuleDep._evaluate_trigger_rule,
            DagRun.fetch_task_instances))
        assert isinstance(DagRun.__dict__["fetch_task_instances"], staticmethod)
    assert (TaskInstance.get_dagrun, DagRun._get_ready_tis, TriggerRuleDep._evaluate_trigger_rule,
            DagRun.fetch_task_instances) == ours


@pytest.mark.slow
def test_pass_decisions_as_airflows_over_a_regional_run(shared_dfe):
    """benchmarks/bench_scheduler.py --check: a run of 8 LAs' chains in SQLite; fresh, part-way, half done, with
    failed, skipped, upstream_failed and removed upstream task instances: the schedulable task instances, whether a
    state changed, every state after the pass and every waiting task instance's failed dependencies (with their
    reasons) are the same with the fast path and with Airflow's own methods."""
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_scheduler.py"), "--las", "8", "--check"],
                          capture_output=True, text=True, timeout=900, cwd=REPO,
                          env={**__import__("os").environ, "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}",
                               "SI_SCHEDULER_FASTPATH": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the same decisions as Airflow's own in every state" in done.stdout
    assert done.stdout.count("waiting checked: the same") == 4, done.stdout


def test_collector_tuned_in_the_scheduler_only(monkeypatch):
    import gc

    import scheduler_fastpath

    assert scheduler_fastpath.in_scheduler(["/home/airflow/.local/bin/airflow", "scheduler"])
    assert scheduler_fastpath.in_scheduler(["/work/main/.venv/bin/airflow", "scheduler", "--pid", "x"])
    for argv in (["airflow", "api-server"], ["airflow", "celery", "worker"], ["airflow", "dag-processor"],
                 ["/usr/bin/python", "-m", "pytest"], ["airflow"]):
        assert not scheduler_fastpath.in_scheduler(argv), argv
    before = gc.get_threshold()
    try:
        scheduler_fastpath.tune_gc()
        assert gc.get_threshold() == scheduler_fastpath.SCHEDULER_GC_THRESHOLD != before
    finally:
        gc.set_threshold(*before)
