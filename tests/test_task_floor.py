"""What every task process pays outside its stage: the frozen-object count for its log line is the worker's, counted
once before it forked (plugins/worker_preload.freeze_for_the_tasks), never walked again in each task."""

from __future__ import annotations

import gc
import os


def test_a_task_reads_the_workers_count_and_never_walks_the_frozen_objects(monkeypatch):
    import stage_runner

    def walk():
        raise AssertionError("a task must not walk the frozen objects (45 ms each)")

    monkeypatch.setattr(gc, "get_freeze_count", walk)
    monkeypatch.setenv(stage_runner.FROZEN_COUNT_VARIABLE, "521337")
    assert stage_runner.frozen_by_worker() == "521337"
    monkeypatch.delenv(stage_runner.FROZEN_COUNT_VARIABLE)
    assert stage_runner.frozen_by_worker() == "none"  # a task outside a Celery worker (dag.test, in-process runs)


def test_the_worker_counts_once_after_freezing_for_every_process_it_forks(monkeypatch):
    import stage_runner
    import worker_preload

    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: calls.append("count") or 4242)
    monkeypatch.delenv(stage_runner.FROZEN_COUNT_VARIABLE, raising=False)
    worker_preload.freeze_for_the_tasks()
    assert calls == ["freeze", "count"]
    assert os.environ[stage_runner.FROZEN_COUNT_VARIABLE] == "4242"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked task sees the worker's count
        os.write(write, stage_runner.frozen_by_worker().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write)
    assert os.read(read, 64) == b"4242"
    os.close(read)
