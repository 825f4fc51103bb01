"""A process that ran stages in-process (dag.test(), `airflow dags test`) exits without its final collections walking
every object left behind (plugins/stage_runner.skip_the_exit_collections)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TERM = "2025-26-autumn"

EXITING = r"""
import os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]


class Cycle:
    def __del__(self):
        os.write(1, b"collected at exit\n")


left = Cycle()
left.me = left  # freed only by a collection once the module is torn down at exit
if sys.argv[3] == "skip":
    import stage_runner

    stage_runner.skip_the_exit_collections()
    stage_runner.skip_the_exit_collections()  # once per process, however many tasks it ran
"""


def _exit_output(mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", EXITING, str(REPO / "include"), str(REPO / "plugins"), mode],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_exit_collections_skip_what_the_process_left():
    """Without it, CPython's finalization collects the cycle (its __del__ runs): the walk over every object that cost
    6 s of CPU at the end of a demo term's dag.test(). With it, the objects are frozen and the walk finds nothing."""
    assert "collected at exit" in _exit_output("plain")  # the check can see a collection at exit
    assert "collected at exit" not in _exit_output("skip")


def test_every_task_stage_asks_for_it(tmp_path, monkeypatch):
    import airflow.sdk
    import stage_runner
    from school_improvement import pipeline

    asked = []
    monkeypatch.setattr(stage_runner, "skip_the_exit_collections", lambda: asked.append(1))
    monkeypatch.setenv("SI_WORK_DIR", str(tmp_path))
    monkeypatch.setattr(pipeline, "validate", lambda config, **kw: {})
    monkeypatch.setattr(airflow.sdk, "get_current_context", lambda: {"params": {"term": TERM}, "run_id": "r1"})
    stage_runner.run_task_stage("validate", "999")
    assert asked == [1]
