"""A re-run edition whose decisions changed says so first on its front page and school by school in
data_quality.csv, agreeing with its CSVs; a repeat of it says the same (so it is the same edition); a first run and a
repeat with the same results say nothing. Real Surrey (LA 936) 2021-22 autumn, run in-process without the render:
counts are compared between the runs' own outputs, never hard-coded, and no school is named in the test."""

from __future__ import annotations

import pandas as pd
import pytest

from real_la import LA, build_landing
from school_improvement import pipeline
from school_improvement.quality.notes import front_page_notes

STAGES = ("extract", "validate", "assess_evidence", "categorise", "flag_letters")


def _run(landing, tmp_path, run_id):
    cfg = pipeline.RunConfig(la_code=LA, term="2021-22-autumn", landing=str(landing), work_dir=str(tmp_path / "work"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id=run_id)
    for st in STAGES:
        getattr(pipeline, st)(cfg)
    inputs = pipeline.report_inputs(cfg)
    return inputs


def _changes(inputs) -> pd.DataFrame:
    dq = inputs.data_quality
    return dq[dq["check"] == "edition_change"].reset_index(drop=True)


@pytest.mark.slow  # six runs of a real Surrey term through five stages
def test_a_rerun_with_other_results_says_what_changed_and_a_repeat_says_the_same(shared_dfe, tmp_path):
    landing = build_landing(shared_dfe, tmp_path / "landing", leave_out=("ks2",))
    first = _run(landing, tmp_path, "r1")
    assert _changes(first).empty and not any("replaces an earlier edition" in n for n in first.data_notes)
    same = _run(landing, tmp_path, "r2")  # the same files again: nothing to say, the same edition
    assert _changes(same).empty and list(same.data_notes) == list(first.data_notes)

    full = build_landing(shared_dfe, tmp_path / "landing2")  # the KS2 results arrive: levels and letters move
    second = _run(full, tmp_path, "r3")
    a = first.categorisation.set_index("urn")["category"]
    b = second.categorisation.set_index("urn")["category"]
    moved = sorted(u for u in set(a.index) | set(b.index) if a.get(u) != b.get(u))
    assert moved, "the KS2 results should move some levels"
    letters_a = dict(zip(first.letters["urn"], first.letters["letter"]))
    letters_b = dict(zip(second.letters["urn"], second.letters["letter"]))
    lettered = sorted(u for u in set(letters_a) | set(letters_b) if letters_a.get(u) != letters_b.get(u))
    changes = _changes(second)
    said_levels = sorted(int(m.split()[1]) for m in changes["message"] if "level of support" in m)
    said_letters = sorted(int(m.split()[1]) for m in changes["message"] if ": letter " in m)
    assert said_levels == moved and said_letters == lettered
    for m in changes["message"]:  # each row agrees with categorisation.csv
        if "level of support" in m:
            urn = int(m.split()[1])
            assert m.endswith(f"{b[urn]} in this one") and f"level of support {a[urn]} in the earlier" in m
    assert set(changes["feed_kind"]) == {"history"} and set(changes["severity"]) == {"info"}
    notes = front_page_notes(second.data_quality)
    assert notes[0].startswith("This edition replaces an earlier edition of 2021-22-autumn")
    assert f"whose decisions differ: levels of support changed for {len(moved)} school" in notes[0]
    # A repeat of the changed run says the same, word for word: its CSVs are the same, nothing new is published.
    again = _run(full, tmp_path, "r4")
    assert _changes(again)["message"].tolist() == changes["message"].tolist()
    assert front_page_notes(again.data_quality)[0] == notes[0]
    # A run whose first attempt read other files (the KS2 files not yet in the folder) and which is then cleared and
    # run again with them compares with the edition before it, not with its own first attempt: here the same.
    _run(landing, tmp_path, "r5")
    cleared = _run(full, tmp_path, "r5")
    assert _changes(cleared).empty and not any("replaces an earlier" in n for n in cleared.data_notes)


def test_a_rule_set_changed_between_the_runs_is_said_first():
    """A re-run under another reading (levels renamed) changed every school's level by its name alone: the note said
    "levels of support changed for 172 schools" and never that the rule set had changed (found trying it on Surrey)."""
    from school_improvement.history import decisions, replaced_problems
    from school_improvement.terms import Term

    term = Term.parse("2021-22-spring")
    old = decisions({100001: "low", 100002: "medium"}, {}, {}, {100001: "Fictional A", 100002: "Fictional B"},
                    "r1", "cambs-2021-23")
    new = decisions({100001: "universal", 100002: "targeted"}, {}, {}, {100001: "Fictional A", 100002: "Fictional B"},
                    "r2", "la-own-levels")
    head = replaced_problems(old, new, term)[0]
    assert head.check == "edition_replaced"
    assert ("whose decisions differ: the earlier edition was decided under rule set cambs-2021-23, this one under "
            "la-own-levels; levels of support changed for 2 schools") in head.message, head.message
    same = decisions({100001: "medium", 100002: "medium"}, {}, {}, {}, "r3", "cambs-2021-23")
    assert "rule set" not in replaced_problems(old, same, term)[0].message
