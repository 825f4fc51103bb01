"""`generate_demo(schools=N)`: the benchmark's scaled demo grows every per-school feed in proportion."""

from __future__ import annotations

import pytest

from demo_feeds.demo_generator import generate_demo
from school_improvement.ingest.feeds import read_landing

TERM = "2025-26-autumn"
PER_SCHOOL_KINDS = ("gias", "ofsted", "census", "absence", "ks2", "ks4", "adviser_judgements", "la_intelligence")


@pytest.mark.slow  # generates a 750-school demo
def test_a_scaled_demo_grows_every_per_school_feed_in_proportion(demo_landing, tmp_path):
    base_root, base = demo_landing([TERM])
    big = generate_demo(tmp_path, terms=[TERM], schools=750)
    assert base["schools"] == 250 and big["schools"] == 750
    assert big["maintained"] / big["schools"] == pytest.approx(base["maintained"] / base["schools"], abs=0.01)
    small = {f.kind: f for f in read_landing(base_root / "999" / TERM)}
    large = {f.kind: f for f in read_landing(tmp_path / "999" / TERM)}
    for kind in PER_SCHOOL_KINDS:
        ratio = len(large[kind].schools) / len(small[kind].schools)
        assert 2.4 <= ratio <= 3.6, (kind, ratio)
    gias = large["gias"].schools
    assert gias["urn"].is_unique and gias["school_name"].is_unique
    assert gias["urn"].between(990001, 999999).all()  # fictional URNs only


def test_a_roster_larger_than_the_fictional_urn_range_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at most 9,000 schools"):
        generate_demo(tmp_path, terms=[TERM], schools=20000)


def test_a_roster_too_small_for_every_scenario_is_refused_naming_one_and_nothing_is_written(tmp_path, capsys):
    """`python -m demo_feeds --schools N` below what the scenarios need: said plainly (it was numpy's "high <= 0"),
    with nothing written, as a count under one is refused by the command line."""
    from demo_feeds.__main__ import main

    with pytest.raises(ValueError, match=r"a demo roster of \d+ schools \(scaled for 20\) is too small: no school "
                                         r"was left for its scenario '\w+'"):
        generate_demo(tmp_path / "lib", terms=[TERM], schools=20)
    assert main(["--out", str(tmp_path / "cli"), "--terms", TERM, "--schools", "20"]) == 2
    assert "is too small" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["--out", str(tmp_path / "cli"), "--schools", "0"])
    assert refused.value.code == 2 and "at least 1" in capsys.readouterr().err
    assert not (tmp_path / "lib").exists() and not (tmp_path / "cli").exists()


@pytest.mark.slow  # the small demo generated for each demo LA code (over test-fast's CPU budget)
@pytest.mark.parametrize("la_code", ["999", "998", "997"])
def test_the_small_demo_of_the_machinery_tests_keeps_every_scenario(demo_landing, tmp_path, la_code):
    """tests/small_demo.py: the scheduler, UI, Celery, regional and corpus tests run a 40-school demo because it
    still holds every scenario of the full demo (each letter type, moderation, academies, suppression)."""
    from small_demo import SCHOOLS, small_demo

    full_root, full = demo_landing([TERM])
    small = small_demo(tmp_path, la_code=la_code, terms=[TERM])
    assert small["schools"] < full["schools"] / 5 and abs(small["schools"] - SCHOOLS) <= 5
    assert sorted(small["scenarios"]) == sorted(full["scenarios"])
    assert len(set(small["scenarios"].values())) == len(small["scenarios"])  # a school each
    kinds = {f.kind for f in read_landing(tmp_path / la_code / TERM)}
    assert kinds == {f.kind for f in read_landing(full_root / "999" / TERM)}
