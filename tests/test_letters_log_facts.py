"""What the letters log says that the ladder cannot explain is said, never taken as fact without a word (rule set
`letters_log_checks`): a Warning Notice with no Significant Concerns letter before it, the formal Significant Concerns
with no Warning Notice, a maintained school's letter logged to an academy and an academy step to a maintained school.
Fictional schools (URNs 99xxxx) and people; counts and absences are asserted, no real school is named."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from factories import gias, letter, term_data
from school_improvement.errors import FeedError
from school_improvement.evidence.assess import assess
from school_improvement.pipeline import with_rule_set_review
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term

RULES = load_rule_set("cambs-2021-23")
TERM = "2025-26-autumn"
A, B, C = 990101, 990102, 990103  # maintained
ACADEMY = 990201


def _schools():
    return [gias(A), gias(B), gias(C),
            gias(ACADEMY, type="Academy converter", type_group="Academies", is_academy=True, is_la_maintained=False,
                 trust="Fictional Trust")]


def _said(log, rules=RULES):
    rows = [{**r, "_row": i + 2} for i, r in enumerate(log)]
    ev = assess(term_data(TERM, gias=_schools(), letters_log=rows), rules)
    return [p for p in ev.problems if p.check in ("letters_log_ladder", "letters_log_school")]


def test_a_ladder_followed_in_order_says_nothing():
    log = [letter(A, "significant_concerns_letter", date(2025, 1, 20)), letter(A, "warning_notice", date(2025, 5, 6)),
           letter(A, "significant_concerns", date(2025, 9, 15)), letter(B, "congratulations", date(2025, 6, 2)),
           letter(ACADEMY, "academy_meeting", date(2025, 5, 1), "AC-2")]
    assert _said(log) == []


def test_a_warning_notice_with_no_earlier_letter_and_a_formal_letter_with_no_notice_are_said_naming_the_rows():
    log = [letter(A, "warning_notice", date(2025, 5, 6)),
           letter(B, "significant_concerns_letter", date(2025, 6, 2)),
           letter(B, "significant_concerns", date(2025, 9, 15)),
           letter(C, "warning_notice", date(2025, 3, 3)),
           letter(C, "significant_concerns_letter", date(2025, 6, 2))]  # logged after the notice it would precede
    said = _said(log)
    assert sorted((p.row, p.column, p.severity) for p in said) == [(2, "letter", "warning"), (4, "letter", "warning"),
                                                                   (5, "letter", "warning")]
    by_row = {p.row: p.message for p in said}
    assert "Warning Notice is logged to URN 990101" in by_row[2] and "no Significant Concerns letter before it" in by_row[2]
    assert "Significant Concerns (formal) is logged to URN 990102" in by_row[4] and "no Warning Notice" in by_row[4]
    assert all(p.file == "letters_log.csv" for p in said)
    # On the front page, with the file, and in data_quality.csv as the letters log's.
    dq = with_rule_set_review(pd.DataFrame(), RULES, Term.parse(TERM), said)
    dq = dq[~dq["check"].isin(["rule_set_review_date", "rule_set_in_force"])]  # cambs-2021-23: past review, ends in 2025-26
    assert set(dq["feed_kind"]) == {"letters_log"}
    notes = front_page_notes(dq)
    assert len(notes) == 3 and all(n.startswith("letters_log.csv: row ") for n in notes)


def test_letters_to_the_wrong_kind_of_school_are_said():
    log = [letter(ACADEMY, "significant_concerns_letter", date(2025, 9, 10)),
           letter(A, "academy_formal_letter", date(2025, 9, 12), "AC-2")]
    said = sorted(_said(log), key=lambda p: p.row)
    assert [(p.row, p.check) for p in said] == [(2, "letters_log_school"), (3, "letters_log_school")]
    assert "GIAS lists that URN as an academy" in said[0].message
    assert "maintained school, not an academy" in said[1].message


def test_a_letter_to_a_schools_old_urn_after_it_converted_is_said():
    """GIAS closes a converting school's URN and opens the academy under a new one; a letter logged to the old URN
    after that is for no school the run judges (the old URN is not categorised, the academy does not read it)."""
    from factories import feed

    old, new = 990301, 990302
    schools = _schools() + [
        gias(old, status="Closed", close_date=date(2025, 8, 31), close_reason="Academy converter"),
        gias(new, type="Academy converter", type_group="Academies", is_academy=True, is_la_maintained=False,
             trust="Fictional Trust", open_date=date(2025, 9, 1), open_reason="Academy converter")]
    links = feed("gias_links", [{"urn": new, "link_urn": old, "link_name": f"Test School {old}",
                                 "link_type": "Predecessor", "link_date": date(2025, 9, 1)}])
    log = [letter(old, "significant_concerns_letter", date(2025, 5, 6)),  # before it closed: history, not said
           letter(old, "warning_notice", date(2025, 9, 15)),
           letter(old, "academy_meeting", date(2025, 9, 22), "AC-2")]  # the academy's step, to the old URN
    rows = [{**r, "_row": i + 2} for i, r in enumerate(log)]
    ev = assess(term_data(TERM, gias=schools, gias_links=links, letters_log=rows), RULES)
    said = sorted((p for p in ev.problems if p.check == "letters_log_school"), key=lambda p: p.row)
    assert [(p.row, p.column, p.severity) for p in said] == [(3, "urn", "warning"), (4, "urn", "warning")]
    assert "Warning Notice is logged to URN 990301" in said[0].message and "closed on 31 August 2025" in said[0].message
    assert all("(Academy converter)" in p.message and "links it to URN 990302" in p.message and "not used" in p.message
               for p in said)
    assert "maintained school, not an academy" not in said[1].message  # it is closed, not a maintained school now


def test_letters_older_than_the_ladder_reads_are_not_said_again_every_term():
    assert _said([letter(A, "warning_notice", date(2022, 5, 6))]) == []


def test_a_rule_set_may_stop_the_run_instead():
    strict = RULES.model_copy(update={"letters_log_checks": RULES.letters_log_checks.model_copy(
        update={"out_of_ladder": "stop"})})
    with pytest.raises(FeedError) as err:
        _said([letter(A, "warning_notice", date(2025, 5, 6))], strict)
    [p] = err.value.problems
    assert (p.file, p.row, p.column, p.severity) == ("letters_log.csv", 2, "letter", "critical")


def test_a_letter_with_no_term_is_said_with_the_term_its_date_gives(tmp_path):
    from test_la_files import workbook
    from school_improvement.evidence.la_files import term_date_problems
    from school_improvement.ingest.feeds import read_feed
    import datetime as dt

    log = read_feed(workbook(tmp_path / "letters_log.xlsx", "letters_log", [
        [A, "significant_concerns_letter", "SCL-4", dt.datetime(2025, 4, 10), "Fictional", None],  # Easter holidays
        [B, "congratulations", "", dt.datetime(2025, 6, 2), "Fictional", "2024-25-summer"]]))
    [p] = term_date_problems(term_data(TERM, gias=_schools(), letters_log=log))
    assert (p.file, p.row, p.column, p.check, p.severity) == ("letters_log.xlsx", 2, "term", "term_date", "warning")
    assert "has no term: the run takes it as 2024-25-spring's" in p.message and "10 April 2025" in p.message


def test_a_congratulations_drafted_after_a_concern_letter_in_the_log_is_said_for_the_director():
    """A school at medium (a Warning Notice this term, LM-H4 at high; results achieving well, QE-L4) meets CG-3 on its
    disadvantaged pupils' results: the congratulations is drafted, as before, but the Director approving it is told
    of the Warning Notice, by file and row, on the front page and in data_quality.csv. Without a concern letter in
    the log, or with one older than the ladder reads, nothing is said."""
    from factories import ks2
    from school_improvement.decisions.categorise import categorise
    from school_improvement.decisions.letters import flag_letters

    results = ks2(A, rwm_exp=70.0, rwm_exp_prev1=68.0, rwm_exp_disadv=55.0, rwm_exp_other=73.0,
                  rwm_exp_disadv_prev1=40.0, rwm_exp_other_prev1=70.0)

    def flagged(log):
        data = term_data(TERM, gias=[gias(A)], ks2=[results],
                         letters_log=[{**r, "_row": i + 2} for i, r in enumerate(log)])
        table = categorise(data, RULES, {}).table
        out = flag_letters(data, RULES, table, {}, date(2025, 10, 20))
        return out, [p for p in out.problems if p.check == "recognition_after_concern"]

    out, said = flagged([letter(A, "congratulations", date(2024, 11, 5)),
                         letter(A, "warning_notice", date(2025, 10, 1))])
    assert list(out.letters["letter"]) == ["congratulations"]  # the decision is unchanged
    assert len(said) == 1 and said[0].row == 3 and said[0].severity == "warning"
    assert "Warning Notice on 1 October 2025 (this term)" in said[0].message
    dq = with_rule_set_review(pd.DataFrame(columns=["file", "feed_kind", "row", "column", "severity", "check",
                                                    "message"]), RULES, Term.parse(TERM), said)
    assert list(dq.loc[dq["check"].eq("recognition_after_concern"), "feed_kind"]) == ["letters_log"]
    assert any("row 3: a Congratulations letter is drafted" in n for n in front_page_notes(dq))
    out, said = flagged([letter(A, "congratulations", date(2024, 11, 5))])
    assert list(out.letters["letter"]) == ["congratulations"] and not said
    out, said = flagged([letter(A, "warning_notice", date(2024, 1, 10))])  # 2023-24-spring: beyond the look-back
    assert not said
