"""A term where no school's figure is compared with national (results too old to judge, or not supplied) has no
charts of them: the edition says there is nothing to chart, where it printed empty axes captioned "0 of 0 schools"
and "the 0 widest disadvantaged gaps of 0 schools" (trial, the real Surrey download run for 2025-26 spring: its
newest KS2 was 2018-19, too old to judge)."""

from __future__ import annotations

import dataclasses

import numpy as np

from school_improvement.editions import charts, render, report
from test_report import make_inputs

NOT_COMPARED = ("rwm_exp", "overall_absence", "disadv_gap")


def _markup(inputs) -> str:
    return render._ENV.get_template("report.html.j2").render(**report._context(inputs, "general"))


def test_no_figure_compared_with_national_draws_no_chart_and_says_so():
    inputs = make_inputs()
    ind = inputs.indicators.assign(**{c: np.nan for c in NOT_COMPARED})
    assert charts.chart_vs_national(ind)[0] is None and charts.chart_disadvantaged_gap(ind)[0] is None
    html = _markup(dataclasses.replace(inputs, indicators=ind))
    assert html.count("nothing to chart") == 2
    assert 'class="chart half"' not in html and 'class="chart gap"' not in html
    assert "widest gaps, in percentage points" not in html and "of 0 schools" not in html and "Left:" not in html
    assert "Every school's gap is in its profile" in html


def test_with_figures_the_charts_are_drawn_as_before():
    html = _markup(make_inputs())
    assert 'class="chart half"' in html and 'class="chart gap"' in html and "nothing to chart" not in html
    assert "widest gaps, in percentage points" in html and "Left: Key Stage 2" in html
