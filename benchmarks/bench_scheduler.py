"""Benchmark: the scheduler's CPU while a regional run's LA chains wait, by the number of LAs in the region.

    PYTHONPATH=include:plugins python benchmarks/bench_scheduler.py --las 3 153      # minutes; prints, asserts nothing
    PYTHONPATH=include:plugins python benchmarks/bench_scheduler.py --las 153 --loops 5 --dag-file OTHER.py

Two measures. `--loops N` (in-process, seconds): the regional DAG of that many LAs is synced to a SQLite metadata
database, a run is created, and the scheduler's own DagRun.update_state (what each scheduler loop does for a running
run: every waiting task instance's dependencies) is called N times with nothing running: its CPU per call, which the
machine's load does not change. `--dag-file` measures another version of dags/regional_school_improvement.py (e.g.
`git show REV:dags/regional_school_improvement.py > /tmp/old.py`) beside it. With 153 LAs (1,530 task instances):
2.2-2.9 s per call for one task group mapped over the LAs, 0.5-0.8 s for a group per LA. `--finished 0.5` marks half
the LAs' chains succeeded first, as half-way through a run: each waiting task instance's checks also go through the
run's finished ones. With plugins/scheduler_fastpath.py (SI_SCHEDULER_FASTPATH=0 to compare) a pass at 153 LAs took
0.34 s against 0.54 s, and half-way 0.38 s against 0.59 s (26 November 2026, three alternating pairs of each).
With the module's later patches (the run not joined to each row, no re-select of the waiting ones, the trigger
rule read by task, the empty executor_config), at load 9-11: 0.18-0.20 s against 0.37-0.40 s at the start, and
0.14 s against 0.50-0.56 s half-way (three alternating pairs of each, 8 passes a run, main at 6c0976a);
`--tuned-gc` (the collector's thresholds the plugin sets in the scheduler) removes the passes of 0.3 s in which
Python's collector scanned the whole heap: 0.11-0.12 s at the start and 0.08-0.10 half-way (three pairs). `--check` compares the decisions with Airflow's own methods.

Without `--loops` (minutes): the deployment of bench_national.py (PostgreSQL, Redis, api-server, scheduler,
dag-processor, one Celery worker; docker-compose.yaml's service settings) runs the regional DAG over that many of
England's LAs until every LA's task instances exist; then the worker is stopped, so no task runs and every LA's chain
stays pending, and each service's CPU (its whole process tree: psutil) is read over `--seconds`: what the services
spend per second on pending work alone. The scheduler examines every pending task instance of the run in each loop
and sleeps a second between idle loops, so this figure falls when the machine is loaded (each loop takes longer);
with the mapped group it was 0.10-0.12 s of CPU per second with 3 LAs (31 task instances), 0.36-0.51 with 153
(1,531); with every patch of plugins/scheduler_fastpath.py 0.083-0.132 against 0.17-0.34 on main (load 1.3-12). `--spy` records the scheduler with py-spy (if installed at /tmp/pyspy) into the run's folder.

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


def fresh_run(n: str, dag_file: Path):
    """A fresh run of the regional DAG over `n` LAs in a SQLite metadata database of its own (in-process): the
    session, the run, the LAs and the folder."""
    import resource
    import shutil

    from bench_national import choose, england

    las = [{**la, "ran_schools": la["schools"]} for la in choose(england(), [n])]
    root = Path(tempfile.mkdtemp(prefix=f"si-bench-scheduler-loop-{len(las)}-"))
    (root / "dags").mkdir()
    shutil.copyfile(dag_file, root / "dags" / "regional_school_improvement.py")
    os.environ.update({"SI_LANDING": str(root / "landing"), "SI_SHARED_DRIVE": str(root / "drive"),
                       "AIRFLOW_HOME": str(root), "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
                       "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                       "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
                       "SI_LAS_FILE": str(write_las(root, las))})
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=os.environ, capture_output=True, check=True, timeout=900)
    import pendulum
    from airflow import settings
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.dagrun import DagRun, get_or_create_dagrun
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    settings.configure_orm()  # the database named above, not one configured before the environment was set
    session = settings.Session()
    manager = DagBundlesManager()
    manager.sync_bundles_to_db(session=session)
    session.commit()
    bundle = next(b for b in manager.get_all_dag_bundles() if b.name == "dags-folder")
    bag = BundleDagBag(dag_folder=str(root / "dags"), bundle_path=bundle.path, bundle_name=bundle.name)
    if bag.import_errors:
        raise RuntimeError(bag.import_errors)
    sync_bag_to_db(bag, bundle.name, bundle.version)
    dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(bag.dags[DAG_ID]))
    now = pendulum.now("UTC")
    run = get_or_create_dagrun(dag=dag, start_date=now, logical_date=None, data_interval=None, run_after=now,
                               run_id=DagRun.generate_run_id(run_type=DagRunType.MANUAL, logical_date=None,
                                                             run_after=now),
                               session=session, conf={"term": "2025-26-autumn"},
                               triggered_by=DagRunTriggeredByType.TEST, triggering_user_name="bench_scheduler")
    return session, run, las, root


def loop_cost(n: str, loops: int, dag_file: Path, finished: float = 0.0, tuned_gc: bool = False) -> dict:
    """CPU seconds of each DagRun.update_state of a fresh run of the regional DAG over `n` LAs (in-process, SQLite);
    with `finished`, that share of the LAs' chains marked succeeded first (as mid-run: the rest still wait); with
    `tuned_gc`, the collector's thresholds the plugin sets in the scheduler's process."""
    import resource

    session, run, las, root = fresh_run(n, dag_file)
    if finished:
        from airflow.utils.state import TaskInstanceState

        done = {f"la_{la['la_code']}." for la in las[:round(finished * len(las))]}
        for ti in run.get_task_instances(session=session):
            if ti.task_id[:ti.task_id.index(".") + 1] in done:
                ti.state = TaskInstanceState.SUCCESS
        session.commit()
    cpu = []
    if tuned_gc:
        import scheduler_fastpath

        scheduler_fastpath.tune_gc()  # as the plugin does in `airflow scheduler`
    for _ in range(loops):
        session.expire_all()
        before = resource.getrusage(resource.RUSAGE_SELF)
        run.update_state(session=session)
        session.commit()
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    tis = len(run.get_task_instances(session=session))
    session.close()
    return {"las": len(las), "task_instances": tis, "cpu": cpu, "root": root}


def _chains(run, las) -> list[list[str]]:
    """Each LA's task ids in the order its chain runs them (by how many tasks are upstream of each)."""
    dag = run.dag
    return [sorted((t for t in dag.task_dict if t.startswith(f"la_{la['la_code']}.")),
                   key=lambda t: len(dag.task_dict[t].get_flat_relative_ids(upstream=True))) for la in las]


def check_decisions(n: str, dag_file: Path) -> list[str]:
    """The scheduler's decisions over a run of `n` LAs, with plugins/scheduler_fastpath.py's methods and with
    Airflow's own (scheduler_fastpath.airflow_own), in states a run goes through: fresh; chains part-way; half the
    LAs done; upstream tasks failed, skipped, upstream_failed and removed (Airflow then flags the downstream task
    instances). Compared: the schedulable task instances, whether any state changed, every task instance's state
    after the pass, and each waiting task instance's failed dependency statuses (names and reasons). Returns the
    differences (none: the same decisions)."""
    session, run, las, root = fresh_run(n, dag_file)  # first: it configures Airflow for its own database
    import scheduler_fastpath
    from airflow.ti_deps.dep_context import DepContext
    from airflow.utils.state import State, TaskInstanceState as S

    if not scheduler_fastpath.INSTALLED:
        raise RuntimeError("scheduler_fastpath is not installed (SI_SCHEDULER_FASTPATH=0 or another Airflow)")
    chains = _chains(run, las)

    def decide() -> dict:
        session.expire_all()
        d = run.task_instance_scheduling_decisions(session=session)
        tis = run.get_task_instances(session=session)
        finished = [t for t in tis if t.state in State.finished]
        deps = {}
        for ti in tis:
            if ti.state in State.finished:
                continue
            ti.task = run.dag.get_task(ti.task_id)
            ctx = DepContext(flag_upstream_failed=False, finished_tis=finished)
            deps[ti.task_id] = [(s.dep_name, s.passed, s.reason) for s in ti.get_failed_dep_statuses(
                dep_context=ctx, session=session)]
        out = {"schedulable": sorted(t.key for t in d.schedulable_tis), "changed": d.changed_tis,
               "states": {t.task_id: t.state for t in tis}, "deps": deps}
        session.rollback()
        return out

    def states(pairs) -> None:
        for ti in run.get_task_instances(session=session):
            if ti.task_id in pairs:
                ti.state = pairs[ti.task_id]
        session.commit()

    scenarios = {"fresh": {}}
    k = len(chains)
    scenarios["part-way"] = {t: S.SUCCESS for i, chain in enumerate(chains) for t in chain[:i % len(chain)]}
    scenarios["half done"] = {t: S.SUCCESS for chain in chains[:k // 2] for t in chain}
    rest = chains[k // 2:]
    broken = {}
    for i, state in enumerate((S.FAILED, S.SKIPPED, S.UPSTREAM_FAILED, S.REMOVED, S.RUNNING, S.QUEUED)):
        if i < len(rest):
            broken.update({t: S.SUCCESS for t in rest[i][:2]})
            broken[rest[i][2]] = state
    scenarios["failed, skipped, removed"] = {**scenarios["half done"], **broken}
    differences = []
    for name, pairs in scenarios.items():
        states({t: None for chain in chains for t in chain})
        states(pairs)
        with scheduler_fastpath.airflow_own():
            airflow = decide()
        ours = decide()
        for key in airflow:
            if airflow[key] != ours[key]:
                differences.append(f"{name}: {key} differs")
        print(f"  {name}: {len(airflow['schedulable'])} schedulable, changed {airflow['changed']}, "
              f"{sum(1 for v in airflow['states'].values() if v in State.finished)} finished after the pass, "
              f"{len(airflow['deps'])} waiting checked: {'the same' if airflow == ours else 'DIFFERENT'}", flush=True)
    session.close()
    return differences


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--las", nargs="+", default=["3", "153"], help="LA counts (each run on its own)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--spy", action="store_true")
    ap.add_argument("--loops", type=int, default=0,
                    help="in-process: CPU of this many scheduler passes over a fresh run (SQLite), not the deployment")
    ap.add_argument("--dag-file", type=Path, default=REPO / "dags" / "regional_school_improvement.py",
                    help="with --loops: the regional DAG file to measure (another version of it, to compare)")
    ap.add_argument("--finished", type=float, default=0.0,
                    help="with --loops: this share of the LAs' chains succeeded before the passes (as mid-run)")
    ap.add_argument("--tuned-gc", action="store_true",
                    help="with --loops: the collector's thresholds plugins/scheduler_fastpath.py sets in the scheduler")
    ap.add_argument("--check", action="store_true",
                    help="in-process: compare the scheduler's decisions with plugins/scheduler_fastpath.py's methods "
                         "and with Airflow's own, over the states a run goes through (exit 1 if they differ)")
    args = ap.parse_args(argv)
    if args.check:
        bad = []
        for n in args.las:
            done = subprocess.run([sys.executable, __file__, "--las", n, "--dag-file", str(args.dag_file), "--one",
                                   "--check"], capture_output=True, text=True, timeout=3600)
            print("\n".join(x for x in done.stdout.splitlines() if x.startswith(("  ", "check"))) or
                  done.stdout[-2000:] + done.stderr[-3000:], flush=True)
            bad.append(done.returncode != 0)
        return 1 if any(bad) else 0
    if args.loops:
        for n in args.las:  # each count in a process of its own: Airflow's settings are read once per process
            done = subprocess.run([sys.executable, __file__, "--las", n, "--loops", str(args.loops), "--dag-file",
                                   str(args.dag_file), "--finished", str(args.finished), "--one"]
                                  + (["--tuned-gc"] if args.tuned_gc else []), capture_output=True, text=True, timeout=3600)
            lines = [x for x in done.stdout.splitlines() if "CPU seconds per scheduler pass" in x]
            print(lines[-1] if lines else done.stdout[-2000:] + done.stderr[-3000:], flush=True)
        return 0
    for n in args.las:
        r = pending_cost(n, args.seconds, args.spy)
        print(f"{r['las']:4d} LAs, {r['task_instances']:5d} task instances in the run: CPU seconds per second "
              + ", ".join(f"{k} {v:.3f}" for k, v in r["per_s"].items())
              + f"; {load_average()}  ({r['root']})", flush=True)
    return 0


def _one_loop_cost(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--las", nargs=1)
    ap.add_argument("--loops", type=int, default=0)
    ap.add_argument("--dag-file", type=Path)
    ap.add_argument("--finished", type=float, default=0.0)
    ap.add_argument("--one", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--tuned-gc", action="store_true")
    args = ap.parse_args(argv)
    if args.check:
        differences = check_decisions(args.las[0], args.dag_file)
        print(f"check, {args.las[0]} LAs: " + ("; ".join(differences) if differences else
                                                "the same decisions as Airflow's own in every state"))
        return 1 if differences else 0
    r = loop_cost(args.las[0], args.loops, args.dag_file, args.finished, args.tuned_gc)
    print(f"{r['las']:4d} LAs, {r['task_instances']:5d} task instances ({args.finished:.0%} of the LAs' chains done, {args.dag_file.name}{', tuned gc' if args.tuned_gc else ''}): CPU seconds per "
          f"scheduler pass (DagRun.update_state) " + " ".join(f"{c:.2f}" for c in r["cpu"])
          + f"; {load_average()}  ({r['root']})")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(REPO / "tests"), str(REPO / "include"), str(REPO / "plugins")]
    sys.exit(_one_loop_cost(sys.argv[1:]) if "--one" in sys.argv else main())
