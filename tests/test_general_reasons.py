"""The general edition's reasons say the same Strategy bullets as the restricted edition's, each whole, with only the
confidential evidence replaced by "(detail restricted)" (a trial found 191 of 200 demo schools' general reasons
losing bullets, a met low-support bullet published as a "concern", and a second bullet's figures cut off)."""

from __future__ import annotations

import re

from school_improvement.editions.confidentiality import RESTRICTED_TEXT, general_view

BULLET_ID = re.compile(r"\[([A-Z]{2,4}-[A-Z]+\d+)\]")


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def assert_general_reasons_whole(inputs) -> None:
    """Run by test_profile_content on its small demo term (the stages up to the reports, run once for both)."""
    general = general_view(inputs).categorisation.set_index("urn")["reasons"]
    restricted = inputs.categorisation.set_index("urn")["reasons"]
    checked = restricted_somewhere = 0
    for urn, text in restricted.items():
        said = general[urn]
        assert set(BULLET_ID.findall(said)) == set(BULLET_ID.findall(text)), (urn, said)
        assert _balanced(said), (urn, said)
        assert " concern (detail restricted)" not in said or " concern (detail restricted)" in text, (urn, said)
        checked += 1
        restricted_somewhere += RESTRICTED_TEXT in said
    assert checked >= 30 and restricted_somewhere >= 5  # the demo's adviser judgements and intelligence are there


def test_two_bullets_with_the_same_figures_both_keep_them():
    from school_improvement.editions.confidentiality import _scrub_parts

    evidence = "(KS2 60.0% vs national 65.0% (2018-19); previous year 80.0% vs national 64.0%; year before 84.0%)"
    line = f"Quality of education best fits medium support: In line [QE-M5] {evidence}; Declining [QE-M6] {evidence}"
    assert _scrub_parts(line, set(), {}) == line
    # A generalised text is still said once, however many parts it replaced.
    private = {"Adviser view": f"adviser judgements: quality concern {RESTRICTED_TEXT}"}
    twice = _scrub_parts("Adviser view one; Adviser view two; Declining", set(), private)
    assert twice == f"adviser judgements: quality concern {RESTRICTED_TEXT}; Declining"
