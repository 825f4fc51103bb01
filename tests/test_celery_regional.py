"""The regional DAG on the CeleryExecutor, as docker-compose runs it: Redis (Debian's redis-server), PostgreSQL,
the api-server, scheduler, dag-processor and two Celery workers, all started here on 127.0.0.1, over three LAs,
one of them with a broken attendance feed.

Each worker has its own local scratch folder (its TMPDIR and working directory); the only folder they share is
the artefact store (SI_WORK_DIR). A cluster policy puts consecutive tasks of the chain on alternate workers'
queues, so every hand-off from one stage to the next crosses from one worker to the other. The run succeeding
for the two good LAs, with every hand-off crossing and nothing of the run in either worker's scratch folder, shows
that no task reads another worker's local disk. The broken LA stops at validate and publishes nothing while the
others publish, each recording an event on its own reports Asset with its edition's metadata: one LA's bad data
never holds back or leaks into another's.

Slow (minutes): two LAs' reports are rendered (the 40-school demo of tests/small_demo.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from servers import free_port, postgres_server, redis_server, wait_for_port

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = REPO / ".venv" / "bin" / "airflow"
TERM = "2025-26-autumn"
REGION = "demo_three"
DAG_ID = f"regional_school_improvement_{REGION}"
LAS = ("999", "998", "997")
BROKEN = "998"  # its attendance feed has text in a percentage: its chain stops at validate
GOOD = tuple(c for c in LAS if c != BROKEN)
WORKERS = ("worker_a", "worker_b")
CHAIN = ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports_general",
         "assemble_reports", "publish")  # within each LA's task group, la_<code>
PARTS = ("build_reports_general", "build_reports_restricted", "build_reports_drafts")  # each edition's render
# extract on a, validate on b, assess_evidence on a, ...: every hand-off along the chain crosses workers.
POLICY = f'''
CHAIN = {list(CHAIN)!r}
PARTS = {PARTS!r}


def task_policy(task):
    if task.dag_id != {DAG_ID!r}:
        return
    tid = task.task_id.split(".", 1)[-1]
    tid = PARTS[0] if tid in PARTS else tid
    if tid in CHAIN:
        task.queue = ("worker_a", "worker_b")[CHAIN.index(tid) % 2]
'''

pytestmark = [
    pytest.mark.slow,  # real Airflow services
    pytest.mark.skipif(not AIRFLOW.exists(), reason=f"{AIRFLOW} not installed"),
    pytest.mark.skipif(not any(os.path.exists(p) for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server")),
                       reason="redis-server (Debian package) not installed"),
]


def _env(root: Path, pg_url: str, redis_url: str, port: int) -> dict:
    from test_scheduler_rest import _env as rest_env

    env = rest_env(root, pg_url, port)  # the real-scheduler test's settings (PostgreSQL, JWT, users, ...)
    (root / "config").mkdir()
    (root / "config" / "airflow_local_settings.py").write_text(POLICY)
    (root / "shared-drive").mkdir(exist_ok=True)
    (root / "shared-drive" / ".school-improvement-share").write_text("")  # the LA marks the real share once
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_url,  # postgresql+psycopg2: SQLAlchemy 2.1 would pick psycopg 3
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "servers.worker_name",
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "worker_preload.CELERY_CONFIG",  # as docker-compose's workers
        "PYTHONPATH": os.pathsep.join([str(root / "config"), str(REPO / "tests"), env["PYTHONPATH"]]),
        "SI_LAS_FILE": str(root / "las.yaml"),
    })
    return env


def start_deployment(procs: dict, root: Path, env: dict, port: int, workers, concurrency: int,
                     own_queues: bool) -> None:
    """Start the scheduler, the dag-processor, the api-server (127.0.0.1:`port`) and one Celery worker per name into
    `procs` (so whoever started them can stop them, even if a later start fails). Each worker has its own scratch
    folder (its cwd and TMPDIR), so no task can read another worker's local disk; with `own_queues` each also
    listens on a queue of its own name (the cluster policy routes tasks there), else all share the default queue."""
    commands = {
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
        "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
    }
    cwd = {name: root for name in commands}
    for w in workers:
        scratch = root / "scratch" / w
        (scratch / "tmp").mkdir(parents=True)
        commands[w] = ["celery", "worker", *(["--queues", w] if own_queues else []), "--concurrency",
                       str(concurrency), "--skip-serve-logs", "--celery-hostname", f"{w}@%h", "--without-gossip",
                       "--without-mingle"]
        cwd[w] = scratch
    for name, args in commands.items():
        penv = {**env, "SI_TEST_WORKER": name, "TMPDIR": str(cwd[name] / "tmp")} if name in workers else env
        with open(root / f"{name}.log", "wb") as log:
            procs[name] = subprocess.Popen([str(AIRFLOW), *args], env=penv, cwd=cwd[name], stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture(scope="module")
def celery_run():
    from small_demo import small_demo  # the hand-offs are under test, not the county's size
    from test_scheduler_rest import Airflow, _break_attendance, _stop

    root = Path(tempfile.mkdtemp(prefix="si-celery-"))
    demos = {code: small_demo(root / "landing", la_code=code, terms=[TERM]) for code in LAS}
    _break_attendance(root / "landing" / BROKEN / TERM, BROKEN)
    (root / "las.yaml").write_text(yaml.safe_dump({"las": [
        {"la_code": c, "la_name": f"LA {c} (demo)", "region": REGION, "landing": "${SI_LANDING}",
         "shared_drive": "${SI_SHARED_DRIVE}"} for c in LAS]}))
    procs: dict[str, subprocess.Popen] = {}
    with postgres_server() as pg_url, redis_server() as redis_url:
        port = free_port()
        env = _env(root, pg_url, redis_url, port)
        try:
            done = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, cwd=root, capture_output=True, text=True,
                                  timeout=900)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            start_deployment(procs, root, env, port, WORKERS, concurrency=2, own_queues=True)
            af = Airflow(root, port, procs)
            wait_for_port(port, timeout=300)
            af.wait("the api-server", lambda: _answers(af), timeout=300, every=1)
            af.login()
            af.create_report_pool()
            af.wait(f"{DAG_ID} to be registered",
                    lambda: af.call("GET", f"/dags/{DAG_ID}", expect=(200, 404)).get("dag_id"), timeout=600)
            af.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            run = af.call("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"term": TERM}})
            run_id = run["dag_run_id"]

            def finished():
                state = af.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
                return state if state in ("success", "failed") else None
            state = af.wait(f"run {run_id} to finish", finished, timeout=3600, every=5)
            tis = af.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 200})
            events = af.call("GET", "/assets/events", params={"source_dag_id": DAG_ID, "source_run_id": run_id,
                                                               "limit": 100})
            failed = af.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/la_{BROKEN}.validate/logs/1",
                             params={"full_content": "true"}, headers={"Accept": "application/json"})
            yield {"root": root, "state": state, "tis": tis["task_instances"], "logs": _logs(root),
                   "events": events["asset_events"], "validate_log": json.dumps(failed["content"]),
                   "maintained": {code: demos[code]["maintained"] for code in LAS}}
        finally:
            _stop(procs)
    import shutil

    if os.environ.get("SI_KEEP_TEST_ROOT") != "1":  # keep the folders (logs) for a look after a failure
        shutil.rmtree(root, ignore_errors=True)


def _answers(af) -> bool:
    import requests

    try:
        return requests.get(f"{af.base}/api/v2/monitor/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _logs(root: Path) -> str:
    out = []
    for name in ("scheduler", *WORKERS):
        f = root / f"{name}.log"
        out.append(f"----- {name} -----\n" + "\n".join(f.read_text(errors="replace").splitlines()[-60:]))
    return "\n".join(out)


def test_the_region_runs_on_two_celery_workers_and_one_broken_feed_stops_only_its_la(celery_run):
    states = {t["task_id"]: t["state"] for t in celery_run["tis"]}
    assert celery_run["state"] == "failed", (states, celery_run["logs"][-6000:])  # the region's run reports it
    assert {t["hostname"] for t in celery_run["tis"] if t["state"] != "upstream_failed"} == set(WORKERS)
    for code in GOOD:
        assert {tid: states[f"la_{code}.{tid}"] for tid in (*CHAIN, *PARTS)} == dict.fromkeys((*CHAIN, *PARTS),
                                                                                          "success"), code
        assert (celery_run["root"] / "shared-drive" / code / "2025-26" / "autumn" / "current.json").is_file(), code
    assert states[f"la_{BROKEN}.extract"] == "success" and states[f"la_{BROKEN}.validate"] == "failed", states
    for tid in (*CHAIN[2:], *PARTS):
        assert states[f"la_{BROKEN}.{tid}"] == "upstream_failed", (tid, states)
    assert not (celery_run["root"] / "shared-drive" / BROKEN).exists()  # nothing published for it
    log = celery_run["validate_log"]  # the operator reads which file, row and column
    assert f"{BROKEN}_abs_" in log and "PERCTOT" in log and "nothing will be published" in log, log[-3000:]


def test_every_hand_off_crosses_workers_and_only_the_artefact_store_is_shared(celery_run):
    by = {t["task_id"]: t for t in celery_run["tis"]}
    assert sorted(tid for tid in by if tid.endswith(".extract")) == sorted(f"la_{c}.extract" for c in LAS)
    for code in GOOD:
        hosts = [by[f"la_{code}.{tid}"]["hostname"] for tid in CHAIN]
        assert all(a != b for a, b in zip(hosts, hosts[1:])), (code, hosts)  # each stage read what the other wrote
        assert by[f"la_{code}.build_reports_restricted"]["hostname"] == by[f"la_{code}.build_reports_general"]["hostname"]
    # The broken LA's validate read, on the other worker, what its extract archived: its error names the file.
    assert by[f"la_{BROKEN}.extract"]["hostname"] != by[f"la_{BROKEN}.validate"]["hostname"]
    # Nothing of the run was left in either worker's own scratch folder: every artefact is in the shared store.
    for w in WORKERS:
        scratch = celery_run["root"] / "scratch" / w
        kept = [p for p in scratch.rglob("*") if p.is_file() and p.suffix in (".pkl", ".csv", ".pdf", ".json",
                                                                            ".parquet")]
        assert kept == [], (w, kept[:10])
    work = celery_run["root"] / "si-work"
    assert sorted(p.name for p in work.iterdir() if p.is_dir()) == sorted([*LAS, "archive"])
    assert (work / BROKEN / TERM).is_dir() and not list((work / BROKEN / TERM).rglob("staged"))


def test_each_good_las_asset_event_carries_its_editions_metadata(celery_run):
    events = {e["uri"]: e["extra"] for e in celery_run["events"]}
    assert sorted(e["uri"] for e in celery_run["events"]) == sorted(  # one each, none for the broken LA
        f"school-improvement://{code}/reports" for code in GOOD)
    for code in GOOD:
        meta = events[f"school-improvement://{code}/reports"]
        assert meta["la_code"] == code and meta["term"] == TERM and meta["edition"] == "edition-001"
        assert meta["status"] == "published" and meta["edition_path"].endswith(f"{code}/2025-26/autumn/edition-001")
        assert sum(meta["schools_per_level"].values()) == celery_run["maintained"][code]  # every maintained school
        assert meta["rule_set"] == "cambs-2021-23"
        assert meta["letters"] and not any(w in json.dumps(meta) for w in ("history", "sqlite", "postgresql"))
