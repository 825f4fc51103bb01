"""The report's words that belong to one LA's Strategy come from its rule set: "Priority 3 of the Strategy, and the
peer review's finding" was printed in every LA's edition (the fictional second LA's too, whose scheme has no
Priority 3 and no peer review)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from test_report import make_inputs

from school_improvement.editions import render, report
from school_improvement.rules import load_rule_set


def _gap_page(inputs) -> str:
    ctx = report._context(inputs, "general")
    html = render._environment().get_template("report.html.j2").render(**ctx)
    page = html[html.index('id="gap"'):]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[:page.index("</section>")]))


@pytest.mark.slow  # an edition rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_the_gap_page_speaks_of_priority_3_only_for_the_strategy_that_has_it():
    cambs, northmoor = load_rule_set("cambs-2021-23"), load_rule_set("northmoor-2024-27")
    assert cambs.gap_section.title.startswith("Priority 3") and northmoor.gap_section is None
    inputs = make_inputs(12)
    own = _gap_page(dataclasses.replace(inputs, gap_section=cambs.gap_section.model_dump()))
    assert "Priority 3: the widest disadvantaged gaps" in own and "peer review" in own, own
    other = _gap_page(dataclasses.replace(inputs, gap_section={}))
    assert "Priority 3" not in other and "peer review" not in other and "The widest disadvantaged gaps" in other, other


@pytest.mark.slow  # an edition rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_a_rule_sets_own_levels_are_coloured_as_in_its_charts_not_left_grey():
    """The report's CSS styles the badges of low, medium and high only: "universal" ... "intensive" printed as bare
    text in the levels table, the movers and the profiles."""
    from school_improvement.editions.charts import level_colours

    levels = ("universal", "targeted", "enhanced", "intensive")
    rename = dict(zip(("low", "medium", "high"), ("universal", "targeted", "intensive")))
    inputs = make_inputs(12)
    cat = inputs.categorisation.copy()
    cat["category"] = cat["category"].map(rename)
    ctx = report._context(dataclasses.replace(inputs, categorisation=cat, levels=levels), "general")
    html = render._environment().get_template("report.html.j2").render(**ctx)
    colours = level_colours(levels)
    for lv in ("universal", "targeted", "intensive"):
        assert re.search(rf'class="badge badge-{lv}" style="background: {colours[lv]}; color: #[0-9a-f]{{3}}"', html), lv
    seed = render._environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    assert 'class="badge badge-low"' in seed and 'class="badge badge-low" style=' not in seed
