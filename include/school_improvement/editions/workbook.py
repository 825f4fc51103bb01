"""The Excel workbook beside an edition's CSVs, for the managers and advisers who live in Excel.

One sheet per CSV, built from the same sorted frames the CSVs are written from (so the workbook holds exactly
what the edition's CSVs hold: the restricted-only sheets only in the restricted edition), with a frozen header,
filters, column widths, and the level shown with a fill colour as well as in words. Text cells are neutralised
as in the CSVs (report._neutralise): openpyxl would otherwise store "=..." as a live formula.

Reproducible like the rest of the edition: the document dates are the run date and the zip entries carry a
fixed time, so identical inputs give a byte-identical workbook.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

# Columns holding a level of support: the schools' levels, and in the evidence sheet the level of the bullet a check is for.
LEVEL_COLUMNS = {"category", "computed_category", "best_fit_category", "previous_category", "level"}
MAX_WIDTH = 60  # characters: longer text wraps in the formula bar rather than making a sheet unreadable
HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")


def sheet_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The frame as the CSV writer lays it out: `columns` in order, whole numbers as integers, text neutralised."""
    from .tables import INTEGER_COLUMNS, _neutralise

    out = df.reindex(columns=columns).copy()
    for col in out.columns:
        s = out[col]
        if col in INTEGER_COLUMNS and pd.api.types.is_float_dtype(s):
            out[col] = s.astype("Int64")
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        out[col] = s.astype(object).map(_neutralise)
    return out


def _cell(v):
    """A value openpyxl stores as data: missing -> empty, numpy scalars -> Python, dates stay dates."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return v.item()
    if isinstance(v, (datetime.date, int, float, bool, str)):
        return v
    return str(v)


def write_workbook(sheets: dict[str, tuple[pd.DataFrame, list[str]]], path: Path, run_date, level_colours: dict) -> Path:
    """sheets: sheet name -> (frame sorted as its CSV, CSV columns). Writes path (replacing it) and returns it."""
    wb = Workbook()
    wb.remove(wb.active)
    fills = {lvl: PatternFill("solid", fgColor=c.lstrip("#").upper()) for lvl, c in level_colours.items()}
    light = {lvl for lvl, c in level_colours.items() if _is_light(c)}
    for name, (df, columns) in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        frame = sheet_frame(df, columns)
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        for row in frame.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
        for j, col in enumerate(columns, start=1):
            if col in LEVEL_COLUMNS:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    if cell.value in fills:
                        cell.fill = fills[cell.value]
                        cell.font = Font(bold=True, color="111111" if cell.value in light else "FFFFFF")
            lengths = [len(str(col))] + [len(str(v)) for v in frame[col].head(500) if _cell(v) is not None]
            ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(lengths) + 2)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"
    when = datetime.datetime.combine(pd.Timestamp(str(run_date)).date(), datetime.time())
    wb.properties.created = when
    wb.properties.creator = "school_improvement"
    buf = io.BytesIO()
    wb.save(buf)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_reproducible(buf.getvalue(), when))
    return path


def _is_light(colour: str) -> bool:
    r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b > 150


def _reproducible(data: bytes, when: datetime.datetime) -> bytes:
    """openpyxl stamps 'modified' with now and the zip entries with the current time: pin both to the run date."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6]), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
