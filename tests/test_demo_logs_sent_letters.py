"""`make run` logs the demo's first term's letters as sent before the next term is run (new-user trial, s22: the
demo's spring front page led with "53 letters flagged again", its letters log holding only the scenarios' letters)."""

from __future__ import annotations

import csv
from datetime import date

from demo_feeds.demo_generator import generate_demo
from demo_feeds.log_sent import log_sent_letters
from school_improvement.terms import Term


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _write(path, header, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def test_the_autumn_editions_letters_are_logged_as_sent_in_the_later_terms_log(tmp_path):
    generate_demo(tmp_path / "landing", la_code="999", terms=["2025-26-autumn", "2025-26-spring"], schools=40)
    edition = tmp_path / "edition" / "restricted"
    edition.mkdir(parents=True)
    base = {"school_name": "x", "letter_title": "x", "evidence": "x", "escalation_note": "", "category": "high",
            "flagged_on": "2025-09-24", "term": "2025-26-autumn"}
    _write(edition / "letters.csv", ["urn", *base, "letter", "indicators"],
           [{**base, "urn": 990111, "letter": "warning_notice", "indicators": "WN-3"},
            {**base, "urn": 990112, "letter": "congratulations", "indicators": "CG-2", "category": "low"},
            {**base, "urn": 990113, "letter": "warning_notice", "indicators": "WN-3", "term": "2025-26-spring",
             "flagged_on": "2026-01-26"}])
    _write(edition / "academy_concerns.csv", ["urn", "concerns", "next_step", "flagged_on", "term"],
           [{"urn": 990114, "concerns": "AC-1; AC-3", "next_step": "academy_meeting", "flagged_on": "2025-09-24",
             "term": "2025-26-autumn"}])
    spring_log = tmp_path / "landing" / "999" / "2025-26-spring" / "letters_log.csv"
    autumn_log = tmp_path / "landing" / "999" / "2025-26-autumn" / "letters_log.csv"
    before, autumn_before = _rows(spring_log), autumn_log.read_bytes()

    assert log_sent_letters(tmp_path / "landing", "999", "2025-26-autumn", edition / "letters.csv") \
        == {"2025-26-spring": 3}
    after = _rows(spring_log)
    assert after[:len(before)] == before and autumn_log.read_bytes() == autumn_before
    new = {r["urn"]: r for r in after[len(before):]}
    assert set(new) == {"990111", "990112", "990114"}  # the spring letter is not autumn's
    assert (new["990111"]["letter"], new["990111"]["concern"], new["990111"]["term"]) \
        == ("warning_notice", "WN-3", "2025-26-autumn")
    assert new["990112"]["concern"] == "" and new["990114"]["letter"] == "academy_meeting"
    _, autumn_end = Term.parse("2025-26-autumn").dates()
    for r in new.values():  # signed and sent after the run, within the term
        assert date(2025, 9, 24) < date.fromisoformat(r["issued_on"]) <= autumn_end, r
    # Run again (make run twice on one landing): nothing logged twice.
    assert log_sent_letters(tmp_path / "landing", "999", "2025-26-autumn", edition / "letters.csv") \
        == {"2025-26-spring": 0}
    assert _rows(spring_log) == after


def test_a_warning_notice_logged_with_its_own_indicators_is_not_said_to_be_out_of_the_ladder():
    """The run drafts a Warning Notice where its own indicators apply, with no Significant Concerns letter before it
    (the Strategy lets it); logged as sent with those indicators ("WN-3"), it was said next term as a row to correct."""
    from factories import letter
    from test_letters_log_facts import A, _said

    assert _said([letter(A, "warning_notice", date(2025, 9, 30), "WN-3")]) == []
    assert [p.check for p in _said([letter(A, "warning_notice", date(2025, 9, 30), "")])] == ["letters_log_ladder"]
    # The formal Significant Concerns is reached only by escalation: its own indicators do not excuse a missing rung.
    assert [p.check for p in _said([letter(A, "significant_concerns", date(2025, 9, 30), "SC-2")])] \
        == ["letters_log_ladder"]
