"""A Celery worker's Task SDK supervisor notices its task process's exit at once, not up to a heartbeat later.

Why: the supervisor (airflow.sdk.execution_time.supervisor, the process between the worker's pool and the task)
waits in `selector.select(timeout)` on the task's sockets (stdout, stderr, logs, requests) and checks whether the
task has exited only when select returns. A task process closes those sockets before it has finished exiting
(freeing a report render's heap takes a while): select then has nothing left to wait on and sleeps the whole
timeout, `[workers] min_heartbeat_interval` (5 s by default), while the worker slot stays taken. bench_national.py
measured 5.1 s on about half the tasks at the default, so the workers had been set to a 1 s heartbeat: five times
the heartbeats, each a request to the api-server and a database update, for every running task, all run long.

The fix: the supervisor also waits on a pidfd of the task process (Linux 5.3+, `os.pidfd_open`), which becomes
readable the moment the process exits. select then returns at once, the supervisor reaps the task, and the
heartbeat interval is back to being only a heartbeat interval (docker-compose.yaml: Airflow's 5 s). Where pidfds
are not available the supervisor behaves exactly as before.

Installed in the Celery worker's main process before its pool forks (plugins/worker_preload.py), so every
supervisor the worker forks has it; nothing else in Airflow is changed. SI_TASK_EXIT_WATCH=0 leaves it out
(the benchmarks' "before" arm).
"""

from __future__ import annotations

import functools
import logging
import os
import selectors

log = logging.getLogger(__name__)


class _ExitWatcher:
    """A task process's pidfd as a selector file object: readable once the process has exited."""

    def __init__(self, fd: int):
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    @classmethod
    def open(cls, pid: int) -> "_ExitWatcher | None":
        try:
            return cls(os.pidfd_open(pid))
        except (AttributeError, OSError):  # no pidfds here (not Linux 5.3+), or the process is already gone
            return None

    def exited(self, _fileobj) -> bool:
        return False  # "no more reads expected": the supervisor calls `forget`, then `close`

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def watch_task_exits() -> bool:
    """Make the Task SDK supervisor also wait on its task process's pidfd while it monitors it. Idempotent."""
    if os.environ.get("SI_TASK_EXIT_WATCH", "1") == "0":
        return False
    from airflow.sdk.execution_time.supervisor import ActivitySubprocess

    original = ActivitySubprocess._monitor_subprocess
    if getattr(original, "si_watches_exit", False):
        return True

    @functools.wraps(original)
    def _monitor_subprocess(self):
        watcher = _ExitWatcher.open(self.pid)
        if watcher is None:
            return original(self)

        def forget(_fileobj):
            try:
                self.selector.unregister(watcher)
            except Exception:  # already unregistered, or the selector closed (stuck sockets force-closed)
                pass

        self.selector.register(watcher, selectors.EVENT_READ, (watcher.exited, forget))
        try:
            return original(self)
        finally:
            forget(watcher)
            watcher.close()

    _monitor_subprocess.si_watches_exit = True
    ActivitySubprocess._monitor_subprocess = _monitor_subprocess
    return True
