"""An academy put to its trust on the results of the school it replaced (s34).

Trial on the real Surrey download (2021-22 summer): academies opened in 2019-2021 had no published figures of their
own, so the evidence read their one predecessor's (the rule set's predecessor_results, GIAS links), and their trusts
were sent concerns ("declining trend", "high absence", "persistent underperformance of disadvantaged groups") on KS2
and absence of 2016-17 to 2018-19, when the LA ran the school. The rule set now says whether such figures count for
an academy's concerns (cambs-2021-23: not_used, as for the predecessor's inspections), and the edition says it. A
maintained school under a new URN is still judged on its predecessor's figures."""

from __future__ import annotations

from datetime import date

import pandas as pd

from factories import NATIONAL_ABS, absence, feed, gias
from school_improvement.evidence.assess import SchoolEvidence, assess
from school_improvement.ingest.termdata import TermData
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term

ACADEMY, OLD, SCHOOL, MERGED = 990721, 990720, 990731, 990730
RULES = load_rule_set("cambs-2021-23")


def _data() -> TermData:
    schools = [gias(ACADEMY, type="Academy converter", type_group="Academies", is_academy=True,
                    is_la_maintained=False, trust="Example Trust", open_date=date(2021, 4, 1)),
               gias(SCHOOL, open_date=date(2021, 9, 1))]
    links = [{"urn": new, "link_urn": old, "link_name": "Old", "link_type": "Predecessor",
              "link_date": date(2021, 4, 1)} for new, old in ((ACADEMY, OLD), (SCHOOL, MERGED))]
    high = {"overall_absence": 9.5, "persistent_absence": 31.0}  # far above national (5.5%, 14.6%)
    return TermData("999", Term.parse("2022-23-autumn"), [
        feed("gias", schools, year=None), feed("gias_links", links, year=None),
        feed("absence", [absence(OLD, **high), absence(MERGED, **high)], [NATIONAL_ABS], year="2021-22")])


def _checks(ev, urn: int, question: str) -> pd.DataFrame:
    c = ev.checks
    return c[(c.urn == urn) & (c.question == question) & c.measure.str.contains("absence")]


def test_an_academys_concerns_do_not_rest_on_its_predecessors_figures():
    ev = assess(_data(), RULES, {})
    ac = _checks(ev, ACADEMY, "academy concern")
    assert len(ac) and ac["met"].isna().all(), ac.to_dict("records")
    assert all(f"figures of predecessor URN {OLD}" in r and "predecessor_results: not_used" in r for r in ac["reason"])
    [p] = [p for p in ev.problems if p.check == "academy_predecessor_results"]
    assert p.severity == "warning" and f"URN {ACADEMY}" in p.message and "AC-2" in p.message, p.message
    frame = pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "message": p.message,
                           "severity": p.severity, "check": p.check}])
    assert any("figures from before it was responsible" in n for n in front_page_notes(frame))
    # A maintained school under a new URN is still judged on its predecessor's figures, named as such: the same
    # evidence, read for it as for any school (not an academy's concern).
    [e] = [e for i in RULES.academy_concerns.indicators for e in i.evidence if e.indicator == "persistent_absence_high"]
    own = SchoolEvidence(SCHOOL, _data(), RULES).check(e)
    assert own.met is True and f"figures of predecessor URN {MERGED}" in own.value, own


def test_a_rule_set_reading_them_as_the_academys_judges_them_naming_the_predecessor():
    use = RULES.model_copy(update={"academy_concerns": RULES.academy_concerns.model_copy(
        update={"predecessor_results": "use"})})
    ev = assess(_data(), use, {})
    ac = _checks(ev, ACADEMY, "academy concern")
    met = ac[ac["met"].eq(True)]
    assert len(met) and all(f"figures of predecessor URN {OLD}" in v for v in met["value"]), ac.to_dict("records")
    assert not [p for p in ev.problems if p.check == "academy_predecessor_results"]
