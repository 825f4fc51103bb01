"""Categorisation against the Strategy's prioritisation criteria, one test per bullet, plus best fit."""

from __future__ import annotations

from datetime import date

import pytest

from factories import absence, flag, gias, judgement, ks2, letter, ofsted, term_data
from school_improvement.decisions.categorise import best_fit, categorise, visits_planned
from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set, rule_set_for
from school_improvement.terms import Term

RULES = load_rule_set("cambs-2021-23")
URN = 990101

# Data that makes each data-only indicator true (and, as far as possible, nothing else).
INDICATOR_DATA = {
    "attainment_broadly_in_line": {"ks2": [ks2(URN, rwm_exp=58.0)]},
    "attainment_declining": {"ks2": [ks2(URN, rwm_exp=55.0, rwm_exp_prev1=60.0, rwm_exp_prev2=66.0)]},
    "attainment_consistently_below": {"ks2": [ks2(URN, rwm_exp=45.0, rwm_exp_prev1=44.0, rwm_exp_prev2=44.0)]},
    "attainment_declining_sharply": {"ks2": [ks2(URN, rwm_exp=48.0, rwm_exp_prev1=52.0, rwm_exp_prev2=62.0)]},
    "attendance_high_or_rapidly_improving": {"absence": [absence(URN, overall_absence=4.5)]},
    "attendance_low_not_improving": {"absence": [absence(URN, overall_absence=6.5, persistent_absence=15.0)]},
    "attendance_consistently_low": {"absence": [absence(URN, overall_absence=8.0, persistent_absence=25.0)]},
}
# The trend readings need last year's figure ("not showing sustained improvement", "consistently low").
INDICATOR_HISTORY = {
    "attendance_low_not_improving": {URN: {"prior": {"overall_absence": (6.6, "2023-24")}}},
    "attendance_consistently_low": {URN: {"prior": {"overall_absence": (8.2, "2023-24")}}},
}


def _kinds_meeting(criterion) -> dict:
    """Feeds in which one school meets this criterion through its first adviser evidence, else its data."""
    kinds: dict = {"gias": [gias(URN)]}
    ev = next((e for e in criterion.evidence if e.kind == "adviser"), criterion.evidence[0])
    if ev.kind == "adviser":
        kinds["adviser_judgements"] = [judgement(URN, ev.adviser)]
    elif ev.kind == "intelligence":
        kinds["la_intelligence"] = [flag(URN, ev.intelligence[0], ev.min_severity)]
    elif ev.kind == "letter_issued":
        kinds["letters_log"] = [letter(URN, ev.letter_issued[0], date(2025, 9, 20))]
    else:
        kinds.update(INDICATOR_DATA[ev.indicator])
    return kinds


@pytest.mark.parametrize("criterion", RULES.criteria, ids=[c.id for c in RULES.criteria])
def test_each_strategy_bullet_places_the_school_as_the_strategy_says(criterion):
    ev = criterion.evidence[0]
    result = categorise(term_data(**_kinds_meeting(criterion)), RULES, INDICATOR_HISTORY.get(ev.indicator))
    row = result.table.iloc[0]
    assert row["category"] == criterion.level
    assert criterion.id in row["criteria_met"].split("; ")
    assert criterion.id in row["reasons"] and criterion.wording.rstrip(".")[:40] in row["reasons"]


def test_best_fit_does_not_need_every_bullet_and_ties_follow_the_rule_set():
    # Two areas low, one high: mean 1.67 -> medium.
    data = term_data(gias=[gias(URN)], adviser_judgements=[
        judgement(URN, "LM-L2"), judgement(URN, "QE-L3"), judgement(URN, "BA-H2")])
    assert categorise(data, RULES).table.iloc[0]["category"] == "medium"
    # One area low, one medium: mean 1.5 is halfway -> school_ties (less support), shown as borderline.
    assert RULES.best_fit.school_ties == "less_support"
    data = term_data(gias=[gias(URN)], adviser_judgements=[judgement(URN, "LM-L2"), judgement(URN, "QE-M2")])
    row = categorise(data, RULES).table.iloc[0]
    assert row["category"] == "low" and "halfway between low and medium" in row["borderline"]
    assert "Borderline, for moderation" in row["reasons"]
    # Within an area, one low and one medium bullet met: area_ties (the more serious bullets) -> medium.
    assert RULES.best_fit.area_ties == "more_support"
    data = term_data(gias=[gias(URN)], adviser_judgements=[judgement(URN, "PD-L1"), judgement(URN, "PD-M1")])
    row = categorise(data, RULES).table.iloc[0]
    assert row["category"] == "medium" and "tie between low and medium" in row["borderline"]
    # Mostly low: low.
    data = term_data(gias=[gias(URN)], adviser_judgements=[
        judgement(URN, c) for c in ("LM-L1", "LM-L2", "QE-L1", "BA-L2", "PD-L1")])
    assert categorise(data, RULES).table.iloc[0]["category"] == "low"


@pytest.mark.parametrize("kinds, condition", [
    ({"ofsted": [ofsted(URN, oeif_safeguarding_effective="No")]}, "OV-SAFEGUARDING"),
    ({"ofsted": [ofsted(URN, oeif_overall=4, category_of_concern="Special measures")]}, "OV-CATEGORY"),
    ({"la_intelligence": [flag(URN, "no_substantive_leadership", "medium")]}, "OV-LEADERSHIP"),
])
def test_overriding_conditions_put_the_school_at_high(kinds, condition):
    lows = [judgement(URN, c) for c in ("LM-L2", "LM-L3", "QE-L1", "QE-L2", "BA-L2", "PD-L1", "PD-L2")]
    row = categorise(term_data(gias=[gias(URN)], adviser_judgements=lows, **kinds), RULES).table.iloc[0]
    assert row["category"] == "high" and row["overriding_condition"] == condition
    assert row["reasons"].startswith("Overriding condition")


def test_no_judgement_from_suppressed_figures_and_small_cohorts_are_reported_as_small():
    data = term_data(gias=[gias(URN), gias(URN + 1)],
                     ks2=[ks2(URN, rwm_exp=None, cohort=20), ks2(URN + 1, cohort=4, rwm_exp=0.0, rwm_exp_prev1=0.0)])
    data.by_kind["ks2"][0].statuses.loc[0] = [URN, "rwm_exp", "SUPP", "5 or fewer pupils", 2]
    table = categorise(data, RULES).table.set_index("urn")
    assert "SUPP (5 or fewer pupils)" in table.loc[URN, "reasons"]
    assert "QE-H6" not in table.loc[URN, "criteria_met"]
    assert "small cohort (4 pupils" in table.loc[URN + 1, "reasons"]
    assert "QE-H6" not in table.loc[URN + 1, "criteria_met"]  # 0% of 4 pupils is not "failing"


def test_attainment_bullets_judge_attainment_and_report_progress_beside_it():
    # Far below national two years running: attainment is consistently below, whatever progress says.
    ci = dict(read_prog=-1.0, read_prog_lower=-3.5, read_prog_upper=1.5, writ_prog=-0.5, writ_prog_lower=-3.0,
              writ_prog_upper=2.0, mat_prog=-1.2, mat_prog_lower=-3.9, mat_prog_upper=1.5)
    data = term_data(gias=[gias(URN)], ks2=[ks2(URN, rwm_exp=45.0, rwm_exp_prev1=44.0, **ci)])
    row = categorise(data, RULES).table.iloc[0]
    assert "QE-H6" in row["criteria_met"] and "progress not significantly different from average" in row["reasons"]
    # Significantly weak progress with attainment near national: not "attainment below", but reported.
    ci.update(mat_prog=-4.0, mat_prog_lower=-6.5, mat_prog_upper=-1.5)
    data = term_data(gias=[gias(URN)], ks2=[ks2(URN, rwm_exp=59.0, rwm_exp_prev1=58.0, **ci)])
    row = categorise(data, RULES).table.iloc[0]
    assert "QE-H6" not in row["criteria_met"] and "progress significantly below average" in row["reasons"]


def test_academies_and_other_las_schools_are_not_categorised():
    data = term_data(gias=[gias(URN), gias(URN + 1, is_academy=True, is_la_maintained=False, type_group="Academies"),
                           gias(URN + 2, la_code="873"), gias(URN + 3, status="Closed")])
    assert list(categorise(data, RULES).table["urn"]) == [URN]


def test_rule_set_is_chosen_by_term_date_and_recorded():
    assert rule_set_for(Term.parse("2025-26-autumn").reference_date).id == "cambs-2021-23"
    spring = rule_set_for(Term.parse("2025-26-spring").reference_date)
    assert spring.id == "cambs-2025-report-cards"
    with pytest.raises(RulesError, match="no rule set is in force on 2019-09"):
        rule_set_for(Term.parse("2019-20-autumn").reference_date)
    # Under report cards a school's last graded judgement stays its judgement until a report card replaces it.
    good_old = term_data("2025-26-spring", gias=[gias(URN)], ofsted=[ofsted(URN, oeif_overall=2)])
    row = categorise(good_old, spring).table.iloc[0]
    assert "LM-L4" in row["criteria_met"] and row["rule_set"] == "cambs-2025-report-cards"
    assert "overall effectiveness Good (grade 2, graded inspection, 2022-05-10)" in row["reasons"]
    assert row["good_or_better"]
    rc = ofsted(URN, oeif_overall=None, safeguarding="Met", rc_inclusion="Expected standard",
                rc_curriculum_teaching="Needs attention", rc_achievement="Expected standard",
                rc_attendance_behaviour="Strong standard", rc_personal_development="Expected standard",
                rc_leadership_governance="Expected standard", inspection_date=date(2026, 1, 20))
    row = categorise(term_data("2025-26-spring", gias=[gias(URN)], ofsted=[rc]), spring).table.iloc[0]
    assert "LM-M4" in row["criteria_met"] and row["category"] == "medium"
    assert row["good_or_better"] == False  # noqa: E712 (a numpy bool)


def test_moderation_override_sets_final_category_and_both_are_reported():
    data = term_data(gias=[gias(URN)], adviser_judgements=[judgement(URN, "LM-L2")], moderation=[
        {"urn": URN, "term": "2025-26-autumn", "final_category": "medium", "reason": "New SENCo; early days",
         "approved_by": "Head of School Improvement", "approved_on": date(2025, 10, 20)}])
    row = categorise(data, RULES).table.iloc[0]
    assert (row["computed_category"], row["category"]) == ("low", "medium")
    assert row["override_reason"] == "New SENCo; early days" and "Moderated from low to medium" in row["reasons"]


def test_support_plan_visits_follow_the_strategy():
    autumn = Term.parse("2025-26-autumn")
    assert visits_planned("high", autumn, RULES)[:2] == (4, 2)  # monthly Sep-Dec, LAIG each half term
    assert visits_planned("medium", autumn, RULES)[0] == 2
    assert visits_planned("low", autumn, RULES)[0] == 1
    no_offer = {RULES.support_plan_exceptions[0].flag}
    assert visits_planned("low", autumn, RULES, no_offer)[0] == 1  # annual monitoring visit, in the autumn
    assert visits_planned("low", Term.parse("2025-26-spring"), RULES, no_offer)[0] == 0
    assert visits_planned("medium", Term.parse("2025-26-spring"), RULES, no_offer)[0] == 2
    # The Primary Offer "is available to Primary Maintained schools": a secondary school's plan does not offer it.
    assert "Primary School Improvement Offer" in visits_planned("low", autumn, RULES, phase="Primary")[2]
    visits, _, plan = visits_planned("low", autumn, RULES, phase="Secondary")
    assert visits == 1 and plan.endswith("(the Primary School Improvement Offer is for primary schools)")
    assert "check whether the school buys into it" in visits_planned("low", autumn, RULES, phase="All-through")[2]
    assert visits_planned("medium", autumn, RULES, phase="Secondary")[2] == RULES.support_plan["medium"].summary


def test_a_support_plan_exception_names_whom_it_is_for():
    from pydantic import ValidationError

    from school_improvement.rules import PlanException

    with pytest.raises(ValidationError, match="names a flag, phases, or both"):
        PlanException(levels=["low"], summary="x", visits="termly")


def test_best_fit_with_no_evidence_is_medium_pending_a_visit():
    level, areas, _ = best_fit([], RULES)
    assert level is None and set(areas.values()) == {None}
    row = categorise(term_data(gias=[gias(URN)]), RULES).table.iloc[0]
    assert row["category"] == "medium" and "until an adviser visit" in row["reasons"]


def test_a_new_headteacher_in_gias_counts_for_a_year():
    old = {URN: {"previous_category": "low", "prior": {"head": ("Ann Example", "")}}}
    data = term_data(gias=[gias(URN, head_first_name="Bea", head_last_name="Newcomer")])
    result = categorise(data, RULES, old)
    assert "LM-M5" in result.table.iloc[0]["criteria_met"]
    assert result.measures[URN]["head"] == ["Bea Newcomer", "2025-26-autumn"]
    # Two terms later the same head is still in the first year; a year on, no longer.
    later = {URN: {"prior": {"head": ("Bea Newcomer", "2025-26-autumn")}}}
    data = term_data("2025-26-summer", gias=[gias(URN, head_first_name="Bea", head_last_name="Newcomer")])
    assert "LM-M5" in categorise(data, RULES, later).table.iloc[0]["criteria_met"]
    data = term_data("2026-27-autumn", gias=[gias(URN, head_first_name="Bea", head_last_name="Newcomer")])
    assert "LM-M5" not in categorise(data, load_rule_set("cambs-2025-report-cards"), later).table.iloc[0]["criteria_met"]
