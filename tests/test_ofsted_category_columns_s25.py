"""The Ofsted MI's category columns, read only for what the vocabulary can say (s25).

"NtI" (notice to improve, the category before September 2012) was read as no category, without a word; any other
value the vocabulary does not know was too; and a category beside a later, better graded judgement (the "Most recent
category of concern" of a school since re-inspected) put the school in a category of concern and at high support."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from factories import gias, ofsted, term_data
from school_improvement.decisions.categorise import categorise
from school_improvement.evidence.assess import assess
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set

URN = 990611
RULES = load_rule_set("cambs-2021-23")


def _notes(problems) -> list[str]:
    return front_page_notes(pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "message": p.message,
                                           "severity": p.severity, "check": p.check} for p in problems]))


@pytest.mark.parametrize("code", ["NtI", "NTI", "Notice to improve"])
def test_a_notice_to_improve_is_read_as_the_category_of_concern_it_is(code):
    row = ofsted(URN, oeif_overall=4, oeif_date=date(2022, 6, 1), recent_category_of_concern=code)
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[row])
    found = SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern")
    assert found.met is True and found.value == "Ofsted category of concern: notice to improve", found
    assert not [p for p in assess(data, RULES).problems if p.check.startswith("ofsted_category")]


def test_a_category_cell_the_vocabulary_cannot_read_is_said_on_the_front_page_with_row_and_column():
    row = ofsted(URN, oeif_overall=3, oeif_date=date(2022, 6, 1), oeif_category_of_concern="Special Measure (SM2)",
                 _row=7)
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[row])
    found = SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern")
    assert found.met is False  # not read as a category: said instead
    [p] = [p for p in assess(data, RULES).problems if p.check == "ofsted_category_unknown"]
    assert p.severity == "warning" and p.row == 7 and p.column == "Latest OEIF category of concern"
    assert "'Special Measure (SM2)'" in p.message and f"URN {URN}" in p.message
    assert any("Special Measure (SM2)" in n for n in _notes([p]))


def test_a_category_beside_a_later_better_graded_judgement_is_set_aside_and_said():
    # Re-inspected and judged Requires improvement: out of the category the "Most recent category of concern" names.
    row = ofsted(URN, oeif_overall=3, oeif_date=date(2022, 3, 1), recent_category_of_concern="SM", _row=4)
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[row])
    ind = SchoolIndicators(URN, data, RULES)
    assert ind.get("ofsted_category_of_concern").met is False
    assert ind.get("ofsted_requires_improvement").met is True  # the graded judgement, not the category's band
    table = categorise(data, RULES).table
    assert table.iloc[0]["overriding_condition"] != "OV-CATEGORY", dict(table.iloc[0])
    [p] = [p for p in assess(data, RULES).problems if p.check == "ofsted_category_not_current"]
    assert p.row == 4 and p.column == "Most recent category of concern" and "Requires improvement" in p.message
    assert any("an earlier category, not read" in n for n in _notes([p]))
    # The same category beside an Inadequate judgement is the school's: read, nothing said.
    bad = {**row, "oeif_overall": 4}
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[bad])
    assert SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern").met is True
    assert not [p for p in assess(data, RULES).problems if p.check == "ofsted_category_not_current"]


def test_a_category_named_by_the_same_inspection_as_a_better_judgement_is_read_and_the_contradiction_said():
    # A graded Good with its own "Latest OEIF category of concern" Special measures: the row contradicts itself; Ofsted's
    # named category is read (a school in a category is never taken out of it quietly), and said.
    row = ofsted(URN, oeif_overall=2, oeif_date=date(2022, 3, 1), oeif_category_of_concern="Special measures", _row=9)
    data = term_data("2022-23-autumn", gias=[gias(URN)], ofsted=[row])
    assert SchoolIndicators(URN, data, RULES).get("ofsted_category_of_concern").met is True
    [p] = [p for p in assess(data, RULES).problems if p.check == "ofsted_category_not_current"]
    assert p.row == 9 and "the same inspection's judgement" in p.message


def test_on_real_ofsted_bytes_no_cell_is_said_and_an_nti_cell_is_read(shared_dfe, tmp_path):
    import csv
    import io

    from school_improvement.evidence.indicators import category_reading
    from school_improvement.ingest.feeds import read_feed

    src = (shared_dfe / "samples" / "873_ofsted_mi_latest_inspections_2026_sample.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(src)))
    path = tmp_path / "management_information_latest_inspections.csv"
    path.write_bytes(src.encode("cp1252"))
    readings = [category_reading(r) for r in read_feed(path).schools.to_dict("records")]
    assert len(readings) == 12 and not any(c["category"] or c["unknown"] for c in readings)  # blank and NULL: none
    rows[0]["Most recent category of concern"] = "NtI"
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(out.getvalue().encode("cp1252"))
    by_urn = {int(r["urn"]): r for r in read_feed(path).schools.to_dict("records")}
    assert category_reading(by_urn[int(rows[0]["URN"])])["category"] == "notice to improve"
