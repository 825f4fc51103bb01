"""The fast tier's check of a re-run edition whose decisions changed (history.remember_replaced and
replaced_problems, as pipeline.flag_letters calls them): fictional schools on an SQLite history, no stage run.
tests/test_replaced_edition.py checks the same through five stages on real Surrey (slow)."""

from __future__ import annotations

from school_improvement import history
from school_improvement.terms import Term

TERM = Term.parse("2021-22-autumn")
NAMES = {100001: "Fictional A", 100002: "Fictional B", 100003: "Fictional C"}


def _decisions(levels: dict, letters: dict, run_id: str) -> dict:
    return history.decisions(levels, letters, {}, NAMES, run_id, "cambs-2021-23")


def _said(eng, held, new) -> list:
    """What flag_letters puts first in the run's problems: the replaced-edition note, then a row per change."""
    return history.replaced_problems(history.remember_replaced(eng, "999", TERM, held, new), new, TERM)


def test_a_rerun_with_other_decisions_says_each_change_and_a_repeat_says_the_same(tmp_path):
    eng = history.engine_for(f"sqlite:///{tmp_path / 'h.sqlite'}")
    history.migrate(eng)
    first = _decisions({100001: "low", 100002: "low", 100003: "medium"}, {}, "r1")
    assert _said(eng, None, first) == []  # a first run: nothing to say
    assert _said(eng, first, _decisions({100001: "low", 100002: "low", 100003: "medium"}, {}, "r2")) == []
    changed = _decisions({100001: "low", 100002: "medium", 100003: "high"}, {100003: "warning_notice"}, "r3")
    said = _said(eng, first, changed)
    head, rows = said[0], said[1:]
    assert head.check == "edition_replaced" and head.severity == "warning"
    assert head.message.startswith(f"This edition replaces an earlier edition of {TERM}")
    assert "levels of support changed for 2 schools" in head.message
    assert "letters changed for 1 school " in head.message and "rule set" not in head.message
    assert [(r.check, r.severity) for r in rows] == [("edition_change", "info")] * 3
    assert [r.message.split(":")[0] for r in rows] == ["URN 100002 (Fictional B)", "URN 100003 (Fictional C)",
                                                       "URN 100003 (Fictional C)"]
    assert rows[0].message.endswith("level of support low in the earlier edition of 2021-22-autumn, medium in this one")
    assert "letter none in the earlier edition" in rows[2].message
    # A repeat of the changed run (the history now holds its decisions) says the same, word for word.
    again = _said(eng, changed, _decisions({100001: "low", 100002: "medium", 100003: "high"},
                                           {100003: "warning_notice"}, "r4"))
    assert [p.message for p in again] == [p.message for p in said]
    # A run whose first attempt decided otherwise (it read other files), cleared and run again: flag_letters never
    # holds the run's own attempt, so it compares with the edition before it, here the same: nothing to say.
    attempt = _said(eng, changed, _decisions({100001: "low", 100002: "low", 100003: "medium"}, {}, "r5"))
    assert "levels of support changed for 2 schools" in attempt[0].message
    assert _said(eng, None, _decisions({100001: "low", 100002: "medium", 100003: "high"},
                                       {100003: "warning_notice"}, "r5")) == []
