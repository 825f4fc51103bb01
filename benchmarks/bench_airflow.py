"""Benchmark: one demo county term through Airflow against the same stages in one process. Prints figures.

    make bench-airflow                       # in-process, dag.test(), and the CeleryExecutor with/without preload
    PYTHONPATH=include:plugins python benchmarks/bench_airflow.py [--term 2025-26-spring] [--schools 250]
                                             [--no-celery] [--celery-workers 2] [--celery-concurrency 1]
                                             [--preload-only] [--compare-fresh-stack]

The same demo term (LA 999, `--schools` schools) is run four ways, each measured as total CPU seconds (user +
system) of every process involved, children included, and wall time:

1. in-process: the pipeline's stages called one after the other in one fresh Python process (the floor for
   "through Airflow": same work, no orchestration);
2. `dag.test()` of termly_school_improvement_999 in one fresh Python process: Airflow parses the DAG, schedules
   and runs every task in that process (on a SQLite metadata database migrated beforehand, not counted);
3. the CeleryExecutor (benchmarks/celery_region.py: the Celery test's deployment on 127.0.0.1), the region DAG over
   this one LA, workers preloading Great Expectations, pandas, WeasyPrint and the stages before forking their
   tasks (plugins/worker_preload.py);
4. the same without the preload: each task process imports them itself.

Printed: CPU and wall of each, the ratio of each to in-process (goal for "through Airflow": at most 1.1), and for
the Celery runs the run's own window (trigger to end, without stopping the deployment afterwards, as
bench_national.py counts it) and that window above the deployment's idling (every process's CPU per second over
IDLE_S seconds with nothing to run, measured before the trigger, times the run's wall), and for
the Celery runs the task processes' own CPU (sampled) and the CPU per task the preload saves. Each task logs its
CPU before its stage and in it (plugins/stage_runner.py): the Celery runs also print the stages' CPU in their task
processes against the same stages in one process, and each task's start-up (parsing the DAG file, the Task SDK). The Celery
figures split into the tasks' processes (what the run costs per term) and the Airflow services (scheduler,
dag-processor, api-server: running whether or not a term is running; their CPU over the run is printed apart).

`--compare-fresh-stack` adds the dag.test() and preloaded Celery runs with the stages called directly, not through
plugins/fresh_stack.py (SI_FRESH_STACK=0): the "before" of that fix, measured side by side with the "after".

Figures from a shared machine drift (the load average is printed): compare ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
for _p in (REPO / "include", REPO / "plugins"):
    sys.path.insert(0, str(_p))
from celery_region import load_average, run_region  # noqa: E402

LA = "999"
GOAL = 1.1
IDLE_S = 20  # seconds of the deployment with nothing to run, before the trigger: its standing CPU per second
DAG_TEST_RUN = "dag.test()"
NO_FRESH = ", no fresh stack"  # the arms of --compare-fresh-stack
# The stages in the DAG's order; the DAG renders the report parts as three tasks and assembles them, which
# pipeline.build_reports does one after the other.
from school_improvement.pipeline import STAGES  # noqa: E402

IN_PROCESS = """
import json, sys, time
from school_improvement import pipeline
cfg = pipeline.RunConfig(**json.loads(sys.argv[1]))
stages = json.loads(sys.argv[2])
t0 = time.process_time()
for stage in stages:
    kwargs = {"shared_drive": sys.argv[3]} if stage == "publish" else {}
    getattr(pipeline, stage)(cfg, **kwargs)
print(f"STAGES CPU {time.process_time() - t0:.3f}")
print("done")
"""
# Each task logs its CPU before its stage (start-up) and in it (plugins/stage_runner.py).
TASK_CPU = re.compile(r"stage (\w+): ([0-9.]+) s CPU in this task process before the stage, ([0-9.]+) s in it "
                      r"\([0-9.]+ s system, (\d+) page faults")

DAG_TEST = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
dr = bag.dags[sys.argv[2]].test(run_conf=json.loads(sys.argv[3]))
print(f"RUN STATE: {dr.state}", flush=True)
"""


def measured(code: str, args: list[str], env: dict, log: Path) -> dict:
    """Run `code` in a fresh interpreter: CPU seconds of it and every child it reaped (wait4), wall, peak RSS."""
    with open(log, "w") as out:
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if child.returncode != 0 or ("RUN STATE" in text and "RUN STATE: success" not in text):
        raise RuntimeError(f"run failed ({child.returncode}); last lines of {log}:\n{text[-3000:]}")
    stages = re.search(r"STAGES CPU ([0-9.]+)", text)
    return {"cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "peak_mib": ru.ru_maxrss / 1024,
            **({"stages_cpu": float(stages.group(1))} if stages else {})}


def task_split(airflow_home: Path) -> dict:
    """From the task logs: the task processes' CPU before their stage (start-up) and in it, summed."""
    before = within = 0.0
    n = faults = 0
    for log in Path(airflow_home, "logs").glob("dag_id=*/run_id=*/task_id=*/**/attempt=*.log"):
        for m in TASK_CPU.finditer(log.read_text(errors="replace")):
            before, within, n = before + float(m.group(2)), within + float(m.group(3)), n + 1
            faults += int(m.group(4))
    return {"startup_cpu": before, "stage_cpu": within, "stage_tasks": n, "stage_faults": faults}


def base_env(root: Path) -> dict:
    home = root / "airflow-home"
    home.mkdir(exist_ok=True)
    (root / "drive").mkdir(exist_ok=True)
    (root / "drive" / ".school-improvement-share").write_text("")  # the LA marks the real share once
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}", "GX_ANALYTICS_ENABLED": "False",
        "SI_LANDING": str(root / "landing"), "SI_SHARED_DRIVE": str(root / "drive"),
    })
    return env


def in_process(root: Path, term: str) -> dict:
    env = base_env(root)
    cfg = {"la_code": LA, "term": term, "landing": str(root / "landing"), "work_dir": str(root / "work-inproc"),
           "history_url": f"sqlite:///{root / 'history-inproc.sqlite'}", "run_id": "bench"}
    (root / "drive-inproc").mkdir(exist_ok=True)
    (root / "drive-inproc" / ".school-improvement-share").write_text("")
    return measured(IN_PROCESS, [json.dumps(cfg), json.dumps(STAGES), str(root / "drive-inproc")], env,
                    root / "in-process.log")


def dag_test(root: Path, term: str, fresh_stack: bool = True) -> dict:
    env = base_env(root)
    name = "dagtest" if fresh_stack else "dagtest-no-fresh-stack"
    env.update({"SI_WORK_DIR": str(root / f"work-{name}"), "SI_FRESH_STACK": "1" if fresh_stack else "0",
                "SI_HISTORY_URL": f"sqlite:///{root / f'history-{name}.sqlite'}"})
    (root / f"drive-{name}").mkdir(exist_ok=True)
    (root / f"drive-{name}" / ".school-improvement-share").write_text("")
    env["SI_SHARED_DRIVE"] = str(root / f"drive-{name}")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    migrate = time.perf_counter() - t0
    out = measured(DAG_TEST, [str(REPO / "dags"), f"termly_school_improvement_{LA}", json.dumps({"term": term})],
                   env, root / f"{name}.log")
    return {**out, "migrate_wall": migrate}


def celery(root: Path, term: str, preload: bool, workers: int, concurrency: int, fresh_stack: bool = True) -> dict:
    sub = root / (("celery-preload" if preload else "celery-no-preload") + ("" if fresh_stack else "-no-fresh-stack"))
    sub.mkdir()
    os.symlink(root / "landing", sub / "landing")
    res = run_region(sub, [{"la_code": LA, "la_name": "Wealdshire (demo)"}], term, workers=workers,
                     concurrency=concurrency, preload=preload, fresh_stack=fresh_stack, idle_s=IDLE_S,
                     log=lambda m: print(m, flush=True))
    if res["state"] != "success":
        bad = sorted({(t["task_id"], t["state"]) for t in res["tasks"] if t["state"] != "success"})
        raise RuntimeError(f"the Celery run did not succeed: {bad}; logs under {sub}")
    la_tasks = [t for t in res["tasks"] if t["la_code"]]
    res["task_cpu"] = sum(t["cpu"] or 0 for t in la_tasks)
    # The run's own window, trigger to end, as bench_national.py counts it: stopping the deployment afterwards (a
    # worker's preloaded heap torn down, the services idling while the workers stop) is paid once per stop, not per term.
    procs = res["processes"]
    res["worker_window_cpu"] = sum(v["run_cpu"] - v["stop_cpu"] for k, v in procs.items() if k.startswith("worker_"))
    res["services_window_cpu"] = sum(v["run_cpu"] - v["stop_cpu"] for k, v in procs.items() if not k.startswith("worker_"))
    res["stop_cpu"] = sum(v["stop_cpu"] for v in procs.values())
    res["idle_cpu"] = sum(v.get("idle_rate", 0.0) for v in procs.values()) * res["wall"]
    res["n_tasks"] = len(la_tasks)
    res.update(task_split(sub / "airflow-home"))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--term", default="2025-26-spring")
    ap.add_argument("--schools", type=int, default=None, help="scale the demo roster (250 schools by default)")
    ap.add_argument("--no-celery", action="store_true", help="in-process and dag.test() only")
    ap.add_argument("--celery-workers", type=int, default=2)
    ap.add_argument("--celery-concurrency", type=int, default=1)
    ap.add_argument("--preload-only", action="store_true", help="the CeleryExecutor with the preload only")
    ap.add_argument("--compare-fresh-stack", action="store_true",
                    help="also dag.test() and the preloaded Celery run without plugins/fresh_stack.py")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    from demo_feeds.demo_generator import generate_demo

    root = Path(tempfile.mkdtemp(prefix="si-bench-airflow-"))
    demo = generate_demo(root / "landing", la_code=LA, terms=[args.term], schools=args.schools)
    print(f"One demo county term: LA {LA}, {args.term}, {demo['schools']} schools ({demo['maintained']} maintained); "
          f"{load_average()}", flush=True)
    runs: dict[str, dict] = {}
    runs["in-process"] = in_process(root, args.term)
    print(f"  in-process   {runs['in-process']['cpu']:7.1f} s CPU {runs['in-process']['wall']:7.1f} s wall", flush=True)
    for fresh in (True, False) if args.compare_fresh_stack else (True,):
        name = DAG_TEST_RUN if fresh else DAG_TEST_RUN + NO_FRESH
        runs[name] = dag_test(root, args.term, fresh_stack=fresh)
        print(f"  {name:<28} {runs[name]['cpu']:7.1f} s CPU {runs[name]['wall']:7.1f} s wall", flush=True)
    if not args.no_celery:
        arms = [(True, True)] + ([(True, False)] if args.compare_fresh_stack else []) \
            + ([] if args.preload_only else [(False, True)])
        for preload, fresh in arms:
            name = ("Celery, preload" if preload else "Celery, no preload") + ("" if fresh else NO_FRESH)
            r = runs[name] = celery(root, args.term, preload, args.celery_workers, args.celery_concurrency,
                                    fresh_stack=fresh)
            print(f"  {name:<20} workers {r['worker_cpu']:7.1f} s CPU, services {r['services_cpu']:7.1f} s, "
                  f"wall {r['wall']:7.1f} s", flush=True)

    (root / "runs.json").write_text(json.dumps(runs, indent=1, default=str))
    report(runs)
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"kept: {root}")
    return 0


def report(runs: dict) -> None:
    base = runs["in-process"]
    print()
    print(f"Through Airflow against in-process ({load_average()}); goal: CPU ratio <= {GOAL}")
    print(f"{'run':<22}{'CPU s':>9}{'wall s':>9}{'CPU ratio':>11}{'wall ratio':>12}   what the CPU counts")
    print(f"{'in-process':<22}{base['cpu']:9.1f}{base['wall']:9.1f}{1:11.2f}{1:12.2f}   one Python process: imports + stages")
    for name in (DAG_TEST_RUN, DAG_TEST_RUN + NO_FRESH):
        if name not in runs:
            continue
        d = runs[name]
        if len(name) >= 22:
            print(name)
        print(f"{name if len(name) < 22 else '':<22}{d['cpu']:9.1f}{d['wall']:9.1f}{d['cpu'] / base['cpu']:11.2f}{d['wall'] / base['wall']:12.2f}"
              f"   one process: Airflow, DAG parse, scheduling, every task in-process")
    celery_runs = [name for name in runs if name.startswith("Celery")]
    for name in celery_runs:
        r = runs[name]
        if len(name) >= 22:
            print(name)
        print(f"{name if len(name) < 22 else '':<22}{r['worker_cpu']:9.1f}{r['wall']:9.1f}{r['worker_cpu'] / base['cpu']:11.2f}"
              f"{r['wall'] / base['wall']:12.2f}   the workers: {r['n_tasks']} task processes "
              f"({r['task_cpu']:.1f} s sampled), their supervisors, Celery")
        print(f"{'':<22}{r['worker_run_cpu']:9.1f}{'':9}{r['worker_run_cpu'] / base['cpu']:11.2f}{'':12}   the workers' "
              f"run alone: the above less their start ({r['worker_cpu'] - r['worker_run_cpu']:.1f} s, paid once per "
              f"worker, not per term)")
        run = r["worker_run_cpu"] + r["services_run_cpu"]
        print(f"{'':<22}{run:9.1f}{'':9}{run / base['cpu']:11.2f}{'':12}   the run alone, every process: the "
              f"above less the workers' start ({r['worker_cpu'] - r['worker_run_cpu']:.1f} s, preload included), "
              f"plus the services during the run ({r['services_run_cpu']:.1f} s)")
        window = r["worker_window_cpu"] + r["services_window_cpu"]
        print(f"{'':<22}{window:9.1f}{'':9}{window / base['cpu']:11.2f}{'':12}   the run's window alone, trigger to "
              f"end: the above less stopping the deployment afterwards ({r['stop_cpu']:.1f} s, paid once per stop; "
              f"workers {r['worker_window_cpu']:.1f} s, services {r['services_window_cpu']:.1f} s)")
        if r["idle_cpu"]:
            above = window - r["idle_cpu"]
            print(f"{'':<22}{above:9.1f}{'':9}{above / base['cpu']:11.2f}{'':12}   the run's window above the "
                  f"deployment idling as long ({r['idle_cpu']:.1f} s: every process's CPU per second with nothing to "
                  f"run, {IDLE_S} s before the trigger, x the run's wall)")
        print(f"{'':<22}{r['worker_cpu'] + r['services_cpu']:9.1f}{'':9}"
              f"{(r['worker_cpu'] + r['services_cpu']) / base['cpu']:11.2f}{'':12}   "
              f"everything from a cold start: + scheduler, dag-processor, api-server ({r['services_cpu']:.1f} s)")
    for name in celery_runs:
        r = runs.get(name)
        if r and r.get("stage_tasks") and base.get("stages_cpu"):
            print(f"  {name}: the stages in their task processes {r['stage_cpu']:.1f} s CPU against "
                  f"{base['stages_cpu']:.1f} s in one process ({r['stage_cpu'] / base['stages_cpu']:.2f}); "
                  f"each task's start-up before its stage {r['startup_cpu'] / r['stage_tasks']:.2f} s "
                  f"({r['stage_tasks']} tasks); supervisors, Celery and the unsampled remainder "
                  f"{r['worker_run_cpu'] - r['task_cpu']:.1f} s; minor page faults in the stages "
                  f"{r['stage_faults']:,}")
    for name in celery_runs:
        if name in runs and any("idle_rate" in m for m in runs[name]["processes"].values()):
            print(f"  {name}, CPU per second with nothing to run: " + ", ".join(
                f"{p} {m['idle_rate']:.3f}" for p, m in runs[name]["processes"].items() if "idle_rate" in m))
    for name in celery_runs:
        if name in runs:
            print(f"  {name}, CPU by process (all = start + run): " + ", ".join(
                f"{p} {m['cpu']:.1f} = {m['start_cpu']:.1f} + {m['run_cpu']:.1f}"
                for p, m in runs[name]["processes"].items()))
    if "Celery, preload" in runs and "Celery, no preload" in runs:
        on, off = runs["Celery, preload"], runs["Celery, no preload"]
        print()
        print("Task processes' CPU (sampled), by task: without and with the preload")
        cpu = {}
        for label, r in (("off", off), ("on", on)):
            for t in r["tasks"]:
                cpu.setdefault(t["task_id"], {})[label] = t["cpu"] or 0.0
        for tid, v in cpu.items():
            print(f"  {tid:<32}{v.get('off', 0):7.1f} s{v.get('on', 0):7.1f} s{v.get('off', 0) - v.get('on', 0):+8.1f} s")
        per_task = (off["task_cpu"] - on["task_cpu"]) / on["n_tasks"]
        print()
        print(f"Preloading in the worker (plugins/worker_preload.py): task processes {off['task_cpu']:.1f} s -> "
              f"{on['task_cpu']:.1f} s CPU over {on['n_tasks']} tasks, {per_task:.2f} s saved per task; "
              f"workers in all {off['worker_cpu']:.1f} s -> {on['worker_cpu']:.1f} s "
              f"(the import is paid once per worker, {on['workers']} workers)")
        peaks = [(t['peak_mib'] or 0) for t in on["tasks"]]
        peaks_off = [(t['peak_mib'] or 0) for t in off["tasks"]]
        print(f"  largest task peak RSS: {max(peaks_off):.0f} MiB without, {max(peaks):.0f} MiB with (preloaded pages "
              f"are shared copy-on-write with the worker, yet counted in each task's RSS)")


if __name__ == "__main__":
    sys.exit(main())
