"""pytest plugin: the CPU each test takes, and the tests of `make test-fast` over the budget, printed (never failed).

The Makefile's rule for the edit-test loop is a budget in CPU seconds per test (its fixtures shared by its module
counted once, on the test that first sets them up), not in wall time: wall time under `-n` counts whatever else the
machine runs. Durations cannot say which tests break it; this measures it. A test's CPU is the worker's own
(user + system) plus that of the child processes it waited for (a subprocess, an Airflow it stopped), from the start
of its setup to the end of its teardown.

    pytest -p cpu_budget --cpu-budget 0.5 -m "not slow" tests     # as `make test-fast` runs it

Under pytest-xdist each worker measures its own tests and sends the figure with the test's report (as a user
property, which xdist carries), so the summary is printed once, by the controller. A figure, not a pass or fail:
performance lives in what is printed, never in a timed test.
"""

from __future__ import annotations

import resource

import pytest

PROPERTY = "cpu_seconds"
_START = pytest.StashKey[float]()  # the CPU at the start of a test's setup


def _cpu() -> float:
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def pytest_addoption(parser):
    parser.addoption("--cpu-budget", type=float, default=None, metavar="SECONDS",
                     help="print the tests that took more CPU than this (setup, call and teardown), most first")
    parser.addoption("--cpu-budget-lines", type=int, default=25, metavar="N",
                     help="how many of the tests over the CPU budget to name (default 25)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_START] = _cpu()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # The teardown report is the last of a test's three: its CPU goes with it, set before the report is built from
    # the item's user properties.
    if call.when == "teardown" and _START in item.stash:
        item.user_properties.append((PROPERTY, round(_cpu() - item.stash[_START], 3)))
    yield


class _Summary:
    def __init__(self, budget: float, lines: int):
        self.budget, self.lines, self.taken = budget, lines, {}

    def pytest_runtest_logreport(self, report):
        if report.when == "teardown":
            for name, value in report.user_properties:
                if name == PROPERTY:
                    self.taken[report.nodeid] = value

    def pytest_terminal_summary(self, terminalreporter):
        if not self.taken:
            return
        over = sorted(((s, t) for t, s in self.taken.items() if s > self.budget), reverse=True)
        total = sum(self.taken.values())
        write = terminalreporter.write_line
        terminalreporter.section(f"CPU per test, budget {self.budget:g} s")
        write(f"{len(self.taken)} tests took {total:.1f} s of CPU in their setup, call and teardown (workers' "
              f"start and collection not included); {len(over)} over the budget, "
              f"{sum(s for s, _ in over):.1f} s of it:")
        for seconds, nodeid in over[:self.lines]:
            write(f"{seconds:7.2f} s  {nodeid}")
        if len(over) > self.lines:
            write(f"   ... and {len(over) - self.lines} more (--cpu-budget-lines)")


def pytest_configure(config):
    budget = config.getoption("--cpu-budget")
    if budget is not None and not hasattr(config, "workerinput"):  # the controller (or a run without xdist) prints
        config.pluginmanager.register(_Summary(budget, config.getoption("--cpu-budget-lines")),
                                    "cpu_budget_summary")
