"""The history store on SQLite and on a real PostgreSQL server: direction of travel, re-runs replace."""

from __future__ import annotations

from datetime import date

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
