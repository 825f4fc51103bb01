"""A second LA's scheme, written as YAML only (include/rules/northmoor-2024-27.yaml): four levels, other
thresholds, another letter ladder and other tie rules. The same code runs it; nothing here is Python policy."""

from __future__ import annotations

from datetime import date

import pytest

from factories import absence, decide, flag, gias, judgement, ks2, letter, ofsted, term_data
from school_improvement.decisions.categorise import visits_planned
from school_improvement.rules import load_rule_set, rule_set_for
from school_improvement.terms import Term

NM = load_rule_set("northmoor-2024-27")
LA = "990"
URN = 998001
TERM = "2025-26-autumn"


def _run(kinds: dict, hist: dict | None = None):
    kinds = {**kinds, "gias": [dict(r, la_code=LA) for r in kinds["gias"]]}
    data = term_data(TERM, la=LA, **kinds)
    cat, letters = decide(data, NM, hist, date(2025, 10, 6))
    return cat.table, letters


def test_the_second_la_gets_its_own_rule_set_and_everyone_else_keeps_the_seed():
    on = Term.parse(TERM).reference_date
    assert rule_set_for(on, la_code=LA).id == "northmoor-2024-27"
    assert rule_set_for(on, la_code="999").id == "cambs-2021-23"
    assert rule_set_for(on).id == "cambs-2021-23"
    assert NM.levels == ["universal", "targeted", "enhanced", "intensive"]
    assert NM.ladder() == ["notice_of_concern", "pre_warning_letter", "statutory_warning_notice"]


def test_four_levels_and_its_own_tie_rules():
    # Leadership universal (good Ofsted), attendance enhanced (persistent absence): mean 2.0 -> targeted.
    row = _run({"gias": [gias(URN)], "ofsted": [ofsted(URN, oeif_overall=2)],
                "absence": [absence(URN, overall_absence=5.6, persistent_absence=20.0)]})[0].iloc[0]
    assert row["category"] == "targeted" and row["rule_set"] == "northmoor-2024-27"
    # Universal and targeted areas: mean 1.5 is halfway -> more support here (targeted), shown as borderline.
    row = _run({"gias": [gias(URN)], "ofsted": [ofsted(URN, oeif_overall=2)],
                "ks2": [ks2(URN, rwm_exp=57.0)]})[0].iloc[0]
    assert row["category"] == "targeted" and "halfway between universal and targeted" in row["borderline"]
    # No evidence at all: this LA's default.
    assert _run({"gias": [gias(URN)]})[0].iloc[0]["category"] == "targeted"


def test_its_overriding_condition_places_at_intensive_with_its_visits():
    row = _run({"gias": [gias(URN)], "ofsted": [ofsted(URN, oeif_overall=2, oeif_safeguarding_effective="No")]}
               )[0].iloc[0]
    assert row["category"] == "intensive" and row["overriding_condition"] == "NM-OV1"
    assert visits_planned("intensive", Term.parse(TERM), NM)[:2] == (4, 2)
    assert visits_planned("universal", Term.parse(TERM), NM)[0] == 1  # annual, in the autumn


# validate (Great Expectations) or the decisions over a second LA's whole term: over test-fast's CPU budget
@pytest.mark.slow
def test_its_letter_ladder_and_member_alerts():
    members = [{"ward": "Northgate", "member_name": "Cllr N. Member", "party": "Independent", "email": "n@example.org"}]
    fin = [flag(URN, "finance", "medium")]
    table, out = _run({"gias": [gias(URN)], "la_intelligence": fin, "ward_members": members})
    assert list(out.letters["letter"]) == ["notice_of_concern"] and out.member_alerts.empty
    # A notice issued last term and concerns remain: the pre-warning letter is next.
    log = [letter(URN, "notice_of_concern", date(2025, 6, 1), concern="NM-C2")]
    table, out = _run({"gias": [gias(URN)], "la_intelligence": fin, "letters_log": log, "ward_members": members})
    assert list(out.letters["letter"]) == ["pre_warning_letter"]
    assert "Notice of concern issued 2025-06-01; concerns remain" in out.letters.iloc[0]["escalation_note"]
    # The statutory notice needs the pre-warning letter first; issued this term, members are told.
    log = [letter(URN, "pre_warning_letter", date(2025, 6, 1)), letter(URN, "statutory_warning_notice", date(2025, 9, 15))]
    risk = fin + [flag(URN, "sw_sm_risk", "high")]
    table, out = _run({"gias": [gias(URN)], "la_intelligence": risk, "letters_log": log, "ward_members": members})
    assert "Statutory warning notice issued 2025-09-15" in out.member_alerts.iloc[0]["reason"]


def test_its_recognition_letter():
    up = ks2(URN, rwm_exp=75.0, rwm_exp_prev1=62.0, rwm_exp_prev2=60.0)
    _, out = _run({"gias": [gias(URN)], "ks2": [up], "adviser_judgements": [judgement(URN, "NM-LM-U1")]})
    assert list(out.letters["letter"]) == ["letter_of_recognition"]


def test_a_moderation_decision_must_name_one_of_its_levels():
    import pytest

    from factories import feed
    from school_improvement.errors import FeedError

    mod = feed("moderation", [{"urn": URN, "term": TERM, "final_category": "medium", "reason": "panel",
                               "approved_by": "Head of School Effectiveness", "approved_on": date(2025, 10, 20)}],
               source="moderation_autumn.csv")
    with pytest.raises(FeedError) as err:
        _run({"gias": [gias(URN)], "moderation": mod})
    p = err.value.problems[0]
    assert (p.file, p.row, p.column) == ("moderation_autumn.csv", 2, "final_category")
    assert "not a level of rule set northmoor-2024-27" in p.message


def test_a_drafted_rule_set_with_a_typo_is_refused_naming_file_line_and_column(tmp_path):
    from school_improvement.errors import RulesError
    from school_improvement.rules import load_rule_set_arg

    draft = tmp_path / "surrey-draft.yaml"
    draft.write_text("id: surrey-draft\nextends: cambs-2021-23\nreview_by: 2027-08-31\nthresholds:\n"
                     "  small_cohort: [11\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"surrey-draft\.yaml: line \d+, column \d+: not valid YAML"):
        load_rule_set_arg(str(draft))
    draft.write_text("id: surrey-2026\nextends: cambs-2021-23\nreview_by: 2027-08-31\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"does not match the file name .*'surrey-draft'"):
        load_rule_set_arg(str(draft))
    draft.write_text("- a list, not a rule set\n", encoding="utf-8")
    with pytest.raises(RulesError, match="a rule set is a YAML mapping"):
        load_rule_set_arg(str(draft))


# validate (Great Expectations) or the decisions over a second LA's whole term: over test-fast's CPU budget
@pytest.mark.slow
def test_validate_judges_the_results_age_by_the_las_own_rule_set(tmp_path, monkeypatch):
    """The data-age check (which years of results should exist) reads the rule set in force for this LA, as
    categorise does: before, it read the seed's whatever the LA (found by helper D)."""
    from school_improvement import pipeline, rules
    from small_demo import small_demo

    small_demo(tmp_path / "landing", la_code=LA, terms=[TERM])
    cfg = pipeline.RunConfig(la_code=LA, term=TERM, landing=str(tmp_path / "landing"), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="age")
    pipeline.extract(cfg)
    asked, real = [], rules.rule_set_for
    monkeypatch.setattr(rules, "rule_set_for", lambda d, *a, **k: asked.append(real(d, *a, **k).id) or real(d, *a, **k))
    pipeline.validate(cfg)
    assert asked == ["northmoor-2024-27"]
