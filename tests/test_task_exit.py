"""plugins/task_exit.py: the Task SDK supervisor notices its task's exit at once, however long the heartbeat interval.

A real ActivitySubprocess monitors a real child process that has no sockets open (as a task process that has
closed them and is still exiting). The heartbeat interval and timeout are set to an hour: without the pidfd the
supervisor sleeps in select() for the whole interval after the child has exited; with it, it returns as soon as the
child exits. The test waits at most a minute for that (a hang, not a timing, is what fails).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import pytest


@pytest.fixture()
def patched():
    # Imported here, not at collection: Airflow's supervisor costs every test process 3-4 s of CPU to import, and only
    # this module and a few others need it (tests/import_groups.py keeps them in one process).
    supervisor = pytest.importorskip("airflow.sdk.execution_time.supervisor")

    original = supervisor.ActivitySubprocess._monitor_subprocess
    saved = supervisor.MIN_HEARTBEAT_INTERVAL, supervisor.HEARTBEAT_TIMEOUT
    supervisor.MIN_HEARTBEAT_INTERVAL = supervisor.HEARTBEAT_TIMEOUT = 3600
    try:
        yield supervisor
    finally:
        supervisor.ActivitySubprocess._monitor_subprocess = original
        supervisor.MIN_HEARTBEAT_INTERVAL, supervisor.HEARTBEAT_TIMEOUT = saved


def _monitor_a_child_that_exits(supervisor, lingers: float = 0.5):
    import psutil
    import structlog

    pid = os.fork()
    if pid == 0:  # the "task": its sockets already closed, it takes a moment to exit
        time.sleep(lingers)
        os._exit(0)
    ours, _theirs = socket.socketpair()
    proc = supervisor.ActivitySubprocess(id=uuid.uuid4(), pid=pid, stdin=ours, process=psutil.Process(pid),
                                         process_log=structlog.get_logger(), client=None)
    proc._last_successful_heartbeat = proc._last_heartbeat_attempt = time.monotonic()  # no heartbeat is due
    done = threading.Thread(target=proc._monitor_subprocess, daemon=True)
    done.start()
    done.join(60)
    if done.is_alive():
        os.waitpid(pid, os.WNOHANG)
    return proc, done.is_alive()


def test_the_supervisor_returns_when_its_task_exits_not_a_heartbeat_interval_later(patched):
    from task_exit import watch_task_exits

    assert watch_task_exits()
    assert watch_task_exits()  # idempotent: wrapped once
    proc, still_waiting = _monitor_a_child_that_exits(patched)
    assert not still_waiting, "the supervisor slept out the heartbeat interval after its task had exited"
    assert proc._exit_code == 0
    assert list(proc.selector.get_map() or {}) == []  # the pidfd is unregistered (and closed) afterwards


def test_it_can_be_left_out_for_the_benchmarks_before_arm(patched, monkeypatch):
    from task_exit import watch_task_exits

    monkeypatch.setenv("SI_TASK_EXIT_WATCH", "0")
    assert watch_task_exits() is False
    assert not getattr(patched.ActivitySubprocess._monitor_subprocess, "si_watches_exit", False)
