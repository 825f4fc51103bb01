"""The national benchmark's inputs: England's real LAs and school counts, and the demo built at those counts.

The benchmark itself (a Celery run, minutes) is run by `make bench-national`, not here: these tests check only
what it is fed, fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_national  # noqa: E402
from demo_feeds.demo_generator import generate_demo  # noqa: E402
from school_improvement.ingest.feeds import read_landing  # noqa: E402

TERM = "2025-26-autumn"


def test_england_is_153_las_with_their_real_names_and_state_funded_counts(shared_dfe):
    las = bench_national.england(shared_dfe / "metadata")
    assert len(las) == 153 and len({la["la_code"] for la in las}) == 153
    by_code = {la["la_code"]: la for la in las}
    assert by_code["873"]["la_name"] == "Cambridgeshire" and by_code["874"]["la_name"] == "Peterborough"
    # Surrey in the January 2025 census: 299 primary, 59 secondary, 26 special + 8 AP, 4 nursery (no independents)
    assert by_code["936"]["phases"] == {"Primary": 299, "Secondary": 59, "Special": 34, "Nursery": 4}
    assert by_code["936"]["schools"] == 396
    assert all(set(la["phases"]) <= {"Primary", "Secondary", "Special", "Nursery"} for la in las)


def test_n_las_are_spread_over_the_size_range_and_codes_pick_those(shared_dfe):
    las = bench_national.england(shared_dfe / "metadata")
    three = bench_national.choose(las, ["3"])
    sizes = sorted(la["schools"] for la in las)
    assert [la["schools"] for la in three] == [sizes[0], sizes[len(sizes) // 2], sizes[-1]]
    assert [la["la_code"] for la in bench_national.choose(las, ["873", "936"])] == ["873", "936"]
    assert len(bench_national.choose(las, ["500"])) == 153
    with pytest.raises(SystemExit, match="999"):
        bench_national.choose(las, ["873", "999"])


def test_the_demo_at_an_las_real_counts_holds_exactly_those_schools_per_phase(tmp_path):
    phases = {"Primary": 61, "Secondary": 12, "Special": 5, "Nursery": 2}
    demo = generate_demo(tmp_path, la_code="857", terms=[TERM], phases=phases)
    assert demo["schools"] == 80
    gias = {f.kind: f for f in read_landing(tmp_path / "857" / TERM)}["gias"].schools
    # GIAS's phase of a special school is "Not applicable"
    assert gias["phase"].value_counts().to_dict() == {"Primary": 61, "Secondary": 12, "Not applicable": 5,
                                                      "Nursery": 2}
    assert gias["urn"].between(990001, 999999).all()  # fictional URNs only
    with pytest.raises(ValueError, match="no phase"):
        generate_demo(tmp_path / "x", la_code="857", terms=[TERM], phases={"All-through": 3})
