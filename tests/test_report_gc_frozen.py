"""A report part in a fork of a preloaded Celery worker does not count the worker's frozen objects
(collector.py OBJECTS_FROZEN_FOR_GOOD, set by plugins/worker_preload.py after its gc.freeze()):
`gc.get_freeze_count()` walks every frozen object, about 45 ms per part there."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from school_improvement import collector
from test_report_gc import gc_state  # noqa: F401  (the collector's settings restored after each test)

REPO = Path(__file__).resolve().parents[1]


def test_frozen_for_good_is_not_counted_and_stays_frozen(gc_state, monkeypatch):
    gc.freeze()
    before = gc.get_freeze_count()
    monkeypatch.setattr(collector, "OBJECTS_FROZEN_FOR_GOOD", True)

    def refuse():
        raise AssertionError("counted the frozen objects")

    monkeypatch.setattr(collector.gc, "get_freeze_count", refuse)
    with collector.few_full_collections():
        assert gc.get_threshold() == collector.REPORT_GC_THRESHOLDS
    monkeypatch.undo()
    assert gc.get_freeze_count() >= before > 0  # not unfrozen afterwards


def test_a_plain_process_still_counts_and_unfreezes(gc_state):
    assert collector.OBJECTS_FROZEN_FOR_GOOD is False  # only a worker's preload says so
    with collector.few_full_collections():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


PRELOADED = """
import os, sys
import worker_preload
worker_preload.PRELOAD = ("school_improvement.pipeline",) if sys.argv[1] == "1" else ()  # it imports the collector
worker_preload._preload_before_the_pool_forks()
from school_improvement import collector
print(collector.OBJECTS_FROZEN_FOR_GOOD)
"""


@pytest.mark.slow  # the warm-up in a fresh interpreter
@pytest.mark.parametrize("preload, said", [("1", "True"), ("0", "False")])
def test_the_worker_preload_says_its_objects_are_frozen(preload, said):
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}", "SI_WORKER_WARM": "0",
           "SI_WORKER_AIRFLOW_WARM": "0", "GX_ANALYTICS_ENABLED": "False"}
    if preload == "0":
        env["SI_WORKER_PRELOAD"] = "0"  # no preload, no freeze: a task counts for itself
    done = subprocess.run([sys.executable, "-c", PRELOADED, preload], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == said
