"""The growth benchmark's figures: the exponent with every fixed cost taken out, and each stage's own peak memory.

The benchmark itself (a demo term at 250, 1,000 and 4,000 schools, half an hour) is `make bench-growth`, never a
test: these check only the arithmetic and the measuring it prints."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_growth  # noqa: E402

SIZES = [250, 1000, 4000]


@pytest.mark.parametrize("fixed, per, k", [(2.0, 0.001, 1.2), (4.0, 0.02, 1.0), (0.0, 0.5, 0.8), (30.0, 1e-5, 1.5)])
def test_growth_exponent_is_the_work_s_whatever_the_fixed_cost(fixed, per, k):
    cpu = [fixed + per * n ** k for n in SIZES]
    a, b, got = bench_growth.fit_with_fixed_cost(SIZES, cpu)
    assert got == pytest.approx(k, abs=0.002)
    assert a == pytest.approx(fixed, abs=0.05 * max(fixed, 1))


def test_a_fixed_cost_hides_growth_from_the_log_slope():
    """Why the goal reads the growth exponent: a stage of seconds at start and superlinear work fits below 1.05 as
    the slope of log CPU (less the interpreter start), and well above it with the fixed cost taken out."""
    cpu = [3.0 + 0.001 * n ** 1.2 for n in SIZES]
    assert bench_growth.fit_exponent(SIZES, [c - 0.4 for c in cpu]) < 1.05
    assert bench_growth.fit_with_fixed_cost(SIZES, cpu)[2] > 1.15


@pytest.mark.parametrize("sizes, cpu", [([250, 1000], [1.0, 2.0]),  # two sizes cannot separate fixed from growing
                                        ([250, 1000, 4000], [3.0, 2.9, 3.1])])  # no growth: no exponent of it
def test_no_growth_exponent_without_three_rising_sizes(sizes, cpu):
    assert bench_growth.fit_with_fixed_cost(sizes, cpu) is None


@pytest.mark.slow  # two interpreters started
def test_peak_memory_is_the_child_s_own():
    """A child allocating 200 MiB peaks above it; one allocating nothing peaks far below this test's process (whose
    high-water mark Linux would otherwise report for it, as wait4 did)."""
    big = bench_growth.measured("x = bytearray(200 * 2 ** 20)\nprint('done')")
    small = bench_growth.measured("print('done')")
    assert big["out"] == small["out"] == "done"
    assert big["peak_mib"] > 200
    assert small["peak_mib"] < 60


def test_each_repeat_of_a_stage_starts_from_the_same_history_and_drive(tmp_path):
    """`--repeats`: a stage run again must do the same work, not find its first run's results in the history (a
    re-run of categorise compares with them) or its edition on the drive (publish would find it unchanged)."""
    (tmp_path / "history.sqlite").write_bytes(b"before the stage")
    (tmp_path / "drive").mkdir()
    (tmp_path / "drive" / ".school-improvement-share").write_text("")
    keep = bench_growth._saved(tmp_path)
    (tmp_path / "history.sqlite").write_bytes(b"the stage's first run recorded")
    (tmp_path / "drive" / "999").mkdir()
    (tmp_path / "drive" / "999" / "current.json").write_text("{}")
    bench_growth._restore(tmp_path, keep)
    assert (tmp_path / "history.sqlite").read_bytes() == b"before the stage"
    assert sorted(p.name for p in (tmp_path / "drive").rglob("*")) == [".school-improvement-share"]
