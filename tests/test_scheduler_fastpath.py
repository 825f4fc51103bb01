"""plugins/scheduler_fastpath.py: TaskInstance.get_dagrun's shortcut answers as Airflow's own method does."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm.attributes import set_committed_value


@pytest.fixture
def ti_and_dag():
    import scheduler_fastpath  # noqa: F401  (as Airflow's plugin loader imports it)
    from airflow.models.taskinstance import TaskInstance
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("fastpath_check") as dag:
        EmptyOperator(task_id="t")
    serialized = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    return TaskInstance(task=serialized.get_task("t"), run_id="r", dag_version_id=uuid.uuid4()), serialized


def test_installed_on_the_pinned_airflow():
    import airflow
    import scheduler_fastpath
    from airflow.models.taskinstance import TaskInstance

    assert airflow.__version__ == scheduler_fastpath.FOR_AIRFLOW, "re-read TaskInstance.get_dagrun, then raise it"
    assert scheduler_fastpath.INSTALLED and TaskInstance.get_dagrun.airflow_method


def test_loaded_run_as_airflow_returns_it(ti_and_dag):
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    ti, dag = ti_and_dag
    run = DagRun(dag_id="fastpath_check", run_id="r")
    set_committed_value(ti, "dag_run", run)
    assert TaskInstance.get_dagrun.airflow_method(ti) is run and run.dag is dag  # Airflow's answer, no database
    run.dag = None
    assert ti.get_dagrun() is run and run.dag is dag  # the shortcut's: the same


@pytest.mark.parametrize("loaded_none", [False, True])
def test_otherwise_airflows_own_method(ti_and_dag, monkeypatch, loaded_none):
    from airflow.models.taskinstance import TaskInstance

    ti, _ = ti_and_dag
    if loaded_none:
        set_committed_value(ti, "dag_run", None)
    calls = []
    monkeypatch.setattr(TaskInstance.get_dagrun, "airflow_method", lambda self, **kw: calls.append(kw) or "queried")
    assert ti.get_dagrun(session="S") == "queried" and ti.get_dagrun() == "queried"
    assert calls == [{"session": "S"}, {}]


@pytest.mark.parametrize("branching", [False, True])
def test_skip_check_only_below_a_branching_task(monkeypatch, branching):
    import scheduler_fastpath  # noqa: F401
    from airflow.models.taskinstance import TaskInstance
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.ti_deps.deps.not_previously_skipped_dep import NotPreviouslySkippedDep

    with DAG("fastpath_branch") as dag:
        up = (BranchPythonOperator(task_id="up", python_callable=lambda: "t") if branching
              else EmptyOperator(task_id="up"))
        up >> EmptyOperator(task_id="t")
    serialized = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    ti = TaskInstance(task=serialized.get_task("t"), run_id="r", dag_version_id=uuid.uuid4())
    calls = []
    monkeypatch.setattr(NotPreviouslySkippedDep._get_dep_statuses, "airflow_method",
                        lambda self, ti, ctx, session: calls.append(ti) or iter(()))
    assert list(NotPreviouslySkippedDep()._get_dep_statuses(ti, None, session=None)) == []
    assert calls == ([ti] if branching else [])
