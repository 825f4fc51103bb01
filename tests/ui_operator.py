"""The operator's runbook steps in a real browser: Playwright driving Debian's Chromium through the Airflow UI.

tests/test_scheduler_rest.py runs them against the real Airflow it starts on 127.0.0.1 (the same deployment its REST
tests drive): log in, open the termly DAG, read its docs, trigger a term through the trigger form, read a failed
task's log, clear a task with its downstream tasks. Each step is saved as a screenshot: in a scratch folder by
default (tests/ui_screenshots.py), in docs/screenshots/ (the README's runbook) by `make screenshots`.

Playwright cannot download its own browser here: it is pointed at /usr/bin/chromium (`make test` installs the
Debian package).
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path

from ui_screenshots import screenshot_dir

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = screenshot_dir()  # docs/screenshots only when asked (make screenshots)
DAG_PREFIX = "termly_school_improvement"  # one DAG per LA: the id may carry the LA code
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STILL = """addEventListener("DOMContentLoaded", () => {
  const style = document.createElement("style");
  style.textContent = "*, *::before, *::after { animation: none !important; transition: none !important; }";
  document.head.appendChild(style);
});"""


@contextmanager
def chromium():
    """Debian's Chromium, headless, through Playwright."""
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
        # No CSS animations or transitions: a running task's pulsing badge and the spinners redrew the page every
        # frame, in software (no GPU here). What the operator sees and does is the same, and screenshots are steady.
        page.emulate_media(reduced_motion="reduce")
        page.add_init_script(STILL)
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

    def step_away(self) -> None:
        """The operator leaves the UI while a run goes on (the test waits through the REST API). An open Airflow page
        polls the API and re-renders: Chromium used about a core while one was open (10 s of CPU in the 10 s from
        the trigger form to the run's page, read per process), and about:blank almost none (1 s in the next 10)."""
        self.page.goto("about:blank")

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
