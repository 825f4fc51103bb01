"""A moderation decision naming no level at all: the error lists the LA's own rule set's levels, not every rule
set's in the vocabulary (a Cambridgeshire-reading LA told it may write "intensive" would write it, and be refused
again by the evidence stage). Fictional schools (URNs 99xxxx) and people."""

from __future__ import annotations

import pytest

from school_improvement import pipeline
from school_improvement.errors import ValidationFailed


def _landing(tmp_path, level: str):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "moderation.csv").write_text("urn,term,final_category,reason,approved_by,approved_on\n"
                                            f"990411,2025-26-autumn,{level},Fictional reason,Fictional Panel,2025-10-01\n")
    return landing


@pytest.mark.parametrize("la, rule_set, own, other", [
    ("999", "cambs-2021-23", "low, medium, high", "intensive"),
    ("990", "northmoor-2024-27", "universal, targeted, enhanced, intensive", "medium"),
])
def test_a_moderation_level_known_to_no_rule_set_lists_the_las_own_levels(tmp_path, la, rule_set, own, other):
    cfg = pipeline.RunConfig(la_code=la, term="2025-26-autumn", landing=str(_landing(tmp_path, "severe")),
                             work_dir=str(tmp_path / "work"), history_url=f"sqlite:///{tmp_path}/h.sqlite")
    pipeline.extract(cfg)
    with pytest.raises(ValidationFailed) as err:
        pipeline.validate(cfg)
    [p] = [p for p in err.value.problems if p.column == "final_category"]
    assert (p.file, p.row, p.check) == ("moderation.csv", 2, "known_codes")
    assert f"rule set {rule_set}'s levels: {own}" in p.message
    assert other not in p.message.split("levels: ")[1].split(", ")
