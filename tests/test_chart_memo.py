"""The whole-LA charts are drawn once per content of their inputs (editions/charts.py `_memo_by_content`): the
general edition gets the restricted one's SVG, the same bytes as drawn again; other data is always drawn anew."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from school_improvement.editions import charts


def _indicators(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({
        "urn": range(100000, 100000 + n), "school_name": [f"School {i}" for i in range(n)],
        "disadv_gap": np.linspace(2.0, 31.0, n), "disadv_gap_national": 12.5,
        "rwm_exp": np.linspace(40.0, 90.0, n), "rwm_exp_national": 61.0,
        "overall_absence": np.linspace(3.0, 9.0, n), "overall_absence_national": 5.5})


def _history() -> pd.DataFrame:
    return pd.DataFrame({"urn": [1, 2, 3, 1, 2, 3], "term": ["2025-26-autumn"] * 3 + ["2025-26-spring"] * 3,
                         "category": ["low", "medium", "high", "low", "low", "high"]})


@pytest.mark.slow  # charts drawn by matplotlib more than once (over test-fast's CPU budget)
def test_a_chart_of_the_same_data_is_the_same_svg_as_drawn_again():
    charts._chart_memo.clear()
    ind = _indicators()
    for draw, args in ((charts.chart_disadvantaged_gap, ()), (charts.chart_vs_national, ())):
        first = draw(ind)
        assert draw(ind.copy()) == first  # an equal frame (a new object) gets the chart drawn for the first
        assert draw.uncached(ind) == first  # and that chart is what drawing it again gives
    uri, alt, counts = charts.chart_distribution(_history(), "2025-26-spring")
    again = charts.chart_distribution(_history(), "2025-26-spring")
    assert again[:2] == (uri, alt) == charts.chart_distribution.uncached(_history(), "2025-26-spring")[:2]
    assert again[2].equals(counts) and again[2] is not counts  # the counts are the caller's own copy


@pytest.mark.slow  # charts drawn by matplotlib more than once (over test-fast's CPU budget)
def test_other_data_is_drawn_anew():
    charts._chart_memo.clear()
    ind = _indicators()
    first = charts.chart_disadvantaged_gap(ind)
    renamed = ind.copy()
    renamed.loc[len(ind) - 1, "school_name"] = "Another name"  # the widest gap: a bar's label
    assert charts.chart_disadvantaged_gap(renamed) != first
    assert charts.chart_disadvantaged_gap(renamed) == charts.chart_disadvantaged_gap.uncached(renamed)
    wider = ind.copy()
    wider["disadv_gap"] = wider["disadv_gap"] + 0.5
    assert charts.chart_disadvantaged_gap(wider)[0] != first[0]
    as_text = ind.astype({"rwm_exp": object})  # same values, another dtype: its own entry
    charts.chart_vs_national(ind)
    before = len(charts._chart_memo)
    charts.chart_vs_national(as_text)
    assert len(charts._chart_memo) == before + 1
    # A term is part of the key: the same history for another term is another chart.
    assert charts.chart_distribution(_history(), "2026-27-autumn")[1] != charts.chart_distribution(
        _history(), "2025-26-spring")[1]


def test_the_memo_keeps_a_few_charts_only():
    charts._chart_memo.clear()
    # The charts' own memo wrapper around a stand-in that draws nothing: what is checked is what the memo keeps.
    drawn = []
    sizes = charts._memo_by_content(lambda frame: drawn.append(len(frame)) or (len(frame),))
    for i in range(charts._CHART_MEMO_SIZE + 5):
        assert sizes(_indicators(10 + i)) == (10 + i,)
    assert len(charts._chart_memo) == charts._CHART_MEMO_SIZE
    assert sizes(_indicators(10 + charts._CHART_MEMO_SIZE + 4)) == (14 + charts._CHART_MEMO_SIZE,)  # still kept
    sizes(_indicators(10))  # the first: dropped, so drawn again
    assert drawn == [*range(10, 15 + charts._CHART_MEMO_SIZE), 10]


@pytest.mark.slow  # charts drawn by matplotlib more than once (over test-fast's CPU budget)
def test_both_editions_of_a_term_draw_the_charts_once(monkeypatch):
    from test_report import make_inputs

    from school_improvement.editions import report
    from school_improvement.editions.confidentiality import general_view

    inputs = make_inputs()
    charts._chart_memo.clear()
    drawn = []
    svg_uri = charts._svg_uri
    monkeypatch.setattr(charts, "_svg_uri", lambda fig: drawn.append(fig) or svg_uri(fig))
    restricted = report._context(inputs, "restricted")
    general = report._context(general_view(inputs), "general")
    assert set(restricted["charts"]) == {"distribution", "national", "gap"}
    assert restricted["charts"] == general["charts"]
    assert len(drawn) == 3  # not 6
