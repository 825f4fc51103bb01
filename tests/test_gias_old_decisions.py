"""A GIAS extract older than the rule set allows (extract_max_age_days) says which decisions rest on it: the schools
the edition categorises, the academies it judges, the schools it takes as closed or converted. Real Surrey's April 2022
extract used for 2025-26; the counts are the extract's own, computed here from the file, never hard-coded."""

from __future__ import annotations

from school_improvement.ingest.feeds import read_feed
from school_improvement.quality.data_age import data_age
from school_improvement.rules import rule_set_for
from school_improvement.terms import Term

from real_la import GIAS, LA


def test_an_old_extract_says_which_decisions_rest_on_it(shared_dfe):
    gias = read_feed(shared_dfe / "samples" / GIAS)
    term = Term.parse("2025-26-autumn")
    rules = rule_set_for(term.reference_date, la_code=LA)
    [p] = [p for p in data_age([gias], term, rules.published_results, rules.extract_max_age_days, LA)
           if p.check == "gias_old"]
    mine = gias.schools[gias.schools["la_code"].astype(str) == LA]
    maintained = int((mine["is_open"] & mine["is_la_maintained"]).sum())
    academies = int((mine["is_open"] & mine["is_academy"]).sum())
    assert maintained and academies
    assert f"this edition categorises (it lists {maintained} maintained schools as open)" in p.message
    assert f"judges as academies ({academies})" in p.message
    assert "since 20 April 2022 is placed as it was that day" in p.message
    # Without the LA (the check command given no --la) it says the age alone, as before.
    [p] = [p for p in data_age([gias], term, {}, {"gias": 120}) if p.check == "gias_old"]
    assert "categorises" not in p.message
