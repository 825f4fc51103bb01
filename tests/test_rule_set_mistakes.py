"""An LA's own reading of the Strategy, written as a rule set: a mistake in it is refused when it loads, naming the
file, the line and the key, never loaded and silently not applied (helper F's trial of unseen readings).

Each case is the shipped Cambridgeshire rule set (or a draft that `extends:` it, as the README tells an LA to write
one) with one mistake an adviser could make. Before this, every case below loaded: the reading was not applied,
or applied only in part, and nothing said so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from factories import absence, gias, ks2, term_data
from test_unseen_readings import _assert_refused
from school_improvement import RULES_DIR
from school_improvement.errors import RulesError
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.rules import load_rule_set, load_rule_set_arg

SHIPPED = (RULES_DIR / "cambs-2021-23.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _draft(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("id: cambs-2021-23", f"id: {name}", 1), encoding="utf-8")
    return path


def _edit(old: str, new: str) -> str:
    assert SHIPPED.count(old) >= 1, old
    return SHIPPED.replace(old, new, 1)


QE_M5 = "{id: QE-M5, area: quality_of_education, level: medium"
IN_LINE = "{indicator: attainment_broadly_in_line}"

# (case, edited text, the line the error must name (the text there), what the error must say)
FULL_COPY = [
    ("threshold-typo", _edit("  attainment_below_points: 10.0", "  attainment_below_pionts: 10.0"),
     "attainment_below_pionts", ["thresholds.attainment_below_pionts", "read by nothing",
                                 "did you mean 'attainment_below_points'"]),
    ("threshold-yes", _edit("attainment_below_points: 10.0", "attainment_below_points: yes"),
     "attainment_below_points: yes", ["thresholds.attainment_below_points", "is a number", "not True"]),
    ("threshold-negative", _edit("attainment_below_points: 10.0", "attainment_below_points: -10.0"),
     "attainment_below_points: -10.0", ["thresholds.attainment_below_points", "greater than or equal to 0"]),
    ("key-twice", _edit("  attainment_below_points: 10.0", "  attainment_below_points: 10.0\n  attainment_below_points: 3.0"),
     "attainment_below_points: 3.0", ["'attainment_below_points' is given twice", "first on line"]),
    ("empty-area", SHIPPED.replace("area: personal_development", "area: behaviour_attitudes"),
     "  personal_development: Personal", ["areas.personal_development", "has no criteria"]),
    ("no-evidence", _edit(f"evidence: [{IN_LINE}]", "evidence: []"),
     QE_M5, ["criteria[27] (QE-M5).evidence", "at least 1 item"]),
    ("with-category-on-a-criterion", _edit(IN_LINE, "{indicator: attainment_broadly_in_line, with_category: [high]}"),
     QE_M5, ["(QE-M5).evidence[0].with_category", "letter indicators only"]),
    ("window-on-an-indicator", _edit(IN_LINE, "{indicator: attainment_broadly_in_line, within_months: 6}"),
     QE_M5, ["(QE-M5).evidence[0]", "within_months applies to `intelligence:` evidence only"]),
    ("severity-on-an-indicator", _edit(IN_LINE, "{indicator: attainment_broadly_in_line, min_severity: high}"),
     QE_M5, ["(QE-M5).evidence[0]", "min_severity applies to `intelligence:` evidence only"]),
    ("severities-crossed", _edit("intelligence: [finance], min_severity: medium",
                                 "intelligence: [finance], min_severity: high, max_severity: low"),
     "{id: SCL-3", ["significant_concerns_letter.indicators[2] (SCL-3).evidence[0]", "no flag could ever meet it"]),
    ("count-above-flags", _edit("intelligence: [finance], min_severity: medium",
                                "intelligence: [finance], min_severity: medium, min_count: 2"),
     "{id: SCL-3", ["(SCL-3).evidence[0]", "min_count 2"]),
    ("with-category-on-an-academy", _edit("{id: AC-1, wording: \"declining trend in pupil performance\", evidence: "
                                          "[{indicator: attainment_declining}]}",
                                          "{id: AC-1, wording: \"declining trend in pupil performance\", evidence: "
                                          "[{indicator: attainment_declining, with_category: [high]}]}"),
     "{id: AC-1", ["academy_concerns.indicators[0] (AC-1).evidence[0].with_category", "would never count"]),
    ("indicator-typo", _edit(IN_LINE, "{indicator: attainment_broadly_inline}"),
     QE_M5, ["criteria[27] (QE-M5).evidence[0].indicator", "unknown indicator 'attainment_broadly_inline'",
             "did you mean 'attainment_broadly_in_line'"]),
    ("key-typo", _edit(IN_LINE, "{indicator: attainment_broadly_in_line, min_severty: high}"),
     QE_M5, ["(QE-M5).evidence[0].min_severty", "not a key a rule set has here"]),
    ("phase-typo", _edit("{phases: [All-through], levels: [low]", "{phases: [All through], levels: [low]"),
     "{phases: [All through]", ["support_plan_exceptions[2].phases", "'All through' is not a GIAS phase"]),
    ("area-typo", _edit(f"{QE_M5}", "{id: QE-M5, area: quality_education, level: medium"),
     "{id: QE-M5, area: quality_education", ["criteria[27] (QE-M5).area", "unknown area 'quality_education'"]),
]


@pytest.mark.parametrize("case, text, at, says", FULL_COPY, ids=[c[0] for c in FULL_COPY])
def test_a_mistake_in_a_drafted_rule_set_is_refused_naming_file_line_and_key(tmp_path, case, text, at, says):
    path = _draft(tmp_path, case, text)
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    msg = str(err.value)
    assert f"{path}" in msg and f"line {_line_of(text, at)}" in msg, msg
    for s in says:
        assert s in msg, msg
    assert "errors.pydantic.dev" not in msg and "Traceback" not in msg


CHILD = "id: {name}\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
CHILDREN = [
    # The worst: the parent's 10 points applied, the reading's 15 loaded and ignored.
    ("child-threshold-typo", "thresholds: {attainment_below_pionts: 15.0}\n",
     ["line 5", "thresholds.attainment_below_pionts", "read by nothing"]),
    ("child-replaces-an-unknown-indicator", "letters_replace:\n  significant_concerns_letter:\n"
     "    - {id: SCL-88, wording: x, evidence: [{indicator: ofsted_dropped}]}\n",
     ["letters_replace significant_concerns_letter names unknown indicators ['SCL-88']", "SCL-1, SCL-2"]),
    ("child-replaces-an-unknown-letter", "letters_replace:\n  significant_concern_letter:\n"
     "    - {id: SCL-8, wording: x, evidence: [{indicator: ofsted_dropped}]}\n",
     ["names letter 'significant_concern_letter', which cambs-2021-23 does not have"]),
    ("child-letter-without-title", "letters:\n  congratulations: {not_for_categories: []}\n",
     ["line 6", "letters.congratulations: `title` is required here and missing"]),
    # "KS2" is not the key the indicators read ("ks2"): the comparator would silently stay the default.
    ("child-comparator-key", "national_comparator: {KS2: all_schools}\n", ["line 5", "national_comparator.KS2"]),
    ("child-list-and-replace", "criteria_replace:\n  - {id: QE-M5, area: quality_of_education, level: medium, "
     "wording: x, evidence: [{indicator: ofsted_dropped}]}\ncriteria: []\n", ["both `criteria:`", "`criteria_replace:`"]),
    ("child-letter-and-replace", "letters_replace:\n  congratulations:\n    - {id: CG-2, wording: x, evidence: "
     "[{indicator: ofsted_dropped}]}\nletters:\n  congratulations: {title: T, recognition: true, indicators: "
     "[{id: CG-1, wording: x, evidence: [{indicator: ofsted_improved}]}]}\n", ["['congratulations']", "give one"]),
    ("child-actions-for-no-letter", "letter_actions:\n  academy_meeting: [{action: Meet, within_days: 5}]\n",
     ["letter_actions.academy_meeting", "would never be drafted"]),
]


@pytest.mark.parametrize("case, body, says", CHILDREN, ids=[c[0] for c in CHILDREN])
def test_a_mistake_in_a_reading_that_extends_the_strategy_is_refused(tmp_path, case, body, says):
    path = tmp_path / f"{case}.yaml"
    path.write_text(CHILD.format(name=case) + body, encoding="utf-8")
    _assert_refused(path, says)


def test_a_reading_that_extends_the_strategy_and_is_right_loads_and_is_applied(tmp_path):
    path = tmp_path / "cambs-strict.yaml"
    path.write_text(CHILD.format(name="cambs-strict") + "best_fit: {area_ties: less_support}\n"
                    "thresholds: {attainment_below_points: 15.0}\n", encoding="utf-8")
    rs = load_rule_set_arg(str(path))
    assert rs.best_fit.area_ties == "less_support" and rs.best_fit.school_ties == "less_support"
    assert rs.threshold("attainment_below_points") == 15.0 and rs.threshold("attainment8_below_points") == 4.0


URN = 990501


def test_a_reading_of_wide_gaps_does_not_move_acceleration_nor_low_attendance_rising_absence():
    """Each reading moves what it names: "wide" (SCL-8) and "significantly accelerated" (CG-3), "low attendance"
    (BA-M1) and "increasing absence rates" (WN-2) were one threshold each, so a reading of one changed the other."""
    base = load_rule_set("cambs-2021-23")
    narrow = base.model_copy(update={"thresholds": {**base.thresholds, "disadvantaged_gap_wide_points": 3.0,
                                                    "attendance_low_points": 2.0}})
    # Gap 20 -> 16 (narrowed by 4), disadvantaged 50 -> 54 (up 4): not "significantly accelerated" at 5 points.
    kinds = {"gias": [gias(URN)], "ks2": [ks2(URN, rwm_exp_disadv=54.0, rwm_exp_other=70.0, rwm_exp_disadv_prev1=50.0,
                                                 rwm_exp_other_prev1=70.0)],
             # 0.6 above last year's 6.3 and above national: rising by the 0.5 points of WN-2.
             "absence": [absence(URN, overall_absence=6.9)]}
    prior = {"overall_absence": (6.3, "2023-24")}
    for rules in (base, narrow):
        ind = SchoolIndicators(URN, term_data(**kinds), rules, prior)
        assert ind.get("disadvantaged_accelerated").met is False, rules.thresholds
        assert ind.get("absence_rising").met is True, rules.thresholds
    # and each moves with its own threshold
    own = base.model_copy(update={"thresholds": {**base.thresholds, "disadvantaged_accelerated_points": 3.0,
                                                 "absence_rising_points": 1.0}})
    ind = SchoolIndicators(URN, term_data(**kinds), own, prior)
    assert ind.get("disadvantaged_accelerated").met is True and ind.get("absence_rising").met is False


def test_every_shipped_rule_set_still_loads():
    for rid in ("cambs-2021-23", "cambs-2025-report-cards", "northmoor-2024-27"):
        assert load_rule_set(rid).id == rid
    assert re.search(r"absence_rising_points: 0\.5", SHIPPED) and "disadvantaged_accelerated_points: 5.0" in SHIPPED


def _front_and_appendix(inputs) -> str:
    from school_improvement.editions import render, report

    html = render._environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow  # a front page rendered, or a rule set refused, for each case (over test-fast's CPU budget)
@pytest.mark.parametrize("review_by, past", [("2026-08-31", False), ("2024-08-31", True)])
def test_the_front_page_names_the_rule_sets_review_date_and_says_when_it_is_past(review_by, past):
    import dataclasses
    from datetime import date

    from test_report import make_inputs

    inputs = dataclasses.replace(make_inputs(4), rule_set_review_by=date.fromisoformat(review_by))
    page = _front_and_appendix(inputs)
    front = page[:page.index("What you must know")] if "What you must know" in page else page[:2000]
    assert f"(review by {review_by}" in front, front[:600]
    assert ("past its review date" in front) is past
    assert f"to be reviewed by {review_by}" in page


def test_a_threshold_no_named_indicator_reads_is_refused_and_one_they_read_must_be_given(tmp_path):
    """"Consistently wide" read as a very wide gap: the threshold alone changes nothing unless an indicator that
    reads it is named; before, it loaded and was not applied."""
    path = tmp_path / "cambs-very-wide.yaml"
    path.write_text(CHILD.format(name="cambs-very-wide") + "thresholds: {disadvantaged_gap_very_wide_points: 10.0}\n",
                    encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    msg = str(err.value)
    assert f"{path}, line 5: thresholds.disadvantaged_gap_very_wide_points" in msg
    assert "read only by the indicator(s) disadvantaged_gap_persistently_very_wide" in msg
    # Named, it is applied.
    path.write_text(CHILD.format(name="cambs-very-wide") + "thresholds: {disadvantaged_gap_very_wide_points: 10.0}\n"
                    "letters_replace:\n  significant_concerns_letter:\n    - {id: SCL-8, wording: w, evidence: "
                    "[{indicator: disadvantaged_gap_persistently_very_wide}]}\n", encoding="utf-8")
    assert load_rule_set_arg(str(path)).threshold("disadvantaged_gap_very_wide_points") == 10.0
    # A full copy without a threshold its indicators read is refused when it loads, not when a term runs.
    text = _edit("  attainment_in_line_points: 5.0     # KS2", "  # KS2")
    with pytest.raises(RulesError, match=r"'attainment_in_line_points' is missing; attainment_broadly_in_line read it"):
        load_rule_set_arg(str(_draft(tmp_path, "cambs-no-band", text)))


def test_the_thresholds_each_indicator_reads_are_those_the_code_reads(monkeypatch):
    """THRESHOLDS_READ (which the check above relies on) against the code: every threshold an indicator reads,
    on schools whose figures take every branch, is listed for it."""
    from factories import feed
    from school_improvement.evidence import indicators as ind_mod
    from school_improvement.rules import THRESHOLD_NAMES

    assert set().union(*ind_mod.THRESHOLDS_READ.values()) == THRESHOLD_NAMES
    methods = {n[3:] for n in dir(SchoolIndicators) if n.startswith("_i_")}
    assert set(ind_mod.THRESHOLDS_READ) <= methods
    rules = load_rule_set("cambs-2021-23")
    rules = rules.model_copy(update={"thresholds": {**rules.thresholds, "attendance_low_one_year_points": 2.0,
                                                    "disadvantaged_gap_very_wide_points": 10.0,
                                                    "disadvantaged_below_points": 5.0}})
    read: list[str] = []
    real_t = SchoolIndicators.t
    monkeypatch.setattr(SchoolIndicators, "t", lambda self, name: (read.append(name), real_t(self, name))[1])
    schools = [
        {"ks2": [ks2(URN, rwm_exp=40.0, rwm_exp_prev1=45.0, rwm_exp_prev2=60.0, rwm_exp_disadv=20.0,
                     rwm_exp_other=60.0, rwm_exp_disadv_prev1=20.0, rwm_exp_other_prev1=62.0)],
         "absence": [absence(URN, overall_absence=9.0, persistent_absence=30.0)]},
        {"ks2": [ks2(URN, rwm_exp=80.0, rwm_exp_prev1=60.0, rwm_exp_prev2=58.0, rwm_exp_disadv=70.0,
                     rwm_exp_other=72.0, rwm_exp_disadv_prev1=50.0, rwm_exp_other_prev1=70.0)],
         "absence": [absence(URN, overall_absence=6.5)]},
        {"ks4": feed("ks4", [{"urn": URN, "cohort": 100, "att8": 30.0, "att8_disadv": 20.0, "att8_other": 40.0,
                              "p8_upper": 0.1, "p8_lower": -0.5}],
                     [{"level": "national", "la_code": None, "phase": None, "att8": 46.5, "att8_disadv": 35.0,
                       "att8_other": 50.0}])},
    ]
    priors = [{}, {"overall_absence": (9.5, "2023-24")}, {"overall_absence": (5.0, "2023-24")}]
    datas = [term_data(gias=[gias(URN)], **kinds) for kinds in schools]  # built once, each indicator a fresh school
    covered: set[str] = set()
    for name in sorted(methods):
        seen: set[str] = set()
        for data in datas:
            for prior in priors:
                read.clear()
                SchoolIndicators(URN, data, rules, prior).get(name)
                seen |= set(read)
        assert seen <= set(ind_mod.THRESHOLDS_READ.get(name, ())), (name, seen)
        covered |= seen
    # The schools above take the branches that read every threshold (else the check would prove little).
    assert covered == THRESHOLD_NAMES, THRESHOLD_NAMES - covered


def test_the_what_if_command_stops_on_a_mistaken_draft_naming_file_line_and_key(tmp_path, capsys):
    from school_improvement import __main__ as cli

    path = tmp_path / "cambs-typo.yaml"
    path.write_text(CHILD.format(name="cambs-typo") + "thresholds: {attainment_below_pionts: 15.0}\n", encoding="utf-8")
    rc = cli.main(["compare", "--term", "2025-26-autumn", "--rules", "cambs-2021-23", "--rules", str(path),
                   "--landing", str(tmp_path), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert rc == 1 and out.startswith("compare stopped:") and "Traceback" not in out
    assert f"{path}, line 5: thresholds.attainment_below_pionts" in out
    assert not (tmp_path / "out").exists()
