"""What an edition says about the editions around it and about its letters' dates, left alone at earlier stops:

- a term run between two others, whose levels agree with the later term's previous levels, says that the later
  term's edition compared with another term ("since <that term>"), so its wording is out of date;
- a re-run whose decisions equal the last published edition's replaces that edition: it does not repeat the note of
  the edition before it, and a note of what changed names the edition it replaces;
- a letter's deadline counted in weekdays (a year the term calendar has no dates for) is said on the draft and on the
  front page, never a quiet guess.

Small in-memory histories and drafts: no render, no pipeline run."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import delete, insert

from factories import gias, judgement, term_data
from school_improvement import history
from school_improvement.decisions.categorise import categorise
from school_improvement.editions import drafts as drafts_mod
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term, TermCalendar

RULES = load_rule_set("cambs-2021-23")
A, B = 990301, 990302


@pytest.fixture
def engine(tmp_path):
    eng = history.engine_for(f"sqlite:///{tmp_path / 'history.sqlite'}")
    yield eng
    eng.dispose()


def _table(eng, term: str, judgements: list[dict]) -> pd.DataFrame:
    data = term_data(term, gias=[gias(A), gias(B)], adviser_judgements=judgements)
    return categorise(data, RULES, history.previous(eng, "999", Term.parse(term)))


def _run(eng, term: str, judgements: list[dict]) -> None:
    result = _table(eng, term, judgements)
    history.record_term(eng, "999", Term.parse(term), f"run-{term}", RULES.id, {"gias.csv": "ab" * 32},
                        result.table, result.evidence, result.measures)


def test_a_term_run_between_two_whose_levels_agree_says_the_later_edition_compared_with_another(engine):
    """Autumn, then summer (spring not run: summer's edition says "since 2025-26-autumn"), then spring with the same
    levels: summer's previous levels agree, but its wording names autumn, not spring. Before, nothing was said."""
    low = lambda visit: [judgement(A, "LM-L2", visit=visit), judgement(B, "LM-L2", visit=visit)]  # noqa: E731
    spring_term = Term.parse("2025-26-spring")
    _run(engine, "2025-26-autumn", low(date(2025, 10, 1)))
    _run(engine, "2025-26-summer", low(date(2026, 5, 1)))
    spring = _table(engine, "2025-26-spring", low(date(2026, 2, 1))).table
    problem = history.later_terms_problem(engine, "999", spring_term, spring)
    assert problem is not None and problem.check == "history_order" and problem.severity == "warning"
    assert "2025-26-summer is already in the history" in problem.message
    assert "compares with 2025-26-autumn, not with 2025-26-spring" in problem.message
    assert "Re-run 2025-26-summer, in term order" in problem.message
    # Spring recorded now: a re-run of it says the same (the same words, the same edition).
    _run(engine, "2025-26-spring", low(date(2026, 2, 1)))
    assert history.later_terms_problem(engine, "999", spring_term, spring) == problem
    # Summer run again after spring compares with spring: nothing to say.
    _run(engine, "2025-26-summer", low(date(2026, 5, 1)))
    assert history.later_terms_problem(engine, "999", spring_term, spring) is None


def _record(eng, run_id: str, feeds: dict) -> None:
    """The runs row categorise writes (history.record_term), for this run's feeds."""
    t = "2025-26-autumn"
    with eng.begin() as conn:
        conn.execute(delete(history.runs).where(history.runs.c.term == t))
        conn.execute(insert(history.runs).values(la_code="999", term=t, run_id=run_id, rule_set=RULES.id,
                                                 feed_checksums=feeds, recorded_at=dt.datetime.now(dt.timezone.utc)))


def _note(eng, held: dict | None, new: dict, run_id: str, feeds: dict) -> str:
    """flag_letters' note for a run (pipeline.flag_letters): the decisions it replaces and the edition named."""
    term = Term.parse("2025-26-autumn")
    _record(eng, run_id, feeds)
    replaced = history.remember_replaced(eng, "999", term, held, new)
    published = history.published_run(eng, "999", term, (replaced or {}).get("run_id"))
    found = history.replaced_problems(replaced, new, term, (published or {}).get("edition", ""))
    return found[0].message if found else ""


def test_a_rerun_equal_to_the_published_edition_replaces_it_and_names_the_edition_it_replaces(engine):
    term = Term.parse("2025-26-autumn")
    names = {A: "Fictional Primary", B: "Imaginary Infant"}
    dec = lambda levels, run: history.decisions(levels, {}, {}, names, run, RULES.id)  # noqa: E731
    first, changed = {A: "low", B: "medium"}, {A: "high", B: "medium"}
    assert _note(engine, None, dec(first, "r1"), "r1", {"ks2.csv": "1"}) == ""
    history.record_published(engine, "999", term, "r1", "edition-001")
    # New results change a level: the note names the edition replaced.
    note = _note(engine, dec(first, "r1"), dec(changed, "r2"), "r2", {"ks2.csv": "2"})
    assert note.startswith("This edition replaces edition-001 of 2025-26-autumn, whose decisions differ: levels of "
                           "support changed for 1 school (Fictional Primary: low → high)"), note
    history.record_published(engine, "999", term, "r2", "edition-002")
    # A repeat of that run (the same feeds) says the same, word for word: its edition is the same, nothing new.
    assert _note(engine, dec(changed, "r2"), dec(changed, "r3"), "r3", {"ks2.csv": "2"}) == note
    history.record_published(engine, "999", term, "r3", "edition-002")  # publish: unchanged
    # Other feeds, the same decisions as edition-002, which it replaces: nothing changed, nothing said (before: the
    # note of edition-001's changes again, naming the first replaced edition's decisions).
    assert _note(engine, dec(changed, "r3"), dec(changed, "r4"), "r4", {"ks2.csv": "4"}) == ""
    history.record_published(engine, "999", term, "r4", "edition-003")
    assert _note(engine, dec(changed, "r4"), dec(changed, "r5"), "r5", {"ks2.csv": "4"}) == ""  # its repeat too
    history.record_published(engine, "999", term, "r5", "edition-003")
    # A run that changed the decisions and was never published, then one with other feeds and its decisions: the
    # edition replaced is still edition-003, the last published, and the note names it.
    third = {A: "high", B: "high"}
    unpublished = _note(engine, dec(changed, "r5"), dec(third, "r6"), "r6", {"ks2.csv": "6"})
    assert unpublished.startswith("This edition replaces edition-003 of 2025-26-autumn"), unpublished
    assert _note(engine, dec(third, "r6"), dec(third, "r7"), "r7", {"ks2.csv": "7"}) == unpublished


def test_years_missing_from_the_term_calendar_are_named_where_deadlines_count_weekdays():
    cal = TermCalendar.load()
    listed = min(cal.terms())
    start, _ = cal.term_dates(listed)
    before = start.replace(year=start.year - 2)
    assert cal.years_not_listed(before, before + dt.timedelta(days=20)) == \
        [f"for {before.year}-{(before.year + 1) % 100:02d}"]
    assert cal.years_not_listed(start, start + dt.timedelta(days=20)) == []
    after = max(w.end for w in cal.windows.values())
    assert cal.years_not_listed(after - dt.timedelta(days=3), after + dt.timedelta(days=3)) == \
        [f"after {after.day} {after:%B %Y}"]  # the summer holiday of the calendar's last year
    beyond = date(after.year, 10, 1)
    assert cal.years_not_listed(after, beyond) == \
        [f"after {after.day} {after:%B %Y}", f"for {after.year}-{(after.year + 1) % 100:02d}"]


def _draft(on: date, by: date) -> dict:
    return {"urn": A, "school_name": "Fictional Primary", "letter": "significant_concerns_letter",
            "letter_title": "Significant Concerns letter", "date": on, "recognition": False, "opening": None,
            "closing": None, "head_name": "Ms A Head", "chair_name": "Mr B Chair", "address_lines": [],
            "concerns": ["Attainment well below national"],
            "actions": [{"action": "Agree a plan with the adviser", "by_date": by}]}


@pytest.mark.slow  # an edition rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_a_draft_whose_deadline_counts_weekdays_says_so_and_the_front_page_too():
    from test_report import make_inputs
    from school_improvement.editions import report
    from school_improvement.editions.render import _environment as _env  # the report's own Jinja environment

    old = _draft(date(2021, 10, 4), date(2021, 10, 18))  # 2021-22: not in the term calendar
    listed = TermCalendar.load().term_dates(Term.parse("2025-26-autumn"))[0] + dt.timedelta(days=10)
    new = _draft(listed, listed + dt.timedelta(days=14))
    assert drafts_mod.weekday_deadlines_problem([new]) is None
    problem = drafts_mod.weekday_deadlines_problem([old, new, old])
    assert problem.severity == "warning" and problem.check == drafts_mod.WEEKDAY_DEADLINES
    assert problem.message.startswith("2 draft letters' deadlines are counted in weekdays") and "2021-22" in problem.message

    inputs = make_inputs(6)
    ctx = drafts_mod._draft_context(inputs, old)
    assert ctx["weekday_years"] == ["for 2021-22"] and drafts_mod._draft_context(inputs, new)["weekday_years"] == []
    letter = _env().get_template("letter.html.j2").render(
        la_name="Wealdshire (demo)", la_code="999", term="2021-22-autumn", rule_set_id=RULES.id, run_date="2021-10-04",
        drafts=[ctx, drafts_mod._draft_context(inputs, new)])
    assert letter.count("Check the dates before sending") == 1 and "no dates for 2021-22," in " ".join(letter.split())

    # The front page's letters say it where the Director approves them (not only in the data notes, which hold the
    # first few).
    row = {"file": problem.file, "feed_kind": "term_calendar", "row": None, "column": None,
           "severity": problem.severity, "check": problem.check, "message": problem.message}
    inputs.data_quality = pd.concat([inputs.data_quality, pd.DataFrame([row])], ignore_index=True)
    keys = report._context(inputs, "general")
    assert keys["letters_weekday_deadlines"] == problem.message
    html = _env().get_template("report.html.j2").render(**keys)
    front = html.split('id="contents"')[0]
    assert "Deadlines:</strong> 2 draft letters' deadlines" in front.replace("&#39;", "'")
    # ... and the data box does not count it again among the files' warnings.
    assert not any("term_dates.yaml" in n for n in keys["data_notes"])
