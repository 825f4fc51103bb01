"""plugins/worker_preload.py: a Celery worker imports the heavy modules once, before it forks its tasks.

Run as the worker runs it, in a fresh interpreter: Airflow's Celery app is built with
AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=worker_preload.CELERY_CONFIG, then Celery's `import_modules` signal is sent
(a worker sends it before starting its pool). The scheduler builds the same app but never sends the signal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Every module the worker preloads must exist and import: a renamed module would otherwise be skipped with a log line.
from worker_preload import PRELOAD as HEAVY  # noqa: E402

WORKER = """
import json, sys
from airflow.providers.celery.executors import celery_executor_utils as utils
from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
heavy = json.loads(sys.argv[1])
before = [m for m in heavy if m in sys.modules]
same = utils.get_celery_configuration() == DEFAULT_CELERY_CONFIG
if sys.argv[2] == "worker":
    from celery.signals import import_modules
    import_modules.send(sender=utils.app)
print(json.dumps({"before": before, "after": [m for m in heavy if m in sys.modules], "same_config": same}))
"""


def _run(role: str, preload: str = "1", tmp_path: Path = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "worker_preload.CELERY_CONFIG",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}", "SI_WORKER_PRELOAD": preload,
                "GX_ANALYTICS_ENABLED": "False"})
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(HEAVY), role], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # imports Great Expectations and WeasyPrint in a fresh interpreter (several seconds)
def test_a_worker_imports_the_heavy_modules_before_forking_and_keeps_airflows_celery_config(tmp_path):
    out = _run("worker", tmp_path=tmp_path)
    assert out["same_config"], "the worker's Celery configuration must be Airflow's default, unchanged"
    assert out["before"] == []  # building the app (as the scheduler does) imports none of them
    assert out["after"] == list(HEAVY)


@pytest.mark.slow  # Airflow's Celery app in a fresh interpreter (the Makefile's rule: 1.9 s of CPU)
def test_the_scheduler_building_the_same_app_imports_none_of_them(tmp_path):
    out = _run("scheduler", tmp_path=tmp_path)
    assert out["same_config"] and out["before"] == [] and out["after"] == []


@pytest.mark.slow  # Airflow's Celery app in a fresh interpreter (the scheduler's case stays in the fast tier)
def test_the_preload_can_be_switched_off_for_the_benchmarks_other_arm(tmp_path):
    assert _run("worker", preload="0", tmp_path=tmp_path)["after"] == []


@pytest.mark.slow  # lays out a page with WeasyPrint and draws a matplotlib figure
def test_the_warm_up_fills_the_caches_every_task_would_fill_and_an_edited_rule_set_is_still_read(tmp_path):
    import shutil

    from school_improvement import rules
    from worker_preload import warm

    from school_improvement.quality import gx_speed

    rules._load_rule_set.cache_clear()
    gx_speed._data_docs_cache().code.clear()
    assert warm() == ["rule sets", "templates", "fonts", "charts", "data docs templates"]
    assert len(gx_speed._data_docs_cache().code) >= 40  # GX's Data Docs templates, compiled before the fork
    files = sorted(rules.RULES_DIR.glob("*.yaml"))
    assert rules._load_rule_set.cache_info().currsize >= len(files)  # every rule set, parsed before the fork
    hits = rules._load_rule_set.cache_info().hits
    rules.all_rule_sets()
    assert rules._load_rule_set.cache_info().hits >= hits + len(files)  # a task reads them from the cache
    # The cache is keyed by the files: a rule set changed after the warm-up is read again, not served stale.
    folder = tmp_path / "rules"
    shutil.copytree(rules.RULES_DIR, folder)
    first = rules.load_rule_set(files[0].stem, folder)
    path = folder / files[0].name
    path.write_text(path.read_text().replace(f"title: {first.title}", "title: Edited after the warm-up", 1))
    assert rules.load_rule_set(files[0].stem, folder).title == "Edited after the warm-up"
