"""The policy what-if DAG: a thin file whose one task calls school_improvement.decisions.what_if.run_what_if."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DAG_FILE = REPO / "dags" / "policy_what_if.py"


def test_the_dag_file_is_wiring_only_and_calls_the_domain_function():
    tree = ast.parse(DAG_FILE.read_text())
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "run_policy_what_if" in calls
    assert len(DAG_FILE.read_text().splitlines()) < 80
    # ... and the glue it calls runs the domain's comparison
    glue = ast.parse((REPO / "plugins" / "stage_runner.py").read_text())
    fn = next(n for n in glue.body if isinstance(n, ast.FunctionDef) and n.name == "run_policy_what_if")
    assert "run_what_if" in {n.func.attr for n in ast.walk(fn) if isinstance(n, ast.Call)
                             and isinstance(n.func, ast.Attribute)}


def test_the_dag_loads_with_validated_params():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    dag = bag.dags["policy_what_if"]
    assert [t.task_id for t in dag.tasks] == ["compare"] and dag.tasks[0].retries == 0
    assert set(dag.params.keys()) == {"la_code", "term", "rules_a", "rules_b"}
    for name in dag.params.keys():
        assert dag.params.get_param(name).description
    # A path or traversal in a Param is refused before anything runs.
    from airflow.sdk.definitions.param import ParamsDict

    good = {"la_code": "999", "term": "2025-26-spring", "rules_a": "cambs-2021-23", "rules_b": "northmoor-2024-27"}

    def params(**kw):
        p = ParamsDict({k: dag.params.get_param(k) for k in dag.params.keys()})
        for k, v in {**good, **kw}.items():
            p[k] = v
        return p.validate()

    assert params()["rules_b"] == "northmoor-2024-27"
    for name, bad in [("la_code", "../../.."), ("rules_a", "../../etc/passwd"), ("term", "Spring 2026")]:
        with pytest.raises(Exception, match="(?i)pattern|match|invalid"):
            params(**{name: bad})
