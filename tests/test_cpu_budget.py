"""tests/cpu_budget.py, the plugin that prints the tests over `make test-fast`'s CPU budget: it names a test that
burns CPU and not one that waits, counts a module's fixture on the test that sets it up, and works under xdist,
where the workers measure and the controller prints."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

INNER = '''
import time

import pytest


def _burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


@pytest.fixture(scope="module")
def costly():
    _burn(0.12)


def test_burns():
    _burn(0.12)


def test_sleeps():
    time.sleep(0.12)  # wall time, not CPU: under any budget


def test_first_with_the_fixture(costly):
    pass


def test_second_with_the_fixture(costly):
    pass
'''


def _over(result) -> list[str]:
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "CPU per test, budget 0.06 s" in line)
    return [line.split("::")[-1] for line in lines[start + 2:] if " s  " in line]


def test_the_tests_over_the_budget_are_named_and_only_they(pytester):
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_inprocess("-p", "cpu_budget", "--cpu-budget", "0.06")
    result.assert_outcomes(passed=4)
    assert sorted(_over(result)) == ["test_burns", "test_first_with_the_fixture"]
    assert any("4 tests took" in line and "2 over the budget" in line for line in result.outlines)


def test_no_budget_prints_nothing(pytester):
    pytester.makepyfile(test_inner="def test_nothing():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "cpu_budget")
    result.assert_outcomes(passed=1)
    assert not any("CPU per test" in line for line in result.outlines)


@pytest.mark.slow  # starts an xdist worker process (imports pytest and the plugin again)
def test_under_xdist_the_workers_measure_and_the_controller_prints_once(pytester, monkeypatch):
    pytester.makepyfile(test_inner=INNER)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # where the plugin is, for the new interpreter
    result = pytester.runpytest_subprocess("-p", "cpu_budget", "--cpu-budget", "0.06", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=4)
    assert sorted(_over(result)) == ["test_burns", "test_first_with_the_fixture"]
    assert sum("CPU per test" in line for line in result.outlines) == 1
