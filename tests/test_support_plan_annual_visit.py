"""An annual visit ("Schools that do not buy into the Primary Offer will receive an Annual Monitoring Visit once per
year") was planned in the autumn term by Python, whatever the LA's rule set: the term is rule-set data (`annual_in`),
and a rule set that plans an annual visit without saying when, or says when for a visit that is not annual, is refused
naming the file, line and key."""

from __future__ import annotations

import pytest

from school_improvement.decisions.categorise import visits_planned
from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set, load_rule_set_arg
from school_improvement.terms import Term

HEAD = "id: cambs-reading\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
NO_OFFER = "  - {flag: no_primary_offer, levels: [low], summary: Annual visit, visits: annual%s}\n"


def _reading(tmp_path, body: str):
    path = tmp_path / "cambs-reading.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return load_rule_set_arg(str(path))


def test_the_annual_visit_is_planned_in_the_term_the_rule_set_names(tmp_path):
    shipped = load_rule_set("cambs-2021-23")
    assert [(e.visits, e.annual_in) for e in shipped.support_plan_exceptions if e.flag] == [("annual", "autumn")]
    summer = _reading(tmp_path, "support_plan_exceptions:\n" + NO_OFFER % ", annual_in: summer")
    by_term = {season: visits_planned("low", Term.parse(f"2025-26-{season}"), summer, {"no_primary_offer"})[0]
               for season in ("autumn", "spring", "summer")}
    assert by_term == {"autumn": 0, "spring": 0, "summer": 1}
    assert visits_planned("low", Term.parse("2025-26-autumn"), shipped, {"no_primary_offer"})[0] == 1
    assert visits_planned("low", Term.parse("2025-26-spring"), shipped, {"no_primary_offer"})[0] == 0


@pytest.mark.parametrize("body, says", [
    ("support_plan_exceptions:\n" + NO_OFFER % "", "visits: annual needs annual_in"),
    ("support_plan:\n  low: {summary: Termly visit, visits: termly, annual_in: autumn}\n",
     "annual_in is read only with visits: annual"),
])
def test_an_annual_visit_without_its_term_or_a_term_without_one_is_refused(tmp_path, body, says):
    with pytest.raises(RulesError) as err:
        _reading(tmp_path, body)
    said = str(err.value)
    assert "cambs-reading.yaml, line " in said and says in said and "support_plan" in said, said
