"""Policy a rule set states that could never act, or acts other than it reads, is refused when the rule set loads,
naming the file, the line and the key: before, each of these loaded without a word."""

from __future__ import annotations

import pytest

from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set_arg

HEAD = "id: cambs-reading\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"


def _refused(tmp_path, body: str) -> str:
    path = tmp_path / "cambs-reading.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    return str(err.value)


@pytest.mark.parametrize("body, where, says", [
    # The letters log's `concern` and evidence.csv name an indicator by its id alone.
    ("letters_replace:\n  warning_notice:\n    - {id: WN-3, wording: w, evidence: [{intelligence: [leaders_not_acting]}]}\n"
     "letters:\n  significant_concerns:\n    title: Significant Concerns (formal)\n    escalates_from: warning_notice\n"
     "    requires_escalation: true\n    indicators: [{id: WN-3, wording: x, evidence: [{indicator: ofsted_inadequate}]}]\n",
     "letters.significant_concerns.indicators", "indicator id 'WN-3' is also an indicator of letter warning_notice"),
    # A letter the rule set does not have (the vocabulary has it: a second LA's name for its notice).
    ("member_alerts: {letters_issued: [significant_concerns_letter, statutory_warning_notice]}\n",
     "member_alerts.letters_issued", "'statutory_warning_notice' is not a letter of this rule set"),
    ("member_alerts: {letters_issued: [congratulations]}\n",
     "member_alerts.letters_issued", "'congratulations' is a recognition letter"),
    # A letter for no level: it could never be due.
    ("letters:\n  congratulations:\n    title: Congratulations letter\n    recognition: true\n"
     "    not_for_categories: [low, medium, high]\n    indicators:\n"
     "      - {id: CG-2, wording: w, evidence: [{indicator: attainment_significant_improvement}]}\n",
     "letters.congratulations.not_for_categories", "lists every level"),
])
def test_policy_that_could_never_act_as_written_is_refused(tmp_path, body, where, says):
    said = _refused(tmp_path, body)
    assert "cambs-reading.yaml, line " in said and f"{where}:" in said and says in said, said

