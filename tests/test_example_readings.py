"""The example readings in docs/readings/ (helper F's trial of unseen readings) load, and each differs from the
shipped rule set in what it says it reads differently: a guide an LA copies must stay valid as the schema changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from school_improvement.rules import load_rule_set, load_rule_set_arg

READINGS = sorted((Path(__file__).resolve().parents[1] / "docs" / "readings").glob("*.yaml"))
BASE = load_rule_set("cambs-2021-23")


def test_there_are_readings_to_try():
    assert len(READINGS) >= 10  # the table in docs/readings/README.md lists them


@pytest.mark.parametrize("path", READINGS, ids=[p.stem for p in READINGS])
def test_each_reading_loads_and_differs_from_the_shipped_one(path):
    rs = load_rule_set_arg(str(path))
    assert rs.id == path.stem and rs.review_by and rs.title != BASE.title
    mine, base = rs.model_dump(exclude={"id", "title", "review_by"}), BASE.model_dump(exclude={"id", "title", "review_by"})
    assert mine != base, f"{path.name} reads nothing differently"
    assert path.read_text(encoding="utf-8").lstrip().startswith("#"), "a reading says whose and why, first"
