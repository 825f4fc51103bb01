"""The history store on SQLite and on a real PostgreSQL server: direction of travel, re-runs replace."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from factories import gias, judgement, term_data
from school_improvement import history
from school_improvement.decisions.categorise import categorise
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term
from servers import postgres_server

RULES = load_rule_set("cambs-2021-23")
A, B = 990201, 990202


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'history.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    eng = history.engine_for(url)
    yield eng
    if request.param == "postgresql":
        history.metadata.drop_all(eng)
    eng.dispose()


def _run(eng, term: str, judgements: list[dict]):
    t = Term.parse(term)
    data = term_data(term, gias=[gias(A), gias(B)], adviser_judgements=judgements)
    prev = history.previous(eng, "999", t)
    result = categorise(data, RULES, prev)
    history.record_term(eng, "999", t, f"run-{term}", RULES.id, {"gias.csv": "ab" * 32}, result.table,
                        result.evidence, result.measures)
    return result.table.set_index("urn")


def test_direction_of_travel_across_two_terms_and_reruns_replace(engine):
    first = _run(engine, "2025-26-autumn", [judgement(A, "LM-H2"), judgement(B, "LM-L2")])
    assert first.loc[A, "direction_of_travel"] == "new" and first.loc[A, "category"] == "high"
    spring = [judgement(A, "LM-M2", visit=date(2026, 2, 1)), judgement(B, "LM-H3", visit=date(2026, 2, 1))]
    second = _run(engine, "2025-26-spring", spring)
    assert (second.loc[A, "previous_category"], second.loc[A, "category"], second.loc[A, "direction_of_travel"]) == \
        ("high", "medium", "improving")
    assert (second.loc[B, "previous_category"], second.loc[B, "direction_of_travel"]) == ("low", "declining")
    _run(engine, "2025-26-spring", spring)  # a re-run of the same term
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(history.school_terms)
                         .where(history.school_terms.c.term == "2025-26-spring")).scalar()
        stored = conn.execute(select(history.school_terms.c.rule_set, history.school_terms.c.feed_checksums,
                                     history.school_terms.c.evidence)
                              .where(history.school_terms.c.urn == A)).first()
    assert n == 2  # replaced, never duplicated
    assert stored.rule_set == "cambs-2021-23" and stored.feed_checksums == {"gias.csv": "ab" * 32}
    assert any(e["criterion_id"].startswith("LM-") for e in stored.evidence)
    hist = history.category_history(engine, "999", Term.parse("2025-26-spring"))
    assert list(hist["term"].unique()) == ["2025-26-autumn", "2025-26-spring"]


def test_a_move_to_the_default_level_is_not_called_declining(engine):
    """No bullet met this term (no evidence could be judged): the school is at the rule set's default level, which
    says nothing of whether it got worse (found on real Surrey 2022-23, whose results became too old to judge)."""
    _run(engine, "2025-26-autumn", [judgement(A, "LM-L2"), judgement(B, "LM-H2")])
    second = _run(engine, "2025-26-spring", [])
    assert (second.loc[A, "previous_category"], second.loc[A, "category"]) == ("low", RULES.best_fit.no_evidence_level)
    assert second.loc[A, "direction_of_travel"] == "default"
    assert second.loc[B, "direction_of_travel"] == "default"  # high to the default, the other way


def test_schema_is_created_and_versioned(engine):
    assert {"school_terms", "runs", "flags", "schema_version"} <= set(history.tables(engine))
    history.migrate(engine)  # idempotent
    with engine.connect() as conn:
        assert conn.execute(select(history.schema_version.c.version)).scalars().all() == [history.SCHEMA_VERSION]


def _spring_table(eng, judgements):
    t = Term.parse("2025-26-spring")
    data = term_data("2025-26-spring", gias=[gias(A), gias(B)], adviser_judgements=judgements)
    return categorise(data, RULES, history.previous(eng, "999", t)).table


def test_a_term_run_after_later_terms_says_they_are_out_of_date(engine):
    """Found running real Surrey terms in a row (helper U, s20): spring run after summer, or re-run with other
    results, published with no word that summer's change since last term was decided without it."""
    from school_improvement.quality.notes import front_page_notes

    spring_term = Term.parse("2025-26-spring")
    _run(engine, "2025-26-autumn", [judgement(A, "LM-L2"), judgement(B, "LM-L2")])
    _run(engine, "2025-26-summer", [judgement(A, "LM-L2", visit=date(2026, 5, 1)),
                                    judgement(B, "LM-L2", visit=date(2026, 5, 1))])  # spring skipped
    spring = [judgement(A, "LM-H2", visit=date(2026, 2, 1)), judgement(B, "LM-L2", visit=date(2026, 2, 1))]
    problem = history.later_terms_problem(engine, "999", spring_term, _spring_table(engine, spring))
    assert problem is not None and problem.severity == "warning" and problem.check == "history_order"
    assert "2025-26-summer is already in the history" in problem.message
    assert f"for 1 school(s) (e.g. URN {A}: low there, high here)" \
        in problem.message and "Re-run 2025-26-summer, in term order" in problem.message
    # The front page says it first.
    dq = pd.DataFrame([{"file": "x.csv", "check": "data_age", "severity": "warning", "message": "KS2 is old"},
                       {"file": problem.file, "check": problem.check, "severity": "warning", "message": problem.message}])
    assert front_page_notes(dq)[0].startswith("2025-26-summer is already in the history")
    # Spring recorded now, after summer: re-run again with other results, summer is still the one out of date.
    _run(engine, "2025-26-spring", spring)
    calm = [judgement(A, "LM-L2", visit=date(2026, 2, 1)), judgement(B, "LM-H3", visit=date(2026, 2, 1))]
    again = history.later_terms_problem(engine, "999", spring_term, _spring_table(engine, calm))
    assert again is not None and f"(e.g. URN {B}: low there, high here)" in again.message
    _run(engine, "2025-26-spring", calm)  # the same again: the same words (nothing of the run), the same edition
    assert history.later_terms_problem(engine, "999", spring_term, _spring_table(engine, calm)) == again
    # Summer run again, in order after spring: nothing to say; a re-run of spring with the same results neither.
    _run(engine, "2025-26-spring", spring)
    _run(engine, "2025-26-summer", [judgement(A, "LM-L2", visit=date(2026, 5, 1)),
                                    judgement(B, "LM-L2", visit=date(2026, 5, 1))])
    assert history.later_terms_problem(engine, "999", spring_term, _spring_table(engine, spring)) is None
    # A re-run of spring with other results: summer took the earlier run's level.
    calm = [judgement(A, "LM-L2", visit=date(2026, 2, 1)), judgement(B, "LM-L2", visit=date(2026, 2, 1))]
    problem = history.later_terms_problem(engine, "999", spring_term, _spring_table(engine, calm))
    assert problem is not None and "being categorised before this term was, or after a run of it" in problem.message
    assert f"(e.g. URN {A}: high there, low here)" in problem.message
