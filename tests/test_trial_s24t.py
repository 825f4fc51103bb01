"""Helper T2's trial (s24): Strategy readings and real downloads not tried before, each a fault that reached an edition.

Fictional schools and in-memory feeds in the readers' canonical columns (tests/factories.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from factories import gias, judgement, ofsted, term_data
from school_improvement.decisions.categorise import categorise
from school_improvement.evidence.assess import assess
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set

URN = 990501
RULES = load_rule_set("cambs-2021-23")
CARDS = load_rule_set("cambs-2025-report-cards")
LOWS = ("QE-L1", "QE-L2", "BA-L2", "PD-L1")


@pytest.mark.parametrize("blank", [None, ""], ids=["missing", "empty"])
def test_a_school_judged_inadequate_with_a_blank_category_column_is_in_a_category_of_concern(blank):
    # Ofsted places every school it judges Inadequate in special measures or serious weaknesses. With the MI's category
    # columns blank the school was read as in no category ("category of concern: none"): the overriding condition did
    # not apply, and best fit on four low bullets placed the school at LOW support.
    lows = [judgement(URN, c, visit=date(2022, 10, 12)) for c in LOWS]
    data = term_data("2022-23-autumn", gias=[gias(URN)], adviser_judgements=lows,
                     ofsted=[ofsted(URN, oeif_overall=4, oeif_date=date(2022, 6, 1), category_of_concern=blank,
                                    oeif_category_of_concern=blank, recent_category_of_concern=blank)])
    found = SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern")
    assert found.met is True, found
    assert "special measures or serious weaknesses" in found.value and "name none" in found.value
    row = categorise(data, RULES).table.iloc[0]
    assert row["category"] == "high" and row["overriding_condition"] == "OV-CATEGORY", dict(row)
    # Said, naming the school, and on the front page.
    said = [p for p in assess(data, RULES).problems if p.check == "ofsted_category_blank"]
    assert len(said) == 1 and said[0].severity == "warning" and f"URN {URN}" in said[0].message
    import pandas as pd
    frame = pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "message": p.message,
                           "severity": p.severity, "check": p.check} for p in said])
    assert any("no category of concern in the Ofsted file" in n and "Inadequate" in n for n in front_page_notes(frame))


def test_a_named_category_or_a_better_grade_with_blank_columns_is_not_said():
    named = ofsted(URN, oeif_overall=4, oeif_date=date(2022, 6, 1), category_of_concern="Serious weaknesses")
    ri = ofsted(URN, oeif_overall=3, oeif_date=date(2022, 6, 1))
    for row, met in ((named, True), (ri, False)):
        data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[row])
        found = SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern")
        assert found.met is met and "name none" not in found.value, found
        assert not [p for p in assess(data, RULES).problems if p.check == "ofsted_category_blank"]


def test_a_report_card_with_urgent_improvement_and_a_blank_category_is_in_one():
    # Under report cards "Urgent improvement" (or safeguarding not met) is special measures or requires significant
    # improvement; the blank column was read as none.
    card = ofsted(URN, oeif_overall=2, oeif_date=date(2019, 3, 12), inspection_date=date(2026, 1, 20),
                  safeguarding="Met", rc_achievement="Urgent improvement", rc_inclusion="Expected standard",
                  rc_curriculum_teaching="Expected standard", rc_leadership_governance="Expected standard")
    data = term_data("2025-26-spring", gias=[gias(URN)], ofsted=[card])
    found = SchoolIndicators(URN, data, CARDS).get("ofsted_category_of_concern")
    assert found.met is True and "special measures or requires significant improvement" in found.value, found
    assert categorise(data, CARDS).table.iloc[0]["overriding_condition"] == "OV-CATEGORY"


@pytest.mark.parametrize("body", [
    "criteria_add:\n  - {id: QE-H8, area: quality_of_education, level: high, wording: \"Attainment is well below "
    "national [See data]\", evidence: [{indicator: attainment_consistently_below}]}\n",
    "overriding:\n  places_at: high\n  conditions:\n    - {id: OV-CATEGORY, wording: \"In a category [Ofsted]\", "
    "indicator: ofsted_category_of_concern}\n"], ids=["criterion", "overriding"])
def test_a_wording_with_square_brackets_is_refused_naming_the_key(tmp_path, body):
    # Another LA's reading that writes the Strategy's "(See data)" as "[See data]": the editions write each bullet met
    # as "wording [id] (evidence)" and read it back by its brackets, so the front page's reasons named a bullet with
    # the id "See data" and no evidence, then a bullet with no words.
    from test_unseen_readings import _assert_refused, _reading

    msg = _assert_refused(_reading(tmp_path, "brackets", body), ["wording", "square brackets", "(See data)"])
    assert "Traceback" not in msg


def test_the_reasons_parser_reads_a_wording_with_round_brackets_whole():
    # What the refusal asks for instead: the Strategy's own "(See data)" before the id is read whole.
    from school_improvement.editions.front_page import reason_items

    head, items = reason_items("Quality of education (high): Attainment is declining (See data) [QE-H7] (KS2 40%)")
    assert head == "Quality of education (high)"
    assert items == [("Attainment is declining (See data)", "QE-H7", "KS2 40%")]


def test_a_graded_judgement_in_the_older_ofsted_shape_keeps_its_date_against_an_earlier_ungraded_one():
    # Ofsted's management information before report cards names the latest graded inspection's date "Inspection start
    # date" (beside "Overall effectiveness"); the reader keeps that column as the report card's date, so the graded
    # judgement was undated and lost to any dated ungraded inspection, even an earlier one: Requires improvement in
    # 2023 was read as Good by "School remains Good" of 2021 (the MI keeps an ungraded inspection older than the
    # latest graded one: real Cambridgeshire rows do).
    row = ofsted(URN, oeif_overall=3, oeif_date=None, inspection_date=date(2023, 5, 10),
                 ungraded_outcome="School remains Good", ungraded_date=date(2021, 11, 17))
    data = term_data("2023-24-autumn", gias=[gias(URN)], ofsted=[row])
    si = SchoolIndicators(URN, data, RULES)
    found = si.get("ofsted_requires_improvement")
    assert found.met is True and "2023-05-10" in found.value, found
    assert si.get("ofsted_good_or_better").met is False and si.latest_judgement_good_or_better() is False
    # A later ungraded inspection still confirms the grade it names, with its own date.
    later = {**row, "oeif_overall": 2, "ungraded_date": date(2024, 11, 27), "ungraded_outcome": "Standards maintained"}
    si = SchoolIndicators(URN, term_data("2024-25-autumn", gias=[gias(URN)], ofsted=[later]), RULES)
    assert "2024-11-27" in si.get("ofsted_good_or_better").value


def test_the_real_ofsted_rows_in_the_older_shape_give_each_graded_judgement_its_date(shared_dfe, tmp_path):
    import csv
    import io

    from school_improvement.evidence.indicators import latest_judgement
    from school_improvement.ingest.feeds import read_feed

    src = (shared_dfe / "samples" / "873_ofsted_mi_latest_inspections_2026_sample.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(src)))
    old = {"Inspection start date of latest OEIF graded inspection": "Inspection start date",
           "Latest OEIF overall effectiveness": "Overall effectiveness",
           "Latest OEIF category of concern": "Category of concern"}
    report_card = {"Inspection start date", "Category of concern", "Safeguarding standards", "Inclusion",
                   "Curriculum and teaching", "Achievement", "Attendance and behaviour",
                   "Personal development and wellbeing", "Early years (where applicable)",
                   "Post-16 provision (where applicable)", "Leadership and governance"}
    keep = [k for k in rows[0] if k not in report_card]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([old.get(k, k) for k in keep])
    w.writerows([[r[k] for k in keep] for r in rows])
    path = tmp_path / "management_information_state_funded_schools_as_at_31_aug_2023.csv"
    path.write_bytes(out.getvalue().encode("cp1252"))
    feed = read_feed(path)
    graded = 0
    for r in feed.schools.to_dict("records"):
        j = latest_judgement(r)
        if j and j["framework"].startswith("graded inspection"):
            graded += 1
            assert j["date"] is not None and "date n/a" not in j["text"], j
    assert graded >= 5


def test_a_category_from_the_last_graded_inspection_does_not_outlive_a_later_report_card():
    # The MI keeps the "Latest OEIF" columns as the last graded inspection left them after a report card (real
    # Cambridgeshire rows carry both). A school in special measures at its 2023 graded inspection whose report card of
    # January 2026 is Expected standard throughout was read as still in special measures: high support, overridden.
    card = ofsted(URN, oeif_overall=4, oeif_date=date(2023, 3, 7), oeif_category_of_concern="Special measures",
                  inspection_date=date(2026, 1, 20), safeguarding="Met", category_of_concern=None,
                  **{a: "Expected standard" for a in ("rc_inclusion", "rc_curriculum_teaching", "rc_achievement",
                                                      "rc_attendance_behaviour", "rc_personal_development",
                                                      "rc_leadership_governance")})
    data = term_data("2025-26-spring", gias=[gias(URN)], ofsted=[card])
    si = SchoolIndicators(URN, data, CARDS)
    assert si.get("ofsted_category_of_concern").met is False
    assert si.get("ofsted_good_or_better").met is True and si.latest_judgement_good_or_better() is True
    assert categorise(data, CARDS).table.iloc[0]["overriding_condition"] in ("", None)
    # The report card's own "Category of concern" still counts.
    named = {**card, "category_of_concern": "Special measures"}
    data = term_data("2025-26-spring", gias=[gias(URN)], ofsted=[named])
    assert SchoolIndicators(URN, data, CARDS).get("ofsted_category_of_concern").met is True


def test_schools_missing_from_an_ofsted_file_that_holds_others_of_the_la_are_said():
    # One year's inspections (or a file of one phase) dropped in as the Ofsted file: the schools it does not list were
    # judged without Ofsted, said only in each school's reasons.
    other = URN + 1
    data = term_data("2023-24-autumn", gias=[gias(URN), gias(other, school_name="Test School Two")],
                     ofsted=[ofsted(URN, oeif_overall=2, oeif_date=date(2023, 5, 10))])
    said = [p for p in assess(data, RULES).problems if p.check == "ofsted_not_listed"]
    assert len(said) == 1 and said[0].severity == "warning", said
    assert "1 of the LA's 2 maintained schools" in said[0].message and f"URN {other}" in said[0].message
    assert f"URN {URN})" not in said[0].message
    # Every school listed, or none of them (said already as feed_missing): nothing more.
    both = term_data("2023-24-autumn", gias=[gias(URN), gias(other)],
                     ofsted=[ofsted(URN), ofsted(other)])
    assert not [p for p in assess(both, RULES).problems if p.check == "ofsted_not_listed"]
    none = term_data("2023-24-autumn", gias=[gias(URN)], ofsted=[ofsted(other)])
    assert not [p for p in assess(none, RULES).problems if p.check == "ofsted_not_listed"]


@pytest.mark.slow  # a demo term written (about 0.7 s)
def test_the_demo_writes_the_category_ofsted_gives_a_school_it_judges_so(tmp_path):
    # The demo's Ofsted file left the category blank for an Inadequate key judgement (overall effectiveness "Not judged",
    # from September 2024) and for a report card's Urgent improvement; Ofsted names a category for each.
    import csv

    from demo_feeds.demo_generator import generate_demo

    generate_demo(tmp_path, terms=["2025-26-autumn"])
    path = next(tmp_path.rglob("management_information_latest_inspections.csv"))
    rows = list(csv.DictReader(path.open(encoding="cp1252")))
    keys = ("Latest OEIF quality of education", "Latest OEIF behaviour and attitudes",
            "Latest OEIF personal development", "Latest OEIF effectiveness of leadership and management")
    judged = [r for r in rows if r["Latest OEIF overall effectiveness"] in ("4", "Not judged")
              and (r["Latest OEIF overall effectiveness"] == "4" or any(r[k] == "4" for k in keys))]
    assert judged and all(r["Latest OEIF category of concern"] not in ("", "NULL") for r in judged), \
        [(r["URN"], r["Latest OEIF category of concern"]) for r in judged]


@pytest.mark.parametrize("column", ["category_of_concern", "oeif_category_of_concern", "recent_category_of_concern"])
@pytest.mark.parametrize("code, category", [("SM", "special measures"), ("SWK", "serious weaknesses"),
                                            ("swk ", "serious weaknesses")])
def test_ofsteds_category_codes_are_read_as_the_category(column, code, category):
    # Ofsted's management information writes a category as SM or SWK: read as words only, neither was a category.
    row = ofsted(URN, oeif_overall=4, oeif_date=date(2022, 6, 1), **{column: code})
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[row])
    found = SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern")
    assert found.met is True and found.value == f"Ofsted category of concern: {category}", found
    assert not [p for p in assess(data, RULES).problems if p.check == "ofsted_category_blank"]
    # A code inside other words is not one.
    other = {**row, column: "SMALL SCHOOL"}
    assert "name none" in SchoolIndicators(URN, term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[other]),
                                       RULES).get("ofsted_category_of_concern").value


def test_an_inspection_of_a_predecessor_school_is_said_to_be_its(shared_dfe, tmp_path):
    # Ofsted's MI shows a converter academy (or an amalgamated school) with its predecessor's inspection and says so
    # ("Does the latest OEIF graded inspection relate to the URN of the current school?" No); the evidence read it as
    # the school's own. Real Cambridgeshire bytes with that cell set to "No" for one school.
    import csv
    import io

    from school_improvement.evidence.indicators import latest_judgement
    from school_improvement.ingest.feeds import read_feed

    src = (shared_dfe / "samples" / "873_ofsted_mi_latest_inspections_2026_sample.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(src)))
    col = "Does the latest OEIF graded inspection relate to the URN of the current school?"
    target = next(r for r in rows if r[col] == "Yes" and r["Latest OEIF overall effectiveness"] == "2"
                  and r["Ungraded inspection overall outcome"] == "NULL" and r["Inspection start date"] == "NULL")
    target[col], target["URN at time of latest OEIF graded inspection"] = "No", "100001"
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / "management_information_latest_inspections.csv"
    path.write_bytes(out.getvalue().encode("cp1252"))
    by_urn = {int(r["urn"]): r for r in read_feed(path).schools.to_dict("records")}
    j = latest_judgement(by_urn[int(target["URN"])])
    assert "of its predecessor school (URN 100001)" in j["text"], j
    others = [latest_judgement(r) for u, r in by_urn.items() if u != int(target["URN"])]
    assert not any("predecessor" in (o or {}).get("text", "") for o in others)


def test_a_wording_written_over_two_lines_is_one_reason(tmp_path):
    # Another LA's reading writing a long bullet as a YAML block (`wording: |`): its line break split the reason into
    # two lines on the front page, and the bullet's id and evidence into a third.
    from school_improvement.editions.front_page import reason_items
    from school_improvement.rules import load_rule_set_arg
    from test_unseen_readings import _reading

    path = _reading(tmp_path, "two-lines", "criteria_replace:\n  - id: QE-H5\n    area: quality_of_education\n"
                    "    level: high\n    wording: |\n      Too much teaching requires improvement\n      or is inadequate\n"
                    "    evidence: [{adviser: QE-H5}]\n")
    rules = load_rule_set_arg(str(path))
    data = term_data("2025-26-autumn", gias=[gias(URN)], adviser_judgements=[judgement(URN, "QE-H5",
                                                                                      visit=date(2025, 10, 1))])
    line = categorise(data, rules).table.iloc[0]["reasons"].split("\n")[0]
    head, items = reason_items(line)
    assert [(w, i) for w, i, _ in items] == [("Too much teaching requires improvement or is inadequate", "QE-H5")], line


def test_the_gap_page_says_whether_the_gap_changes_a_schools_level():
    # The peer review's finding (low achievement of disadvantaged groups) shown on its own page under "Priority 3" read
    # as a criterion; the shipped reading weighs the gap in letters and academy concerns only. The page now says
    # where the rule set reads it, worked out from the rule set (a reading that makes it a bullet says so).
    from school_improvement.rules import load_rule_set_arg

    shipped = RULES.gap_section.counts
    assert "no bullet of the categorisation reads them, so they change no school's level of support" in shipped
    assert "Significant Concerns letter" in shipped and "concerns about an academy" in shipped, shipped
    from pathlib import Path

    reading = load_rule_set_arg(str(Path(__file__).resolve().parents[1] / "docs" / "readings" / "cambs-disadvantaged.yaml"))
    assert "of the categorisation" in reading.gap_section.counts and "no bullet" not in reading.gap_section.counts


@pytest.mark.slow  # the report's context and charts (about 5 s)
def test_the_gap_page_prints_where_the_rule_set_reads_the_gap():
    import dataclasses

    from test_report import make_inputs
    from test_report_words_of_the_rule_set import _gap_page

    import html

    page = html.unescape(_gap_page(dataclasses.replace(make_inputs(12), gap_section=RULES.gap_section.model_dump())))
    assert "so they change no school's level of support" in page, page


def test_an_ungraded_inspection_before_the_graded_one_is_said_to_be_earlier(shared_dfe):
    # Real Cambridgeshire rows: a graded Good of May 2023 and an ungraded "School remains Good (Concerns) - S5 Next" of
    # November 2021. The evidence read "Good (graded inspection, 2023-05-10); ungraded inspection: School remains Good
    # (Concerns) - S5 Next", undated: a concern after the grade, to the reader.
    from school_improvement.evidence.indicators import latest_judgement
    from school_improvement.ingest.feeds import read_feed

    feed = read_feed(shared_dfe / "samples" / "873_ofsted_mi_latest_inspections_2026_sample.csv")
    rows = [r for r in feed.schools.to_dict("records")
            if "(Concerns)" in str(r.get("ungraded_outcome")) and r.get("oeif_date") and r.get("ungraded_date")
            and r["ungraded_date"] < r["oeif_date"]]
    assert rows
    for r in rows:
        text = latest_judgement(r)["text"]
        assert f"an earlier ungraded inspection: {r['ungraded_outcome']} ({r['ungraded_date']})" in text, text


def test_an_academys_drop_in_ofsted_rating_is_reworded_under_report_cards(tmp_path):
    # SCL-6 said what "a drop in Ofsted rating" reads under report cards (s23); the academy's AC-10, in the concerns
    # sent to its trust, still said "a drop in Ofsted rating" of a report card, which has no rating.
    ac10 = next(i for i in CARDS.academy_concerns.indicators if i.evidence[0].indicator == "ofsted_dropped")
    assert "under report cards: an evaluation area graded below" in ac10.wording
    assert len(CARDS.academy_concerns.indicators) == len(RULES.academy_concerns.indicators)
    from test_unseen_readings import _assert_refused, _reading

    _assert_refused(_reading(tmp_path, "ac-unknown", "academy_concerns_replace:\n  - {id: AC-99, wording: x, "
                             "evidence: [{indicator: ofsted_dropped}]}\n"), ["academy_concerns_replace", "AC-99"])


def test_an_absence_file_of_another_la_is_said_to_be_its(shared_dfe, tmp_path):
    # Real Hertfordshire (919) absence rows dropped in as a Surrey (936) landing's absence file: "the absence file(s)
    # hold no rows for LA 936's schools" did not say whose they were.
    from school_improvement.ingest.feeds import read_feed
    from school_improvement.quality.feed_set import feed_presence

    path = tmp_path / "936_abs_2020-21.csv"
    path.write_bytes((shared_dfe / "samples" / "919_abs_2023-24_excerpt.csv").read_bytes())
    feeds = [read_feed(path), read_feed(shared_dfe / "samples" / "gias_850_936_extract_2022-04-20.csv")]
    said = [p for p in feed_presence(feeds, "936") if p.file == path.name]
    assert len(said) == 1 and "they are LA 919's: another LA's download?" in said[0].message, said


def test_a_school_whose_overall_effectiveness_was_not_judged_has_its_key_judgements_in_its_profile(shared_dfe):
    # From September 2024 to November 2025 Ofsted graded the key judgements only ("Not judged" overall); the school
    # profile's Ofsted lines came from the overall grade alone and printed "no inspection on record" (real row).
    from school_improvement.evidence.assess import report_figures
    from school_improvement.ingest.feeds import read_feed
    from school_improvement.ingest.termdata import TermData
    from school_improvement.terms import Term

    feed = read_feed(shared_dfe / "samples" / "873_ofsted_mi_latest_inspections_2026_sample.csv")
    row = next(r for r in feed.schools.to_dict("records") if str(r.get("oeif_overall")) == "nan"
               and str(r.get("oeif_quality_of_education")) not in ("nan", "None"))
    urn = int(row["urn"])
    data = TermData("873", Term.parse("2025-26-autumn"), [feed])
    figures = report_figures(SchoolIndicators(urn, data, RULES))
    assert figures["ofsted_oeif"] and "key judgements: Quality of education" in figures["ofsted_oeif"], figures
