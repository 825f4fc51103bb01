"""tests/import_groups.py, the xdist scheduling of `make test-fast`: the modules that need one heavy library run in
one process, every other module as `--dist loadfile` places it, and each test still runs once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import import_groups

pytest_plugins = ("pytester",)


def test_every_module_listed_is_a_test_module_here():
    here = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    listed = [m for modules in import_groups.SHARE_A_PROCESS.values() for m in modules]
    assert sorted(set(listed) - here) == []
    assert len(listed) == len(set(listed)), "a module in two groups"


def test_a_listed_module_is_its_librarys_unit_and_any_other_its_file():
    assert import_groups.scope_of("tests/test_quality.py::test_x[a]") == "imports great_expectations"
    assert import_groups.scope_of("tests/test_feed_set.py::test_y") == "imports great_expectations"
    assert import_groups.scope_of("tests/test_alerts.py::test_z") == "imports airflow"
    assert import_groups.scope_of("tests/test_report.py::test_pdf_content[general]") == "tests/test_report.py"


@pytest.mark.slow  # starts two xdist worker processes
def test_under_xdist_a_librarys_modules_share_one_process(pytester, monkeypatch):
    grouped = import_groups.SHARE_A_PROCESS["great_expectations"]
    others = [f"test_other_{n}.py" for n in range(len(grouped))]
    body = "import time\n\n\ndef test_one():\n    time.sleep(0.05)\n\n\ndef test_two():\n    time.sleep(0.05)\n"
    for name in (*grouped, *others):
        pytester.makepyfile(**{name[:-3]: body})
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # where the plugin is, for the new interpreter
    result = pytester.runpytest_subprocess("-p", "xdist", "-p", "import_groups", "-n", "2", "--dist", "loadfile",
                                           "-v")
    result.assert_outcomes(passed=2 * (len(grouped) + len(others)))
    worker = {}
    for line in result.outlines:
        m = re.search(r"\[(gw\d)\].*PASSED (test_\w+\.py)::", line)
        if m:
            worker.setdefault(m.group(2), set()).add(m.group(1))
    assert len(worker) == len(grouped) + len(others)
    assert len(set().union(*(worker[m] for m in grouped))) == 1, worker  # one process for the library's modules
    assert len(set().union(*worker.values())) == 2, worker  # and the others still shared out
