"""An academy flagged on the inspection of the school it replaced (s25).

Ofsted's MI shows a new academy with its predecessor's latest inspection ("Does the latest OEIF graded inspection
relate to the URN of the current school?" No). A sponsored academy replacing a school judged Inadequate was flagged
"a drop in Ofsted rating" (AC-10) for that very inspection, to be put to its new trust. The rule set now says whether
such a judgement counts (cambs-2021-23: not_used, the Strategy quoted), and the edition says it."""

from __future__ import annotations

from datetime import date

import pandas as pd

from factories import gias, ofsted, term_data
from school_improvement.evidence.assess import assess
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set

URN, OLD = 990711, 990710
RULES = load_rule_set("cambs-2021-23")


def _academy_data(relates: str = "No"):
    row = ofsted(URN, oeif_overall=4, oeif_date=date(2022, 9, 20), oeif_category_of_concern="SM",
                 oeif_relates=relates, oeif_urn_then=str(OLD) if relates == "No" else str(URN))
    academy = gias(URN, type="Academy sponsor led", type_group="Academies", is_academy=True, is_la_maintained=False,
                   trust="Example Trust", open_date=date(2022, 9, 1))
    return term_data("2022-23-autumn", gias=[academy], ofsted=[row])


def _ac10(ev) -> pd.Series:
    c = ev.checks
    return c[(c.urn == URN) & (c.question == "academy concern") & (c.criterion_id == "AC-10")].iloc[0]


def test_an_academys_drop_in_ofsted_rating_is_not_judged_on_its_predecessors_inspection():
    history = {URN: {"prior": {"ofsted_band": ("requires_improvement", "")}}}
    ev = assess(_academy_data(), RULES, history)
    row = _ac10(ev)
    assert row["met"] is None or pd.isna(row["met"]), dict(row)
    assert f"inspected as its predecessor URN {OLD}" in row["reason"], dict(row)
    [p] = [p for p in ev.problems if p.check == "academy_predecessor_inspection"]
    assert p.severity == "warning" and "AC-9, AC-10" in p.message and f"URN {URN}" in p.message
    frame = pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "message": p.message,
                           "severity": p.severity, "check": p.check}])
    assert any("inspected as its predecessor" in n for n in front_page_notes(frame))


def test_the_academys_own_inspection_still_counts_and_another_reading_names_the_predecessor():
    history = {URN: {"prior": {"ofsted_band": ("requires_improvement", "")}}}
    ev = assess(_academy_data(relates="Yes"), RULES, history)
    assert _ac10(ev)["met"] is True
    assert not [p for p in ev.problems if p.check == "academy_predecessor_inspection"]
    # A rule set reading predecessors' inspections as the academy's: met, and the evidence says whose it was.
    use = RULES.model_copy(update={"academy_concerns": RULES.academy_concerns.model_copy(
        update={"predecessor_inspections": "use"})})
    row = _ac10(assess(_academy_data(), use, history))
    assert row["met"] is True and "predecessor" in row["value"], dict(row)
