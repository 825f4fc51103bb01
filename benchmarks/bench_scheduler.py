"""Benchmark: the Airflow services' CPU while a regional run's LA chains wait, by the number of LAs mapped.

    PYTHONPATH=include:plugins python benchmarks/bench_scheduler.py --las 3 153      # minutes; prints, asserts nothing

For each count: the deployment of bench_national.py (PostgreSQL, Redis, api-server, scheduler, dag-processor, one
Celery worker; docker-compose.yaml's service settings) runs the regional DAG over that many of England's LAs until
`la_codes` has run and the LA task group is expanded; then the worker is stopped, so no task runs and every LA's
chain stays pending, and each service's CPU (its whole process tree: psutil) is read over `--seconds`. What is
left is what the services spend per second on pending work alone: the scheduler examines every pending task
instance of the run in each loop (DagRun.update_state: its trigger rule, and for a task in a mapped task group the
map length, read from the database per task instance), so a run that maps all of England's LAs at once costs it far
more per second than bench_national.py's few LAs show: 0.10-0.12 s of CPU per second with 3 LAs (31 task instances),
0.32-0.43 with 153 (771 expanded when read), 0.48 with all 1,531 expanded. `--spy` records the scheduler with py-spy (if installed
at /tmp/pyspy) into the run's folder.

Figures from a shared machine drift (the load average is printed): compare counts run side by side.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from celery_region import AIRFLOW, DAG_ID, compose_settings, load_average, tree_cpu, write_las  # noqa: E402

SERVICES = ("scheduler", "api-server", "dag-processor")


def pending_cost(n: str, seconds: float, spy: bool = False) -> dict:
    import psutil
    import requests
    from bench_national import choose, england
    from servers import free_port, postgres_server, redis_server, wait_for_port
    from test_celery_regional import _env, start_deployment
    from test_scheduler_rest import Airflow, _stop

    las = choose(england(), [n])
    root = Path(tempfile.mkdtemp(prefix=f"si-bench-scheduler-{len(las)}-"))
    write_las(root, las)
    procs: dict[str, subprocess.Popen] = {}
    with postgres_server() as pg_url, redis_server() as redis_url:
        port = free_port()
        env = {**_env(root, pg_url, redis_url, port), **compose_settings(), "SI_WORKER_PRELOAD": "0"}
        for args in (["db", "migrate"], ["pools", "set", "si_reports", "4", "report renders (GiB)"]):
            subprocess.run([str(AIRFLOW), *args], env=env, cwd=root, capture_output=True, check=True, timeout=900)
        try:
            start_deployment(procs, root, env, port, ["worker_0"], concurrency=1, own_queues=False)
            af = Airflow(root, port, procs)
            wait_for_port(port, timeout=300)
            af.wait("the api-server", lambda: requests.get(f"{af.base}/api/v2/monitor/health", timeout=5).ok,
                    timeout=300, every=1)
            af.login()
            af.wait(f"{DAG_ID}", lambda: af.call("GET", f"/dags/{DAG_ID}", expect=(200, 404)).get("dag_id"), timeout=900)
            af.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            run_id = af.call("POST", f"/dags/{DAG_ID}/dagRuns",
                             json={"logical_date": None, "conf": {"term": "2025-26-autumn"}})["dag_run_id"]
            tis = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances"
            # Expanded: every LA's ten task instances (at once from the parsed list; an upstream task's XCom, as the
            # regional DAG used to map over, had to run first, and the scheduler then expanded it loop by loop).
            af.wait("the LA task group to be expanded", lambda: af.call("GET", tis, params={"limit": 1})[
                "total_entries"] >= 10 * len(las), timeout=900, every=2)
            os.killpg(procs["worker_0"].pid, signal.SIGKILL)  # from here on no task runs: every chain stays pending
            procs.pop("worker_0").wait()
            time.sleep(10)
            total = af.call("GET", tis, params={"limit": 1})["total_entries"]
            before = {k: tree_cpu(procs[k].pid) for k in SERVICES}
            if spy and Path("/tmp/pyspy/bin/py-spy").exists():
                subprocess.Popen(["/tmp/pyspy/bin/py-spy", "record", "--duration", str(int(seconds * 0.8)), "--gil",
                                  "--nonblocking", "-r", "100", "-f", "raw", "-o", str(root / "scheduler-spy.txt"),
                                  "--pid", str(procs["scheduler"].pid)], env={**os.environ, "PYTHONPATH": "/tmp/pyspy"},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t0 = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - t0
            per_s = {k: (tree_cpu(procs[k].pid) - before[k]) / elapsed for k in SERVICES}
        finally:
            _stop(procs)
    return {"las": len(las), "task_instances": total, "per_s": per_s, "root": root}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--las", nargs="+", default=["3", "153"], help="LA counts (each run on its own)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--spy", action="store_true")
    args = ap.parse_args(argv)
    for n in args.las:
        r = pending_cost(n, args.seconds, args.spy)
        print(f"{r['las']:4d} LAs, {r['task_instances']:5d} task instances in the run: CPU seconds per second "
              + ", ".join(f"{k} {v:.3f}" for k, v in r["per_s"].items())
              + f"; {load_average()}  ({r['root']})", flush=True)
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(REPO / "tests"), str(REPO / "include"), str(REPO / "plugins")]
    sys.exit(main())
