"""A region's termly run on the CeleryExecutor, measured: the harness of bench_national.py and bench_airflow.py.

The deployment is the Celery test's (tests/test_celery_regional.py: PostgreSQL, Redis, api-server, scheduler,
dag-processor, Celery workers on 127.0.0.1, started with tests/servers.py), imported from there, not copied.
What this adds is measurement:

- total CPU: every service and worker is a direct child of this process and is stopped gracefully (a Celery
  worker's warm shutdown reaps its pool, each pool process has reaped the task processes it forked), so
  `os.wait4` returns the CPU seconds of that process and of every process below it, exactly;
- per task, exactly: its own CPU and that of the worker's pool process around it (the Task SDK supervisor and
  Celery), which each worker logs as the task ends (plugins/task_cpu.py, read back from the worker logs);
- per task: a sampler reads each task process (`airflow worker -- <ti id>`) every SAMPLE_S seconds: its CPU
  seconds (user + system) and its peak resident memory (VmHWM, the kernel's own high-water mark), keeping the
  last reading. A task's last fraction of a second can be missed (the exact figure above cannot); its peak is kept;
- the run's own CPU: the same less what each process had used when the run was triggered (starting the services
  and workers: imports, the workers' preload, parsing the DAGs), read from /proc (psutil) at that moment;
- wall: the DAG run's own start and end dates.

Workers preload Great Expectations, pandas, WeasyPrint and the stages before forking (plugins/worker_preload.py,
through AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS); `preload=False` runs the same workers without it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
for p in (REPO / "tests", REPO / "include", REPO / "plugins"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

AIRFLOW = REPO / ".venv" / "bin" / "airflow"
SAMPLE_S = 0.5
REGION = "bench"
DAG_ID = f"regional_school_improvement_{REGION}"
TASK_TITLE = "airflow worker -- "  # the task process's title (airflow.sdk task_runner)


# The services' settings the deployment runs with (docker-compose.yaml), so the benchmark measures what is deployed.
COMPOSE_SETTINGS = ("AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL", "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL",
                    "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS")


# Task instances the executor holds per worker slot, running or queued in Celery (docker-compose.yaml's
# AIRFLOW__CORE__PARALLELISM over its 2 workers x 2 slots): the executor frees a slot only when it reads the task's
# Celery result, a scheduler loop or two after the task ended, so with 2 per slot (the bench's 4 for 2 slots until
# stop 24) the next task was not yet in Celery's queue when a slot freed.
QUEUED_PER_SLOT = 4


def compose_settings() -> dict[str, str]:
    """COMPOSE_SETTINGS as docker-compose.yaml sets them (the workers' and the common environment)."""
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())  # resolves the anchors and merges
    env = {**compose["services"]["airflow-dag-processor"]["environment"],
           **compose["services"]["airflow-worker"]["environment"]}
    return {k: str(env[k]) for k in COMPOSE_SETTINGS}


def write_las(root: Path, las: list[dict], sizes: bool = True) -> Path:
    """The region's las.yaml, in the order given; with `sizes`, each LA's `schools` (the roster the demo generated
    for it), from which the regional DAG orders its LAs largest first (plugins/la_config.regions)."""
    path = root / "las.yaml"
    path.write_text(yaml.safe_dump({"las": [
        # A real LA's name on fictional schools' reports says so: no real school is ever labelled here.
        {"la_code": la["la_code"], "la_name": la["la_name"] if "(demo" in la["la_name"] else
         f"{la['la_name']} (demo schools)", "region": REGION, "landing": "${SI_LANDING}",
         "shared_drive": "${SI_SHARED_DRIVE}", **({"schools": la["ran_schools"]} if sizes and "ran_schools" in la
                                                 else {})} for la in las]}, sort_keys=False))
    return path


class Sampler(threading.Thread):
    """Every SAMPLE_S seconds: CPU seconds and peak RSS of each task process below the workers."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.tasks, self.stop_flag = roots, {}, threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop_flag.is_set():
            for pid in self.roots:
                try:
                    procs = psutil.Process(pid).children(recursive=True)
                except psutil.NoSuchProcess:
                    continue
                for p in procs:
                    try:
                        title = " ".join(p.cmdline())
                        if not title.startswith(TASK_TITLE):
                            continue
                        ti_id = title[len(TASK_TITLE):].split()[0]
                        t = p.cpu_times()
                        hwm = _vm_hwm_kib(p.pid)
                    except (psutil.NoSuchProcess, psutil.AccessDenied, IndexError):
                        continue
                    seen = self.tasks.setdefault(ti_id, {"cpu": 0.0, "peak_mib": 0.0})
                    seen["cpu"] = max(seen["cpu"], t.user + t.system)
                    seen["peak_mib"] = max(seen["peak_mib"], hwm / 1024)
            self.stop_flag.wait(SAMPLE_S)


def _vm_hwm_kib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    return 0.0


def tree_cpu(pid: int) -> float:
    """CPU seconds so far of a process and everything below it: the live ones' own, and those they reaped."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def _stop_measured(proc: subprocess.Popen, grace: float = 180) -> dict:
    """SIGTERM the process (a Celery worker finishes its warm shutdown, reaping its pool), then wait4 it:
    its CPU seconds and those of every descendant it reaped. SIGKILL to the group after `grace` seconds."""
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    killed = False
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline and not killed:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed = True
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:  # anything of its group still alive (it should not be) is stopped too
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return {"cpu": ru.ru_utime + ru.ru_stime, "maxrss_mib": ru.ru_maxrss / 1024, "killed": killed}


def _parse(ts: str | None) -> datetime | None:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None


def run_region(root: Path, las: list[dict], term: str, workers: int = 2, concurrency: int = 1,
               preload: bool = True, fresh_stack: bool = True, sizes: bool = True, heartbeat_s: int | None = None,
               warm: bool = True, exit_watch: bool = True, reparse_s: int | None = None,
               parallelism: int | None = None, idle_s: float = 0, timeout: float = 6 * 3600, log=print) -> dict:
    """Run DAG_ID over `las` (dicts with la_code, la_name; their feeds already under root/landing) on
    `workers` Celery workers of `concurrency` slots each; `fresh_stack=False` runs the stages without
    plugins/fresh_stack.py, `sizes=False` leaves the LAs' school counts out of las.yaml (the regional DAG then runs
    them in the given order), `warm=False` the workers without their warm-up, `exit_watch=False` the supervisors
    without plugins/task_exit.py: the "before" arms. `heartbeat_s` and `reparse_s` (the dag-processor's
    min_file_process_interval) default to docker-compose.yaml's; `parallelism` (the executor's task instances
    running or queued) to QUEUED_PER_SLOT x the slots, as docker-compose.yaml's. `idle_s` > 0 first measures each
    process's CPU per second over that many seconds with nothing to run ("idle_rate": the scheduler's and the
    dag-processor's loops, paid whether or not a term runs). Returns the figures (see the module doc)."""
    import requests
    from servers import free_port, postgres_server, redis_server, wait_for_port
    from test_celery_regional import _env, start_deployment
    from test_scheduler_rest import Airflow

    from la_config import regions

    # The LAs in the order the regional DAG ranks them (largest first when las.yaml states their sizes); each LA's
    # tasks are its group's, la_<code>.<task>.
    la_order = regions(write_las(root, las, sizes=sizes))[REGION]
    slots = workers * concurrency
    procs: dict[str, subprocess.Popen] = {}
    measured: dict[str, dict] = {}
    with postgres_server() as pg_url, redis_server() as redis_url:
        port = free_port()
        env = _env(root, pg_url, redis_url, port)
        deployed = compose_settings()
        heartbeat_s = heartbeat_s or int(deployed["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"])
        env.update({
            **deployed,
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "worker_preload.CELERY_CONFIG",  # as the Celery test's
            "SI_WORKER_PRELOAD": "1" if preload else "0",
            "SI_WORKER_WARM": "1" if warm else "0",
            "SI_TASK_EXIT_WATCH": "1" if exit_watch else "0",
            "SI_FRESH_STACK": "1" if fresh_stack else "0",
            # Without plugins/task_exit.py the Task SDK supervisor can wait this long after its task has finished
            # (its last select() before it reaps the process), holding the worker slot.
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": str(heartbeat_s),
            # the same 15 s of an unreachable api-server tolerated as Airflow's defaults (3 failures x 5 s)
            "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": str(max(3, 15 // heartbeat_s)),
            **({"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": str(reparse_s)} if reparse_s else {}),
            "AIRFLOW__CORE__PARALLELISM": str(parallelism or QUEUED_PER_SLOT * slots),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(max(16, slots * 4)),
        })
        t_setup = time.perf_counter()
        for args in (["db", "migrate"], ["pools", "set", "si_reports", str(2 * slots), "report renders (GiB)"]):
            done = subprocess.run([str(AIRFLOW), *args], env=env, cwd=root, capture_output=True, text=True,
                                  timeout=900)
            if done.returncode != 0:
                raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        names = [f"worker_{i}" for i in range(workers)]
        try:
            start_deployment(procs, root, env, port, names, concurrency=concurrency, own_queues=False)
            af = Airflow(root, port, procs)
            wait_for_port(port, timeout=300)

            def until(what, ready, limit, every=2.0):
                deadline = time.monotonic() + limit
                while time.monotonic() < deadline:
                    for n, p in procs.items():
                        if p.poll() is not None:
                            raise RuntimeError(f"{n} exited ({p.returncode}) while waiting for {what}: "
                                               f"see {root / (n + '.log')}")
                    try:
                        value = ready()
                    except (requests.RequestException, AssertionError):
                        value = None
                    if value:
                        return value
                    time.sleep(every)
                raise TimeoutError(f"timed out waiting for {what} (logs in {root})")

            until("the api-server", lambda: requests.get(f"{af.base}/api/v2/monitor/health", timeout=5).ok, 300, 1)
            af.login()
            until(f"{DAG_ID} to be registered",
                  lambda: af.call("GET", f"/dags/{DAG_ID}", expect=(200, 404)).get("dag_id"), 900)
            # The api-server builds its execution API (the routes the workers' tasks call: Cadwyn's versioned
            # routers, pydantic schemas) on that API's first request: about 4 s of CPU, once per api-server start, that
            # fell inside the run and was projected to England as if it grew with the tasks. Asked for here, as
            # docker-compose.yaml's health check asks for it, it counts as starting the services.
            until("the execution API", lambda: requests.get(f"{af.base}/execution/health", timeout=60).ok, 300, 1)
            setup_s = time.perf_counter() - t_setup
            idle_rate = {}
            if idle_s > 0:  # the deployment's standing cost: every process's CPU per second with nothing to run
                before, t0 = {name: tree_cpu(p.pid) for name, p in procs.items()}, time.perf_counter()
                time.sleep(idle_s)
                span = time.perf_counter() - t0
                idle_rate = {name: (tree_cpu(p.pid) - before[name]) / span for name, p in procs.items()}
            # What starting the services and workers cost (imports, preload, DAG parsing), before any task:
            # subtracted to get the run's own cost.
            at_trigger = {name: tree_cpu(p.pid) for name, p in procs.items()}
            sampler = Sampler([procs[w].pid for w in names])
            sampler.start()
            af.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            run_id = af.call("POST", f"/dags/{DAG_ID}/dagRuns",
                             json={"logical_date": None, "conf": {"term": term}})["dag_run_id"]
            log(f"  triggered {run_id} over {len(las)} LA(s) on {workers} worker(s) x {concurrency} slot(s), "
                f"preload {'on' if preload else 'off'}, fresh stack {'on' if fresh_stack else 'off'} "
                f"(set-up took {setup_s:.0f} s)")

            # Watched in the database, not through the REST API: a request every 5 s (about 400 over England's run,
            # each through the auth manager) fell in the api-server's CPU as if the tasks had cost it.
            import psycopg2

            watch = psycopg2.connect(pg_url.replace("postgresql+psycopg2://", "postgresql://"))
            watch.autocommit = True

            def finished():
                with watch.cursor() as cur:
                    cur.execute("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (DAG_ID, run_id))
                    row = cur.fetchone()
                return row and row[0] in ("success", "failed")
            try:
                until(f"run {run_id} to finish", finished, timeout, 2)
            finally:
                watch.close()
            run = af.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
            # What each process had used when the run ended: the rest is stopping it (a worker's pool and its
            # preloaded heap torn down), paid once per deployment's stop, not per task.
            at_end = {name: tree_cpu(p.pid) for name, p in procs.items()}
            sampler.stop_flag.set()
            sampler.join()
            # The API returns at most [api] maximum_page_limit (100) rows a call, whatever the limit asked:
            # England's 1,530 task instances take pages. (A 3-LA run fits in one; a whole-England run did not.)
            tis = []
            while True:
                page = af.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances",
                               params={"limit": 100, "offset": len(tis), "order_by": "id"})
                tis += page["task_instances"]
                if not page["task_instances"] or len(tis) >= page["total_entries"]:
                    break
        finally:
            for name in [*(n for n in procs if n.startswith("worker_")), "scheduler", "dag-processor", "api-server"]:
                if name in procs:
                    measured[name] = _stop_measured(procs[name])
    wall = (_parse(run["end_date"]) - _parse(run["start_date"])).total_seconds()
    exact = task_cpu_by_ti(root)
    seen_done = executor_events(root)
    tasks = []
    for ti in tis:
        seen = sampler.tasks.get(ti["id"], {})
        own = exact.get(ti["id"], {})
        start, end = _parse(ti.get("start_date")), _parse(ti.get("end_date"))
        group = ti["task_id"].split(".", 1)[0]
        tasks.append({"task_id": ti["task_id"], "map_index": ti["map_index"], "state": ti["state"],
                      "la_code": group.removeprefix("la_") if "." in ti["task_id"] and group.startswith("la_") else None,
                      "hostname": ti.get("hostname"), "start": start, "end": end,
                      "queued": _parse(ti.get("queued_when")), "seen": seen_done.get(ti["task_id"]),
                      "wall": (end - start).total_seconds() if start and end else None,
                      "cpu": seen.get("cpu"), "peak_mib": seen.get("peak_mib"),
                      # exact (plugins/task_cpu.py): the task process's own CPU, and its supervisor's and Celery's
                      "cpu_exact": own.get("task_s"), "supervisor_s": own.get("supervisor_s")})
    for name, m in measured.items():
        m["start_cpu"] = at_trigger.get(name, 0.0)
        m["run_cpu"] = m["cpu"] - m["start_cpu"]
        m["stop_cpu"] = max(0.0, m["cpu"] - at_end[name]) if name in at_end else 0.0  # within run_cpu
        if name in idle_rate:
            m["idle_rate"] = idle_rate[name]
    return {"state": run["state"], "wall": wall, "la_order": la_order, "run_start": _parse(run["start_date"]),
            "run_end": _parse(run["end_date"]), "slots": slots, "workers": workers, "concurrency": concurrency,
            "preload": preload, "fresh_stack": fresh_stack, "settings": {k: env[k] for k in (
                *COMPOSE_SETTINGS, "SI_WORKER_WARM", "SI_TASK_EXIT_WATCH", "AIRFLOW__CORE__PARALLELISM")}, "processes": measured, "tasks": tasks, "root": str(root),
            "exit_holds": exit_holds(root), "pool_cpu": pool_cpu(exact),
            "worker_cpu": sum(v["cpu"] for k, v in measured.items() if k.startswith("worker_")),
            "services_cpu": sum(v["cpu"] for k, v in measured.items() if not k.startswith("worker_")),
            "worker_run_cpu": sum(v["run_cpu"] for k, v in measured.items() if k.startswith("worker_")),
            "services_run_cpu": sum(v["run_cpu"] for k, v in measured.items() if not k.startswith("worker_"))}


def task_cpu_by_ti(root: Path) -> dict[str, dict]:
    """Each task's exact CPU as its worker logged it (plugins/task_cpu.py: the task process's own, reaped by its
    supervisor, and the pool process's around it), by task instance id."""
    import glob

    from task_cpu import parse

    out = {}
    for w in glob.glob(str(root / "worker_*.log")):
        for line in open(w, errors="replace"):
            if (got := parse(line)) and got["ti_id"]:
                out[got["ti_id"]] = got
    return out


def executor_events(root: Path) -> dict[str, datetime]:
    """By task id (one run, first try), when the scheduler's executor read the task's Celery result (its log's
    "Received executor event with state success|failed"): only then is the task's executor slot (parallelism) free."""
    import re

    out = {}
    log = root / "scheduler.log"
    if not log.exists():
        return out
    for line in open(log, errors="replace"):
        if "Received executor event with state" in line and (m := re.search(
                r"state (?:success|failed) for task instance TaskInstanceKey\(.*?task_id='([^']+)'", line)):
            out.setdefault(m.group(1), _parse(line.split()[0]))
    return out


def pool_cpu(exact: dict[str, dict]) -> float:
    """The pool processes' own CPU (supervisors, Celery's handling, and between tasks), each to its last task's end."""
    last: dict[int, float] = {}
    for got in exact.values():
        if "pool_pid" in got:
            last[got["pool_pid"]] = max(last.get(got["pool_pid"], 0.0), got["pool_s"])
    return sum(last.values())


def exit_holds(root: Path) -> list[float]:
    """Per task, the seconds from its log's last line to its supervisor's "Workload finished" (the worker slot held
    after the task is done): about a second on half the tasks with a 1 s heartbeat and no exit watch, a heartbeat
    interval at most (plugins/task_exit.py)."""
    import glob
    import json
    import re

    finished = {}
    for w in glob.glob(str(root / "worker_*.log")):
        for line in open(w, errors="replace"):
            if "Workload finished" in line and (m := re.search(r"workload_id=([0-9a-f-]+)", line)):
                finished[m.group(1)] = _parse(line.split()[0])
    holds = []
    for f in glob.glob(str(root / "airflow-home" / "logs" / "dag_id=*" / "run_id=*" / "task_id=*" / "**" / "attempt=*.log"),
                       recursive=True):
        events = []
        for line in open(f, errors="replace"):
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
        ti = next((e["ti_id"] for e in events if e.get("ti_id")), None)
        stamps = [_parse(e["timestamp"]) for e in events if e.get("timestamp")]
        if ti in finished and stamps:
            holds.append((finished[ti] - max(stamps)).total_seconds())
    return sorted(holds)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
