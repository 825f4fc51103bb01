"""Which schools are in a term: GIAS's "Open, but proposed to close", and the schools that left or joined since
the last term on record, said in data_quality.csv and named on the front page."""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from factories import feed, gias, term_data
from school_improvement.evidence.assess import (assess, maintained_schools, membership_changes,
                                                proposed_closures)
from school_improvement.ingest.feeds import read_feed
from school_improvement.ingest.links import read_links
from school_improvement.ingest.termdata import TermData
from school_improvement.terms import Term

GIAS = "gias_850_936_extract_2022-04-20.csv"
LINKS = "gias_links_2024-01-29.csv"


@functools.lru_cache(maxsize=None)
def _read_once(path: Path):
    return read_links(path) if path.name == LINKS else read_feed(path)


def _read(path: Path):
    """The real file read once per test process; each caller gets its own copy of the frames."""
    feed = _read_once(path)
    return dataclasses.replace(feed, schools=feed.schools.copy(), comparators=feed.comparators.copy(),
                               statuses=feed.statuses.copy(), history=feed.history.copy(),
                               warnings=list(feed.warnings))


def _surrey(shared_dfe, term: str, links: bool = True) -> TermData:
    feeds = [_read(shared_dfe / "samples" / GIAS)]
    if links:
        feeds.append(_read(shared_dfe / "samples" / LINKS))
    return TermData("936", Term.parse(term), feeds)


@pytest.mark.slow  # the real Surrey GIAS extract read whole (over test-fast's CPU budget)
def test_a_proposed_close_date_is_not_a_closure_on_the_real_surrey_extract(shared_dfe):
    """Trial: a school GIAS listed on 20 April 2022 as "Open, but proposed to close" on 31 May 2022, whose successor
    the links file dates 31 October 2022, was in no output of 2022-23-autumn. The two such Surrey schools: one
    still maintained when that term began (successor later), one not (successor from June 2022)."""
    raw = _read(shared_dfe / "samples" / GIAS).schools
    proposed = raw[(raw["la_code"].astype(str) == "936") & raw["status"].eq("Open, but proposed to close")]
    assert len(proposed) == 2 and all(d < date(2022, 9, 1) for d in proposed["close_date"])
    data = _surrey(shared_dfe, "2022-23-autumn")
    taken = set(maintained_schools(data)["urn"]) & set(proposed["urn"])
    assert len(taken) == 1  # the one whose successor opened after the term began
    notes = proposed_closures(data)
    assert len(notes) == 1 and notes[0].check == "gias_proposed_to_close" and notes[0].severity == "warning"
    assert f"URN {taken.pop()}" in notes[0].message and "31 October 2022" in notes[0].message
    # Without a links file nothing says they closed: both are taken as open, and both are named.
    alone = _surrey(shared_dfe, "2022-23-autumn", links=False)
    assert set(proposed["urn"]) <= set(maintained_schools(alone)["urn"])
    assert len(proposed_closures(alone)) == 2
    assert all("check whether it has closed" in p.message for p in proposed_closures(alone))


@pytest.mark.slow  # two real Surrey GIAS extracts read whole (over test-fast's CPU budget)
def test_the_schools_that_left_between_two_real_surrey_terms_are_named_with_why(shared_dfe):
    """Trial: eight schools left between 2021-22-autumn and 2022-23-autumn and none was named."""
    before = _surrey(shared_dfe, "2021-22-autumn")
    after = _surrey(shared_dfe, "2022-23-autumn")
    m0 = {int(u) for u in maintained_schools(before)["urn"]}
    m1 = {int(u) for u in maintained_schools(after)["urn"]}
    history = after.carry_forward({u: {"previous_category": "low", "previous_term": "2021-22-autumn", "prior": {}}
                                   for u in m0})
    rows = membership_changes(after, history, m1)
    left = [p for p in rows if p.check == "school_left"]
    joined = [p for p in rows if p.check == "school_joined"]
    assert len(left) == len(m0 - m1) >= 6
    assert sum(": converted to an academy" in p.message for p in left) >= 5
    assert all("successor URN" in p.message for p in left)  # the links file names each one's successor
    assert len(joined) == len(m1 - m0)
    # An academy that carries its predecessor's record forward did not "leave": only the LA's schools of last term.
    assert not any(f"URN {u})" in p.message for p in left for u in m1 | (set(history) - m0))


def test_membership_on_generated_data_reasons_and_new_schools():
    d = term_data("2025-26-spring", gias=[
        gias(1), gias(2, status="Closed", close_date=date(2025, 12, 31), close_reason="Closure"),
        gias(3, open_date=date(2025, 11, 1), open_reason="New Provision")])
    history = {1: {"previous_category": "low", "previous_term": "2025-26-autumn"},
               2: {"previous_category": "medium", "previous_term": "2025-26-autumn"},
               4: {"previous_category": "high", "previous_term": "2025-26-autumn"},
               5: {"previous_category": None, "previous_term": "2025-26-autumn"}}  # an academy: not categorised
    rows = membership_changes(d, history, {int(u) for u in maintained_schools(d)["urn"]})
    msgs = {p.check: [] for p in rows}
    for p in rows:
        msgs[p.check].append(p.message)
    assert len(msgs["school_left"]) == 2
    assert any("URN 2" in m and ": closed (31 December 2025)" in m for m in msgs["school_left"])
    assert any(m.startswith("URN 4") and m.endswith(": not in the GIAS extract") for m in msgs["school_left"])
    assert msgs["school_joined"] == ["Test School 3 (URN 3) is categorised for the first time since 2025-26-autumn: "
                                     "opened 01 November 2025 (new provision)"]
    assert membership_changes(d, {}, {1, 3}) == []  # no earlier term: nothing to compare


@pytest.mark.slow  # the real Surrey GIAS extract read whole (over test-fast's CPU budget)
def test_front_page_counts_and_names_the_schools_that_left(tmp_path):
    from school_improvement.editions import front_page, render, report
    from test_report import make_inputs

    inputs = make_inputs(6)
    history = pd.DataFrame({"urn": [*inputs.categorisation["urn"], 999001, 999002], "term": "2024-25-summer",
                            "category": ["low"] * 8})
    left = [f"Gone School {i} (URN {999000 + i}), low support in 2024-25-summer, is not categorised in "
            f"2025-26-autumn: {why}" for i, why in ((1, "converted to an academy (31 August 2025)"),
                                                   (2, "not in the GIAS extract"))]
    dq = pd.DataFrame([{"file": "gias.csv", "feed_kind": "gias", "row": None, "column": "URN", "severity": "info",
                        "check": "school_left", "message": m} for m in left]
                      + [{"file": "gias.csv", "feed_kind": "gias", "row": 5, "column": "EstablishmentStatus (name)",
                          "severity": "warning", "check": "gias_proposed_to_close",
                          "message": "Staying School (URN 999003) is listed as 'Open, but proposed to close' on 31 May "
                                     "2025: a proposal, not a closure, so it is categorised as still LA-maintained"}])
    inputs = report.ReportInputs(**{**inputs.__dict__, "history": history, "data_quality": dq})
    m = front_page.membership(dq)
    assert [(g["n"], g["label"], g["schools"]) for g in m["left_groups"]] == [
        (1, "converted to an academy", ["Gone School 1 (URN 999001)"]),
        (1, "not in the GIAS extract", ["Gone School 2 (URN 999002)"])]
    for edition in ("general", "restricted"):
        html = render._environment().get_template("report.html.j2").render(**report._context(inputs, edition))
        front = " ".join(re.sub(r"<[^>]+>", " ", html[:html.index('id="front-letters"')]).split())
        assert ("2 schools categorised in 2024-25-summer are not categorised now: 1 converted to an academy (Gone "
                "School 1 (URN 999001)); 1 not in the GIAS extract (Gone School 2 (URN 999002))") in front
        assert "proposed to close\" (a proposed date is not a closure; check against your records): Staying School (URN 999003)." in front.replace("&#34;", '"')
        assert "Gone School 1 (URN 999001)" in front and "Gone School 2 (URN 999002)" in front
    # In a tighter room, the schools beyond those named are counted as not named here (trial s31: "5 more named").
    tight = front_page.membership(dq, front_page.FrontRoom(named=1))
    context = {**report._context(inputs, "general"), "membership": tight}
    html = render._environment().get_template("report.html.j2").render(**context)
    front = " ".join(re.sub(r"<[^>]+>", " ", html[:html.index('id="front-letters"')]).split())
    assert ("not categorised now: 1 converted to an academy (Gone School 1 (URN 999001)); 1 not in the GIAS extract. "
            "1 of them is not named here; each is in Appendix A.") in front, front


@pytest.mark.slow  # the real Surrey GIAS extract read whole (over test-fast's CPU budget)
def test_the_tests_helper_reads_gias_as_the_pipeline_does(shared_dfe):
    """tests/real_la.surrey_open_maintained, which real-Surrey tests compare the categorised schools with, reads
    "Open, but proposed to close" as the run does: open, unless the links file gives a successor before the term.
    Two Surrey schools were proposed to close on 31 May 2022; the links give them successors from 30 June 2022 (The
    Dawnay School, URN 130397) and 31 October 2022 (Thames Ditton Junior School, URN 124967)."""
    from real_la import surrey_open_maintained

    for term in ("2021-22-autumn", "2022-23-autumn", "2023-24-spring", "2025-26-spring"):
        start = Term.parse(term).dates()[0]
        for links in (True, False):
            run = {int(u) for u in maintained_schools(_surrey(shared_dfe, term, links))["urn"]}
            assert run == surrey_open_maintained(shared_dfe, start, links), (term, links)
    autumn = surrey_open_maintained(shared_dfe, Term.parse("2022-23-autumn").dates()[0], links=True)
    assert 130397 not in autumn and 124967 in autumn  # the successor from 30 June 2022; the one from 31 October
    alone = surrey_open_maintained(shared_dfe, Term.parse("2022-23-autumn").dates()[0])
    assert {130397, 124967} <= alone  # without a links file a proposed date is no closure


def test_a_school_closed_for_academy_is_said_to_have_converted_on_real_surrey(shared_dfe):
    """Trial of terms in a row (helper U, s20): between 2021-22 spring and summer, a school GIAS closed with the reason
    "For Academy" (its successor a sponsored academy) was counted on the front page as "closed"."""
    raw = _read(shared_dfe / "samples" / GIAS).schools
    for_academy = set(raw.loc[(raw["la_code"].astype(str) == "936") & raw["close_reason"].eq("For Academy"), "urn"])
    assert for_academy
    before, after = _surrey(shared_dfe, "2021-22-spring"), _surrey(shared_dfe, "2021-22-summer")
    m0 = {int(u) for u in maintained_schools(before)["urn"]}
    m1 = {int(u) for u in maintained_schools(after)["urn"]}
    history = after.carry_forward({u: {"previous_category": "low", "previous_term": "2021-22-spring", "prior": {}}
                                   for u in m0})
    left = [p.message for p in membership_changes(after, history, m1) if p.check == "school_left"]
    said = [m for m in left if any(f"(URN {u})" in m for u in for_academy)]
    assert said and all(": converted to an academy (" in m for m in said)
    assert not any(": closed (" in m for m in left)  # every school that left this spring became an academy


def test_a_school_that_converted_says_its_letters_stay_with_it():
    """Trial of terms in a row (helper U, s20): a school at high support, sent a Significant Concerns letter, converted
    mid-year; the next term said only that it converted, not that its letter does not follow the academy."""
    d = term_data("2025-26-spring", gias=[
        gias(2, status="Closed", close_date=date(2025, 12, 31), close_reason="Academy Converter"),
        gias(3, is_academy=True, is_la_maintained=False, type="Academy converter", open_date=date(2026, 1, 1))],
        gias_links=[{"urn": 2, "link_urn": 3, "link_name": "Test School 3", "link_type": "Successor",
                     "link_date": date(2026, 1, 1)}],
        letters_log=[{"urn": 2, "letter": "significant_concerns_letter", "concern": "", "issued_on": date(2025, 10, 1),
                      "issued_by": "Director", "term": "2025-26-autumn"}])
    history = {2: {"previous_category": "high", "previous_term": "2025-26-autumn"}}
    left = [p.message for p in membership_changes(d, history, set()) if p.check == "school_left"]
    assert len(left) == 1 and ": converted to an academy (31 December 2025); successor URN 3" in left[0]
    assert left[0].endswith("; its letters (Significant Concerns letter, 01 October 2025) stay with URN 2, not the "
                            "successor")
