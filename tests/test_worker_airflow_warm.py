"""plugins/worker_preload.warm_airflow and plugins/task_cpu.py: what Airflow and Celery did once in every process below
a Celery worker is done once in the worker before it forks, and each task's own CPU is accounted exactly.

Run in fresh interpreters, as a worker runs them: nothing of Airflow's per-process caches leaks between tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

WARM = """
import json, os, resource, sys
import worker_preload
from airflow.sdk import listener

if sys.argv[1] == "1":
    done = worker_preload.warm_airflow()
else:
    done = []
loaded_here = listener.get_listener_manager.cache_info().currsize
r, w = os.pipe()
pid = os.fork()
if pid == 0:  # a task process: what its start-up still has to do
    before = listener.get_listener_manager.cache_info()
    listener.get_listener_manager()
    after = listener.get_listener_manager.cache_info()
    from airflow.sdk import plugins_manager
    plugins = [p.name for p in plugins_manager._get_plugins()[0]]
    os.write(w, json.dumps({"cached_in_task": before.currsize, "loads_in_task": after.misses - before.misses,
                            "plugins": plugins,
                            "task_modules": [m for m in worker_preload.TASK_MODULES if m in sys.modules]}).encode())
    os._exit(0)
os.waitpid(pid, 0)
os.close(w)
child = json.loads(os.fdopen(r).read())
from celery.backends.database.models import Task  # the result table, as a pool process stores each task's result
print(json.dumps({"done": done, "loaded_in_worker": loaded_here, "mappers_ready": Task.__mapper__.configured,
                  **child}))
"""


def _warm(tmp_path: Path, on: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}", "GX_ANALYTICS_ENABLED": "False"})
    done = subprocess.run([sys.executable, "-c", WARM, on], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a fresh interpreter importing Airflow (the Makefile's rule: 2.5 s of CPU); task_cpu's check stays fast
def test_a_task_forked_from_a_warmed_worker_does_not_load_the_plugins_folder_again(tmp_path):
    out = _warm(tmp_path, "1")
    assert out["done"] == ["task plugins", "result backend", "api client", "las file", "task modules"]
    assert out["loaded_in_worker"] == 1 and out["mappers_ready"]
    assert out["cached_in_task"] == 1 and out["loads_in_task"] == 0
    assert "school_term_timetable" in out["plugins"]  # the project's own plugin is still there for the task
    from worker_preload import TASK_MODULES

    assert out["task_modules"] == list(TASK_MODULES)  # imported before the fork: no task imports them itself


@pytest.mark.slow  # the 'before' arm, in a fresh interpreter importing Airflow; the warmed case stays in the fast tier
def test_without_the_warm_up_every_task_loads_the_plugins_folder_itself(tmp_path):
    out = _warm(tmp_path, "0")
    assert out["loaded_in_worker"] == 0 and not out["mappers_ready"]
    assert out["cached_in_task"] == 0 and out["loads_in_task"] == 1
    assert "school_term_timetable" in out["plugins"]


def test_task_cpu_accounts_the_task_process_exactly_and_the_supervisor_apart(caplog):
    import logging
    import resource

    import task_cpu

    workload = json.dumps({"ti": {"id": "0193-test-ti"}, "token": "x"})
    task_cpu._before(task_id="celery-1", args=(workload,))
    pid = os.fork()
    if pid == 0:  # the task process: burns about 0.3 s of CPU, then exits
        t = resource.getrusage(resource.RUSAGE_SELF)
        while (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF)) - t.ru_utime - t.ru_stime < 0.3:
            sum(range(10_000))
        os._exit(0)
    os.waitpid(pid, 0)  # the supervisor reaps it
    with caplog.at_level(logging.INFO, logger="task_cpu"):
        task_cpu._after(task_id="celery-1", args=(workload,))
    lines = [r.getMessage() for r in caplog.records if task_cpu.MARK in r.getMessage()]
    assert len(lines) == 1
    got = task_cpu.parse("2026-11-26T19:53:10Z [info     ] " + lines[0] + " [task_cpu] loc=task_cpu.py:50")
    assert got["ti_id"] == "0193-test-ti"
    assert 0.3 <= got["task_s"] < 1.5  # the child's own CPU, however short its life
    assert got["supervisor_s"] < got["task_s"]
    assert task_cpu.parse("Workload finished duration=1.9") is None
    assert task_cpu.ti_id_of(("not json",)) == ""
