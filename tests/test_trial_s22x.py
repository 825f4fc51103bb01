"""Helper X's trial (session 22): the merged main run as a new user on real Surrey (2021-22 autumn then spring,
no LA-held feeds) and the demo. Each test failed before its fix."""

from __future__ import annotations

from datetime import date

import pandas as pd

from factories import gias, letter, term_data
from school_improvement.decisions.letters import LETTER_COLUMNS, flagged_again_problem
from school_improvement.rules import load_rule_set


def _letters(*pairs):
    return pd.DataFrame([{c: "" for c in LETTER_COLUMNS} | {"urn": u, "letter": k, "school_name": f"School {u}"}
                         for u, k in pairs], columns=LETTER_COLUMNS)


def test_letters_flagged_again_with_no_letters_log_say_none_was_supplied_not_that_it_shows_none_sent():
    """Trial: real Surrey supplies no letters log; its spring edition said the 24 letters of the autumn were flagged
    again 'and the letters log shows none of them sent since ... add them to the letters log', of a log it never had."""
    rules = load_rule_set("cambs-2021-23")
    before = ("2025-26-autumn", {1: {"significant_concerns_letter"}, 2: {"congratulations"}})
    now = _letters((1, "significant_concerns_letter"), (2, "congratulations"))
    p = flagged_again_problem(term_data("2025-26-spring", gias=[gias(1), gias(2)]), rules, now, *before)
    assert p.check == "letters_flagged_again" and p.severity == "warning"
    assert "no letters log was supplied, so whether any was sent is not known" in p.message
    assert "letters log shows" not in p.message and "add them to the letters log" not in p.message
    assert "supply a letters log listing them (template: include/la_feed_templates/letters_log.csv)" in p.message
    # With a log that lacks them, it is the log's word, as before.
    logged = term_data("2025-26-spring", gias=[gias(1), gias(2), gias(3)],
                       letters_log=[letter(3, "significant_concerns_letter", date(2025, 10, 20))])
    p = flagged_again_problem(logged, rules, now, *before)
    assert "the letters log shows none of them sent since" in p.message and "add them to the letters log" in p.message
    assert "supplied" not in p.message


def test_academy_route_steps_flagged_again_are_taken_not_sent_or_drafted():
    """Trial: the 33 real Surrey academies put to a meeting with the principal or trust CEO in autumn and spring were
    said to be 'sent' and 'not drafted again': a meeting is taken, and no draft is written for a route step."""
    rules = load_rule_set("cambs-2021-23")
    now = pd.DataFrame([{"urn": 7, "school_name": "Academy 7", "letter": "academy_meeting"}])
    p = flagged_again_problem(term_data("2025-26-spring", gias=[gias(1)]), rules, now,
                              "2025-26-autumn", {7: {"academy_meeting"}}, what="academy route step(s)", academy=True)
    assert "whether any was taken is not known" in p.message and "if they were taken" in p.message
    assert "the route goes on from them and they are not flagged again" in p.message
    assert " sent" not in p.message and "drafted" not in p.message


def test_the_letters_caveat_is_for_letters_citing_out_of_date_results_not_any_out_of_date_file():
    """Trial: real Surrey 2021-22-autumn's letters all rest on KS2 2018-19, 'the newest published'; only its census
    (which no letter cites) was out of date, and the front page said above the letters 'some results these letters
    rest on are older than they should be'."""
    import dataclasses

    from school_improvement.editions import report
    from test_report import make_inputs

    inputs = make_inputs(4)
    letters = inputs.letters.assign(evidence=["KS2 reading, writing and maths at expected standard 60.0% vs national "
                                              "65.0% (2018-19) [Data age: KS2 results are for 2018-19, 3 years before "
                                              "2021-22: the newest published]"] * len(inputs.letters))
    ages = pd.DataFrame([
        {"file": "census.csv", "feed_kind": "census", "row": None, "column": None, "severity": "warning",
         "check": "data_age", "message": "school census figures are for 2019-20, 2 years before 2021-22, but 2020-21 "
                                         "figures should exist for 2021-22-autumn: the evidence is out of date"},
        {"file": "ks2.csv", "feed_kind": "ks2", "row": None, "column": None, "severity": "info", "check": "data_age",
         "message": "KS2 results are for 2018-19, 3 years before 2021-22: the newest published"}])
    surrey = dataclasses.replace(inputs, letters=letters, data_quality=ages)
    assert not report._context(surrey, "general")["letters_on_old_data"]
    # The same letters when the KS2 file is the out-of-date one: the caveat stands.
    old_ks2 = ages.assign(severity="warning", message=[ages["message"][0], "KS2 results are for 2018-19, 7 years "
                                                       "before 2025-26: the evidence is out of date"])
    assert report._context(dataclasses.replace(surrey, data_quality=old_ks2), "general")["letters_on_old_data"]


def test_a_spring_edition_in_january_does_not_call_last_years_absence_figures_missing(shared_dfe):
    """Trial: real Surrey 2021-22-spring (run 21 January 2022) said of its 2018-19 absence file '2020-21 figures
    should exist for 2021-22-spring: the evidence is out of date', and the academies' route steps on absence
    carried it; DfE publishes full-year absence in March (2020-21's on 24 March 2022), after the edition."""
    from school_improvement.ingest.feeds import read_feed
    from school_improvement.quality.data_age import data_age
    from school_improvement.terms import Term

    published = load_rule_set("cambs-2021-23").published_results
    absence = [read_feed(shared_dfe / "samples" / "936_abs_2018-19.csv")]
    [p] = data_age(absence, Term.parse("2021-22-spring"), published)
    assert p.severity == "info" and "the newest published" in p.message and "should exist" not in p.message
    # By the summer edition 2020-21's figures are out: 2018-19's are out of date.
    [p] = data_age(absence, Term.parse("2021-22-summer"), published)
    assert p.severity == "warning" and "2020-21 figures should exist for 2021-22-summer" in p.message
    # A spring edition two years on still expects the year before last (2022-23 by January 2025).
    [p] = data_age(absence, Term.parse("2024-25-spring"), published)
    assert p.severity == "warning" and "2022-23 figures should exist" in p.message
