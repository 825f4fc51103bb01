"""The workbook's streamed rows (editions/workbook.py `_RowWriter`) are the bytes openpyxl itself writes."""

from __future__ import annotations

import datetime
import decimal

import pandas as pd
import pytest

from school_improvement.editions import workbook
from school_improvement.editions.charts import LEVEL_COLOURS

# Every kind of value a sheet can meet: plain, spaced, empty and blank text, markup characters, line breaks, text
# openpyxl reads as a formula or an error or truncates, levels (styled cells), whole and decimal numbers, numbers
# that are not finite, booleans, dates, times, decimals, missing values.
VALUES = ["plain", " leading", "trailing ", "  ", "", "a & b < c > d \"q\" 'a'", "line\nbreak\r\ttab", "=1+2", "=",
          "#N/A", "#DIV/0!", "x" * 40_000, "high", "medium", "low", "none", "Ünïcödé – ‘quotes’ 😀", 0, 1, -7,
          2 ** 53 + 1, 0.1, 1e-300, 1.5e300, float("nan"), float("inf"), -float("inf"), True, False,
          datetime.date(2026, 3, 1), datetime.datetime(2026, 3, 1, 12, 30), datetime.time(9, 15),
          decimal.Decimal("1.25"), None, pd.NA, pd.NaT]


def _sheets():
    n = len(VALUES)
    frame = pd.DataFrame({"text": VALUES, "category": VALUES[::-1], "number": [i * 0.5 for i in range(n)],
                          "urn": list(range(100000, 100000 + n)), "mixed": VALUES[5:] + VALUES[:5]})
    frame["urn"] = frame["urn"].astype("Int64")
    columns = list(frame.columns)
    return {"categorisation.csv": (frame, columns), "evidence.csv": (frame.iloc[::-1], columns + ["absent"]),
            "empty.csv": (frame.iloc[0:0], columns)}


def test_the_streamed_rows_are_the_bytes_openpyxl_writes(tmp_path):
    assert workbook._RowWriter.applies()
    fast = workbook.write_workbook(_sheets(), tmp_path / "fast.xlsx", "2026-03-01", LEVEL_COLOURS)
    library = workbook.write_workbook(_sheets(), tmp_path / "library.xlsx", "2026-03-01", LEVEL_COLOURS,
                                      fast_rows=False)
    assert fast.read_bytes() == library.read_bytes()


def test_a_value_openpyxl_refuses_is_refused_either_way(tmp_path):
    frame = pd.DataFrame({"text": ["fine", "bell\x07"]})
    sheets = {"categorisation.csv": (frame, ["text"])}
    for fast_rows in (True, False):
        with pytest.raises(Exception) as refused:
            workbook.write_workbook(sheets, tmp_path / f"{fast_rows}.xlsx", "2026-03-01", LEVEL_COLOURS,
                                    fast_rows=fast_rows)
        assert type(refused.value).__name__ == "IllegalCharacterError"


def _raw_sheet_xml(fast: bool) -> bytes:
    """Values appended as they are (no neutralising), styled cells among them, through openpyxl's write-only sheet."""
    import io
    import zipfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("raw")
    ws.column_dimensions["A"].width = 12
    ws.freeze_panes = "A2"
    if fast:
        workbook._RowWriter(ws)
    styled = WriteOnlyCell(ws, value="bold")
    styled.font = Font(bold=True)
    ws.append([styled, "=SUM(1,2)", "#N/A", "x" * 40_000, True, datetime.date(2026, 3, 1), decimal.Decimal("2.5")])
    for i in range(0, len(VALUES), 6):
        ws.append([v for v in VALUES[i:i + 6] if v is not pd.NA and v is not pd.NaT])
    ws.append([])
    ws.append([None, None, "after empty cells"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return z.read("xl/worksheets/sheet1.xml") + z.read("xl/styles.xml")


def test_raw_values_formulas_and_styled_cells_stream_as_openpyxl_writes_them():
    assert _raw_sheet_xml(fast=True) == _raw_sheet_xml(fast=False)
