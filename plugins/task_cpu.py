"""Each task's own CPU, exactly, and what the Celery worker spent running it: one line per task in the worker's log.

Why: a task process's CPU was only sampled from outside (benchmarks/celery_region.py reads /proc every 0.5 s), which
misses a task's last fraction of a second and can miss a short task altogether (28 of 30 seen), so the split of a
run's CPU between the tasks' own work and Airflow's and Celery's overhead around them was uncertain.

Under the CeleryExecutor the worker's pool process runs each task's Task SDK supervisor in itself and forks the task
process from it; the supervisor reaps that process when it exits (its only child). The kernel then adds the task
process's CPU (and that of anything it reaped) to the pool process's RUSAGE_CHILDREN: the difference across one
Celery task is that task's own CPU, to the microsecond, however short. RUSAGE_SELF's difference is what the pool
process spent on it: the supervisor (starting the task, relaying its log lines and requests to the api-server,
heartbeats, reaping it) and Celery's own handling (decoding the message, storing the result). Two getrusage calls per
task, in Celery's task_prerun and task_postrun signals, which run in the pool process around the task.

The line ("task CPU: ti_id=... task_s=... supervisor_s=...") is for the operator looking at a worker (which tasks cost
what) and for the benchmarks (bench_national.py reads it). Connected in the worker's main process before the pool
forks (plugins/worker_preload.py), so every pool process has it; nothing of Airflow is changed.
"""

from __future__ import annotations

import json
import logging
import os
import resource

log = logging.getLogger(__name__)
MARK = "task CPU:"
_started: dict[str, tuple[float, float]] = {}


def _cpu(who: int) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def ti_id_of(args) -> str:
    """The task instance's id from the Celery task's argument (the workload as JSON), "" if it is not there."""
    try:
        return str(json.loads(args[0])["ti"]["id"])
    except (TypeError, ValueError, KeyError, IndexError):
        return ""


def _before(task_id=None, **_kwargs) -> None:
    _started[task_id] = (_cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN))


def _after(task_id=None, args=None, **_kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is None:
        return
    now = _cpu(resource.RUSAGE_SELF)
    own, children = now - started[0], _cpu(resource.RUSAGE_CHILDREN) - started[1]
    # pool_s: this pool process's own CPU since it was forked, so far (between tasks too), per pool process (pid)
    log.info("%s ti_id=%s task_s=%.3f supervisor_s=%.3f pool_pid=%d pool_s=%.3f", MARK, ti_id_of(args), children,
             own, os.getpid(), now)


def parse(line: str) -> dict | None:
    """A worker log line's figures: {"ti_id", "task_s", "supervisor_s"} (and "pool_pid", "pool_s"), or None if the
    line is not one of ours."""
    at = line.find(MARK)
    if at < 0:
        return None
    fields = dict(f.split("=", 1) for f in line[at + len(MARK):].split() if "=" in f)
    try:
        got = {"ti_id": fields["ti_id"], "task_s": float(fields["task_s"]),
               "supervisor_s": float(fields["supervisor_s"])}
        if "pool_pid" in fields:
            got.update(pool_pid=int(fields["pool_pid"]), pool_s=float(fields["pool_s"]))
        return got
    except (KeyError, ValueError):
        return None


def account_task_cpu() -> None:
    """Connect the two signal handlers (idempotent: Celery keeps one connection per handler)."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_before, weak=False)
    task_postrun.connect(_after, weak=False)
