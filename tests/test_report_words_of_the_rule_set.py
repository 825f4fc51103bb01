"""The report's words that belong to one LA's Strategy come from its rule set: "Priority 3 of the Strategy, and the
peer review's finding" was printed in every LA's edition (the fictional second LA's too, whose scheme has no
Priority 3 and no peer review)."""

from __future__ import annotations

import dataclasses
import re

from test_report import make_inputs

from school_improvement.editions import render, report
from school_improvement.rules import load_rule_set


def _gap_page(inputs) -> str:
    ctx = report._context(inputs, "general")
    html = render._environment().get_template("report.html.j2").render(**ctx)
    page = html[html.index('id="gap"'):]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[:page.index("</section>")]))


def test_the_gap_page_speaks_of_priority_3_only_for_the_strategy_that_has_it():
    cambs, northmoor = load_rule_set("cambs-2021-23"), load_rule_set("northmoor-2024-27")
    assert cambs.gap_section.title.startswith("Priority 3") and northmoor.gap_section is None
    inputs = make_inputs(12)
    own = _gap_page(dataclasses.replace(inputs, gap_section=cambs.gap_section.model_dump()))
    assert "Priority 3: the widest disadvantaged gaps" in own and "peer review" in own, own
    other = _gap_page(dataclasses.replace(inputs, gap_section={}))
    assert "Priority 3" not in other and "peer review" not in other and "The widest disadvantaged gaps" in other, other
