"""Helper T's trial (s23): Ofsted readings and real downloads not tried before, each a fault that reached an edition.

Fictional schools and in-memory feeds in the readers' canonical columns (tests/factories.py); the Ofsted outcome texts
are Ofsted's own wording, as its management information writes them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from factories import flag, gias, judgement, ks2, ofsted, term_data
from test_unseen_readings import _assert_refused
from school_improvement.decisions.categorise import categorise, visits_planned
from school_improvement.decisions.letters import flag_letters
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.ingest.feeds import read_feed
from school_improvement.ingest.termdata import TermData
from school_improvement.rules import load_rule_set, load_rule_set_arg
from school_improvement.terms import Term

URN = 990401
RULES = load_rule_set("cambs-2021-23")
CARDS = load_rule_set("cambs-2025-report-cards")
GOOD_BEFORE = {URN: {"previous_category": "low", "prior": {"ofsted_band": ("good", "")}}}


def _ungraded(outcome: str) -> dict:
    """A school graded Good in 2016 whose ungraded inspection this term had the outcome given."""
    return ofsted(URN, oeif_overall=2, oeif_date=date(2016, 5, 10), ungraded_outcome=outcome,
                  ungraded_date=date(2022, 10, 5))


@pytest.mark.parametrize("history", [{}, GOOD_BEFORE], ids=["no history", "good last term"])
@pytest.mark.parametrize("outcome", ["School remains Good (Concerns) - S5 Next",
                                     "School remains Outstanding (Concerns) - S5 Next"])
def test_an_ungraded_inspection_with_concerns_is_no_congratulations_for_sustained_good(outcome, history):
    # Ofsted's "(Concerns) - S5 Next": the grade stands for now, standards may have declined, a graded inspection is
    # next. It was read as "remains good" and drafted a congratulations letter ("sustained good/outstanding overall
    # effectiveness") to the school Ofsted had concerns about.
    kinds = {"gias": [gias(URN)], "ofsted": [_ungraded(outcome)]}
    data = term_data("2022-23-autumn", **kinds)
    found = SchoolIndicators(URN, data, RULES, (history.get(URN) or {}).get("prior")).get(
        "ofsted_good_or_better_sustained")
    assert found.met is False and outcome in found.value
    table = categorise(data, RULES, history).table
    out = flag_letters(data, RULES, table, history, date(2022, 9, 22))
    assert "congratulations" not in set(out.letters["letter"]), out.letters.to_dict("records")


@pytest.mark.parametrize("history", [{}, GOOD_BEFORE], ids=["no history", "good last term"])
def test_an_ungraded_inspection_that_confirms_good_is_still_sustained_good(history):
    # The same school with Ofsted's plain "School remains Good": a new inspection confirmed it (CG-1).
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[_ungraded("School remains Good")])
    table = categorise(data, RULES, history).table
    out = flag_letters(data, RULES, table, history, date(2022, 9, 22))
    assert list(out.letters["letter"]) == ["congratulations"]
    assert "CG-1" in out.letters.iloc[0]["indicators"]


def _report_card(**areas) -> dict:
    cards = {f"rc_{a}": "Expected standard" for a in ("inclusion", "curriculum_teaching", "achievement",
                                                      "attendance_behaviour", "personal_development",
                                                      "leadership_governance")}
    cards.update({f"rc_{a}": v for a, v in areas.items()})
    return ofsted(URN, oeif_overall=2, oeif_date=date(2019, 3, 12), inspection_date=date(2026, 1, 20),
                  safeguarding="Met", category_of_concern="Requires significant improvement", **cards)


def test_a_report_card_school_that_requires_significant_improvement_is_in_a_category_of_concern():
    # Under report cards a school with "Urgent improvement" in any area "requires significant improvement", the
    # category that replaced serious weaknesses; the MI's "Category of concern" says so. It was read as "none": the
    # overriding condition did not apply, and best fit alone placed the school at LOW support (one area at high, three
    # at low: a mean of 1.5, less support at the halfway point).
    lows = [judgement(URN, c, visit=date(2026, 1, 12)) for c in ("QE-L1", "QE-L2", "BA-L2", "PD-L1")]
    data = term_data("2025-26-spring", gias=[gias(URN)], adviser_judgements=lows,
                     ofsted=[_report_card(achievement="Urgent improvement")])
    found = SchoolIndicators(URN, data, CARDS).get("ofsted_category_of_concern")
    assert found.met is True and "requires significant improvement" in found.value
    row = categorise(data, CARDS).table.iloc[0]
    assert row["category"] == "high" and row["overriding_condition"] == "OV-CATEGORY"
    assert "requires significant improvement" in row["reasons"]


def test_a_report_card_school_in_no_category_is_not_overridden():
    data = term_data("2025-26-spring", gias=[gias(URN)],
                     ofsted=[{**_report_card(achievement="Needs attention"), "category_of_concern": None}])
    assert SchoolIndicators(URN, data, CARDS).get("ofsted_category_of_concern").met is False
    assert categorise(data, CARDS).table.iloc[0]["overriding_condition"] in ("", None)


def test_a_letter_to_a_school_that_converts_within_the_term_says_so():
    # A school open when the term began that converts to an academy within it is categorised (rightly: it was the
    # LA's that term), and its letter drafted with actions due after its governing body has gone, unsaid. Real Surrey
    # 2021-22 summer: a congratulations drafted to a school converting on 31 May 2022 (now said, as here).
    school = gias(URN, status="Closed", close_date=date(2026, 2, 27), close_reason="Academy Converter")
    data = term_data("2025-26-spring", gias=[school], la_intelligence=[flag(URN, "finance", "medium",
                                                                             raised=date(2026, 1, 8))])
    table = categorise(data, RULES).table
    assert list(table["urn"]) == [URN]
    out = flag_letters(data, RULES, table, {}, date(2026, 1, 26))
    assert list(out.letters["letter"]) == ["significant_concerns_letter"]
    said = [p for p in out.problems if p.check == "gias_closing_letter"]
    assert len(said) == 1 and said[0].severity == "warning", [p.check for p in out.problems]
    assert "27 February 2026" in said[0].message and "academy converter" in said[0].message
    assert "actions fall due after it" in said[0].message and f"URN {URN}" in said[0].message
    # Open all term: nothing to say.
    data = term_data("2025-26-spring", gias=[gias(URN)], la_intelligence=[flag(URN, "finance", "medium",
                                                                               raised=date(2026, 1, 8))])
    out = flag_letters(data, RULES, categorise(data, RULES).table, {}, date(2026, 1, 26))
    assert not [p for p in out.problems if p.check == "gias_closing_letter"]


def _ks2_renamed(shared_dfe, path, prev1: str, prev2: str):
    """Real Surrey 2018-19 KS2 bytes written to `path` with the prior-year columns (`_18`, `_17`) renamed to the suffixes
    `prev1` and `prev2`, as DfE names them in the file of the year `path` is named for."""
    src = (shared_dfe / "samples" / "936_ks2_2018-19.csv").read_bytes().decode("utf-8-sig")
    head, rest = src.split("\r\n", 1)
    head = ",".join(h[:-3] + prev1 if h.endswith("_18") else h[:-3] + prev2 if h.endswith("_17") else h
                    for h in head.split(","))
    path.write_bytes(b"\xef\xbb\xbf" + (head + "\r\n" + rest).encode("utf-8"))
    return path


def _ks2_2022_23(shared_dfe, folder):
    """Real Surrey KS2 bytes with the prior-year columns named as DfE's 2022-23 file names them: `_22` and `_19` (no
    tests in 2019-20 or 2020-21), so the file's "year before last" is 2018-19."""
    return _ks2_renamed(shared_dfe, folder / "936_ks2_2022-23.csv", "_22", "_19")


def test_a_trend_does_not_read_a_year_beyond_the_years_with_no_results(shared_dfe, tmp_path):
    feed = read_feed(_ks2_2022_23(shared_dfe, tmp_path))
    assert feed.academic_year == "2022-23"
    assert set(feed.schools["rwm_exp_prev1_year"]) == {"2021-22"}
    assert set(feed.schools["rwm_exp_prev2_year"]) == {"2018-19"}
    s = feed.schools.dropna(subset=["rwm_exp", "rwm_exp_prev1", "rwm_exp_prev2", "cohort"])
    # Lower each year, 10 points below the year before last, less than 10 below the year before: "declining" only
    # when 2018-19 is read as the year before 2021-22.
    falls = s[(s.rwm_exp < s.rwm_exp_prev1) & (s.rwm_exp_prev1 < s.rwm_exp_prev2) & (s.rwm_exp <= s.rwm_exp_prev2 - 10)
              & (s.rwm_exp > s.rwm_exp_prev1 - 10) & (s.cohort >= 11)]
    assert len(falls) >= 5  # 13 of real Surrey's schools, in this file's shape
    urn = int(falls.iloc[0]["urn"])
    data = TermData("936", Term.parse("2023-24-autumn"), [feed])
    found = SchoolIndicators(urn, data, RULES).get("attainment_declining")
    # Before: "previous year 61.0%; year before 70.0%" (a year four years before the file's), and declining.
    assert found.met is False, found
    assert "previous year (2021-22)" in found.value and "not read in a trend: no results between it and 2021-22" \
        in found.value and "year before" not in found.value, found.value
    # The other reading, as data: the year beyond the gap read as the trend's earlier year, named as what it is.
    draft = tmp_path / "cambs-across-the-gap.yaml"
    draft.write_text("id: cambs-across-the-gap\ntitle: trends across the gap\nextends: cambs-2021-23\n"
                     "review_by: 2026-08-31\ntrends: {across_unpublished_years: judged}\n", encoding="utf-8")
    found = SchoolIndicators(urn, data, load_rule_set_arg(str(draft))).get("attainment_declining")
    assert found.met is True and "2018-19 (no results between it and 2021-22)" in found.value, found


def test_consecutive_earlier_years_are_named_too(shared_dfe):
    feed = read_feed(shared_dfe / "samples" / "936_ks2_2018-19.csv")
    row = feed.schools.dropna(subset=["rwm_exp", "rwm_exp_prev1", "rwm_exp_prev2"]).iloc[0]
    data = TermData("936", Term.parse("2021-22-autumn"), [feed])
    value = SchoolIndicators(int(row["urn"]), data, RULES).get("attainment_declining").value
    assert "previous year (2017-18)" in value and "year before (2016-17)" in value, value


@pytest.mark.parametrize("threshold", ["attainment_below_points", "disadvantaged_gap_wide_points"])
def test_a_ks2_threshold_written_as_a_fraction_is_refused(tmp_path, threshold):
    # 0.1 for 10 points (a spreadsheet shows 10% for 0.1): read as 0.1 points, nearly every school below national.
    path = tmp_path / "cambs-fraction.yaml"
    path.write_text(f"id: cambs-fraction\ntitle: fractions\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    f"thresholds: {{{threshold}: 0.1}}\n", encoding="utf-8")
    _assert_refused(path, [threshold, "looks like a fraction (10%)", "write 10 for 10%"])


def test_absence_thresholds_below_one_point_and_zero_are_still_readings(tmp_path):
    path = tmp_path / "cambs-strict-absence.yaml"
    path.write_text("id: cambs-strict-absence\ntitle: strict\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    "thresholds: {attendance_low_points: 0.3, attainment_in_line_points: 0}\n", encoding="utf-8")
    assert load_rule_set_arg(str(path)).threshold("attendance_low_points") == 0.3


def test_a_nursery_school_at_low_support_is_offered_the_early_years_offer_not_the_primary_offer():
    _, _, plan = visits_planned("low", Term.parse("2025-26-spring"), RULES, phase="Nursery")
    assert "Early Years Improvement Offer" in plan and "visit once a term" in plan
    _, _, plan = visits_planned("low", Term.parse("2025-26-spring"), RULES, phase="Primary")
    assert plan == RULES.support_plan["low"].summary


def test_rows_cleared_in_excel_are_no_rows_in_a_csv_as_in_a_workbook(tmp_path):
    # A letters log kept in Excel, rows cleared (not deleted) and saved as CSV: ",,,,,," lines. Each stopped the run
    # ("URN is missing", "letter must not be blank"), though the same sheet saved as .xlsx was read.
    path = tmp_path / "letters_log.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "urn,letter,concern,issued_on,issued_by,term,,\r\n"
                     "990401,significant_concerns_letter,SCL-1,15/10/2021,Director,2021-22-autumn,,\r\n"
                     ",,,,,,,\r\n , ,,,,,,\r\n".encode())
    feed = read_feed(path)
    assert list(feed.schools["urn"]) == [990401] and list(feed.schools["_row"]) == [2]
    # A row with anything in it is still a row, and still refused when it is not whole.
    path.write_bytes(path.read_bytes() + b",warning_notice,,,,,,\r\n")
    from school_improvement.errors import FeedError
    with pytest.raises(FeedError, match="row 5"):
        read_feed(path)


def test_three_years_consistently_below_with_the_third_year_suppressed_says_so():
    # "Consistently below national" over three years (docs/readings/cambs-three-years.yaml), the year before last
    # suppressed in the file (SUPP): it said "the feeds hold 2", as if the year were not in the download.
    rules = load_rule_set_arg(str(Path(__file__).resolve().parents[1] / "docs" / "readings" / "cambs-three-years.yaml"))
    data = term_data("2021-22-autumn", gias=[gias(URN)], ks2=[ks2(URN, rwm_exp=40.0, rwm_exp_prev1=41.0,
                                                                  rwm_exp_prev2=None)])
    data.by_kind["ks2"][0].statuses.loc[0] = [URN, "rwm_exp_prev2", "SUPP", "5 or fewer pupils", 2]
    found = SchoolIndicators(URN, data, rules).get("attainment_consistently_below")
    assert found.met is None and "SUPP (5 or fewer pupils)" in found.reason and "feeds hold" not in found.reason
    # A file with no third year still says so.
    data = term_data("2021-22-autumn", gias=[gias(URN)], ks2=[ks2(URN, rwm_exp=40.0, rwm_exp_prev1=41.0,
                                                                  rwm_exp_prev2=None)])
    assert "the feeds hold 2" in SchoolIndicators(URN, data, rules).get("attainment_consistently_below").reason


def test_a_ks4_trend_from_the_history_does_not_read_a_year_beyond_the_years_with_no_results():
    # KS4's earlier year comes from the history: 2018-19's Attainment 8 beside 2021-22's is no one-year fall.
    ks4 = {"urn": URN, "la_code": "999", "cohort": 150, "att8": 30.0, "p8": None, "p8_lower": None, "p8_upper": None,
           "att8_disadv": None, "att8_other": None}
    from factories import feed
    nat = {"level": "national", "la_code": None, "phase": None, "att8": 48.0}
    for year, before, met in (("2021-22", "2018-19", None), ("2022-23", "2021-22", True)):
        data = term_data("2023-24-autumn", gias=[gias(URN, phase="Secondary")], ks4=feed("ks4", [ks4], [nat], year=year))
        prior = {"att8": (45.0, before)}
        found = SchoolIndicators(URN, data, RULES, prior).get("attainment_declining")
        assert found.met is met, (year, found)


def test_a_drop_in_ofsted_rating_under_report_cards_says_it_is_an_area_not_an_overall_rating():
    # Good before; a report card at Expected standard in the six core areas and Needs attention in early years alone.
    # The Significant Concerns letter said only "A drop in Ofsted rating", read as a fall of the school as a whole.
    card = {**_report_card(early_years="Needs attention"), "category_of_concern": None}
    data = term_data("2025-26-spring", gias=[gias(URN)], ofsted=[card])
    table = categorise(data, CARDS, GOOD_BEFORE).table
    out = flag_letters(data, CARDS, table, GOOD_BEFORE, date(2026, 1, 26))
    assert list(out.letters["letter"]) == ["significant_concerns_letter"]
    assert "an evaluation area graded below the school's previous Ofsted judgement" in out.letters.iloc[0]["evidence"]
    assert "Early years Needs attention" in out.letters.iloc[0]["evidence"]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "docs" / "readings").glob("*.yaml"))
                         + sorted((Path(__file__).resolve().parents[1] / "include" / "rules").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_no_reading_tells_a_school_judged_inadequate_it_is_at_risk_of_a_category(path):
    # A school judged Inadequate is already in special measures or serious weaknesses: "at risk of being put in" them
    # is false of it (s22 took Ofsted's Inadequate out of WN-5 and SC-1; the no-Warning-Notice example reading, which
    # an LA copies, still had it in SC-1).
    rules = load_rule_set_arg(str(path))
    for name, letter in rules.letters.items():
        for ind in letter.indicators:
            if "at risk of being put in" in ind.wording.lower():
                assert not any(e.indicator == "ofsted_inadequate" for e in ind.evidence), (path.name, name, ind.id)


def test_a_report_card_category_in_a_term_that_began_before_report_cards_is_named_as_such():
    # 2025-26 autumn runs under cambs-2021-23 (in force to 9 November 2025); a report card of 20 November is its.
    card = {**_report_card(achievement="Urgent improvement"), "inspection_date": date(2025, 11, 20)}
    row = categorise(term_data("2025-26-autumn", gias=[gias(URN)], ofsted=[card]), RULES).table.iloc[0]
    assert row["category"] == "high" and row["overriding_condition"] == "OV-CATEGORY"
    assert "under report cards: requires significant improvement" in row["reasons"], row["reasons"]


def test_a_file_whose_newest_earlier_year_is_before_the_pandemic_judges_no_trend_on_it(shared_dfe, tmp_path):
    # A KS2 file of 2021-22 whose earlier years are 2018-19 and 2017-18 (the real bytes, its prior-year columns named
    # so): "consistently" (this year and last) and a gap "persistently wide" would read 2018-19 as last year.
    path = _ks2_renamed(shared_dfe, tmp_path / "936_ks2_2021-22.csv", "_19", "_18")
    feed = read_feed(path)
    assert feed.academic_year == "2021-22" and set(feed.schools["rwm_exp_prev1_year"]) == {"2018-19"}
    data = TermData("936", Term.parse("2022-23-autumn"), [feed])
    s = feed.schools.dropna(subset=["rwm_exp", "rwm_exp_prev1", "rwm_exp_disadv", "rwm_exp_other", "rwm_exp_disadv_prev1",
                                    "rwm_exp_other_prev1", "cohort", "disadv_cohort"])
    urns = s[(s.cohort >= 11) & (s.disadv_cohort >= 11)]["urn"]
    assert len(urns) >= 5
    for urn in list(urns)[:5]:
        si = SchoolIndicators(int(urn), data, RULES)
        below = si.get("attainment_consistently_below")
        assert below.met in (None, False) and "not read in a trend" in below.value, below
        if below.met is None:
            assert "one year's figures only" in below.reason
        gap = si.get("disadvantaged_gap_persistently_wide")
        assert gap.met in (None, False), gap
        assert "2018-19 gap not read in a trend" in (gap.value or gap.reason), gap


def test_three_years_consistently_below_across_the_years_with_no_results_says_why_not_judged(shared_dfe, tmp_path):
    rules = load_rule_set_arg(str(Path(__file__).resolve().parents[1] / "docs" / "readings" / "cambs-three-years.yaml"))
    feed = read_feed(_ks2_2022_23(shared_dfe, tmp_path))
    s = feed.schools.dropna(subset=["rwm_exp", "rwm_exp_prev1", "rwm_exp_prev2", "cohort"])
    nat = feed.comparators.dropna(subset=["rwm_exp"]).iloc[-1]
    low = s[(s.rwm_exp < nat["rwm_exp"] - 10) & (s.rwm_exp_prev1 < nat["rwm_exp_prev1"] - 10) & (s.cohort >= 11)]
    if low.empty:
        pytest.skip("no school below national by 10 points two years running in this file")
    data = TermData("936", Term.parse("2023-24-autumn"), [feed])
    found = SchoolIndicators(int(low.iloc[0]["urn"]), data, rules).get("attainment_consistently_below")
    assert found.met is None and "not read in a trend" in found.reason and "blank" not in found.reason, found


def test_a_threshold_written_with_a_percent_sign_is_refused_saying_what_to_write(tmp_path):
    path = tmp_path / "cambs-percent.yaml"
    path.write_text("id: cambs-percent\ntitle: percent\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    "thresholds: {attainment_below_points: \"10%\"}\n", encoding="utf-8")
    _assert_refused(path, ["not '10%'", "write 10 (percentage points, without the % sign)"])


def test_an_ungraded_inspection_with_concerns_is_ofsteds_own_risk_of_a_downgrade():
    # LM-M4 "at risk of ... being downgraded": Ofsted's "(Concerns) - S5 Next" says it, while no graded inspection
    # has followed. The school's grade still stands (LM-L4), so leadership and management is a tie: more support.
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[_ungraded("School remains Good (Concerns) - S5 Next")])
    found = SchoolIndicators(URN, data, RULES).get("ofsted_at_risk_of_downgrade")
    assert found.met is True and "(Concerns) - S5 Next" in found.value
    row = categorise(data, RULES).table.iloc[0]
    assert "LM-M4" in row["criteria_met"] and "LM-L4" in row["criteria_met"]
    # A graded inspection since, or an outcome without concerns: no risk said.
    later = {**_ungraded("School remains Good (Concerns) - S5 Next"), "oeif_date": date(2022, 11, 2)}
    for o in (later, _ungraded("School remains Good")):
        found = SchoolIndicators(URN, term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[o]), RULES).get(
            "ofsted_at_risk_of_downgrade")
        assert found.met is False, found
