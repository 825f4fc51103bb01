"""The report's per-school records, grouped once (report._records_by_urn, report._terms_by_urn), are what a frame per
school gave, and reason_items' bracket scan (front_page) finds the same evidence."""

import numpy as np
import pandas as pd

from school_improvement.editions.cells import _records
from school_improvement.editions.front_page import reason_items
from school_improvement.editions.report import _records_by_urn, _terms_by_urn


def test_records_by_urn_as_one_frame_per_school():
    frame = pd.DataFrame({"urn": [3, 1, 3, np.nan, 2, 1], "note": ["a", None, "c", "d", np.nan, "f"],
                          "n": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0]})
    grouped = _records_by_urn(frame)
    expected = {u: _records(g) for u, g in frame.groupby("urn", sort=False)}
    assert grouped == expected
    assert list(grouped) == list(expected)  # and the schools in the frame's order
    assert _records_by_urn(frame.iloc[:0]) == {}


def test_terms_by_urn_reads_as_the_series_did():
    history = pd.DataFrame({"urn": [1, 1, 2, 2], "term": ["2024-25-autumn", "2024-25-spring", "2024-25-autumn",
                                                          "2024-25-autumn"],
                            "category": ["low", None, "high", "medium"]})
    grouped = _terms_by_urn(history)
    for u, g in history.groupby("urn", sort=False):
        series = g.set_index("term")["category"]
        for t in ("2024-25-autumn", "2024-25-spring", "2025-26-autumn"):
            mine, theirs = grouped[u].get(t), series.get(t)
            if isinstance(theirs, pd.Series):  # a term twice: the Series kept, both rows
                assert mine.tolist() == theirs.tolist()
            else:
                assert repr(mine) == repr(theirs)


def test_reason_items_nested_and_unclosed_brackets():
    line = ("Quality: pupils achieve well [Q-1] (KS2 62% (2024-25) vs national (all) 61%); "
            "attendance [A-2] (absence 4.1% (one year")
    head, items = reason_items(line)
    assert head == "Quality"
    assert [i[:2] for i in items] == [("pupils achieve well", "Q-1"), ("attendance", "A-2")]
    assert items[0][2].startswith("KS2 62% (2024-25) vs national (all) 61%")
    assert items[1][2].startswith("absence 4.1% (one year")
