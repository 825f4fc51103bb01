"""An edition shows what was known by the date printed on it (its as_of; blank: the term's scheduled run date).

The rule set's `results_known.edition_date`: a row of the LA's own files or Ofsted MI dated after the edition's date,
within the term, is never used without a word. The shipped reading (`after: said`) uses it and says first on the
front page that the edition shows what was known by that later date, with the as_of that would date it so; the
stricter one (`after: set_aside`) leaves it out, naming the as_of that would use it. A re-run weeks later without
as_of is dated the same day; inputs.json records the as_of used. The LA-held files are workbooks as Excel saves them
(tests/test_la_files.py), about fictional schools (URNs 99xxxx) and people.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from factories import feed, ofsted
from real_la import LA, build_landing
from school_improvement import pipeline
from school_improvement.ingest.feeds import read_feed
from school_improvement.quality.data_age import known_at_term
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set, rule_set_for
from school_improvement.terms import Term
from test_la_files import URN, workbook

D = dt.datetime
TERM = Term.parse("2025-26-summer")  # 13 April to 22 July 2026; scheduled run date 4 May 2026
KNOWN = rule_set_for(TERM.reference_date, la_code="999").results_known  # the rule set's own reading
STRICT = {**KNOWN, "edition_date": {**KNOWN["edition_date"], "after": "set_aside"}}


def _run_date() -> dt.date:
    return pipeline.RunConfig(la_code="999", term=str(TERM), landing="/tmp", work_dir="/tmp").as_of_date()


def test_the_rule_sets_date_their_evidence_by_the_edition():
    for rid in ("cambs-2021-23", "cambs-2025-report-cards", "northmoor-2024-27"):
        spec = load_rule_set(rid).results_known["edition_date"]
        assert spec["after"] == "said", rid
        assert {"adviser_judgements", "la_intelligence", "laig_notes", "letters_log", "moderation",
                "ofsted"} <= set(spec["columns"]), rid


def test_an_adviser_visit_after_the_editions_date_is_used_and_said_first_or_set_aside_by_the_strict_reading(tmp_path):
    run = _run_date()
    assert run == dt.date(2026, 5, 4)
    rows = [[URN, "LM-L2", "leadership_management", True, "Fictional Adviser", D(2026, 4, 20), "Fictional note"],
            [URN, "QE-L3", "quality_of_education", True, "Fictional Adviser", D(2026, 5, 12), "Fictional note"],
            [URN, "BA-L1", "behaviour_attitudes", True, "Fictional Adviser", D(2026, 5, 4), "Fictional note"]]
    feeds = [read_feed(workbook(tmp_path / "visits.xlsx", "adviser_judgements", rows))]
    kept, said = known_at_term(feeds, TERM, KNOWN, {URN}, as_of=run)
    assert len(kept[0].schools) == 3  # the shipped reading: used, and said
    (p,) = said
    assert (p.file, p.row, p.column, p.check, p.severity) == ("visits.xlsx", 3, "visit_date", "after_edition_date",
                                                              "warning")
    assert "up to 12 May 2026, was used" in p.message and "with as_of 2026-05-12" in p.message
    frame = pd.DataFrame([{"file": p.file, "feed_kind": "", "row": p.row, "column": p.column, "severity": p.severity,
                           "check": c, "message": m} for c, m in [("gias_date", "The GIAS extract is dated ..."),
                                                                  ("after_edition_date", p.message)]])
    first = front_page_notes(frame)[0]  # first in the box: the date printed is not the date of what it shows
    assert first.startswith("This edition is dated 4 May 2026 but uses evidence dated after it, up to 12 May 2026: "
                            "1 adviser judgement (visits.xlsx)") and "as_of 2026-05-12" in first
    kept, said = known_at_term(feeds, TERM, STRICT, {URN}, as_of=run)
    assert sorted(kept[0].schools["criterion_id"]) == ["BA-L1", "LM-L2"]  # on the run date itself: known
    (p,) = said
    assert (p.file, p.row, p.column, p.check, p.severity) == ("visits.xlsx", 3, "visit_date", "after_edition_date",
                                                              "warning")
    assert "dated after 4 May 2026, the date of this edition" in p.message
    assert "with as_of 2026-05-12 or later" in p.message
    note = front_page_notes(pd.DataFrame([{"file": p.file, "feed_kind": "", "row": p.row, "column": p.column,
                                           "severity": p.severity, "check": p.check, "message": p.message}]))
    assert note and note[0].startswith("visits.xlsx: 1 adviser judgement (row 3) dated after 4 May 2026")
    # An edition dated later (the as_of Param) uses it, and says nothing.
    for known in (KNOWN, STRICT):
        kept, said = known_at_term(feeds, TERM, known, {URN}, as_of=dt.date(2026, 5, 12))
        assert len(kept[0].schools) == 3 and said == []


@pytest.mark.parametrize("kind, row, column", [
    ("la_intelligence", [URN, "finance", "medium", "Fictional detail", "Schools Finance", D(2026, 6, 1)], "raised_on"),
    ("laig_notes", [URN, D(2026, 6, 1), "Fictional key points", "Fictional notes"], "meeting_date"),
    ("letters_log", [URN, "congratulations", "", D(2026, 6, 1), "Head of School Improvement", "2025-26-summer"],
     "issued_on"),
    ("moderation", [URN, "2025-26-summer", "low", "Fictional reason", "Fictional Panel", D(2026, 6, 1)],
     "approved_on"),
])
def test_the_las_other_rows_after_the_editions_date_are_said(tmp_path, kind, row, column):
    feeds = [read_feed(workbook(tmp_path / f"{kind}.xlsx", kind, [row]))]
    for known, left in ((KNOWN, 1), (STRICT, 0)):
        kept, said = known_at_term(feeds, TERM, known, {URN}, as_of=_run_date())
        assert len(kept[0].schools) == left
        (p,) = said
        assert (p.row, p.column, p.check) == (2, column, "after_edition_date") and "1 June 2026" in p.message


def test_a_letter_of_a_later_term_is_left_to_its_term_column_not_said_as_after_the_edition():
    log = feed("letters_log", [{"urn": URN, "letter": "congratulations", "concern": "", "issued_on": dt.date(2026, 9, 20),
                                "issued_by": "Fictional", "term": "2026-27-autumn"}], year=None)
    for known in (KNOWN, STRICT):
        kept, said = known_at_term([log], TERM, known, {URN}, as_of=_run_date())
        assert len(kept[0].schools) == 1 and said == []


def test_an_inspection_after_the_editions_date_is_said_and_by_the_strict_reading_hides_the_schools_ofsted_evidence():
    mi = feed("ofsted", [ofsted(990001, oeif_date=dt.date(2026, 4, 28)), ofsted(990002, oeif_date=dt.date(2026, 6, 3)),
                         ofsted(880001, oeif_date=dt.date(2026, 6, 3))], year="2025-26", source="mi.csv")
    [kept], [said] = known_at_term([mi], TERM, KNOWN, {990001, 990002}, as_of=_run_date())
    assert len(kept.schools) == 3 and "1 Ofsted inspection, dated after 4 May 2026" in said.message
    [kept], [said] = known_at_term([mi], TERM, STRICT, {990001, 990002}, as_of=_run_date())
    assert sorted(kept.schools["urn"]) == [990001]
    assert said.check == "after_edition_date" and "1 Ofsted inspection dated after 4 May 2026" in said.message
    assert "judged with no Ofsted evidence in this edition" in said.message


def test_an_as_of_before_the_term_began_is_refused():
    with pytest.raises(ValueError, match="before 2025-26-summer began"):
        pipeline.RunConfig(la_code="999", term=str(TERM), landing="/tmp", work_dir="/tmp", as_of="2026-04-01")
    assert pipeline.RunConfig(la_code="999", term=str(TERM), landing="/tmp", work_dir="/tmp",
                              as_of="2026-04-13").as_of_date() == dt.date(2026, 4, 13)


def test_an_as_of_after_the_term_ended_is_refused():
    """The term's evidence ends with it (rows dated later are set aside): an edition dated after the term would print
    a day its evidence does not reach, and date its letters after the term they are for."""
    with pytest.raises(ValueError, match=r"after 2025-26-summer ended \(22 July 2026\)"):
        pipeline.RunConfig(la_code="999", term=str(TERM), landing="/tmp", work_dir="/tmp", as_of="2026-07-23")
    with pytest.raises(ValueError, match="after 2025-26-summer ended"):
        pipeline.RunConfig(la_code="999", term=str(TERM), landing="/tmp", work_dir="/tmp", as_of="2026-11-02")
    assert pipeline.RunConfig(la_code="999", term=str(TERM), landing="/tmp", work_dir="/tmp",
                              as_of="2026-07-22").as_of_date() == dt.date(2026, 7, 22)  # the term's last day


def test_an_as_of_that_is_no_date_names_as_of():
    """2026-02-30 passes the YYYY-MM-DD pattern (the Param's too): the refusal names as_of and the value."""
    with pytest.raises(ValueError, match=r"as_of '2026-02-30' is not a date of the calendar"):
        pipeline.RunConfig(la_code="999", term="2025-26-spring", landing="/tmp", work_dir="/tmp", as_of="2026-02-30")


def _assembled(cfg) -> dict:
    """inputs.json as assemble_reports writes it (the parts faked: only inputs.json is looked at)."""
    for part in pipeline.REPORT_PARTS:
        folder = cfg.run_dir / "parts" / part
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part.json").write_text(json.dumps({"part": part, "rule_set": "cambs-2021-23", "files": 0}))
    pipeline.assemble_reports(cfg)
    return json.loads((cfg.run_dir / "staged" / "inputs.json").read_text())


@pytest.mark.slow  # a real Surrey term through extract and validate, twice
def test_real_surrey_summer_term_rerun_without_as_of_says_it_used_a_visit_after_its_printed_date(shared_dfe, tmp_path):
    """Real Surrey 2021-22 summer ("Run 22 April 2022"), re-run later with an adviser visit of 10 May 2022 in the
    folder: the edition dated 22 April uses it and says first on its front page that it shows what was known by
    10 May; one run with as_of 2022-05-10 uses it and says nothing. A low-support bullet of a fictional adviser's
    visit to a real school: no concern labelled."""
    landing = build_landing(shared_dfe, tmp_path / "landing", leave_out=("ks4",))
    gias = read_feed(next(landing.glob("gias_*.csv")))
    urn = int(gias.schools.loc[gias.schools["is_la_maintained"].astype(bool)
                               & gias.schools["la_code"].astype(str).eq(LA), "urn"].iloc[0])
    workbook(landing / "adviser_judgements.xlsx", "adviser_judgements",
             [[urn, "LM-L2", "leadership_management", True, "Fictional Adviser", D(2022, 5, 10), "Fictional note"]])
    made = {}
    for as_of in ("", "2022-05-10"):
        cfg = pipeline.RunConfig(la_code=LA, term="2021-22-summer", landing=str(landing),
                                 work_dir=str(tmp_path / f"work{as_of}"), history_url=f"sqlite:///{tmp_path}/h.sqlite",
                                 run_id="r", as_of=as_of)
        pipeline.extract(cfg)
        pipeline.validate(cfg)
        dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
        judged = pipeline._term_data(cfg).frame("adviser_judgements")
        made[as_of] = (dq[dq["check"] == "after_edition_date"], len(judged), _assembled(cfg))
    aside, n, inputs = made[""]
    assert n == 1 and len(aside) == 1 and aside.iloc[0]["file"] == "adviser_judgements.xlsx"
    assert "dated after 22 April 2022, the date of this edition" in aside.iloc[0]["message"]
    assert front_page_notes(aside)[0].startswith("This edition is dated 22 April 2022 but uses evidence dated after "
                                                 "it, up to 10 May 2022")
    assert (inputs["as_of"], inputs["as_of_given"]) == ("2022-04-22", False)
    aside, n, inputs = made["2022-05-10"]
    assert n == 1 and aside.empty
    assert (inputs["as_of"], inputs["as_of_given"]) == ("2022-05-10", True)
