"""The front page after the LA renamed its levels (universal / targeted / intensive): the levels table gave last
term's counts under the old names and a "Change" of +128 / -128 beside the sentence saying the levels are not
compared (X's trial on real Surrey). The difference of two schemes' counts is no change: the table has no Change
column then (and "not compared" in each row wrapped the table onto two lines a row, pushing the front page's
academies of concern alone onto page 2)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from test_report import make_inputs

from school_improvement.editions import render, report

RENAME = {"low": "universal", "medium": "targeted", "high": "intensive"}


def _renamed(inputs):
    cat = inputs.categorisation.copy()
    cat["category"] = cat["category"].map(RENAME)
    history = inputs.history.copy()
    now = history["term"] == inputs.term
    history.loc[now, "category"] = history.loc[now, "category"].map(RENAME)
    return dataclasses.replace(inputs, categorisation=cat, history=history, levels=tuple(RENAME.values()))


def _front_table(ctx) -> str:
    html = render._environment().get_template("report.html.j2").render(**ctx)
    table = html[html.index('class="front-levels"'):]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table[:table.index("</table>")]))


@pytest.mark.slow  # a front page rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_no_change_is_given_between_levels_of_two_rule_sets():
    ctx = report._context(_renamed(make_inputs(12)), "general")
    assert ctx["previous_term"] and ctx["n_other_levels"] == 12
    assert all(r["change"] is None for r in ctx["level_rows"]), ctx["level_rows"]
    assert ctx["levels_compared"] is False
    text = _front_table(ctx)
    assert not re.search(r" [+-]\d", text) and "Change" not in text and "no change" not in text, text
    assert ctx["previous_term"] in text  # last term's counts are still shown, under their own levels


def test_the_same_levels_last_term_still_give_the_change():
    inputs = make_inputs(12)
    ctx = report._context(inputs, "general")
    assert ctx["previous_term"]
    rows = {r["level"]: r for r in ctx["level_rows"]}
    assert all(r["change"] == r["count"] - r["previous"] for r in rows.values()), rows
    assert ctx["levels_compared"] is True and "Change" in _front_table(ctx)


def test_appendix_a_prints_a_files_row_as_a_whole_number_and_feed_kinds_in_words():
    """X's trial: Appendix A printed "7.0" for row 7 (the row column holds blanks, so it is read as floats), and
    "la_intellig/ence" broken mid-word in its narrow Kind column."""
    import pandas as pd

    inputs = make_inputs(12)
    dq = pd.DataFrame([{"file": "letters_log.csv", "feed_kind": "letters_log", "row": 7.0, "column": "letter",
                        "severity": "warning", "check": "letters_log_ladder", "message": "a row"},
                       {"file": "(no la_intelligence file)", "feed_kind": "la_intelligence", "row": float("nan"),
                        "column": "", "severity": "warning", "check": "feed_missing", "message": "none"}])
    ctx = report._context(dataclasses.replace(inputs, data_quality=dq), "general")
    rows = {q["check"]: q["row"] for q in ctx["data_quality"]}
    assert rows["letters_log_ladder"] == 7 and isinstance(rows["letters_log_ladder"], int), rows
    html = render._environment().get_template("report.html.j2").render(**ctx)
    appendix = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index('id="data-quality"'):]))
    assert "letters log 7 letter" in appendix and "7.0" not in appendix, appendix[:2000]
    assert "la intelligence" in appendix


def test_the_last_front_page_room_points_to_the_academies_table_in_one_line():
    """The front page must stay one page and end with the academies of concern: when even the third room (no school
    named, five notes) did not fit, the edition was published with "Academies of concern" alone on page 2. The last
    room gives the academies' steps as one line pointing to their table, and three notes."""
    import pandas as pd

    from school_improvement.editions import front_page

    last = front_page.FRONT_ROOMS[-1]
    assert not last.academy_steps and last.notes < front_page.FRONT_ROOMS[-2].notes
    inputs = make_inputs(12)
    academies = pd.DataFrame([{"urn": 200000 + i, "school_name": f"Academy {i}", "trust": "A Trust", "concerns": "AC-2",
                               "evidence": "absence", "next_step": "academy_meeting",
                               "next_step_detail": "The Director of Education contacts the principal",
                               "escalate_to": "", "flagged_on": inputs.run_date, "term": inputs.term} for i in range(3)])
    inputs = dataclasses.replace(inputs, academy_concerns=academies, data_notes=[f"Note {i}." for i in range(6)])
    ctx = report._context(inputs, "general")
    assert ctx["academy_steps"] and len(ctx["data_notes"]) > 3
    ctx.update(front_page.front_keys(inputs, ctx["movers"], ctx["academy_concerns"], last))
    assert ctx["academy_steps"] == [] and ctx["data_notes"][:3] == ["Note 0.", "Note 1.", "Note 2."]
    html = render._environment().get_template("report.html.j2").render(**ctx)
    front = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[:html.index('id="contents"')]))
    assert "Academies of concern (3) Listed with their next step on the route on page" in front, front[-600:]
    assert "None this term" not in front and "3 more notes about the data" in front
