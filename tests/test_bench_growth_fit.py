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


def test_each_round_runs_every_stage_from_the_state_it_first_started_from(tmp_path, monkeypatch):
    """`--repeats`, in rounds over the sizes: a later round runs each stage of a size from the history and drive it
    saw in the first round (not from what the stages after it left), and the run of least CPU in the stage is kept."""
    seen = []
    cpu = iter([5.0, 7.0, 3.0, 6.0])

    def stage_run(cfg, root, stage, count="cpu"):  # each stage leaves its mark in the history, as categorise's does
        seen.append((stage, (root / "history.sqlite").read_text() if (root / "history.sqlite").exists() else None))
        (root / "history.sqlite").write_text(f"after {stage}")
        return {"cpu": 9.9, "stage_cpu": next(cpu), "peak_mib": 1.0, "out": "{}", "unit": "s CPU"}

    monkeypatch.setattr(bench_growth, "_stage_run", stage_run)
    (tmp_path / "drive").mkdir()
    for stage in ("assess_evidence", "categorise"):
        bench_growth._saved(tmp_path, stage)
        stage_run(None, tmp_path, stage)
    res = {"root": tmp_path, "cfg": {}, "schools": 250, "count": "cpu",
           "runs": {"assess_evidence": [{"stage_cpu": 5.0}], "categorise": [{"stage_cpu": 7.0}]}}
    seen.clear()
    bench_growth.again(res)
    assert seen == [("assess_evidence", None), ("categorise", "after assess_evidence")]
    kept = bench_growth.kept_runs(res)
    assert kept["assess_evidence"]["stage_cpu"] == 3.0 and kept["categorise"]["stage_cpu"] == 6.0


def test_more_sizes_fit_through_a_dip_between_two_small_ones():
    """With five sizes, a stage whose small sizes cost about the same (its fixed cost, one run's noise) still has
    its growth fitted; three sizes that do not rise at each step, or five that do not rise overall, have none."""
    sizes = [250, 500, 1000, 2000, 4000]
    cpu = [1.0 + 0.001 * n for n in sizes]
    cpu[1] = cpu[0] - 0.05  # 500 schools ran a little faster than 250
    assert bench_growth.fit_with_fixed_cost(sizes, cpu)[2] == pytest.approx(1.0, abs=0.1)
    assert bench_growth.fit_with_fixed_cost(sizes, [3.0, 2.8, 2.9, 3.1, 2.9]) is None


@pytest.mark.slow  # four interpreters under valgrind, about 15 s
def test_instructions_are_counted_the_same_on_every_run_and_grow_with_the_work():
    """`--instructions`: the count of a child's instructions (valgrind's cachegrind) is the same from one run to the
    next, whatever the machine's load, and four times the work adds about four times the instructions."""
    code = "import sys\nprint(sum(range(int(sys.argv[1]))))"
    small, again = bench_growth.counted(code, "1000000"), bench_growth.counted(code, "1000000")
    none, large = bench_growth.counted(code, "0"), bench_growth.counted(code, "4000000")
    assert small["out"] == "499999500000" and large["out"] == "7999998000000"
    assert small["cpu"] == pytest.approx(again["cpu"], rel=0.01)
    assert (large["cpu"] - none["cpu"]) / (small["cpu"] - none["cpu"]) == pytest.approx(4.0, rel=0.05)


@pytest.mark.parametrize("count", ["cpu", "instructions"])
def test_the_growth_table_prints_each_measured_stage_with_its_exponent(count, capsys):
    """The table over the stages measured (a linear stage fits growth k 1.00), in seconds or instructions, with each
    round's exponent where there were rounds."""
    unit, peak = ("s CPU", 300.0) if count == "cpu" else ("G instr", float("nan"))
    rounds = 2 if count == "cpu" else 1

    def run(n, i):
        work = 2.0 + 0.003 * n + 0.01 * i  # the second round a little slower: its least is the first
        return {"cpu": work + 1.1, "stage_cpu": work, "peak_mib": peak, "unit": unit}

    results = [{"schools": n, "count": count, "runs": {"categorise": [run(n, i) for i in range(rounds)]}}
               for n in SIZES]
    for r in results:
        r["stages"] = bench_growth.kept_runs(r)
    bench_growth.report(results, {"cpu": 1.1}, rounds)
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if ln.startswith("categorise"))
    assert "      1.00" in row and ("k by round" in out) == (count == "cpu")
    assert ("instructions (billions)" in out) == (count == "instructions")


def test_the_floors_are_laid_out_at_the_county_size_and_the_profile_at_the_largest(tmp_path, monkeypatch, capsys):
    """The county term against its floor is the smallest size's (250 schools, a county): the floors hold all their
    pages in one document, and at 4,000 schools' 9,218 pages the tagged profile floor alone held 15.8 GiB. The
    profile of build_reports, where the cost grows, stays at the largest size."""
    calls = []

    def first_round(root, schools, term, stages, repeats=1, count="cpu", counted_stages=()):
        runs = {st: [{"cpu": 1.0 + schools / 1000, "stage_cpu": schools / 1000, "peak_mib": 1.0, "unit": "s CPU"}]
                for st in stages}
        return {"cfg": {"schools": schools}, "root": root, "count": count, "schools": schools, "runs": runs,
                "pages": 3 * schools, "landing": root / f"landing-{schools}"}

    def measured(code, *args):
        calls.append((code, args))
        out = '{"pages": 1, "read_cpu": 0.1, "render_cpu": 0.5}' if code != bench_growth.PROFILE_CODE else "[]"
        return {"cpu": 2.0, "peak_mib": 10.0, "out": out}

    monkeypatch.setattr(bench_growth, "first_round", first_round)
    monkeypatch.setattr(bench_growth, "measured", measured)
    monkeypatch.setitem(bench_growth.MEASURE, "cpu", measured)  # the interpreter+import start too: no child at all
    bench_growth.main(["--schools", "250", "1000", "4000"])
    floors = [args for code, args in calls if code in (bench_growth.FLOOR_CODE, bench_growth.FLOOR_UA_CODE)]
    assert len(floors) == 3 and all(a[0].endswith("landing-250") and a[1] == "750" for a in floors), floors
    assert [args for code, args in calls if code == bench_growth.PROFILE_CODE] == [('{"schools": 4000}',)]
    out = capsys.readouterr().out
    assert "County term at 250 schools against the floor (750 plain pages" in out
    assert "build_reports at 4,000 schools profiled" in out
