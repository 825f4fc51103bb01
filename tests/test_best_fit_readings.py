"""Readings of "best fit" an adviser may take, as rule-set data (helper F's trial of unseen readings).

The Strategy: the criteria "are 'best fit', i.e., a school does not have to meet all bullet points listed to be
judged in any one category". It does not say how many bullets make a level, nor how the four areas make one level.
A rule set says both (`best_fit.min_bullets`, `min_share`, `combine_areas`); left out, today's reading stands: one
bullet met is enough, and the school is the mean of its areas.
"""

from __future__ import annotations

import pytest

from school_improvement.decisions.categorise import CriterionResult, best_fit
from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set, load_rule_set_arg

BASE = load_rule_set("cambs-2021-23")


def _results(met: dict[tuple[str, str], int]) -> list[CriterionResult]:
    """Every criterion of the rule set, the first n of each (area, level) met."""
    out, seen = [], {}
    for c in BASE.criteria:
        k = (c.area, c.level)
        seen[k] = seen.get(k, 0) + 1
        out.append(CriterionResult(c.id, c.area, c.level, c.wording, seen[k] <= met.get(k, 0)))
    return out


def _with(**best_fit_keys):
    return BASE.model_copy(update={"best_fit": BASE.best_fit.model_copy(update=best_fit_keys)})


# Leadership: 2 of 9 high bullets met, 1 medium; quality of education: 3 low bullets; behaviour: 1 medium.
SCHOOL = {("leadership_management", "high"): 2, ("leadership_management", "medium"): 1,
          ("quality_of_education", "low"): 3, ("behaviour_attitudes", "medium"): 1}


def test_by_default_one_bullet_makes_a_level_and_the_school_is_the_mean_of_its_areas():
    level, areas, _ = best_fit(_results(SCHOOL), BASE)
    assert areas == {"leadership_management": "high", "quality_of_education": "low",
                     "behaviour_attitudes": "medium", "personal_development": None}
    assert level == "medium"  # (3 + 1 + 2) / 3 = 2


def test_a_level_can_need_half_of_its_bullets():
    """The strict reading: "most bullets" of a level in an area. 2 of 9 high bullets do not make leadership high;
    its one medium bullet (1 of 5) does not reach half either, so leadership is not judged, and says why."""
    rules = _with(min_share={"high": 0.5, "medium": 0.5})
    level, areas, borderline = best_fit(_results(SCHOOL), rules)
    assert areas["leadership_management"] is None and areas["behaviour_attitudes"] is None
    assert areas["quality_of_education"] == "low" and level == "low"
    assert any("2 of 9 high bullet(s) met" in b and "at least 50% of them" in b for b in borderline), borderline


def test_a_level_can_need_two_bullets():
    rules = _with(min_bullets={"high": 2})
    _, areas, _ = best_fit(_results({("leadership_management", "high"): 1, ("leadership_management", "medium"): 1}), rules)
    assert areas["leadership_management"] == "medium"  # one high bullet is not enough; the medium one places it
    _, areas, _ = best_fit(_results({("leadership_management", "high"): 2}), rules)
    assert areas["leadership_management"] == "high"


def test_the_school_can_be_at_its_area_of_most_support():
    level, _, _ = best_fit(_results(SCHOOL), _with(combine_areas="most_support"))
    assert level == "high"


@pytest.mark.parametrize("body, says", [
    ("best_fit: {min_share: {hihg: 0.5}}\n", "level 'hihg' is not one of this rule set's levels"),
    ("best_fit: {min_share: {high: 50}}\n", "is not a share between 0 and 1"),
    ("best_fit: {min_bullets: {high: 0}}\n", "is below 1"),
    ("best_fit: {combine_areas: worst}\n", "best_fit.combine_areas"),
])
def test_a_best_fit_reading_with_a_mistake_is_refused(tmp_path, body, says):
    said = _refused(tmp_path, body, r"line 5")
    assert says in said, said


def _refused(tmp_path, body: str, line: str) -> str:
    """A draft extending the shipped rule set with `body` after its four header lines: the error, naming `line`."""
    path = tmp_path / "cambs-reading.yaml"
    path.write_text("id: cambs-reading\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n" + body,
                    encoding="utf-8")
    with pytest.raises(RulesError, match=line) as err:
        load_rule_set_arg(str(path))
    return str(err.value)


def test_a_reading_written_as_the_readme_says_loads_and_is_applied(tmp_path):
    path = tmp_path / "cambs-strict.yaml"
    path.write_text("id: cambs-strict\ntitle: Strict\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    "best_fit: {min_share: {high: 0.5}, combine_areas: most_support}\n", encoding="utf-8")
    rs = load_rule_set_arg(str(path))
    assert rs.best_fit.min_share == {"high": 0.5} and rs.best_fit.combine_areas == "most_support"
    assert rs.best_fit.area_ties == BASE.best_fit.area_ties  # the rest of best_fit is the parent's


def test_an_area_can_weigh_more_in_the_mean():
    """The peer review's emphasis on outcomes: quality of education counted twice. Leadership high (3), quality of
    education and behaviour low (1): a mean of 5/3, medium; with quality of education weighed twice,
    (3 + 2 + 1) / 4 = 1.5, halfway, which the rule set's tie rule (less support) sends to low."""
    school = {("leadership_management", "high"): 1, ("quality_of_education", "low"): 1,
              ("behaviour_attitudes", "low"): 1}
    assert best_fit(_results(school), BASE)[0] == "medium"  # (3 + 1 + 1) / 3
    level, _, borderline = best_fit(_results(school), _with(area_weights={"quality_of_education": 2.0}))
    assert level == "low" and any("(1.50) is halfway between low and medium" in b for b in borderline), borderline


@pytest.mark.parametrize("body, says", [
    ("best_fit: {area_weights: {quality_of_educaton: 2}}\n", "best_fit.area_weights names 'quality_of_educaton'"),
    ("best_fit: {area_weights: {quality_of_education: 0}}\n", "is not above 0"),
    ("member_alerts: {letters_flagged: [warning_notise]}\n", "member_alerts.letters_flagged"),
    ("best_fit: {combine_areas: most_support, area_weights: {quality_of_education: 2}}\n", "there is no mean"),
    ("member_alerts: {letters_flagged: [congratulations]}\n", "is a recognition letter"),
    ("concerns_remain: {letters_met: [congratulations]}\n", "its indicators are not concerns"),
    ("letters:\n  significant_concerns:\n    title: SC\n    requires_escalation: true\n    indicators: [{id: SC-1, "
     "wording: w, evidence: [{indicator: ofsted_inadequate}]}]\n", "requires_escalation without escalates_from"),
])
def test_a_weighting_or_alert_reading_with_a_mistake_is_refused(tmp_path, body, says):
    said = _refused(tmp_path, body, r"line [5-8]")
    assert says in said, said


def test_members_can_be_alerted_for_a_letter_flagged_not_only_issued():
    """"Elected Members are alerted if a school in their ward is causing significant concern": the shipped reading
    alerts for a letter issued (in the letters log); another reading alerts when a Warning Notice is due."""
    from datetime import date

    from factories import flag, gias, letter, term_data
    from school_improvement.decisions.categorise import categorise
    from school_improvement.decisions.letters import flag_letters

    urn = 990701
    # A Significant Concerns letter issued last year, and a new concern this term: the Warning Notice is due.
    data = term_data(gias=[gias(urn)], letters_log=[letter(urn, "significant_concerns_letter", date(2025, 3, 10))],
                     la_intelligence=[flag(urn, "leaders_not_acting", "high"), flag(urn, "finance", "high")])
    flagged = BASE.model_copy(update={"member_alerts": BASE.member_alerts.model_copy(
        update={"letters_flagged": ["warning_notice"], "categories": []})})
    for rules, alerted in ((BASE.model_copy(update={"member_alerts": BASE.member_alerts.model_copy(
            update={"categories": []})}), False), (flagged, True)):
        cat = categorise(data, rules).table
        out = flag_letters(data, rules, cat, {}, date(2025, 9, 24))
        assert list(out.letters["letter"]) == ["warning_notice"], out.letters
        assert (urn in set(out.member_alerts["urn"])) is alerted
        if alerted:
            assert "Warning Notice due this term (flagged)" in out.member_alerts.iloc[0]["reason"]


ALL_OF_HEAD = "id: cambs-confirmed\ntitle: Data confirmed by the adviser\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
# "Attainment is declining (See data)" at high only when the adviser confirms it on a visit (QE-H5 judged met).
CONFIRMED = ("criteria_replace:\n  - {id: QE-H7, area: quality_of_education, level: high, wording: \"Attainment is "
             "declining (See data)\", evidence: [{all_of: [{indicator: attainment_declining_sharply}, "
             "{adviser: QE-H5}]}]}\n")


def test_evidence_can_need_the_data_and_the_advisers_confirmation(tmp_path):
    from factories import gias, judgement, ks2, term_data
    from school_improvement.decisions.categorise import categorise

    path = tmp_path / "cambs-confirmed.yaml"
    path.write_text(ALL_OF_HEAD + CONFIRMED, encoding="utf-8")
    rules = load_rule_set_arg(str(path))
    urn = 990801
    falling = ks2(urn, rwm_exp=40.0, rwm_exp_prev1=48.0, rwm_exp_prev2=55.0)  # down 15 points, well below 61%

    def qe_h7(*judgements):
        data = term_data(gias=[gias(urn)], ks2=[falling], adviser_judgements=list(judgements))
        cat = categorise(data, rules)
        row = cat.evidence[(cat.evidence["criterion_id"] == "QE-H7")].iloc[0]
        return row["met"], row["measure"], row["reason"]
    met, measure, reason = qe_h7()
    assert met is None and measure == "data: attainment_declining_sharply + adviser: QE-H5"
    assert "no current adviser judgement" in reason
    assert qe_h7(judgement(urn, "QE-H5", met=True))[0] is True
    assert qe_h7(judgement(urn, "QE-H5", met=False))[0] is False
    assert "QE-H7" in categorise(term_data(gias=[gias(urn)], ks2=[falling]), BASE).table.iloc[0]["criteria_met"]


@pytest.mark.parametrize("body, says", [
    (CONFIRMED.replace("attainment_declining_sharply", "attainment_declining_sharp"),
     "criteria[35] (QE-H7).evidence[0].all_of[0].indicator: unknown indicator 'attainment_declining_sharp'"),
    (CONFIRMED.replace("{adviser: QE-H5}", "{adviser: QE-H55}"), "adviser judgement on unknown criterion 'QE-H55'"),
    (CONFIRMED.replace("{adviser: QE-H5}", "{indicator: disadvantaged_below_national_other}"),
     "'disadvantaged_below_points' is missing"),
])
def test_a_mistake_inside_all_of_is_refused(tmp_path, body, says):
    path = tmp_path / "cambs-confirmed.yaml"
    path.write_text(ALL_OF_HEAD + body, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    assert says in str(err.value), str(err.value)


def test_an_overriding_condition_can_place_at_its_own_level(tmp_path):
    """"Substantive leadership (HT or governance) is not in place" read as a reason for medium support (an interim
    head may be sound), safeguarding and a category of concern still at high."""
    from factories import flag, gias, judgement, term_data
    from school_improvement.decisions.categorise import categorise

    path = tmp_path / "cambs-leadership.yaml"
    path.write_text(
        "id: cambs-leadership\ntitle: t\nextends: cambs-2021-23\nreview_by: 2026-08-31\noverriding:\n  places_at: high\n"
        "  conditions:\n"
        "    - {id: OV-LEADERSHIP, wording: \"Substantive leadership (HT or governance) is not in place\", "
        "criteria: [LM-H8], places_at: medium}\n"
        "    - {id: OV-SAFEGUARDING, wording: \"Safeguarding statutory requirements are not met\", criteria: [LM-H1]}\n",
        encoding="utf-8")
    rules = load_rule_set_arg(str(path))
    urn = 990901
    good = [judgement(urn, c) for c in ("LM-L2", "LM-L3", "QE-L1", "QE-L2", "BA-L2", "BA-L3")]
    leaderless = term_data(gias=[gias(urn)], adviser_judgements=good,
                           la_intelligence=[flag(urn, "no_substantive_leadership", "medium")])
    row = categorise(leaderless, rules).table.iloc[0]
    assert (row["best_fit_category"], row["category"], row["overriding_condition"]) == ("low", "medium", "OV-LEADERSHIP")
    assert categorise(leaderless, BASE).table.iloc[0]["category"] == "high"
    # Both conditions met: the one that places at more support decides, whatever the order.
    both = term_data(gias=[gias(urn)], adviser_judgements=good + [judgement(urn, "LM-H1")],
                     la_intelligence=[flag(urn, "no_substantive_leadership", "medium")])
    row = categorise(both, rules).table.iloc[0]
    assert (row["category"], row["overriding_condition"]) == ("high", "OV-SAFEGUARDING")
    # The same draft edited in the same process: read again, not served from the cache.
    path.write_text(path.read_text().replace("places_at: medium}", "places_at: meduim}"), encoding="utf-8")
    with pytest.raises(RulesError, match=r"line 8: overriding.conditions\[0\] \(OV-LEADERSHIP\).places_at: level 'meduim'"):
        load_rule_set_arg(str(path))
