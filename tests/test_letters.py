"""Letters to schools, academy concerns and member alerts, as the Strategy's sections say."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from factories import absence, decide, flag, gias, judgement, ks2, letter, ofsted, term_data
from school_improvement import history
from school_improvement.decisions.categorise import categorise
from school_improvement.decisions.letters import flag_letters, whistleblowing_redirect
from school_improvement.rules import Evidence, load_rule_set
from school_improvement.terms import Term

RULES = load_rule_set("cambs-2021-23")
URN = 990301
AS_OF = date(2025, 9, 24)
GOOD_BEFORE = {URN: {"previous_category": "low", "prior": {"ofsted_band": ("good", "")}}}
RI_BEFORE = {URN: {"previous_category": "medium", "prior": {"ofsted_band": ("requires_improvement", "")}}}

# Evidence that makes each data indicator true, with the history it needs.
INDICATOR_DATA = {
    "attainment_declining": ({"ks2": [ks2(URN, rwm_exp=55.0, rwm_exp_prev1=60.0, rwm_exp_prev2=66.0)]}, {}),
    "attainment_consistently_below": ({"ks2": [ks2(URN, rwm_exp=45.0, rwm_exp_prev1=44.0)]}, {}),
    "safeguarding_not_met": ({"ofsted": [ofsted(URN, oeif_safeguarding_effective="No")]}, {}),
    "ofsted_dropped": ({"ofsted": [ofsted(URN, oeif_overall=3, oeif_date=date(2025, 9, 10))]}, GOOD_BEFORE),
    "ofsted_improved": ({"ofsted": [ofsted(URN, oeif_overall=2, oeif_date=date(2025, 9, 10))]}, RI_BEFORE),
    "disadvantaged_gap_persistently_wide": ({"ks2": [ks2(URN, rwm_exp_disadv=40.0, rwm_exp_other=70.0,
                                                         rwm_exp_disadv_prev1=40.0, rwm_exp_other_prev1=70.0)]}, {}),
    "attainment_significant_improvement": ({"ks2": [ks2(URN, rwm_exp=75.0, rwm_exp_prev1=60.0, rwm_exp_prev2=62.0)]}, {}),
    "disadvantaged_accelerated": ({"ks2": [ks2(URN, rwm_exp_disadv=55.0, rwm_exp_other=73.0,
                                               rwm_exp_disadv_prev1=40.0, rwm_exp_other_prev1=70.0)]}, {}),
    "absence_rising": ({"absence": [absence(URN, overall_absence=7.5)]},
                       {URN: {"prior": {"overall_absence": (5.0, "2023-24")}}}),
    "ofsted_inadequate": ({"ofsted": [ofsted(URN, oeif_overall=4)]}, {}),
}


def _meeting(ind) -> tuple[dict, dict]:
    ev = ind.evidence[0]
    kinds: dict = {"gias": [gias(URN)]}
    if ev.kind == "adviser":
        kinds["adviser_judgements"] = [judgement(URN, ev.adviser)]
        return kinds, {}
    if ev.kind == "intelligence":
        kinds["la_intelligence"] = [flag(URN, f, ev.min_severity) for f in ev.intelligence[:ev.min_count]]
        return kinds, {}
    extra, hist = INDICATOR_DATA[ev.indicator]
    return {**kinds, **extra}, hist


def _flag(kinds: dict, hist: dict, term: str = "2025-26-autumn", rules=RULES, as_of=AS_OF):
    cat, letters = decide(term_data(term, **kinds), rules, hist, as_of)
    return letters, cat.table


CASES = [(name, ind) for name, rule in RULES.letters.items() for ind in rule.indicators
         if ind.in_force_on(date(2025, 9, 3))]


@pytest.mark.parametrize("letter_name, ind", CASES, ids=[i.id for _, i in CASES])
def test_each_indicator_flags_its_letter_with_evidence(letter_name, ind):
    kinds, hist = _meeting(ind)
    if RULES.letters[letter_name].escalates_from == "warning_notice":
        kinds["letters_log"] = [letter(URN, "warning_notice", date(2025, 6, 1))]  # the ladder's earlier step
    out, _ = _flag(kinds, hist)
    flagged = out.letters.set_index("urn")
    assert flagged.loc[URN, "letter"] == letter_name
    assert ind.id in flagged.loc[URN, "indicators"].split("; ")
    assert flagged.loc[URN, "evidence"] and str(flagged.loc[URN, "flagged_on"]) == "2025-09-24"
    assert len(out.drafts) == 1 and out.drafts[0]["letter"] == letter_name


def test_floor_standard_is_dated_out_of_force():
    wn1 = next(i for i in RULES.letters["warning_notice"].indicators if i.id == "WN-1")
    assert wn1.in_force_on(date(2018, 9, 1)) and not wn1.in_force_on(date(2025, 9, 3))
    out, _ = _flag({"gias": [gias(URN)], "ks2": [ks2(URN, rwm_exp=30.0, rwm_exp_prev1=30.0)]}, {})
    assert "WN-1" not in " ".join(out.letters["indicators"])


def test_escalation_ladder_over_three_terms():
    concern = [flag(URN, "finance", "high", raised=date(2025, 9, 10)),
               flag(URN, "leadership_capacity", "high", raised=date(2025, 9, 10))]
    out, _ = _flag({"gias": [gias(URN)], "la_intelligence": concern}, {})
    assert out.letters.iloc[0]["letter"] == "significant_concerns_letter"
    log = [letter(URN, "significant_concerns_letter", date(2025, 10, 1), "SCL-3")]
    # Next LAIG (spring): concerns remain, so the Warning Notice is due.
    spring = [judgement(URN, "LM-H2", visit=date(2026, 1, 20)), judgement(URN, "LM-H7", visit=date(2026, 1, 20))]
    out, table = _flag({"gias": [gias(URN)], "adviser_judgements": spring, "letters_log": log}, {},
                       "2025-26-spring", as_of=date(2026, 1, 27))
    assert table.iloc[0]["category"] == "high"
    row = out.letters.iloc[0]
    assert row["letter"] == "warning_notice" and "concerns remain" in row["escalation_note"]
    # Summer: still high after the Warning Notice: Significant Concerns (formal).
    log.append(letter(URN, "warning_notice", date(2026, 2, 5)))
    summer = [judgement(URN, "LM-H2", visit=date(2026, 5, 1)), judgement(URN, "LM-H7", visit=date(2026, 5, 1))]
    out, _ = _flag({"gias": [gias(URN)], "adviser_judgements": summer, "letters_log": log}, {},
                   "2025-26-summer", as_of=date(2026, 5, 5))
    assert out.letters.iloc[0]["letter"] == "significant_concerns"
    # Concerns resolved: no escalation.
    calm = [judgement(URN, c, visit=date(2026, 5, 1)) for c in ("LM-L2", "QE-L1", "BA-L2")]
    out, _ = _flag({"gias": [gias(URN)], "adviser_judgements": calm, "letters_log": log}, {}, "2025-26-summer")
    assert out.letters.empty or out.letters.iloc[0]["letter"] == "congratulations"


def test_letter_already_issued_this_term_for_the_same_concern_is_not_flagged_again():
    kinds = {"gias": [gias(URN)], "la_intelligence": [flag(URN, "finance", "medium", raised=date(2025, 9, 10))]}
    out, _ = _flag(kinds, {})
    assert list(out.letters["indicators"]) == ["SCL-3"]
    kinds["letters_log"] = [letter(URN, "significant_concerns_letter", date(2025, 9, 20), "SCL-3")]
    out, _ = _flag(kinds, {})
    assert out.letters.empty


def test_rerun_does_not_duplicate_flags(tmp_path):
    eng = history.engine_for(f"sqlite:///{tmp_path / 'h.sqlite'}")
    out, _ = _flag({"gias": [gias(URN)], "la_intelligence": [flag(URN, "finance", "medium")]}, {})
    for _ in range(2):
        history.record_flags(eng, "999", Term.parse("2025-26-autumn"), "r", out.letters, "letter")
    assert len(history.flag_history(eng, "999", Term.parse("2025-26-spring"))) == 1


def _academy(urn: int, **kw) -> dict:
    return gias(urn, is_academy=True, is_la_maintained=False, type_group="Academies", type="Academy converter",
                trust="Fenland Learning Trust", **kw)


def test_academy_route_follows_the_history():
    intel = [flag(URN, "exclusions", "medium", raised=date(2025, 9, 10))]
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": intel}, {})
    row = out.academy_concerns.iloc[0]
    assert (row["concerns"], row["next_step"]) == ("AC-3", "academy_meeting") and out.letters.empty
    log = [letter(URN, "academy_meeting", date(2025, 6, 10), concern="AC-3")]
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": intel, "letters_log": log}, {})
    assert out.academy_concerns.iloc[0]["next_step"] == "academy_formal_letter"
    log.append(letter(URN, "academy_formal_letter", date(2025, 7, 1), concern="AC-3"))
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": intel, "letters_log": log}, {})
    row = out.academy_concerns.iloc[0]
    assert row["next_step"] == "academy_escalation"
    # The ESFA closed in March 2025; Regional Schools Commissioners became DfE Regional Directors.
    assert "Department for Education" in row["escalate_to"] and "Regional Director" in row["escalate_to"]
    assert "Education and Skills Funding Agency" not in row["escalate_to"]


def test_academy_safeguarding_is_routed_to_trust_region_and_ofsted_when_it_raised_it():
    out, _ = _flag({"gias": [_academy(URN)], "ofsted": [ofsted(URN, oeif_safeguarding_effective="No")]}, {})
    route = out.academy_concerns.iloc[0]["safeguarding_route"]
    assert "Fenland Learning Trust" in route and "Regional Director" in route and "Ofsted" in route


def test_whistleblowing_is_redirected_to_the_body_of_the_day():
    assert "Department for Education" in whistleblowing_redirect(RULES, date(2025, 9, 3))
    assert "Education and Skills Funding Agency" in whistleblowing_redirect(RULES, date(2023, 9, 3))


def test_member_alerts_for_high_support_and_letter_schools_hold_nothing_confidential():
    members = [{"ward": "Northgate", "member_name": "Cllr A. Member", "party": "Independent", "email": "a@example.org"},
               {"ward": "Northgate", "member_name": "Cllr B. Member", "party": "Green", "email": "b@example.org"},
               {"ward": "Southgate", "member_name": "Cllr C. Member", "party": "Labour", "email": "c@example.org"}]
    secret = "MARKER-SAFEGUARDING-DETAIL"
    kinds = {"gias": [gias(URN), gias(URN + 1, ward="Southgate")], "ward_members": members,
             "la_intelligence": [flag(URN, "safeguarding", "high", detail=secret)]}
    out, table = _flag(kinds, {})
    assert table.set_index("urn").loc[URN, "category"] == "high"
    alerts = out.member_alerts
    assert sorted(alerts["member_name"]) == ["Cllr A. Member", "Cllr B. Member"]
    assert set(alerts["urn"]) == {URN}
    assert secret not in alerts.to_csv() and "high level of support" in alerts.iloc[0]["reason"]


def test_a_declining_trend_needs_the_risk_assessment_to_confirm_it():
    declining = ks2(URN, rwm_exp=55.0, rwm_exp_prev1=60.0, rwm_exp_prev2=66.0)
    strong = [judgement(URN, c) for c in ("LM-L1", "LM-L2", "QE-L1", "QE-L2", "BA-L2", "PD-L1")]
    out, table = _flag({"gias": [gias(URN)], "ks2": [declining], "adviser_judgements": strong}, {})
    assert table.iloc[0]["category"] == "low" and out.letters.empty
    out, table = _flag({"gias": [gias(URN)], "ks2": [declining]}, {})
    assert table.iloc[0]["category"] == "medium" and out.letters.iloc[0]["indicators"] == "SCL-1"


def test_the_letters_log_term_decides_which_term_a_letter_belongs_to():
    kinds = {"gias": [gias(URN)], "la_intelligence": [flag(URN, "finance", "medium", raised=date(2025, 9, 10))]}
    early = letter(URN, "significant_concerns_letter", date(2025, 8, 29), "SCL-3")  # in the holiday, by date summer
    kinds["letters_log"] = [early]
    out, _ = _flag(kinds, {})
    assert not out.letters.empty  # by its date, an earlier term's letter: not "already issued this term"
    kinds["letters_log"] = [{**early, "term": "2025-26-autumn"}]  # the log says it was this term's
    out, _ = _flag(kinds, {})
    assert out.letters.empty


def test_academy_absence_evidence_is_said_once():
    """AC-2 rests on several absence tests that read the same figures: the evidence says them once, not per test."""
    out, _ = _flag({"gias": [_academy(URN)], "absence": [absence(URN, overall_absence=9.5, persistent_absence=35.0)]}, {})
    row = out.academy_concerns.iloc[0]
    ac2 = next(i for i in RULES.academy_concerns.indicators if len(i.evidence) > 1
               and all(e.indicator and "absence" in e.indicator or e.indicator and "attendance" in e.indicator
                       for e in i.evidence))
    assert ac2.id in row["concerns"]
    for col in ("evidence", "evidence_general"):
        assert row[col].count("overall absence 9.5%") == 1, row[col]


# Found running a school year of real-Surrey terms in a row, the letters log fed back each term (helper U, s20):
# the ladder's steps are taken on evidence after the letter before them, and a step taken is not drafted again.
SW_RISK = flag(URN, "sw_sm_risk", "high", raised=date(2025, 9, 10))
LADDER_LOG = [letter(URN, "significant_concerns_letter", date(2025, 6, 1), "SCL-9"),
              letter(URN, "warning_notice", date(2025, 10, 6), "WN-5")]


def test_significant_concerns_is_not_flagged_on_what_the_warning_notice_was_issued_on():
    """The Warning Notice was issued (autumn) on the risk of special measures; in spring nothing newer: neither the
    formal Significant Concerns (whose SC-1 reads the same flag) nor the Warning Notice again."""
    kinds = {"gias": [gias(URN)], "la_intelligence": [SW_RISK], "letters_log": LADDER_LOG}
    out, _ = _flag(kinds, {}, "2025-26-spring", as_of=date(2026, 1, 27))
    assert out.letters.empty, out.letters[["letter", "indicators", "escalation_note"]].to_dict("records")
    # A new concern after the Warning Notice: the formal step is due, on that concern alone.
    kinds["la_intelligence"] = [SW_RISK, flag(URN, "ri_monitoring_insufficient_progress", "high",
                                              raised=date(2026, 1, 12))]
    out, _ = _flag(kinds, {}, "2025-26-spring", as_of=date(2026, 1, 27))
    assert list(out.letters["letter"]) == ["significant_concerns"]
    assert list(out.letters["indicators"]) == ["SC-2"]


def test_significant_concerns_already_sent_is_not_drafted_again_on_the_same_evidence():
    """Sent in spring on a flag raised after the Warning Notice; in summer, with nothing newer, neither the formal step
    (the escalation from the Warning Notice rests on evidence the formal letter was written on) nor the Warning Notice
    again (its WN-6 reads that flag too) is due."""
    ri_slow = flag(URN, "ri_monitoring_insufficient_progress", "high", raised=date(2026, 1, 12))
    log = LADDER_LOG + [letter(URN, "significant_concerns", date(2026, 2, 2), "SC-2")]
    kinds = {"gias": [gias(URN)], "la_intelligence": [SW_RISK, ri_slow], "letters_log": log,
             "adviser_judgements": [judgement(URN, "LM-H2", visit=date(2026, 1, 20)),
                                    judgement(URN, "QE-H5", visit=date(2026, 1, 20))]}
    out, table = _flag(kinds, {}, "2025-26-summer", as_of=date(2026, 5, 5))
    assert table.iloc[0]["category"] == "high"  # concerns remain, on evidence older than the letter
    assert out.letters.empty, out.letters[["letter", "indicators", "escalation_note"]].to_dict("records")
    # Evidence newer than the formal letter: due again.
    kinds["adviser_judgements"].append(judgement(URN, "LM-H7", visit=date(2026, 4, 28)))
    out, _ = _flag(kinds, {}, "2025-26-summer", as_of=date(2026, 5, 5))
    assert list(out.letters["letter"]) == ["significant_concerns"]


@pytest.mark.parametrize("concern", ["SCL-3 finances", "SCL-3: deficit budget", "Deficit budget not recovering", ""])
def test_a_letter_sent_this_term_is_not_flagged_again_whatever_words_the_log_adds(concern):
    """docs/LA_FEEDS.md: `concern` names the concerns "with their indicator ids where known (e.g. `SCL-3 finances`)"."""
    kinds = {"gias": [gias(URN)], "la_intelligence": [flag(URN, "finance", "medium", raised=date(2025, 9, 10))],
             "letters_log": [letter(URN, "significant_concerns_letter", date(2025, 9, 20), concern)]}
    out, _ = _flag(kinds, {})
    assert out.letters.empty


def test_a_letter_sent_this_term_for_another_concern_leaves_the_new_one_due():
    kinds = {"gias": [gias(URN)], "la_intelligence": [flag(URN, "finance", "medium", raised=date(2025, 9, 10))],
             "letters_log": [letter(URN, "significant_concerns_letter", date(2025, 9, 20), "SCL-5 governance")]}
    out, _ = _flag(kinds, {})
    assert list(out.letters["indicators"]) == ["SCL-3"]


def test_ward_members_are_not_told_again_each_term_for_the_same_thing(tmp_path):
    """Trial of real-Surrey terms in a row (helper U, s20): a school at high support from the first term was in every
    term's member_alerts.csv with nothing to say its members had been told. Now the row names the term they were
    first told; a new reason (a letter issued) is news again; the rule set may tell them each term."""
    eng = history.engine_for(f"sqlite:///{tmp_path / 'h.sqlite'}")
    members = [{"ward": "Northgate", "member_name": "Cllr A. Member", "party": "Independent", "email": "a@example.org"}]

    def term(name: str, log=(), rules=RULES) -> pd.DataFrame:
        t = Term.parse(name)
        safeguarding = flag(URN, "safeguarding", "high", raised=t.dates()[0])  # raised again each term
        data = term_data(name, gias=[gias(URN)], ward_members=members, la_intelligence=[safeguarding],
                         letters_log=list(log))
        prev = history.previous(eng, "999", t)
        table = categorise(data, rules, prev).table
        history.record_term(eng, "999", t, "r", rules.id, {}, table, pd.DataFrame(columns=["urn"]), {})
        out = flag_letters(data, rules, table, prev, t.reference_date, told=history.members_told(eng, "999", t))
        history.record_flags(eng, "999", t, "r", out.letters, "letter")
        told = out.member_alerts.drop_duplicates("urn").rename(columns={"reason": "indicators", "told_in": "evidence"})
        history.record_flags(eng, "999", t, "r", told.assign(alert="member_alert"), "alert")
        history.record_flags(eng, "999", t, "r", out.academy_concerns, "next_step")  # leaves the alerts alone
        return out.member_alerts

    first = term("2025-26-autumn")
    assert list(first["reason"]) == ["high level of support"] and list(first["told_in"]) == [""]
    again = term("2025-26-spring")
    assert list(again["reason"]) == ["high level of support"] and list(again["told_in"]) == ["2025-26-autumn"]
    assert list(term("2025-26-summer")["told_in"]) == ["2025-26-autumn"]  # first told then, not last term
    # A letter issued since: news, told again with it.
    log = [letter(URN, "significant_concerns_letter", date(2026, 9, 10), "SCL-2")]
    news = term("2026-27-autumn", log)
    assert "Significant Concerns letter issued 2026-09-10" in news.iloc[0]["reason"]
    assert list(news["told_in"]) == [""]
    assert list(term("2026-27-spring", log)["told_in"]) == ["2026-27-autumn"]
    # A reading that tells members every term.
    each = RULES.model_copy(update={"member_alerts": RULES.member_alerts.model_copy(update={"again_each_term": True})})
    assert list(term("2026-27-summer", log, each)["told_in"]) == [""]


def test_an_academy_met_last_term_with_nothing_newer_is_said_open_not_dropped():
    """Trial of real-Surrey terms in a row (helper U, s20): an academy whose CEO the Director met in autumn, its
    concerns resting on results older than the meeting, was in no output of spring: not an academy of concern (right:
    no step is due), and no word that its route was open."""
    intel = [flag(URN, "exclusions", "medium", raised=date(2025, 5, 10))]
    log = [letter(URN, "academy_meeting", date(2025, 6, 10), concern="AC-3 exclusions")]
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": intel, "letters_log": log}, {})
    assert out.academy_concerns.empty
    assert [p.check for p in out.problems] == ["academy_route_open"] and out.problems[0].severity == "info"
    assert f"(URN {URN})" in out.problems[0].message and "AC-3: academy meeting on 10 June 2025" in out.problems[0].message
    # Resolved: nothing to say, and the concern is not raised again on what was resolved; raised again on newer
    # evidence, it starts with a meeting.
    resolved = log + [letter(URN, "academy_concern_resolved", date(2025, 7, 1), concern="AC-3")]
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": intel, "letters_log": resolved}, {})
    assert out.problems == [] and out.academy_concerns.empty
    again = intel + [flag(URN, "exclusions", "high", raised=date(2025, 9, 12))]
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": again, "letters_log": resolved}, {})
    assert out.problems == [] and list(out.academy_concerns["next_step"]) == ["academy_meeting"]
    newer = intel + [flag(URN, "exclusions", "high", raised=date(2025, 9, 12))]
    out, _ = _flag({"gias": [_academy(URN)], "la_intelligence": newer, "letters_log": log}, {})
    assert out.problems == [] and list(out.academy_concerns["next_step"]) == ["academy_formal_letter"]


def test_an_inspection_from_before_the_letter_does_not_escalate_it_again():
    """Read in the code during the trial (helper U, s20; real Surrey's Ofsted file holds none of its schools): Ofsted
    evidence counted as newer than any letter, whatever the inspection's date, so the Warning Notice's own inspection
    made the formal Significant Concerns due, and due again every term after it was sent."""
    log = LADDER_LOG[:1] + [letter(URN, "warning_notice", date(2025, 10, 6), "WN-5")]
    # The shipped SC-1 no longer reads Ofsted (a school judged Inadequate is in a category, not at risk of one): a
    # reading whose formal step does, to test how Ofsted evidence is dated against the letters.
    rules = RULES.model_copy(deep=True)
    rules.letters["significant_concerns"].indicators[0].evidence.append(Evidence(indicator="ofsted_inadequate"))
    # Inadequate is a category of concern (s24), which alone keeps the school at high and so escalates the notice
    # ("concerns remain") whatever the inspection's date: without that overriding condition, the date is what decides.
    rules.overriding.conditions = [c for c in rules.overriding.conditions if c.indicator != "ofsted_category_of_concern"]

    def spring(inspected: date, log=log, term="2025-26-spring", as_of=date(2026, 1, 27)):
        out, _ = _flag({"gias": [gias(URN)], "ofsted": [ofsted(URN, oeif_overall=4, oeif_date=inspected)],
                        "letters_log": log}, {}, term, rules=rules, as_of=as_of)
        return list(out.letters["letter"])

    assert spring(date(2025, 9, 15)) == []  # the inspection the notice was issued on
    assert spring(date(2025, 12, 1)) == ["significant_concerns"]  # inadequate again, after the notice
    sent = log + [letter(URN, "significant_concerns", date(2026, 2, 2), "SC-1")]
    assert spring(date(2025, 12, 1), sent, "2025-26-summer", date(2026, 5, 5)) == []
    assert spring(date(2026, 4, 20), sent, "2025-26-summer", date(2026, 5, 5)) == ["significant_concerns"]
