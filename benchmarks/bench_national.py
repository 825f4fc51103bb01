"""Benchmark: England's 153 LAs through the regional DAG on the CeleryExecutor. Prints figures; asserts nothing.

    make bench-national                                  # BENCH_LAS=3 by default: three LAs across the size range
    PYTHONPATH=include:plugins python benchmarks/bench_national.py --las 6
    PYTHONPATH=include:plugins python benchmarks/bench_national.py --las 873 874 936 --workers 2 --concurrency 1
    PYTHONPATH=include:plugins python benchmarks/bench_national.py --las 153     # all of England (hours)
    PYTHONPATH=include:plugins python benchmarks/bench_national.py --las 3 --file-order   # LAs not largest first

The LAs are England's real ones: codes and names from ../shared/dfe/metadata/la_and_region_codes_meta_2024-25.csv,
and each LA's real number of state-funded schools per phase (primary, secondary, special, nursery; alternative
provision counted as special, the demo having no AP roster) from ../shared/dfe/metadata/schools_per_la_census_2024-25.csv.
The feeds are the demo's (fictional school names and URNs, include/demo_feeds) at those counts; an LA smaller than
the demo's smallest roster (MIN_SCHOOLS, the schools its scenarios need) runs with that roster and is marked.
`--las N` picks N LAs spread evenly over the size range (smallest to largest), so the fitted cost per school is
not fitted to one size only; a list of codes picks those.

The run is the Celery test's deployment (tests/test_celery_regional.py, tests/servers.py: PostgreSQL, Redis,
scheduler, dag-processor, api-server, `--workers` Celery workers of `--concurrency` slots), measured by
benchmarks/celery_region.py. Printed: total CPU (every process, exact), wall time of the DAG run, wall time per
worker slot against CPU / slots, the peak resident memory of the largest task, per-LA task CPU, and the cost
fitted to the LAs run (task CPU = a + b x schools) projected to all 153 LAs, beside the goals. Where the wall goes is
printed from the task instances' own start and end times (occupancy()): the slots' busy time, and their idle time
before the first task, between tasks (scheduling) and in the tail (one LA's chain running alone at the end).
las.yaml states each LA's school count, so the regional DAG starts the LAs largest first (plugins/la_config.regions);
`--file-order` leaves the counts out (the LAs then run in the order chosen, smallest first for `--las N`).
The services run with docker-compose.yaml's settings (the dag-processor's re-parse interval, the workers' heartbeat).
Also printed: how long each worker slot stayed held after its task's last log line (the supervisor noticing the
exit). The "before" arms of the workers' and services' settings: `--heartbeat 1 --no-exit-watch` (a 1 s heartbeat
capping the supervisor's sleep after its task, without plugins/task_exit.py), `--no-warm` (worker_preload.warm()),
`--reparse 30` (Airflow's min_file_process_interval), `--parallelism 4` (the executor's task instances running or
queued for 2 slots before stop 24: 2 per slot, where docker-compose.yaml now gives 4, celery_region.QUEUED_PER_SLOT).
Where each worker's gaps between tasks go is printed too: before the next task was queued (the scheduler's side:
nothing ready, or the executor's slots all taken, as they are until it reads a finished task's Celery result) and
from then (Celery, the fork, the task's start-up), with how long after a task's end the executor read its result.

The goals:

- wall time within 1.2 x CPU / worker slots;
- no task above 1.5 GiB;
- all of England under 30 minutes of wall time on this machine.

Each task's CPU is exact where its worker logged it (plugins/task_cpu.py: the task process's own, reaped by its
supervisor, and the pool process's around it), else the sampler's last reading. With every task's exact figure the
run's CPU outside the tasks is split per task instance by process, and England is projected a second way, by parts:
the tasks' fitted CPU, plus England's task instances times the CPU measured around each (the workers', and what
each adds to the services), plus the services' cost per second of wall, which grows with the task instances still
waiting (PENDING_COST, from benchmarks/bench_scheduler.py at 3 and 153 LAs; `--pending-cost` for fresh figures).
Each process's CPU in stopping it after the run is measured and counted once, as starting is.

Figures from a shared machine drift (the load average is printed): compare ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from celery_region import load_average, run_region  # noqa: E402

SHARED = REPO.parent / "shared" / "dfe" / "metadata"
LA_FILE = "la_and_region_codes_meta_2024-25.csv"
COUNTS_FILE = "schools_per_la_census_2024-25.csv"
# The census's state-funded school types, as the demo roster's phases.
PHASE_OF_TYPE = {"State-funded primary": "Primary", "State-funded secondary": "Secondary",
                 "State-funded special school": "Special", "State-funded AP school": "Special",
                 "State-funded nursery": "Nursery"}
MIN_SCHOOLS = 34  # the demo's smallest roster that holds every scenario (generate_demo(schools=30) -> 34)
GIB = 1024
GOAL_TASK_MIB = 1.5 * GIB
GOAL_WALL_S = 30 * 60
GOAL_WALL_RATIO = 1.2
# The services' CPU per second while a regional run's chains all wait (no task running), by task instances in the run:
# benchmarks/bench_scheduler.py --las 3 153 (the regional DAG as one task group per LA; scheduler + api-server +
# dag-processor: 0.039 + 0.002 + 0.009 with 30, 0.229 + 0.002 + 0.009 with 1,530; load average 6.8-8.1 on 2 cores,
# 26 November 2026, which lowers it: each loop takes longer). A fresh measurement goes in through --pending-cost.
# England's figure x 0.82 for plugins/scheduler_fastpath.py: the scheduler's 0.245, 0.246, 0.198 s/s with it against
# 0.283, 0.317, 0.247 without, in alternating pairs at 1,530 (load 4.6-9.9; a pass in-process 0.34 s against 0.54 s).
PENDING_COST = ((30, 0.05), (1530, 0.20))


def england(metadata: Path = SHARED) -> list[dict]:
    """The 153 LAs: code, name, region name, schools per demo phase and in all (state-funded only)."""
    la_file, counts_file = metadata / LA_FILE, metadata / COUNTS_FILE
    if not la_file.exists() or not counts_file.exists():
        raise SystemExit(f"the DfE metadata is not here: {la_file}, {counts_file} (read from ../shared/dfe)")
    with open(la_file, newline="", encoding="utf-8-sig") as fh:
        las = {r["LEA"].strip(): {"la_code": r["LEA"].strip(), "la_name": r["LA Name"].strip(),
                                  "region_name": r["REGION NAME"].strip(), "phases": defaultdict(int)}
               for r in csv.DictReader(fh)}
    with open(counts_file, newline="", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            phase = PHASE_OF_TYPE.get(r["SCHOOLTYPE"].strip())
            code = r["LA"].strip()
            if phase and code in las:
                las[code]["phases"][phase] += int(r["schools"])
    out = []
    for la in las.values():
        la["phases"] = dict(la["phases"])
        la["schools"] = sum(la["phases"].values())
        out.append(la)
    return sorted(out, key=lambda la: la["la_code"])


def choose(las: list[dict], wanted: list[str]) -> list[dict]:
    """`--las N`: N LAs evenly spread over the size range; `--las 873 936`: those codes."""
    if len(wanted) == 1 and not (len(wanted[0]) == 3 and wanted[0] in {la["la_code"] for la in las}):
        n = int(wanted[0])
        if n >= len(las):
            return las
        by_size = sorted(las, key=lambda la: (la["schools"], la["la_code"]))
        if n == 1:
            return [by_size[len(by_size) // 2]]
        picks = sorted({round(i * (len(by_size) - 1) / (n - 1)) for i in range(n)})
        return [by_size[i] for i in picks]
    by_code = {la["la_code"]: la for la in las}
    missing = [c for c in wanted if c not in by_code]
    if missing:
        raise SystemExit(f"not England LA codes (in {LA_FILE}): {missing}")
    return [by_code[c] for c in wanted]


def generate(root: Path, la: dict, term: str) -> dict:
    """The demo's feeds for `la` at its real counts per phase (the demo's smallest roster if it is smaller)."""
    from demo_feeds.demo_generator import generate_demo

    if la["schools"] >= MIN_SCHOOLS:
        try:
            demo = generate_demo(root / "landing", la_code=la["la_code"], terms=[term], phases=la["phases"])
            return {**la, "ran_schools": demo["schools"], "maintained": demo["maintained"], "padded": False}
        except ValueError:  # a phase mix the scenarios cannot be placed in: the smallest whole roster instead
            pass
    demo = generate_demo(root / "landing", la_code=la["la_code"], terms=[term], schools=max(la["schools"], 30))
    return {**la, "ran_schools": demo["schools"], "maintained": demo["maintained"], "padded": True}


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b x (b through the origin when there is one point)."""
    if len(xs) == 1:
        return 0.0, ys[0] / xs[0]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else my / mx
    return my - b * mx, b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--las", nargs="+", default=["3"], help="N (LAs spread over the size range) or LA codes")
    ap.add_argument("--term", default="2025-26-autumn")
    ap.add_argument("--workers", type=int, default=2, help="Celery workers")
    ap.add_argument("--concurrency", type=int, default=1, help="slots per worker")
    ap.add_argument("--no-preload", action="store_true", help="workers without plugins/worker_preload.py")
    ap.add_argument("--heartbeat", type=int, default=None, metavar="S",
                    help="the workers' [workers] min_heartbeat_interval (default: docker-compose.yaml's, Airflow's 5 s; "
                         "1: the 'before' arm, with --no-exit-watch)")
    ap.add_argument("--no-exit-watch", action="store_true",
                    help="supervisors without plugins/task_exit.py (they may sleep a heartbeat after their task exits)")
    ap.add_argument("--no-warm", action="store_true", help="workers without worker_preload.warm() (imports only)")
    ap.add_argument("--reparse", type=int, default=None, metavar="S",
                    help="the dag-processor's min_file_process_interval (default: docker-compose.yaml's; Airflow's 30)")
    ap.add_argument("--parallelism", type=int, default=None, metavar="N",
                    help="the executor's task instances running or queued (default: celery_region.QUEUED_PER_SLOT x "
                         "the slots, as docker-compose.yaml's; 4 for 2 slots: the 'before' arm of stop 24)")
    ap.add_argument("--file-order", action="store_true",
                    help="leave the LAs' school counts out of las.yaml: the regional DAG runs them in the order chosen "
                         "(smallest first for --las N), not largest first (the 'before' of that ordering)")
    ap.add_argument("--pending-cost", nargs=2, action="append", type=float, metavar=("TASK_INSTANCES", "CPU_S_PER_S"),
                    help="twice: the services' CPU per second with that many task instances waiting, as "
                         "benchmarks/bench_scheduler.py prints it (default: PENDING_COST, its last figures)")
    ap.add_argument("--keep", action="store_true", help="keep the run's folder (logs, feeds, editions)")
    args = ap.parse_args(argv)

    everyone = england()
    chosen = choose(everyone, args.las)
    root = Path(tempfile.mkdtemp(prefix="si-bench-national-"))
    print(f"England: {len(everyone)} LAs, {sum(la['schools'] for la in everyone):,} state-funded schools "
          f"(census January 2025). Running {len(chosen)}: "
          + ", ".join(f"{la['la_code']} {la['la_name']} ({la['schools']})" for la in chosen), flush=True)
    t0 = time.perf_counter()
    ran = [generate(root, la, args.term) for la in chosen]
    print(f"  demo feeds at the real counts: {time.perf_counter() - t0:.0f} s; {load_average()}", flush=True)
    res = run_region(root, ran, args.term, workers=args.workers, concurrency=args.concurrency,
                     preload=not args.no_preload, sizes=not args.file_order, heartbeat_s=args.heartbeat,
                     warm=not args.no_warm, exit_watch=not args.no_exit_watch, reparse_s=args.reparse,
                     parallelism=args.parallelism)
    s = res["settings"]
    print(f"  LAs ranked {'in the order chosen (--file-order)' if args.file_order else 'largest first (schools in las.yaml)'}"
          f"; workers' min_heartbeat_interval {s['AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL']} s, task exit watch "
          f"{s['SI_TASK_EXIT_WATCH']}, warm-up {s['SI_WORKER_WARM']}; dag-processor's min_file_process_interval "
          f"{s['AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL']} s; the executor's parallelism "
          f"{s['AIRFLOW__CORE__PARALLELISM']}")
    if args.pending_cost and len(args.pending_cost) != 2:
        raise SystemExit("--pending-cost: give it twice (a small run's figure and England's)")
    report(res, ran, everyone, tuple((int(n), s) for n, s in args.pending_cost) if args.pending_cost else None)
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"kept: {root}")
    return 0 if res["state"] == "success" else 1


def occupancy(res: dict) -> dict:
    """Where the wall goes, from the task instances' own start and end: the slots' busy time against the run's wall,
    and their idle time split into before the first task, between tasks (scheduling: a task ends, the scheduler sees
    it, queues what it frees, a worker forks it) and the tail (from the last moment every slot was busy to the end:
    one LA's chain running alone). Task walls stretch with the machine's load as the run's wall does, so these shares
    hold under load where CPU / slots does not."""
    slots, t0, t1 = res["slots"], res["run_start"], res["run_end"]
    spans = sorted((t["start"], t["end"]) for t in res["tasks"] if t.get("start") and t.get("end"))
    if not spans or not t0 or not t1:
        return {}
    busy = sum((e - s).total_seconds() for s, e in spans)
    wall = (t1 - t0).total_seconds()
    # (time, change in running tasks, change in tasks queued but not started)
    events = sorted([(s, 1, 0) for s, _ in spans] + [(e, -1, 0) for _, e in spans]
                    + [(t["queued"], 0, 1) for t in res["tasks"] if t.get("queued") and t.get("start")]
                    + [(t["start"], 0, -1) for t in res["tasks"] if t.get("queued") and t.get("start")])
    running = waiting = 0
    last, intervals = spans[0][0], []
    full_until = spans[0][0]  # the end of the last stretch with every slot busy (the first start if never)
    idle_queued = 0.0  # idle slot time while a task was already queued: the worker's side (receive, fork, start-up)
    for at, step, queued in events:
        if at > last:
            intervals.append((last, at, running))
            if running >= slots:
                full_until = at
            idle_queued += (at - last).total_seconds() * min(max(0, slots - running), waiting)
        running, waiting, last = running + step, waiting + queued, at
    intervals.append((last, t1, 0))
    head = (spans[0][0] - t0).total_seconds() * slots
    tail = sum((b - max(a, full_until)).total_seconds() * max(0, slots - n) for a, b, n in intervals if b > full_until)
    idle = slots * wall - busy
    middle = idle - head - tail
    print(f"  slots busy (tasks' own start to end): {busy:8.1f} s of {slots} x {wall:.1f} s; "
          f"wall / (busy / slots) {wall / (busy / slots):.2f} (1.00: no slot ever idle)")
    print(f"  idle slot time {idle:7.1f} s: before the first task {head:.1f} s, between tasks {middle:.1f} s "
          f"({middle / max(1, len(spans)):.2f} s per task: scheduling), the tail {tail:.1f} s "
          f"(after {(full_until - t0).total_seconds():.0f} s no longer every slot busy)")
    if any(t.get("queued") for t in res["tasks"]):
        print(f"  of the idle slot time, {idle_queued:.1f} s with a task already queued (the worker's side: Celery "
              f"receiving it, the fork, the task's start-up) and {idle - idle_queued:.1f} s with none (the scheduler's "
              f"side, or nothing ready: the chains' own dependencies)")
    gaps = slot_gaps(res["tasks"])
    if gaps["gaps"]:
        print(f"  per worker, from a task's end to its next task's start: {gaps['gaps']} gaps, {gaps['sched']:.1f} s "
              f"before the next was queued (the scheduler's side) and {gaps['worker']:.1f} s from then or the end "
              f"(Celery, the fork, the task's start-up: median {gaps['worker_median']:.2f} s); a task's end to the "
              f"scheduler's executor reading its Celery result (its executor slot free): median {gaps['seen_median']:.2f} s")
    return {"busy": busy, "idle": idle, "head": head, "middle": middle, "tail": tail, "idle_queued": idle_queued}


def slot_gaps(tasks: list[dict]) -> dict:
    """Each worker's gaps between one task's end and its next task's start (by hostname; one slot per worker), split
    at the next task's queued time: before it, the scheduler's side (nothing queued yet); after it (or from the end,
    if it was queued already), the worker's. And the median from a task's end to the executor reading its result
    (`seen`)."""
    by_host: dict[str, list] = defaultdict(list)
    for t in tasks:
        if t.get("start") and t.get("end") and t.get("queued") and t.get("hostname"):
            by_host[t["hostname"]].append(t)
    sched = worker = 0.0
    worker_gaps = []
    for ts in by_host.values():
        ts.sort(key=lambda t: t["start"])
        for a, b in zip(ts, ts[1:]):
            before = max(0.0, (b["queued"] - a["end"]).total_seconds())
            after = (b["start"] - max(a["end"], b["queued"])).total_seconds()
            sched, worker = sched + before, worker + after
            worker_gaps.append(after)
    seen = sorted((t["seen"] - t["end"]).total_seconds() for t in tasks if t.get("seen") and t.get("end"))
    return {"gaps": len(worker_gaps), "sched": sched, "worker": worker,
            "worker_median": sorted(worker_gaps)[len(worker_gaps) // 2] if worker_gaps else 0.0,
            "seen_median": seen[len(seen) // 2] if seen else float("nan")}


def task_cpu(t: dict) -> float:
    """A task's CPU: exact where its worker logged it (plugins/task_cpu.py), else the sampler's last reading."""
    return t["cpu_exact"] if t.get("cpu_exact") is not None else (t.get("cpu") or 0.0)


def overhead_split(res: dict) -> dict:
    """Per task instance, the run's CPU that is not a task's own work, by where it is spent; {} without the exact
    figures (every task's own CPU as its worker logged it)."""
    tasks = res["tasks"]
    exact = [t for t in tasks if t.get("cpu_exact") is not None]
    if not tasks or len(exact) < len(tasks):
        return {}
    n = len(tasks)
    own, sup = sum(t["cpu_exact"] for t in exact), sum(t["supervisor_s"] or 0 for t in exact)
    # each process's CPU from the trigger to the run's end (its stop, paid once per deployment, is left out)
    run = {k: v["run_cpu"] - v.get("stop_cpu", 0.0) for k, v in res["processes"].items()}
    workers = sum(v for k, v in run.items() if k.startswith("worker_"))
    out = {"exact": len(exact), "task_cpu": own, "supervisor": sup / n,
           "workers_rest": (workers - own - sup) / n,
           "stop": sum(v.get("stop_cpu", 0.0) for v in res["processes"].values()),
           **{k: run.get(k, 0.0) / n for k in ("api-server", "scheduler", "dag-processor")},
           "tasks_per_la": len([t for t in tasks if t["la_code"]]) / max(1, len({t["la_code"] for t in tasks
                                                                                   if t["la_code"]})),
           "task_instances": n, "wall": res["wall"], "scheduler_run": run.get("scheduler", 0.0)}
    out["per_task"] = sum(out[k] for k in ("supervisor", "workers_rest", "api-server", "scheduler", "dag-processor"))
    # The workers' rest, where the pool processes logged their own totals: their CPU between tasks, and what is left
    # (Celery's main process, and every process's exit when the workers stop)
    pools = res.get("pool_cpu") or 0.0
    out["pools_between"] = (pools - sup) / n if pools else None
    out["workers_main"] = (workers - own - pools) / n if pools else None
    return out


def pending_per_s(task_instances: float, pending: tuple[tuple[int, float], tuple[int, float]]) -> float:
    """The services' CPU per second of wall with `task_instances` in the running run, on the line through the two
    `pending` points (bench_scheduler.py's), never below the small one's (the scheduler's loop costs that empty)."""
    (small_n, small_s), (big_n, big_s) = pending
    scale = (task_instances - small_n) / (big_n - small_n) if big_n != small_n else 1.0
    return small_s + max(0.0, (big_s - small_s) * scale)


def england_by_parts(split: dict, proj_tasks: float, task_instances: float, start_cpu: float, slots: int,
                     steady: float, pending: tuple[tuple[int, float], tuple[int, float]]) -> dict:
    """England's CPU and wall built from its parts rather than one ratio.

    - the tasks' own CPU (fitted);
    - the workers' CPU around each task instance as measured here (supervisor, Celery), times England's;
    - the services (scheduler, api-server, dag-processor): bench_scheduler.py measured their CPU per second with
      every chain pending (`pending`: at a small size and at England's), which they pay per second of wall whatever
      runs, and which grows with the run's task instances (the scheduler loads every task instance of a running run
      each loop): pending_per_s(). This run's services less that figure AT THIS RUN'S SIZE per second of its wall is
      what each task instance adds (queueing it, its requests), times England's task instances; and per second of
      England's wall, the figure at England's size, for the whole run: it does not fall as tasks finish (a pass with
      half of England's LA chains finished cost 0.38 s of CPU in-process against 0.34 s with none,
      bench_scheduler.py --finished 0.5). Subtracting the small size's figure instead, whatever this run's size,
      counted the services' per-second cost twice when the run was large: England's own run (1,530 task instances,
      2,071 s) projected itself at 38.7 min; now at 35.2 min and 3,532 s of CPU (measured: 34.5 min, 3,524 s; the
      rest is PENDING_COST's England figure, 0.20 s/s, above that run's scheduler's 0.14 s/s in all).

    The wall is solved with that: wall = (CPU at every slot busy) x steady, where the CPU itself grows with the wall."""
    (small_n, small_s), (big_n, big_s) = pending
    per_s = pending_per_s(task_instances, pending)
    here_s = pending_per_s(split["task_instances"], pending)  # what the services paid per second here, at this size
    services = split["api-server"] + split["scheduler"] + split["dag-processor"]  # per task instance, here
    services_per_task = max(0.0, services - here_s * split["wall"] / split["task_instances"])
    workers_per_task = split["supervisor"] + split["workers_rest"]
    around = (workers_per_task + services_per_task) * task_instances
    fixed = proj_tasks + around
    if slots - per_s * steady <= 0:
        print("  by parts: the services' cost per second of wall exceeds the slots; no projection")
        return {}
    wall = fixed * steady / (slots - per_s * steady)
    cpu = fixed + per_s * wall + start_cpu
    print(f"  by parts: tasks {proj_tasks:6.0f} s + {task_instances:.0f} task instances x ({workers_per_task:.2f} s "
          f"the workers + {services_per_task:.2f} s the services) around each = {around:.0f} s + the services per "
          f"second of wall {per_s:.2f} s x {wall:.0f} s = {per_s * wall:.0f} s (bench_scheduler.py, every chain "
          f"pending: {small_s:.2f} s/s at {small_n} task instances, {big_s:.2f} at {big_n}; {here_s:.2f} taken "
          f"off this run's services per second of its wall) + {start_cpu:.0f} s "
          f"starting and stopping = {cpu:8.0f} s CPU")
    print(f"  by parts, wall on {slots} slot(s) (x {steady:.2f} idle between tasks, no tail): {wall:8.0f} s "
          f"({wall / 60:.1f} min)   goal < {GOAL_WALL_S / 60:.0f} min; the CPU outside the tasks' own: "
          f"{(cpu - proj_tasks) / cpu:.0%}")
    return {"cpu": cpu, "wall": wall, "per_s": per_s, "services_per_task": services_per_task}


def report(res: dict, ran: list[dict], everyone: list[dict], pending_cost=None) -> None:
    tasks = res["tasks"]
    failed = [t for t in tasks if t["state"] != "success"]
    total_cpu = res["worker_cpu"] + res["services_cpu"]
    # the run: from the trigger to the run's end (stopping the processes after it is paid once, as starting them is)
    stop = {k: v.get("stop_cpu", 0.0) for k, v in res["processes"].items()}
    worker_run = res["worker_run_cpu"] - sum(v for k, v in stop.items() if k.startswith("worker_"))
    run_cpu = res["worker_run_cpu"] + res["services_run_cpu"] - sum(stop.values())
    slots = res["slots"]
    print()
    print(f"Run: {res['state']}, {len(tasks)} tasks ({len(failed)} not successful: "
          f"{sorted({(t['task_id'], t['state']) for t in failed})[:6]}); {load_average()}")
    print(f"  CPU, all processes (exact): {total_cpu:8.1f} s, of which {total_cpu - run_cpu - sum(stop.values()):.1f} s "
          f"starting them (before the trigger: imports, the workers' preload, DAG parsing), {run_cpu:.1f} s the run "
          f"and {sum(stop.values()):.1f} s stopping them after it")
    print(f"  {'process':<16}{'all':>8}{'start':>8}{'run':>8}  (of which stopping it after the run)")
    for name, m in res["processes"].items():
        print(f"  {name:<16}{m['cpu']:8.1f}{m['start_cpu']:8.1f}{m['run_cpu']:8.1f}  ({m.get('stop_cpu', 0.0):.1f})"
              f"{'  (killed after the grace period)' if m['killed'] else ''}")
    print(f"  wall, DAG run:              {res['wall']:8.1f} s on {slots} worker slot(s) "
          f"({res['workers']} x {res['concurrency']})")
    ratio = res["wall"] / (run_cpu / slots)
    print(f"  wall / (run CPU / slots):   {ratio:8.2f}   goal <= {GOAL_WALL_RATIO} (1.0: every slot busy for the "
          f"whole run; against the workers' run CPU alone: {res['wall'] / (worker_run / slots):.2f})")
    occ = occupancy(res)
    holds = res.get("exit_holds") or []
    if holds:
        print(f"  slot held after a task's last log line until its supervisor finished: median "
              f"{holds[len(holds) // 2]:.2f} s, max {holds[-1]:.2f} s, {sum(h > 0.5 for h in holds)} of {len(holds)} "
              f"tasks over 0.5 s, {sum(holds):.1f} s in all")
    sampled = [t for t in tasks if t["peak_mib"]]
    if sampled:
        big = max(sampled, key=lambda t: t["peak_mib"])
        print(f"  largest task, peak RSS:     {big['peak_mib']:8.0f} MiB ({big['task_id']}, LA {big['la_code'] or '-'})"
              f"   goal <= {GOAL_TASK_MIB:.0f} MiB")
    split = overhead_split(res)
    if split:
        print(f"  task CPU, exact:            {split['task_cpu']:8.1f} s over {split['exact']} of {len(tasks)} tasks "
              f"(each task process's own, logged by its worker: plugins/task_cpu.py; sampled every 0.5 s: "
              f"{sum(t['cpu'] or 0 for t in tasks):.1f} s over {len(sampled)})")
        print(f"  per task instance, the run's CPU beside the task's own: its supervisor and Celery around it "
              f"{split['supervisor']:.2f} s, the rest of the workers (Celery's main process, idle pools) "
              f"{split['workers_rest']:.2f} s, the api-server {split['api-server']:.2f} s, the scheduler "
              f"{split['scheduler']:.2f} s, the dag-processor {split['dag-processor']:.2f} s: "
              f"{split['per_task']:.2f} s in all")
        if split.get("workers_main") is not None:
            print(f"  the workers' rest per task instance: the pool processes between tasks {split['pools_between']:.2f} s, "
                  f"Celery's main process {split['workers_main']:.2f} s; stopping every process after the run "
                  f"{split['stop']:.1f} s (once per deployment: left out of the per-task figures)")
    else:
        print(f"  task CPU sampled:           {sum(t['cpu'] or 0 for t in tasks):8.1f} s over {len(sampled)} task "
              f"processes (every {0.5} s; the rest of the workers' CPU is the supervisors and Celery)")

    print()
    print(f"Per LA: task CPU seconds by task ({'exact' if split else 'sampled'}; general, restricted, drafts: the "
          "report parts), peak RSS")
    stages = sorted({t["task_id"].split(".", 1)[-1] for t in tasks if t["la_code"]})
    short = {s: s.removeprefix("build_reports_").removesuffix("_reports") for s in stages}
    print(f"{'LA':<5}{'name':<24}{'schools':>8}{'ran':>6}" + "".join(f"{short[s][:11]:>12}" for s in stages)
          + f"{'total':>9}{'peak MiB':>10}")
    per_la = []
    for la in ran:
        mine = [t for t in tasks if t["la_code"] == la["la_code"]]
        cpu = {s: sum(task_cpu(t) for t in mine if t["task_id"].endswith("." + s)) for s in stages}
        peak = max((t["peak_mib"] or 0 for t in mine), default=0)
        total = sum(cpu.values())
        per_la.append((la["ran_schools"], total))
        print(f"{la['la_code']:<5}{la['la_name'][:23]:<24}{la['schools']:>8}{la['ran_schools']:>6}"
              + "".join(f"{cpu[s]:12.1f}" for s in stages) + f"{total:9.1f}{peak:10.0f}"
              + ("  (padded to the demo's smallest roster)" if la["padded"] else ""))

    print()
    a, b = fit_line([x for x, _ in per_la], [y for _, y in per_la])
    print(f"Fitted task CPU per LA = {a:.1f} s + {1000 * b:.1f} ms x schools (over {len(per_la)} LA(s); "
          f"{'a line needs at least two sizes: proportional to schools' if len(per_la) == 1 else 'least squares'})")
    overhead = (run_cpu / sum(y for _, y in per_la)) if sum(y for _, y in per_la) else float("nan")
    proj_tasks = sum(a + b * max(la["schools"], MIN_SCHOOLS) for la in everyone)
    proj_cpu = proj_tasks * overhead + (total_cpu - run_cpu)
    proj_wall = (proj_cpu - (total_cpu - run_cpu)) / slots * max(ratio, 1.0)
    print(f"All {len(everyone)} LAs ({sum(la['schools'] for la in everyone):,} schools), projected:")
    print(f"  task CPU {proj_tasks:8.0f} s x {overhead:.2f} (the run's CPU, all processes / task CPU, as measured "
          f"here) + {total_cpu - run_cpu:.0f} s starting and stopping the services = {proj_cpu:8.0f} s CPU "
          f"({proj_cpu / 3600:.1f} h)")
    best = (proj_cpu - (total_cpu - run_cpu)) / slots
    print(f"  wall on {slots} slot(s): {best:8.0f} s ({best / 60:.0f} min) with every slot busy throughout, "
          f"{proj_wall:8.0f} s ({proj_wall / 60:.0f} min) at the wall / (CPU / slots) ratio measured here "
          f"({ratio:.2f}: this run's critical path and the machine's other load)   goal < {GOAL_WALL_S / 60:.0f} min")
    steady = 1.0
    if occ:
        # Over 153 LAs the tail (the last chain running alone) is paid once, not once per few LAs; the idle between
        # tasks is paid per task. So the wall ratio without the tail is what a long run tends to.
        steady = (occ["busy"] + occ["head"] + occ["middle"]) / occ["busy"]
        print(f"  wall on {slots} slot(s) with the idle between tasks measured here but no tail "
              f"(x {steady:.2f}, what 153 LAs tend to): {best * steady:8.0f} s ({best * steady / 60:.0f} min)")
    print(f"  cores needed for 30 minutes at this cost: {proj_cpu / GOAL_WALL_S:.1f}")
    if split:
        england_by_parts(split, proj_tasks, len(everyone) * split["tasks_per_la"], total_cpu - run_cpu, slots,
                         steady, pending_cost or PENDING_COST)


if __name__ == "__main__":
    sys.exit(main())
