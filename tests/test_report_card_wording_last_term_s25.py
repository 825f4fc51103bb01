"""cambs-2021-23's last term (2025-26 autumn) reads report cards dated within it (from 10 November 2025): its
congratulations, drop and academy-progress indicators must say what they read of one, as the report-card rule set's do.
The letter told a school it had "sustained good/outstanding overall effectiveness" on a report card, which has no
overall effectiveness (s25)."""

from __future__ import annotations

from datetime import date

from factories import gias, ofsted, term_data
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.rules import load_rule_set, rule_set_for
from school_improvement.terms import Term

URN = 990811
AREAS = ("rc_inclusion", "rc_curriculum_teaching", "rc_achievement", "rc_attendance_behaviour",
         "rc_personal_development", "rc_leadership_governance")


def test_a_report_card_in_the_last_term_of_cambs_2021_23_is_read_and_its_words_say_so():
    term = Term.parse("2025-26-autumn")
    rules = rule_set_for(term.reference_date, la_code="873")
    assert rules.id == "cambs-2021-23"
    card = ofsted(URN, oeif_overall=2, oeif_date=date(2021, 5, 4), inspection_date=date(2025, 11, 24),
                  safeguarding="Met", **{a: "Expected standard" for a in AREAS})
    data = term_data(str(term), gias=[gias(URN)], ofsted=[card])
    found = SchoolIndicators(URN, data, rules, {"ofsted_band": ("good", "")}).get("ofsted_good_or_better_sustained")
    assert found.met is True and "report card" in found.value, found  # the evidence is a report card
    [cg1] = [i for i in rules.letters["congratulations"].indicators if i.id == "CG-1"]
    assert "report card" in cg1.wording and "every evaluation area" in cg1.wording
    [scl6] = [i for i in rules.letters["significant_concerns_letter"].indicators if i.id == "SCL-6"]
    assert "evaluation area" in scl6.wording


def test_the_academy_progress_concern_says_what_it_reads_of_a_report_card_in_both_rule_sets():
    for rule_set in ("cambs-2021-23", "cambs-2025-report-cards"):
        by_id = {i.id: i for i in load_rule_set(rule_set).academy_concerns.indicators}
        assert by_id["AC-9"].wording.startswith("inadequate progress towards becoming a good school")
        assert "Expected standard" in by_id["AC-9"].wording, rule_set
        assert "evaluation area" in by_id["AC-10"].wording, rule_set
