"""evidence.assess.issued_letters: the window of terms a letter counts in, counted back across academic years, and the
ladder check's "any time before" (10 ** 6 terms) reaching every logged letter."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from school_improvement.evidence.assess import issued_letters
from school_improvement.terms import Term

URN = 100001


def _data(term: Term, rows: list[dict]):
    # records_for reads the letters log grouped by URN from the term data's cache
    return SimpleNamespace(term=term, _cache={("records", "letters_log"): {URN: rows}})


def _row(term: Term, letter: str = "congratulations") -> dict:
    start, _ = term.nominal_dates()
    return {"urn": URN, "letter": letter, "term": str(term), "issued_on": start.isoformat()}


@pytest.mark.parametrize("within", [1, 2, 3, 4, 7])
def test_a_letter_within_terms_back_counts_and_one_term_earlier_does_not(within):
    now = Term(2025, 1)  # 2025-26 spring: the window crosses into 2024-25 from 3 terms back
    inside, outside = now, now
    for _ in range(within - 1):
        inside = inside.previous()
    outside = inside.previous()
    got = issued_letters(_data(now, [_row(inside), _row(outside), _row(now.next())]), URN, ["congratulations"], within)
    assert [r["_term"] for r in got] == [inside]


def test_the_ladder_checks_any_time_before_reaches_a_letter_decades_back():
    now = Term(2025, 0)
    old = Term(1995, 2)
    got = issued_letters(_data(now, [_row(old, "warning_notice"), _row(now, "warning_notice")]), URN,
                         ["warning_notice"], 10 ** 6)
    assert [r["_term"] for r in got] == [old, now]
