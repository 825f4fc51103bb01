"""Readings of the Strategy's data bullets an adviser may take, as rule-set data (helper F's trial).

Progress: a reading that judges achievement by progress, not attainment.

"Pupils ... achieve well", "persistent concerns about achievement ... in one or more key stages", "attainment/
progress gaps": an adviser may read these as progress. The shipped rule set judges attainment and reports progress
beside it; a rule set may name `progress_significantly_below` / `progress_significantly_above` instead or as well.
"""

from __future__ import annotations

import pytest

from factories import gias, ks2, term_data
from school_improvement.decisions.categorise import categorise
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.rules import load_rule_set, load_rule_set_arg

RULES = load_rule_set("cambs-2021-23")
URN = 990601
# Attainment at national (61%), writing progress significantly below average.
WRITING_BELOW = dict(rwm_exp=61.0, read_prog=0.5, read_prog_lower=-1.0, read_prog_upper=2.0, writ_prog=-3.0,
                     writ_prog_lower=-5.0, writ_prog_upper=-1.0, mat_prog=0.2, mat_prog_lower=-1.2, mat_prog_upper=1.6)
ALL_ABOVE = dict(rwm_exp=61.0, read_prog=2.5, read_prog_lower=0.5, read_prog_upper=4.5, writ_prog=1.5,
                 writ_prog_lower=0.2, writ_prog_upper=2.8, mat_prog=2.0, mat_prog_lower=0.3, mat_prog_upper=3.7)


def _ind(row, rules=RULES):
    return SchoolIndicators(URN, term_data(gias=[gias(URN)], ks2=[row]), rules)


def test_progress_indicators_read_the_confidence_intervals():
    below = _ind(ks2(URN, **WRITING_BELOW))
    assert below.get("progress_significantly_below").met is True
    assert below.get("progress_significantly_above").met is False
    above = _ind(ks2(URN, **ALL_ABOVE))
    assert above.get("progress_significantly_below").met is False
    assert above.get("progress_significantly_above").met is True
    unpublished = _ind(ks2(URN, rwm_exp=61.0)).get("progress_significantly_below")
    assert unpublished.met is None and "progress not published" in unpublished.reason


def test_a_progress_reading_written_as_data_moves_the_school(tmp_path):
    path = tmp_path / "cambs-progress.yaml"
    path.write_text(
        "id: cambs-progress\ntitle: Progress reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
        "criteria_replace:\n"
        "  - {id: QE-H6, area: quality_of_education, level: high, wording: \"Attainment is consistently below national "
        "averages at the end of each Key Stage\", evidence: [{indicator: attainment_consistently_below}, "
        "{indicator: progress_significantly_below}]}\n", encoding="utf-8")
    reading = load_rule_set_arg(str(path))
    data = term_data(gias=[gias(URN)], ks2=[ks2(URN, **WRITING_BELOW)])
    base, alt = categorise(data, RULES).table.iloc[0], categorise(data, reading).table.iloc[0]
    assert "QE-H6" not in base["criteria_met"].split("; ") and "QE-H6" in alt["criteria_met"].split("; ")
    assert alt["category"] == "high" and base["category"] != "high"


def test_disadvantaged_pupils_own_results_against_national_are_indicators():
    """The peer review's reading: the group's own results. National (factories): disadvantaged 46%, others 68%."""
    from factories import feed

    rules = RULES.model_copy(update={"thresholds": {**RULES.thresholds, "disadvantaged_below_points": 5.0}})
    low = _ind(ks2(URN, rwm_exp_disadv=38.0, rwm_exp_other=60.0), rules)
    f = low.get("disadvantaged_below_national_disadvantaged")
    assert f.met is True and "disadvantaged pupils 38.0%" in f.value and "disadvantaged pupils 46.0%" in f.comparator
    assert low.get("disadvantaged_below_national_other").met is True  # 38 < 68 - 5
    close = _ind(ks2(URN, rwm_exp_disadv=44.0, rwm_exp_other=60.0), rules)
    assert close.get("disadvantaged_below_national_disadvantaged").met is False  # 44 is within 5 of 46
    assert close.get("disadvantaged_below_national_other").met is True
    small = _ind(ks2(URN, rwm_exp_disadv=10.0, disadv_cohort=4), rules).get("disadvantaged_below_national_other")
    assert small.met is None and "small disadvantaged cohort" in small.reason
    # KS4: Attainment 8 of disadvantaged pupils against the national figure.
    ks4 = feed("ks4", [{"urn": URN, "cohort": 100, "att8": 40.0, "att8_disadv": 28.0, "att8_other": 45.0}],
               [{"level": "national", "la_code": None, "phase": None, "att8": 46.5, "att8_disadv": 35.0, "att8_other": 50.0}])
    k = SchoolIndicators(URN, term_data(gias=[gias(URN)], ks4=ks4), rules).get("disadvantaged_below_national_disadvantaged")
    assert k.met is True and "KS4 Attainment 8" in k.value


def test_a_reading_naming_them_needs_its_threshold(tmp_path):
    body = ("letters_replace:\n  significant_concerns_letter:\n    - {id: SCL-8, wording: w, evidence: "
            "[{indicator: disadvantaged_gap_persistently_wide}, {indicator: disadvantaged_below_national_other}]}\n")
    path = tmp_path / "cambs-dis.yaml"
    head = "id: cambs-dis\ntitle: t\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
    path.write_text(head + body, encoding="utf-8")
    from school_improvement.errors import RulesError

    with pytest.raises(RulesError, match="'disadvantaged_below_points' is missing"):
        load_rule_set_arg(str(path))
    path.write_text(head + "thresholds: {disadvantaged_below_points: 10.0}\n" + body, encoding="utf-8")
    assert load_rule_set_arg(str(path)).threshold("disadvantaged_below_points") == 10.0


@pytest.mark.parametrize("years, below_once, below_twice, below_thrice", [
    (1, True, True, True),    # "consistently" read as this year's figure alone
    (2, None, True, True),    # the shipped reading: this year and the last (one year's figures: not judged)
    (3, None, False, True),   # three years running: KS2 holds three
])
def test_consistently_is_the_rule_sets_number_of_years(years, below_once, below_twice, below_thrice):
    rules = RULES.model_copy(update={"thresholds": {**RULES.thresholds, "consistently_years": years}})

    def met(**figures):
        return _ind(ks2(URN, **figures), rules).get(
            "attainment_consistently_below").met
    # National 61% (60% the year before): 45% is more than 10 points below.
    assert met(rwm_exp=45.0, rwm_exp_prev1=None, rwm_exp_prev2=None) is below_once
    assert met(rwm_exp=45.0, rwm_exp_prev1=44.0, rwm_exp_prev2=62.0) is below_twice
    assert met(rwm_exp=45.0, rwm_exp_prev1=44.0, rwm_exp_prev2=40.0) is below_thrice


def test_three_years_of_gaps_are_not_held_so_not_judged_and_a_bad_number_is_refused(tmp_path):
    from school_improvement.errors import RulesError

    rules = RULES.model_copy(update={"thresholds": {**RULES.thresholds, "consistently_years": 3}})
    wide = ks2(URN, rwm_exp_disadv=30.0, rwm_exp_other=75.0, rwm_exp_disadv_prev1=31.0, rwm_exp_other_prev1=76.0)
    f = _ind(wide, rules).get("disadvantaged_gap_persistently_wide")
    assert f.met is None and "3 years asked for by the rule set (consistently_years), the feeds hold 2" in f.reason
    assert _ind(wide).get("disadvantaged_gap_persistently_wide").met is True  # two years: wide both
    path = tmp_path / "cambs-years.yaml"
    path.write_text("id: cambs-years\ntitle: t\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    "thresholds: {consistently_years: 4}\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"line 5: thresholds.consistently_years: consistently_years is 1, 2 or 3"):
        load_rule_set_arg(str(path))
