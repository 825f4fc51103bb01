"""Findings of the new-user trial on Surrey's real downloads, each pinned on generated data where a synthetic case
is clearer (the real-data cases are in test_real_special_schools.py and test_real_terms.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

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


def _letters_for(ks2_row: dict, year: str, log: list[dict], term: str = "2023-24-autumn"):
    from factories import NATIONAL_KS2, feed
    from school_improvement.decisions.letters import flag_letters

    data = term_data(term, gias=[gias(URN)], ks2=feed("ks2", [ks2_row], [NATIONAL_KS2], year=year,
                                                        source=f"ks2_{year}.csv"), letters_log=log)
    table = categorise(data, RULES).table
    return flag_letters(data, RULES, table, {}, dt.date(2023, 9, 25)).letters


def test_results_from_before_a_letter_neither_escalate_it_nor_flag_it_again():
    """The trial: a Significant Concerns letter sent in 2022-23 on 2018-19's KS2 decline, and a congratulations letter
    on 2018-19's improvement, were flagged again (and the first escalated to a Warning Notice, "concerns remain") the
    next term, on the same 2018-19 figures. Results of a year that ended before the letter show what it answered."""
    from factories import ks2, letter

    declining = ks2(URN, rwm_exp=56.0, rwm_exp_prev1=62.0, rwm_exp_prev2=68.0)  # SCL-1 at medium
    scl = [letter(URN, "significant_concerns_letter", dt.date(2023, 3, 1), "SCL-1")]
    before = _letters_for(declining, "2021-22", scl)  # results of 2021-22, ended before the letter
    assert before.empty, before[["letter", "indicators", "escalation_note"]].to_dict("records")
    after = _letters_for(declining, "2022-23", scl)  # a new year's results: the decline remains
    assert list(after["letter"]) == ["warning_notice"] and "concerns remain" in after.iloc[0]["escalation_note"]
    # Sent longer ago than the ladder looks back (a year): still not flagged again on results it was written on.
    long_ago = [letter(URN, "significant_concerns_letter", dt.date(2022, 3, 1), "SCL-1")]
    assert _letters_for(declining, "2020-21", long_ago).empty
    assert list(_letters_for(declining, "2022-23", long_ago)["letter"]) == ["significant_concerns_letter"]
    # At high on those results alone (consistently below national, and falling): no more "concerns remain".
    below = ks2(URN, rwm_exp=40.0, rwm_exp_prev1=45.0, rwm_exp_prev2=60.0)
    assert _letters_for(below, "2021-22", scl).empty
    assert list(_letters_for(below, "2022-23", scl)["category"]) == ["high"]
    assert list(_letters_for(below, "2022-23", scl)["letter"]) == ["warning_notice"]
    # No letter in the log: the old results still flag the first letter, as before.
    assert list(_letters_for(declining, "2021-22", [])["letter"]) == ["significant_concerns_letter"]

    improved = ks2(URN, rwm_exp=78.0, rwm_exp_prev1=62.0, rwm_exp_prev2=60.0)  # CG-2
    thanks = [letter(URN, "congratulations", dt.date(2023, 3, 1))]
    assert _letters_for(improved, "2021-22", thanks).empty
    assert list(_letters_for(improved, "2022-23", thanks)["letter"]) == ["congratulations"]


def test_a_figure_missing_from_a_short_row_is_said_without_an_empty_code():
    """The trial's infant schools in Surrey's KS2 file (rows cut short after the school's details) read
    "not available:  (Blank: ...)"; the reason alone is said."""
    from factories import NATIONAL_KS2, feed, ks2
    from school_improvement.evidence.indicators import SchoolIndicators
    from school_improvement.ingest.feeds import SHORT_ROW_REASON

    f = feed("ks2", [ks2(URN, rwm_exp=None)], [NATIONAL_KS2],
             statuses=[{"urn": URN, "column": "rwm_exp", "code": "", "reason": SHORT_ROW_REASON, "_row": 7}])
    data = term_data(gias=[gias(URN)], ks2=f)
    reason = SchoolIndicators(URN, data, RULES).get("attainment_consistently_below").reason
    assert reason == f"KS2 RWM expected standard not available: {SHORT_ROW_REASON}"


@pytest.mark.slow  # the real Surrey GIAS, census and KS4 read and validated (over test-fast's CPU budget)
def test_the_share_of_schools_with_no_figure_is_the_las_own(shared_dfe):
    """Surrey's census and KS4 rows include independent schools (no FSM, no Attainment 8 figure), which the run sets
    aside: ">20% of schools have no figure" was warned though every one of the LA's own schools has its figure."""
    from real_la import GIAS
    from school_improvement.ingest.feeds import read_feed
    from school_improvement.quality.suites import validate

    samples = shared_dfe / "samples"
    if not samples.is_dir():
        pytest.skip("../shared/dfe is not here")
    gias_feed = read_feed(samples / GIAS)
    feeds = [gias_feed, read_feed(samples / "936_census_2019-20.csv"), read_feed(samples / "936_ks4provisional_2018-19.csv")]
    mine = set(gias_feed.schools.loc[gias_feed.schools["la_code"].astype(str) == "936", "urn"])
    for f in feeds[1:]:  # the case is in the real files: many rows with no figure, none of them the LA's
        col = "pct_fsm_ever" if f.kind == "census" else "att8"
        assert f.schools[col].isna().mean() > 0.2
        own = f.schools[f.schools["urn"].isin(mine)]
        assert len(own) and own[col].notna().all()
    problems = validate(feeds, la_code="936").problems
    assert not [p for p in problems if p.check == "suppressed_share"]
    # The LA's own rows without figures are still warned about.
    census = feeds[1]
    census.schools.loc[census.schools["urn"].isin(mine), "pct_fsm_ever"] = float("nan")
    problems = validate(feeds, la_code="936").problems
    assert [p.column for p in problems if p.check == "suppressed_share"] == ["PNUMFSMEVER"]  # the file's header


def test_an_academy_concern_taken_up_does_not_move_on_to_its_next_step_on_the_same_results():
    """The academy route (meet the principal/CEO; "Should that not be the case", a formal letter to the Chair): a
    meeting about a decline seen in a year's results does not make the formal letter due on those same results."""
    from factories import NATIONAL_KS2, feed, ks2, letter
    from school_improvement.decisions.letters import academy_concerns

    def concerns(year: str, log: list[dict]):
        school = gias(URN, is_academy=True, is_la_maintained=False, type_group="Academies", type="Academy converter",
                      trust="Example Learning Trust")
        declining = ks2(URN, rwm_exp=56.0, rwm_exp_prev1=62.0, rwm_exp_prev2=68.0)  # AC-1
        data = term_data("2023-24-autumn", gias=[school], letters_log=log,
                         ks2=feed("ks2", [declining], [NATIONAL_KS2], year=year, source=f"ks2_{year}.csv"))
        return academy_concerns(data, RULES, {}, dt.date(2023, 9, 25))

    first = concerns("2021-22", [])
    assert list(first["concerns"]) == ["AC-1"] and list(first["next_step"]) == ["academy_meeting"]
    met = [letter(URN, "academy_meeting", dt.date(2023, 3, 1), "AC-1")]
    assert concerns("2021-22", met).empty  # the meeting was about these results
    again = concerns("2022-23", met)  # a new year's results: the decline remains
    assert list(again["next_step"]) == ["academy_formal_letter"]


def test_la_intelligence_raised_before_a_letter_does_not_show_concerns_remaining_after_it():
    """The same rule for the LA's own evidence: the finance concern a Significant Concerns letter was written on does
    not, a term later, escalate it to a Warning Notice; a concern raised after the letter does."""
    from factories import flag, letter
    from school_improvement.decisions.letters import flag_letters

    def letters(intel: list[dict]):
        log = [letter(URN, "significant_concerns_letter", dt.date(2025, 10, 1), "SCL-3")]
        data = term_data("2025-26-spring", gias=[gias(URN)], la_intelligence=intel, letters_log=log)
        return flag_letters(data, RULES, categorise(data, RULES).table, {}, dt.date(2026, 1, 27)).letters

    before = flag(URN, "finance", "medium", raised=dt.date(2025, 9, 10), detail="Deficit recovery plan not agreed")
    assert letters([before]).empty
    after = flag(URN, "finance", "medium", raised=dt.date(2026, 1, 12), detail="Deficit grew again")
    out = letters([before, after])
    assert list(out["letter"]) == ["warning_notice"] and "concerns remain" in out.iloc[0]["escalation_note"]
