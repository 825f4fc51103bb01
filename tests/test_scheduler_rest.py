"""A real Airflow, exercised as its operators do: scheduler, dag-processor and api-server (LocalExecutor) on a real
PostgreSQL metadata database, all on 127.0.0.1 with docker-compose.yaml's service settings, driven through the REST
API (/api/v2 with a JWT from /auth/token) and, for the operator's runbook, through the UI in Chromium.

- The runbook in the browser (tests/ui_operator.py): an operator logs in, reads the DAG's docs and triggers a term
  through the trigger form. A broken attendance feed fails `validate`; the task's log in the UI names file, row and
  column; nothing is published and nothing downstream runs. The operator fixes the file and clears `extract` with
  its downstream tasks in the UI; the run succeeds and the term's edition and current.json appear on the shared
  drive (checked through the REST API and on disk).
- max_active_runs=1: a second trigger for the same term stays queued while the first runs, and starts only once the
  first has ended. Both runs stop at `validate` on a broken feed: the queueing is under test, not a third and
  fourth render of the term, which the runbook's re-run already publishes.

One deployment serves every test here: starting Airflow on PostgreSQL is a large part of each test's cost.
Slow (several minutes): the build_reports tasks render the demo LA's whole report on every run.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from celery_region import compose_settings  # noqa: E402  (docker-compose.yaml's service settings)

from servers import free_port, postgres_server, wait_for_port
from small_demo import demo_file
from ui_operator import CHROMIUM, DAG_PREFIX, Operator, chromium

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = REPO / ".venv" / "bin" / "airflow"
DAG_ID = "termly_school_improvement_999"  # the demo LA's DAG (include/config/las.yaml)
TERM = "2025-26-autumn"
TERM_DIR = ("999", "2025-26", "autumn")  # <shared_drive>/<la>/<academic year>/<season>/
WAIT = 600  # seconds, per wait
ADMIN_PASSWORD = "si-admin-password"
TERMINAL = {"success", "failed"}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not AIRFLOW.exists(), reason=f"{AIRFLOW} not installed (make venv)")]


# ------------------------------------------------------------------ the Airflow deployment
class Airflow:
    """The running deployment: REST calls as the UI makes them, plus the folders the test owns."""

    def __init__(self, root: Path, port: int, procs: dict[str, subprocess.Popen]):
        self.root, self.port, self.procs = root, port, procs
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()

    # --- REST
    def login(self) -> None:
        r = self.http.post(f"{self.base}/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30)
        assert r.status_code == 201, r.text
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def call(self, method: str, path: str, expect: int | tuple = 200, **kw):
        r = self.http.request(method, f"{self.base}/api/v2{path}", timeout=60, **kw)
        ok = expect if isinstance(expect, tuple) else (expect,)
        assert r.status_code in ok, f"{method} {path} -> {r.status_code}: {r.text[:2000]}"
        return r.json() if r.content else None

    def trigger(self, conf: dict) -> str:
        run = self.call("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
        assert run["state"] in ("queued", "running"), run
        return run["dag_run_id"]

    def run_state(self, run_id: str) -> str:
        return self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]

    def task_states(self, run_id: str) -> dict[str, str | None]:
        tis = self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in tis}

    def task_log(self, run_id: str, task_id: str, try_number: int) -> str:
        body = self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                         params={"full_content": "true"}, headers={"Accept": "application/json"})
        return json.dumps(body["content"])

    def create_report_pool(self, slots: int = 4) -> None:
        """The report renders' pool, as airflow-init creates it (a task in a missing pool is never scheduled): through
        the REST API, once it is up, rather than `airflow pools set`, a CLI that starts Airflow again (5 s of CPU)."""
        self.call("POST", "/pools", json={"name": "si_reports", "slots": slots, "description": "report renders (GiB)"},
                  expect=201)

    # --- waiting
    def wait(self, what: str, ready, timeout: float = WAIT, every: float = 2.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    pytest.fail(f"airflow {name} exited with {p.returncode} while waiting for {what}\n{self.logs()}")
            value = ready()
            if value:
                return value
            time.sleep(every)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{self.logs()}")

    def wait_run(self, run_id: str, states: set[str] = TERMINAL) -> str:
        def done():
            s = self.run_state(run_id)
            return s if s in states else None
        return self.wait(f"run {run_id} to reach {sorted(states)} (tasks: {self.task_states(run_id)})", done)

    def logs(self, lines: int = 80) -> str:
        out = []
        for name in ("scheduler", "dag-processor", "api-server"):
            f = self.root / f"{name}.log"
            tail = f.read_text(errors="replace").splitlines()[-lines:] if f.exists() else ["(no log)"]
            out.append(f"----- airflow {name} (last {lines} lines of {f}) -----\n" + "\n".join(tail))
        return "\n".join(out)


def _env(root: Path, pg_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}  # nothing from conftest's SQLite home
    passwords = root / "passwords.json"
    passwords.write_text(json.dumps({"admin": ADMIN_PASSWORD}))
    env.update({
        "AIRFLOW_HOME": str(root / "airflow-home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_url,
        # LocalExecutor, its workers forked from a scheduler that has imported the stages
        # (plugins/preloaded_local_executor.py)
        "AIRFLOW__CORE__EXECUTOR": "preloaded_local_executor.LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": "si-test-api-secret-key",
        "AIRFLOW__API_AUTH__JWT_SECRET": "si-test-jwt-secret-shared-by-all-components",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # As deployed: the dag-processor re-parses a DAG file when it changes, else every 10 minutes (Airflow's 30 s
        # re-parsed the DAG files all through each test, on the same two cores as the runs); the workers' heartbeat.
        **compose_settings(),
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(
            [str(REPO / "include"), str(REPO / "plugins"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])),
        "GX_ANALYTICS_ENABLED": "False",
        "SI_WORK_DIR": str(root / "si-work"),
        "SI_HISTORY_URL": f"sqlite:///{root / 'si-work' / 'history.sqlite'}",
        # The LA's folders (include/config/las.yaml reads these): never the repo's own folders. A run cannot
        # change them: only `term` and `as_of` are Params.
        "SI_LANDING": str(root / "landing"),
        "SI_SHARED_DRIVE": str(root / "shared-drive"),
    })
    (root / "airflow-home").mkdir()
    (root / "si-work").mkdir()
    return env


def _signal(procs: dict, victims: list, sig: int) -> None:
    """Signal each service's process group, and every process of its tree (tasks get groups of their own)."""
    for p in procs.values():
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
    for v in victims:
        try:
            v.send_signal(sig)
        except psutil.NoSuchProcess:
            pass


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    """SIGTERM each process group and every descendant (task processes get their own group), then SIGKILL."""
    victims: list[psutil.Process] = []
    for p in procs.values():
        try:
            root = psutil.Process(p.pid)
            victims += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    _signal(procs, victims, signal.SIGTERM)
    _, alive = psutil.wait_procs(victims, timeout=20)
    _signal(procs, alive, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=10)
    for p in procs.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture(scope="module")
def airflow():
    # Airflow 3 opens an async engine on the metadata DB too: postgresql+psycopg2 -> postgresql+asyncpg.
    if importlib.util.find_spec("asyncpg") is None:
        pytest.fail("asyncpg is not installed: Airflow 3 needs it (besides psycopg2) for a PostgreSQL metadata "
                    "database; add it to requirements.txt (as apache-airflow[postgres] would)")
    root = Path(tempfile.mkdtemp(prefix="si-airflow-rest-"))
    procs: dict[str, subprocess.Popen] = {}
    try:
        with postgres_server() as pg_url:
            try:  # Airflow stops before its database does
                yield _start_airflow(root, pg_url, procs)
            finally:
                _stop(procs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start_airflow(root: Path, pg_url: str, procs: dict[str, subprocess.Popen]) -> Airflow:
    port = free_port()
    env = _env(root, pg_url, port)
    started = time.monotonic()
    mig = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, cwd=root, capture_output=True, text=True,
                         timeout=WAIT)
    assert mig.returncode == 0, f"airflow db migrate failed:\n{mig.stdout[-5000:]}\n{mig.stderr[-5000:]}"
    commands = {
        # --skip-serve-logs: the log server binds 0.0.0.0; the api-server reads the local log files anyway
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
        "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
    }
    for name, args in commands.items():
        with open(root / f"{name}.log", "wb") as log:
            procs[name] = subprocess.Popen([str(AIRFLOW), *args], env=env, cwd=root, stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
    af = Airflow(root, port, procs)
    try:
        wait_for_port(port, timeout=180)
    except TimeoutError as exc:
        pytest.fail(f"{exc}\n{af.logs()}")
    af.wait("the api-server to answer", lambda: _answers(af), timeout=180, every=1)
    af.login()
    af.create_report_pool()
    af.wait(f"the dag-processor to register {DAG_ID}",
            lambda: af.call("GET", f"/dags/{DAG_ID}", expect=(200, 404)).get("dag_id") or _no_import_errors(af),
            timeout=300, every=2)
    print(f"\n[airflow up on 127.0.0.1:{port} in {time.monotonic() - started:.0f}s; files in {root}]")
    return af


def _answers(af: Airflow) -> bool:
    try:
        return requests.get(f"{af.base}/api/v2/monitor/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _no_import_errors(af: Airflow) -> None:
    errors = af.call("GET", "/importErrors")["import_errors"]
    if errors:
        pytest.fail("the DAG did not import:\n" + "\n".join(f"{e['filename']}: {e['stack_trace']}" for e in errors))


def _demo_landing(folder: Path) -> Path:
    """Demo feeds for TERM in folder/999/<term>/ (deterministic: regenerating restores the exact files).
    The small demo (tests/small_demo.py): the scheduler and the UI are under test here, not the county's size."""
    from small_demo import small_demo

    small_demo(folder, la_code="999", terms=[TERM])
    return folder / "999" / TERM


def _break_attendance(term_folder: Path, la_code: str = "999") -> tuple[int, str]:
    """Put text in a PERCTOT cell of the attendance feed; returns (spreadsheet row, URN) of the broken cell."""
    path = demo_file(term_folder, f"{la_code}_abs")
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    header = lines[0].split(",")
    assert header == ["LA", "ESTAB", "URN", "PERCTOT", "PPERSABS10"], header
    cells = lines[3].split(",")
    cells[header.index("PERCTOT")] = "abc"
    lines[3] = ",".join(cells)
    path.write_bytes(("\ufeff" + "\r\n".join(lines)).encode("utf-8"))
    return 4, cells[header.index("URN")]  # header is row 1: lines[3] is row 4


# ------------------------------------------------------------------ the tests
def test_make_airflow_runs_the_preloaded_executor_and_airflow_takes_it_for_a_local_one(tmp_path):
    """`make airflow` starts `airflow standalone` with the preloaded LocalExecutor: standalone keeps it (it is
    local), and SimpleAuthManager does not warn that a laptop's SQLite deployment "looks like production", which it
    does for any executor class not named as a local one."""
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from airflow.executors.local_executor import LocalExecutor

    make = (REPO / "Makefile").read_text()
    found = re.search(r"AIRFLOW__CORE__EXECUTOR=(\S+) \$\(BIN\)/airflow standalone", make)
    assert found, "make airflow names no executor"
    executor = found.group(1)
    module, name = executor.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, LocalExecutor) and cls.is_local
    assert executor == _env(tmp_path, "sqlite://", 1)["AIRFLOW__CORE__EXECUTOR"]  # and the real-scheduler test's
    assert not SimpleAuthManager._looks_like_production(sql_conn="sqlite:////tmp/airflow.db", api_host="127.0.0.1",
                                                        executor=executor)


def test_listens_only_on_localhost(airflow):
    listening = []
    for p in airflow.procs.values():
        root = psutil.Process(p.pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                listening += [(proc.pid, proc.name(), c.laddr) for c in proc.net_connections(kind="inet")
                              if c.status == psutil.CONN_LISTEN]
            except psutil.NoSuchProcess:
                pass
    assert listening, "the api-server should be listening"
    assert all(addr.ip == "127.0.0.1" for _, _, addr in listening), listening
    assert any(addr.port == airflow.port for _, _, addr in listening), listening


def test_the_tasks_are_forked_from_a_scheduler_that_imported_the_stages(airflow):
    """The LocalExecutor's workers are forked after the scheduler imported the stages' modules, so no task imports
    pandas, Great Expectations or WeasyPrint for itself (plugins/preloaded_local_executor.py)."""
    def preloaded():
        lines = [line for line in (airflow.root / "scheduler.log").read_text(errors="replace").splitlines()
                 if "LocalExecutor preload: imported" in line]
        return lines[0] if lines else None
    line = airflow.wait("the scheduler's preload line", preloaded, timeout=120)
    for module in ("great_expectations", "pandas", "weasyprint", "school_improvement.editions.report"):
        assert module in line, line
    assert "warmed rule sets" in line, line


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (make venv)")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with chromium() as b:
        yield b


def test_operator_runbook_in_the_browser(airflow, browser):
    """Log in, open the DAG, read its docs, trigger a term with a broken feed, read the failure in the log, fix the
    file, clear extract with downstream, and see the run succeed: in the UI, as the README's runbook says, with
    what the REST API and the shared drive show at each step."""
    landing, drive = airflow.root / "landing", airflow.root / "shared-drive"  # the LA's folders (las.yaml via _env)
    drive.mkdir()
    (drive / ".school-improvement-share").write_text("")  # the LA marks the real share once
    term_folder = _demo_landing(landing)
    row, _ = _break_attendance(term_folder)

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    op = Operator(page, airflow.base)
    op.log_in("admin", ADMIN_PASSWORD)
    dag_id = op.open_dag()
    assert dag_id.startswith(DAG_PREFIX) and dag_id == DAG_ID

    docs = op.read_docs()
    assert "extract" in docs and "validate" in docs, docs[:2000]

    params = {"term": TERM}  # the LA and its folders are bound to the DAG: only term (and as_of) are Params
    t0 = time.monotonic()
    run_id = op.trigger(params)
    run = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
    for name, value in params.items():  # what the form sent is what the run got
        assert run["conf"].get(name) == value, run["conf"]
    assert "la_code" not in run["conf"] or run["conf"]["la_code"] == "999", run["conf"]

    # validate fails (a data error: no retries); the run fails; downstream never runs
    op.step_away()
    assert airflow.wait_run(run_id) == "failed"
    states = airflow.task_states(run_id)
    assert states["extract"] == "success" and states["validate"] == "failed", states
    assert all(states[t] == "upstream_failed" for t in ("assess_evidence", "categorise", "flag_letters",
                                                        "build_reports", "assemble_reports", "publish")), states
    print(f"[broken feed: validate failed {time.monotonic() - t0:.0f}s after the trigger]")

    # the operator reads the log in the UI (and the API serves the same): it names the file, the row and the column
    expected = f"{demo_file(term_folder, '999_abs').name}, row {row}, column 'PERCTOT'"
    op.open_task(dag_id, run_id, "validate")
    log = op.wait_for_log_text(expected)
    assert expected in log, log[-3000:]
    assert "'abc' is not a number" in log
    assert "nothing will be published" in log
    page.get_by_text(expected).first.scroll_into_view_if_needed()
    op.shot("05-validate-failed-log")
    ti = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/validate")
    assert ti["try_number"] == 1, ti
    assert expected in airflow.task_log(run_id, "validate", ti["try_number"])

    # nothing on the shared drive for the term: no edition, no current.json
    assert [p.name for p in drive.rglob("*")] == [".school-improvement-share"], sorted(drive.rglob("*"))

    _demo_landing(landing)  # the operator puts the corrected file in the landing folder
    assert "abc" not in demo_file(term_folder, "999_abs").read_text(encoding="utf-8-sig")

    # Clear `extract` with downstream (extract archived and read the broken file)
    op.open_task(dag_id, run_id, "extract")
    op.shot("06-extract-task")
    cleared = op.clear_with_downstream()
    for task in ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports",
                 "assemble_reports", "publish"):
        assert task in cleared, cleared

    done = {"success", "failed", "upstream_failed", "skipped"}  # cleared tasks have no state until they run again
    # The dialog closes before the API shows the clear: until it does, the run still reads as failed with every task
    # finished, which the wait below would take for the end of the re-run.
    t1 = time.monotonic()
    op.step_away()
    airflow.wait(f"run {run_id} to show the clear",
                 lambda: airflow.run_state(run_id) != "failed" or not set(airflow.task_states(run_id).values()) <= done)
    airflow.wait(f"run {run_id} to finish after the clear",
                 lambda: airflow.run_state(run_id) in TERMINAL and set(airflow.task_states(run_id).values()) <= done)
    final = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
    if {t["state"] for t in final} != {"success"}:  # say why, from the failed tasks' own logs
        failed = [t for t in final if t["state"] == "failed"]
        detail = "\n".join(f"----- {t['task_id']} (try {t['try_number']}) -----\n"
                           f"{airflow.task_log(run_id, t['task_id'], t['try_number'])[-4000:]}" for t in failed)
        pytest.fail(f"after the clear: { {t['task_id']: t['state'] for t in final} }\n{detail}\n{airflow.logs()}")
    print(f"[fixed feed: run succeeded {time.monotonic() - t1:.0f}s after the clear]")
    ti = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/validate")
    assert ti["try_number"] == 2, ti
    page.goto(f"{airflow.base}/dags/{dag_id}/runs/{run_id}")
    page.get_by_role("link", name="publish", exact=True).last.wait_for()
    page.get_by_text(re.compile("^Success$")).first.wait_for()
    op.shot("08-run-succeeded")

    term_dir = drive.joinpath(*TERM_DIR)
    current = json.loads((term_dir / "current.json").read_text())
    edition = term_dir / current["edition"]
    manifest = json.loads((edition / "manifest.json").read_text())
    assert manifest, manifest
    assert (edition / "general" / "report.pdf").is_file() and (edition / "restricted" / "report.pdf").is_file()
    # the archive of the run's inputs now holds the fixed file
    archived = airflow.root / "si-work" / "archive" / "999" / TERM
    assert [p for p in archived.rglob("999_abs_*.csv")], sorted(archived.rglob("*"))
    assert all("abc" not in p.read_text(encoding="utf-8-sig") for p in archived.rglob("999_abs_*.csv"))


def test_second_trigger_waits_for_the_first(airflow):
    """Two triggers for the same term: the second stays queued while the first runs and starts only after it ended.
    The attendance feed is broken, so each run ends at validate, as the runbook's first run did (its data error has
    no retries): which tasks run matters less here than when each run does, and two whole runs would render the
    term twice more. The runbook's re-run is the run that succeeds and publishes."""
    landing, drive = airflow.root / "landing", airflow.root / "shared-drive"  # the LA's folders (see _env)
    term_folder = _demo_landing(landing)
    _break_attendance(term_folder)
    published = sorted(str(p.relative_to(drive)) for p in drive.rglob("*")) if drive.exists() else []
    airflow.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
    conf = {"term": TERM}
    t0 = time.monotonic()
    first, second = airflow.trigger(conf), airflow.trigger(conf)

    seen: list[tuple[str, str]] = []

    def both_done():
        pair = (airflow.run_state(first), airflow.run_state(second))
        if not seen or seen[-1] != pair:
            seen.append(pair)
        assert pair != ("running", "running"), f"max_active_runs=1 broken: {seen}"
        return pair if set(pair) <= TERMINAL else None

    try:
        final = airflow.wait(f"both runs {first} and {second} to finish", both_done, every=1)
    finally:
        _demo_landing(landing)  # the feed mended for whatever runs next
    print(f"[two triggers: both finished {time.monotonic() - t0:.0f}s after the triggers; states seen {seen}]")
    assert final == ("failed", "failed"), (final, airflow.task_states(first), airflow.task_states(second))
    for run_id in (first, second):
        states = airflow.task_states(run_id)
        assert states["extract"] == "success" and states["validate"] == "failed", (run_id, states)
        assert states["publish"] == "upstream_failed", (run_id, states)
    assert ("running", "queued") in seen, seen  # the second waited, queued, while the first ran
    a = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{first}")
    b = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{second}")
    assert datetime.fromisoformat(b["start_date"]) >= datetime.fromisoformat(a["end_date"]), (a, b)  # the second started only after the first ended
    assert sorted(str(p.relative_to(drive)) for p in drive.rglob("*")) == published  # neither published a thing
