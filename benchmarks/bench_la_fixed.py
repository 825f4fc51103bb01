"""Benchmark: what a small LA's tasks cost each, in forks of a process prepared as a Celery worker prepares itself.
Prints figures; asserts nothing.

    PYTHONPATH=include:plugins python benchmarks/bench_la_fixed.py --rounds 3
    PYTHONPATH=include:plugins python benchmarks/bench_la_fixed.py --rounds 3 --stages validate general
    PYTHONPATH=include:plugins python benchmarks/bench_la_fixed.py --repo /other/checkout   # another tree's code

Why: in the national run each of an LA's ten tasks is a fresh process forked from a Celery worker that imported
plugins/worker_preload.py's modules and ran its `warm()` before forking (then `gc.freeze()`). What a task does the same
way for every LA (setting up a report part before its first page, Great Expectations' context in validate, reading the
run's configuration) is paid 153 times over England; bench_national.py shows it only as the intercept of its fit
(about 5 s per LA) and takes both cores for minutes. This harness does what the worker does (the preload, the
warm-up, the freeze) in one process, then runs each stage of one demo LA (34 schools: the demo's smallest roster,
City of London's size in bench_national.py) in a fork of its own, in the DAG's order, and reads each fork's exact CPU
from RUSAGE_CHILDREN around it (its start, the stage, and its exit, as plugins/task_cpu.py reads a task's). What the
Airflow task adds around the stage (the Task SDK, the DAG file) is not here: bench_national.py measures that.

Each round runs the whole chain into a fresh work folder and history. With `--repo` the code is another checkout's
(its include/ and plugins/), so two trees can be compared in alternating rounds, run by run.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

# The DAG's tasks of one LA, in order (plugins/termly_tasks.py): the report parts are build_report_part's.
TASKS = ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "general", "restricted", "drafts",
         "assemble_reports", "publish")
PARTS = ("general", "restricted", "drafts")
TERM = "2025-26-autumn"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def prepare_worker(airflow: bool = False) -> list[str]:
    """What plugins/worker_preload.py does in a Celery worker before its pool forks (with `airflow`, its Airflow part
    too, and the Task SDK's task runner imported as a worker has it)."""
    import worker_preload

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    done = worker_preload.preload()
    warmed = worker_preload.warm() if os.environ.get("SI_WORKER_WARM", "1") != "0" else []
    if airflow:
        import airflow.sdk.execution_time.task_runner  # noqa: F401

        warmed += worker_preload.warm_airflow()
    import fsspec  # noqa: F401  (imported by Airflow in a worker)
    import upath  # noqa: F401
    import upath.implementations.local  # noqa: F401  (the artefacts' local paths: warm_airflow's TASK_MODULES)

    if hasattr(worker_preload, "freeze_for_the_tasks"):
        worker_preload.freeze_for_the_tasks()
    else:  # an older checkout (--repo)
        gc.freeze()
        sys.modules["school_improvement.editions.render"].OBJECTS_FROZEN_FOR_GOOD = True
    return done + warmed


# What a task process of the regional DAG does of ours besides its stage (--task-floor): parse the DAG file for its
# own task (Airflow's parsing context), read its settings (las.yaml with England's 153 LAs, through run_config), count
# the worker's frozen objects for its log line, and import what the Task SDK imports after the fork.
FLOOR_MODULES = ("airflow.sdk.definitions.decorators", "airflow.providers.smtp.notifications.smtp",
                 "airflow.sdk.definitions.asset.metadata", "airflow.sdk.lineage", "airflow.dag_processing.bundles.local",
                 "upath.implementations.local")
FLOOR_LA = "201"


def write_england_las(root: Path) -> Path:
    """A las.yaml of 153 LAs (codes 201-353, the demo LA's landing) in one region, as bench_national.py writes it."""
    import yaml

    path = root / "las153.yaml"
    path.write_text(yaml.safe_dump({"las": [
        {"la_code": f"{c:03d}", "la_name": f"LA {c} (demo schools)", "region": "bench", "landing": "${SI_LANDING}",
         "shared_drive": "${SI_SHARED_DRIVE}", "schools": 400 - c} for c in range(201, 354)]}, sort_keys=False))
    return path


def task_floor(repo: Path, task: str) -> None:
    import gc
    import importlib
    import runpy

    for name in FLOOR_MODULES:
        importlib.import_module(name)
    os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = "regional_school_improvement_bench"
    os.environ["_AIRFLOW_PARSING_CONTEXT_TASK_ID"] = f"la_{FLOOR_LA}.{task}"
    runpy.run_path(str(repo / "dags" / "regional_school_improvement.py"))
    import stage_runner

    if hasattr(stage_runner, "frozen_by_worker"):
        stage_runner.frozen_by_worker()
    else:  # an older checkout counted them in every task
        gc.get_freeze_count()
    stage_runner.run_config({"term": TERM}, {}, FLOOR_LA)


def run_task(cfg, task: str, drive: Path) -> None:
    from school_improvement import pipeline

    if FLOOR_REPO is not None:
        task_floor(FLOOR_REPO, task)

    if task in PARTS:
        pipeline.build_report_part(cfg, task)
    elif task == "publish":
        pipeline.publish(cfg, str(drive))
    else:
        getattr(pipeline, task)(cfg)


def in_fork(cfg, task: str, drive: Path, profile: Path | None = None) -> float:
    """Run `task` in a fork; its CPU (start to exit, exact). A failed task stops the benchmark. With `profile`, py-spy
    (PY_SPY, else `py-spy` on the PATH) samples the fork into <profile>/<task>.txt (raw, 200 Hz; its CPU then counts
    py-spy's pauses: read the proportions, not the seconds)."""
    go_r, go_w = os.pipe()
    before = _children_cpu()
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        os.read(go_r, 1)  # until the parent's profiler (if any) has attached
        code = 0
        try:
            run_task(cfg, task, drive)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        os._exit(code)  # as the Task SDK's task process ends: no interpreter teardown
    os.close(go_r)
    spy = None
    if profile is not None:
        import subprocess

        profile.mkdir(parents=True, exist_ok=True)
        spy = subprocess.Popen([os.environ.get("PY_SPY", "py-spy"), "record", "--pid", str(pid), "-r", "200", "-f",
                                "raw", "-o", str(profile / f"{task}.txt")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    os.write(go_w, b"1")
    os.close(go_w)
    _, status = os.waitpid(pid, 0)
    if spy is not None:
        spy.wait()
    if status:
        raise SystemExit(f"{task} failed in its fork (status {status})")
    return _children_cpu() - before


FLOOR_REPO: Path | None = None


def main() -> None:
    global FLOOR_REPO

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--schools", type=int, default=30, help="the demo's roster (30 gives its smallest, 34 schools)")
    ap.add_argument("--stages", nargs="*", default=list(TASKS), help=f"which of {', '.join(TASKS)} to time")
    ap.add_argument("--root", help="a folder to keep the landing and work folders in (default: a new temporary one)")
    ap.add_argument("--profile", help="a folder for py-spy's raw profiles of the chosen tasks (last round's)")
    ap.add_argument("--task-floor", action="store_true",
                    help="each fork also does what a regional DAG's task process does of ours besides its stage "
                         "(DAG file, settings from a 153-LA las.yaml, log line, the Task SDK's later imports)")
    ap.add_argument("--repo", help="run another checkout's include/ and plugins/ (default: this one's)")
    args = ap.parse_args()
    repo = Path(args.repo).resolve() if args.repo else Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(repo / "include"), str(repo / "plugins")]
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="si-fixed-"))
    root.mkdir(parents=True, exist_ok=True)

    from demo_feeds.demo_generator import generate_demo
    from school_improvement import pipeline

    if not (root / "landing").exists():
        demo = generate_demo(root / "landing", terms=[TERM], schools=args.schools)
        print(f"demo LA: {demo['schools']} schools, term {TERM}, in {root}")
    if args.task_floor:
        os.environ.update(SI_LAS_FILE=str(write_england_las(root)), SI_LANDING=str(root / "landing"),
                          SI_SHARED_DRIVE=str(root / "drive"), AIRFLOW__CORE__PLUGINS_FOLDER=str(repo / "plugins"),
                          AIRFLOW__CORE__LOAD_EXAMPLES="False")
        os.environ.setdefault("AIRFLOW_HOME", str(root / "airflow"))
        FLOOR_REPO = repo
    t0 = time.process_time()
    warmed = prepare_worker(args.task_floor)
    print(f"worker preload and warm-up: {time.process_time() - t0:.1f} s CPU once ({len(warmed)} steps); code from "
          f"{repo}", flush=True)

    wanted = [t for t in TASKS if t in args.stages]
    cpu: dict[str, list[float]] = {t: [] for t in wanted}
    for n in range(args.rounds):
        work = root / f"work{n}"
        shutil.rmtree(work, ignore_errors=True)
        drive = work / "drive"
        drive.mkdir(parents=True)
        (drive / ".school-improvement-share").write_text("")  # the LA marks the real share once
        cfg = pipeline.RunConfig(la_code="999", term=TERM, landing=str(root / "landing"), work_dir=str(work),
                                 history_url=f"sqlite:///{work / 'history.sqlite'}", run_id="bench")
        for task in TASKS:  # every task runs (each reads the one before); only the chosen ones are reported
            spy = Path(args.profile) if args.profile and task in cpu and n == args.rounds - 1 else None
            took = in_fork(cfg, task, drive, spy)
            if task in cpu:
                cpu[task].append(took)
        print(f"round {n + 1}: " + "  ".join(f"{t} {cpu[t][-1]:.3f}" for t in wanted)
              + f"  total {sum(cpu[t][-1] for t in wanted):.3f} s CPU; load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"{'task':<18}{'min':>8}{'median':>8}{'max':>8}  s CPU per fork over {args.rounds} round(s)")
    for t in wanted:
        v = sorted(cpu[t])
        print(f"{t:<18}{v[0]:8.3f}{v[len(v) // 2]:8.3f}{v[-1]:8.3f}")
    totals = sorted(sum(cpu[t][i] for t in wanted) for i in range(args.rounds))
    print(f"{'total':<18}{totals[0]:8.3f}{totals[len(totals) // 2]:8.3f}{totals[-1]:8.3f}   load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
