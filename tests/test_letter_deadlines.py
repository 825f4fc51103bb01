"""A letter's deadlines in school days: the shipped closing asks the governing body to "confirm within ten school days
how the governing body will address these concerns", while the action asking for that written response was due 20
calendar days after the letter (15 for the Warning Notice): one letter, two dates for one reply, and no way to write
a deadline in school days. `within_school_days` counts the term calendar's school days (weekends, holidays and
closures not counted); an action gives one deadline or is refused."""

from __future__ import annotations

from datetime import date

import pytest

from factories import decide, flag, gias, term_data
from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set, load_rule_set_arg

URN = 990321
# Wednesday 15 October 2025; the autumn half term is 27-31 October (include/calendar/term_dates.yaml).
AS_OF = date(2025, 10, 15)


def _draft(kinds, rules):
    data = term_data("2025-26-autumn", gias=[gias(URN)], **kinds)
    return decide(data, rules, {}, AS_OF)[1].drafts


@pytest.mark.parametrize("letter, flags", [
    ("significant_concerns_letter", [flag(URN, "finance", "medium", raised=date(2025, 10, 1))]),
    ("warning_notice", [flag(URN, "leaders_not_acting", "low", raised=date(2025, 10, 1))]),
])
def test_the_written_reply_is_due_ten_school_days_after_the_letter_as_its_closing_says(letter, flags):
    rules = load_rule_set("cambs-2021-23")
    (draft,) = _draft({"la_intelligence": flags}, rules)
    assert draft["letter"] == letter and "within ten school days" in draft["closing"]
    reply = [a for a in draft["actions"] if "writing" in a["action"] or "Written response" in a["action"]]
    # 16-17 October (2), 20-24 October (7), the half term not counted, 3-5 November (10); 20 calendar days (the
    # Significant Concerns letter's) were 4 November, 15 (the Warning Notice's) 30 October, in the half term: 3 November.
    assert [a["by_date"] for a in reply] == [date(2025, 11, 5)], draft["actions"]


@pytest.mark.parametrize("action, says", [
    ("{action: Reply, within_days: 10, within_school_days: 10}", "gives its deadline once"),
    ("{action: Reply}", "gives its deadline once"),
    ("{action: Reply, within_school_days: 0}", "greater than or equal to 1"),
])
def test_an_action_with_two_deadlines_or_none_is_refused(tmp_path, action, says):
    path = tmp_path / "cambs-reading.yaml"
    path.write_text("id: cambs-reading\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    f"letter_actions:\n  congratulations: []\n  significant_concerns_letter:\n    - {action}\n",
                    encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    said = str(err.value)
    assert "cambs-reading.yaml, line 8: letter_actions.significant_concerns_letter[0]" in said and says in said, said
