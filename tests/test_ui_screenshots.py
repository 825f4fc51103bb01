"""The browser test's screenshots go to a scratch folder unless the runbook's are asked for: `make test` must not
rewrite docs/screenshots (and so dirty the git tree) on every run."""

from __future__ import annotations

from pathlib import Path

from ui_screenshots import ENV, REPO, RUNBOOK_SCREENSHOTS, screenshot_dir


def test_by_default_screenshots_stay_out_of_the_repository():
    folder = screenshot_dir({})
    assert folder != RUNBOOK_SCREENSHOTS and REPO not in folder.parents


def test_make_screenshots_writes_the_runbooks_own(tmp_path):
    assert screenshot_dir({ENV: str(RUNBOOK_SCREENSHOTS)}) == RUNBOOK_SCREENSHOTS
    assert screenshot_dir({ENV: str(tmp_path)}) == tmp_path.resolve()


def test_the_browser_test_and_the_make_target_use_it():
    ui = (REPO / "tests" / "ui_operator.py").read_text()
    assert "screenshot_dir()" in ui and 'REPO / "docs" / "screenshots"' not in ui
    make = (REPO / "Makefile").read_text()
    assert f"{ENV}=$(REPO)/docs/screenshots" in make and "\nscreenshots:" in make
