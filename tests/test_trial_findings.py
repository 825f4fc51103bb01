"""Findings of the new-user trial on Surrey's real downloads, each pinned on generated data where a synthetic case
is clearer (the real-data cases are in test_real_special_schools.py and test_real_terms.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from factories import gias, judgement, term_data
from school_improvement.decisions.categorise import categorise
from school_improvement.editions.confidentiality import general_view
from school_improvement.editions.report import ReportInputs
from school_improvement.rules import load_rule_set

RULES = load_rule_set("cambs-2021-23")
URN = 990101


def _inputs(cat) -> ReportInputs:
    empty = pd.DataFrame(columns=["urn"])
    return ReportInputs("999", "Demo", "2025-26-autumn", RULES.id, RULES.title, dt.date(2025, 10, 1), cat.table,
                        cat.evidence, pd.DataFrame(columns=["urn", "term", "category"]), empty, empty, empty, empty,
                        pd.DataFrame(columns=["file"]), pd.DataFrame())


def test_a_moderation_reason_stays_in_the_restricted_edition():
    """The panel's reason is free text about the school's people (LA_FEEDS.md's own example is a head's sick leave):
    the general edition says the category was moderated, and by whom, not why."""
    why = "Head on long-term sick leave; deputy acting up with no cover."
    data = term_data(gias=[gias(URN)], adviser_judgements=[judgement(URN, "LM-L2")], moderation=[
        {"urn": URN, "term": "2025-26-autumn", "final_category": "medium", "reason": why,
         "approved_by": "Moderation panel", "approved_on": dt.date(2025, 10, 20)}])
    cat = categorise(data, RULES)
    restricted = cat.table.iloc[0]
    assert restricted["override_reason"] == why and why in restricted["reasons"]
    general = general_view(_inputs(cat)).categorisation.iloc[0]
    text = " ".join(str(v) for v in general.values)
    assert "sick leave" not in text and "deputy acting up" not in text
    assert general["category"] == "medium" and general["override_reason"] == "(detail restricted)"
    assert "Moderated from low to medium" in general["reasons"] and "Moderation panel" in general["reasons"]


def test_a_special_school_at_low_support_is_not_given_the_primary_offer_as_its_plan():
    """GIAS gives special schools and PRUs the phase "Not applicable"; "The Offer is available to Primary Maintained
    schools and academies", so the plan says to check, as for an all-through school."""
    from school_improvement.decisions.categorise import visits_planned
    from school_improvement.terms import Term

    autumn = Term.parse("2025-26-autumn")
    primary = visits_planned("low", autumn, RULES, phase="Primary")[2]
    visits, _, plan = visits_planned("low", autumn, RULES, phase="Not applicable")
    assert "Primary School Improvement Offer" in primary and plan != primary
    assert visits == 1 and "check whether" in plan


def test_a_moderation_that_keeps_the_computed_level_says_it_confirmed_it():
    data = term_data(gias=[gias(URN)], adviser_judgements=[judgement(URN, "LM-L2")], moderation=[
        {"urn": URN, "term": "2025-26-autumn", "final_category": "low", "reason": "Panel agreed",
         "approved_by": "Moderation panel", "approved_on": dt.date(2025, 10, 20)}])
    row = categorise(data, RULES).table.iloc[0]
    assert row["category"] == row["computed_category"] == "low"
    assert "Moderation confirmed low: Panel agreed" in row["reasons"] and "from low to low" not in row["reasons"]
