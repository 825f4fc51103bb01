"""Where the browser test saves its screenshots: a scratch folder by default, so `make test` leaves the git tree
clean; docs/screenshots (the README's runbook) only when asked, by `make screenshots` or SI_SCREENSHOTS_DIR."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNBOOK_SCREENSHOTS = REPO / "docs" / "screenshots"
ENV = "SI_SCREENSHOTS_DIR"


def screenshot_dir(environ=None) -> Path:
    """SI_SCREENSHOTS_DIR when set (`make screenshots` sets it to docs/screenshots; CI may point it at its artefact
    folder), else a folder of its own under the system's temporary folder."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENV, "").strip()
    if chosen:
        return Path(chosen).resolve()
    return Path(tempfile.gettempdir()) / "si-test-screenshots"
