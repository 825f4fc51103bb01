"""The operator's runbook, in a real browser: Playwright driving Debian's Chromium against the Airflow UI of a real
Airflow (scheduler, dag-processor, api-server on PostgreSQL) started by the test on 127.0.0.1.

An operator logs in, opens the termly DAG, reads its docs and triggers a term through the trigger form. A broken
attendance feed fails `validate`; the task's log in the UI names file, row and column. The operator fixes the file,
clears `extract` with its downstream tasks in the UI, and the run succeeds. Each step is saved as a screenshot: in a
scratch folder by default (tests/ui_screenshots.py), in docs/screenshots/ (the README's runbook) by `make screenshots`.

Playwright cannot download its own browser here: it is pointed at /usr/bin/chromium (`make test` installs the
Debian package). Slow (several minutes): the run renders the demo LA's full report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from servers import postgres_server
from small_demo import demo_file
from ui_screenshots import screenshot_dir

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = REPO / ".venv" / "bin" / "airflow"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = screenshot_dir()  # docs/screenshots only when asked (make screenshots)
DAG_PREFIX = "termly_school_improvement"  # one DAG per LA: the id may carry the LA code
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 600_000  # a run renders the whole demo report: minutes on a shared machine

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (make venv)")
pytestmark = [
    pytest.mark.slow,  # real Airflow services
    pytest.mark.skipif(not AIRFLOW.exists(), reason=f"{AIRFLOW} not installed (make venv)"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make system-deps)"),
]


@pytest.fixture(scope="module")
def airflow():
    import test_scheduler_rest as rest  # the same real deployment the REST test starts

    root = Path(tempfile.mkdtemp(prefix="si-airflow-ui-"))
    procs: dict = {}
    try:
        with postgres_server() as pg_url:
            try:
                yield rest._start_airflow(root, pg_url, procs)
            finally:
                rest._stop(procs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Operator:
    """One browser page, and the runbook's steps as an operator performs them."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        page.set_default_timeout(60_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def log_in(self, user: str, password: str) -> None:
        page = self.page
        page.goto(self.base + "/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(password)
        self.shot("01-login")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/auth/login" not in u)

    def open_dag(self) -> str:
        """Dags list -> the LA's termly DAG (found by its prefix, not a hard-coded id). Returns the DAG id."""
        page = self.page
        page.get_by_role("link", name="Dags").first.click()
        link = page.get_by_role("link", name=re.compile(f"^{DAG_PREFIX}"))
        link.first.wait_for()
        assert link.count() == 1, [link.nth(i).inner_text() for i in range(link.count())]
        dag_id = link.first.inner_text().strip()
        self.shot("02-dags-list")
        link.first.click()
        page.wait_for_url(re.compile(f"/dags/{re.escape(dag_id)}$"))
        page.get_by_role("heading", name=dag_id).first.wait_for()
        return dag_id

    def read_docs(self) -> str:
        page = self.page
        page.get_by_role("button", name="Dag Docs").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("heading", name="Dag Documentation").wait_for()
        text = dialog.inner_text()
        self.shot("03-dag-docs")
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")
        return text

    def trigger(self, params: dict[str, str]) -> str:
        """Trigger DAG -> fill the Params in the form -> Trigger. Returns the new run's id (from the run's URL)."""
        page = self.page
        page.get_by_role("button", name="Trigger Dag").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Run Parameters").wait_for()
        for name, value in params.items():
            box = self._param_box(dialog, name)
            box.fill(value)
        self.shot("04-trigger-form")
        dialog.get_by_role("button", name="Trigger", exact=True).click()
        dialog.wait_for(state="hidden")
        page.wait_for_url(re.compile(r"/runs/[^/]+$"))
        return page.url.rsplit("/runs/", 1)[1]

    def _param_box(self, dialog, name: str):
        # Each Param is a field group: its name as the label, its description, its input. (The label's `for`
        # does not point at the input in Airflow 3.3's form, so find the group by its label.)
        label = self.page.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*\*?\s*$"))
        box = dialog.get_by_role("group").filter(has=label).locator("input")
        assert box.count() == 1, f"Param {name!r}: {box.count()} inputs in the trigger form"
        return box

    def open_task(self, dag_id: str, run_id: str, task_id: str) -> None:
        """The run's page -> the task instance (its Logs tab opens first)."""
        page = self.page
        page.goto(f"{self.base}/dags/{dag_id}/runs/{run_id}")
        # The run's task table links each task instance (the grid's own task links are not per run).
        link = page.locator(f'a[href*="/runs/"][href$="/tasks/{task_id}"]').filter(has_text=re.compile(f"^{task_id}$"))
        link.first.click()
        page.wait_for_url(re.compile(f"/runs/.+/tasks/{task_id}$"))
        page.get_by_role("heading", name=task_id).first.wait_for()

    def wait_for_log_text(self, needle: str, timeout_ms: int = 120_000) -> str:
        """The task log as the UI shows it, once it contains `needle` (logs stream in)."""
        page = self.page
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            text = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")
            if needle in text or time.monotonic() > deadline:
                return text
            page.wait_for_timeout(2000)

    def clear_with_downstream(self) -> str:
        """On a task instance page: Clear -> Downstream -> Confirm. Returns the dialog's text before confirming."""
        page = self.page
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name=re.compile(r"shift\+c to clear|^Clear Task Instance$")).first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="Confirm").wait_for()
        affected = dialog.get_by_text(re.compile(r"^Affected Tasks: \d+$"))
        if affected.inner_text().strip() == "Affected Tasks: 1":  # Downstream not preselected: select it
            dialog.get_by_role("button", name="Downstream", exact=True).click()
        # extract, validate, assess_evidence, categorise, flag_letters, build_reports x3 (general, restricted,
        # drafts), assemble, publish
        dialog.get_by_text("Affected Tasks: 10").wait_for()
        text = dialog.inner_text()
        self.shot("07-clear-extract-with-downstream")
        dialog.get_by_role("button", name="Confirm").click()
        dialog.wait_for(state="hidden")
        return text


def _wait(what: str, ready, airflow, timeout: float = WAIT_MS / 1000, every: float = 3.0):
    return airflow.wait(what, ready, timeout=timeout, every=every)


def test_operator_runbook_in_the_browser(airflow, browser):
    """Log in, open the DAG, read its docs, trigger a term with a broken feed, read the failure in the log,
    fix the file, clear extract with downstream, and see the run succeed."""
    import test_scheduler_rest as rest

    landing, drive = airflow.root / "landing", airflow.root / "shared-drive"  # the LA's folders (las.yaml via _env)
    drive.mkdir()
    (drive / ".school-improvement-share").write_text("")  # the LA marks the real share once
    term_folder = rest._demo_landing(landing)
    row, _ = rest._break_attendance(term_folder)

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    op = Operator(page, airflow.base)
    op.log_in("admin", rest.ADMIN_PASSWORD)
    dag_id = op.open_dag()
    assert dag_id.startswith(DAG_PREFIX)

    docs = op.read_docs()
    assert "extract" in docs and "validate" in docs, docs[:2000]

    params = {"term": rest.TERM}  # the LA and its folders are bound to the DAG: only term (and as_of) are Params
    run_id = op.trigger(params)
    run = airflow.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
    for name, value in params.items():  # what the form sent is what the run got
        assert run["conf"].get(name) == value, run["conf"]
    assert "la_code" not in run["conf"] or run["conf"]["la_code"] == "999", run["conf"]

    def states():
        tis = airflow.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in tis}

    _wait(f"run {run_id} to fail", lambda: airflow.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"] == "failed",
          airflow)
    assert states()["validate"] == "failed", states()

    op.open_task(dag_id, run_id, "validate")
    expected = f"{demo_file(term_folder, '999_abs').name}, row {row}, column 'PERCTOT'"
    log = op.wait_for_log_text(expected)
    assert expected in log, log[-3000:]
    assert "'abc' is not a number" in log
    assert "nothing will be published" in log
    page.get_by_text(expected).first.scroll_into_view_if_needed()
    op.shot("05-validate-failed-log")
    assert [p.name for p in drive.rglob("*")] == [".school-improvement-share"], sorted(drive.rglob("*"))

    rest._demo_landing(landing)  # the operator puts the corrected file in the landing folder
    assert "abc" not in demo_file(term_folder, "999_abs").read_text(encoding="utf-8-sig")

    op.open_task(dag_id, run_id, "extract")
    op.shot("06-extract-task")
    cleared = op.clear_with_downstream()
    for task in ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports",
                 "assemble_reports", "publish"):
        assert task in cleared, cleared

    done = {"success", "failed", "upstream_failed", "skipped"}  # cleared tasks have no state until they run again
    # The dialog closes before the API shows the clear: until it does, the run still reads as failed with every task
    # finished, which the wait below would take for the end of the re-run.
    _wait(f"run {run_id} to show the clear",
          lambda: airflow.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"] != "failed"
          or not set(states().values()) <= done, airflow)
    _wait(f"run {run_id} to finish after the clear",
          lambda: airflow.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"] in ("success", "failed")
          and set(states().values()) <= done, airflow)
    final = airflow.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
    if {ti["state"] for ti in final} != {"success"}:  # say why, from the failed tasks' own logs
        failed = [ti for ti in final if ti["state"] == "failed"]
        detail = "\n".join(f"----- {ti['task_id']} (try {ti['try_number']}) -----\n"
                           f"{airflow.task_log(run_id, ti['task_id'], ti['try_number'])[-4000:]}" for ti in failed)
        pytest.fail(f"after the clear: { {ti['task_id']: ti['state'] for ti in final} }\n{detail}\n{airflow.logs()}")
    page.goto(f"{airflow.base}/dags/{dag_id}/runs/{run_id}")
    page.get_by_role("link", name="publish", exact=True).last.wait_for()
    page.get_by_text(re.compile("^Success$")).first.wait_for()
    op.shot("08-run-succeeded")
    term_dir = drive / "999" / "2025-26" / "autumn"
    current = json.loads((term_dir / "current.json").read_text())
    assert (term_dir / current["edition"] / "general" / "report.pdf").is_file()
