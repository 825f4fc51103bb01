"""Letters say only what is true of the school and give their actions in date order (new-user trial, s22)."""

from __future__ import annotations

from datetime import date

import pytest

from factories import gias, letter, ofsted, term_data
from school_improvement.decisions.categorise import categorise
from school_improvement.decisions.letters import flag_letters
from school_improvement.rules import load_rule_set

URN = 990301


@pytest.mark.parametrize("rule_set", ["cambs-2021-23", "cambs-2025-report-cards"])
def test_a_school_already_in_special_measures_is_not_told_it_is_at_risk_of_them(rule_set):
    """The demo's Warning Notice told a school in special measures it "is at risk of being put in Serious Weaknesses
    or Special Measures" (WN-5, on its Inadequate judgement): the risk is not evidence of the category itself."""
    rules = load_rule_set(rule_set)
    data = term_data("2025-26-autumn", gias=[gias(URN)],
                     ofsted=[ofsted(URN, oeif_overall=4, oeif_date=date(2025, 9, 10),
                                    oeif_category_of_concern="Special Measures")],
                     letters_log=[letter(URN, "significant_concerns_letter", date(2025, 6, 1), "SCL-9")])
    table = categorise(data, rules, {}).table
    assert table.iloc[0]["category"] == "high"  # LM-H5: "has been judged ... Special Measures"
    out = flag_letters(data, rules, table, {}, date(2025, 9, 24))
    cited = "; ".join(out.letters["indicators"]) if not out.letters.empty else ""
    risk = [i.id for r in rules.letters.values() for i in r.indicators if "at risk of being put" in i.wording]
    assert risk and not any(i in cited.split("; ") for i in risk), cited


@pytest.mark.parametrize("rule_set", ["cambs-2021-23", "cambs-2025-report-cards", "northmoor-2024-27"])
def test_no_shipped_indicator_of_a_risk_of_a_category_rests_on_the_category_itself(rule_set):
    rules = load_rule_set(rule_set)
    for r in rules.letters.values():
        for i in r.indicators:
            if "risk" in i.wording.lower() and ("special measures" in i.wording.lower()
                                                or "category of concern" in i.wording.lower()):
                assert "ofsted_inadequate" not in {e.indicator for e in i.evidence}, (rule_set, i.id)
