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
import math
from copy import copy
import re
import zipfile
from pathlib import Path
from xml.etree.ElementTree import _escape_cdata

import openpyxl
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell import _writer as _cell_writer
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as _sheet_writer

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
    kind = type(v)
    if kind is str or kind is bool or kind is int:  # most cells: as the steps below give them, without pd.isna
        return v
    if kind is float:
        return None if v != v else v
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


def write_workbook(sheets: dict[str, tuple[pd.DataFrame, list[str]]], path: Path, run_date, level_colours: dict,
                   fast_rows: bool = True, stored_first: bool = True) -> Path:
    """sheets: sheet name -> (frame sorted as its CSV, CSV columns). Writes path (replacing it) and returns it.

    Streamed (openpyxl's write-only mode): a row is written as it is appended, one cell object serving every
    unstyled value, rather than a cell object kept per value until the save (the evidence sheet alone is some
    90,000 cells at 250 schools). So what a streamed sheet cannot change afterwards is set first: the column
    widths, the frozen header and the filter; the styled cells (header, levels) are made styled."""
    wb = Workbook(write_only=True)
    header_font, header_alignment = Font(bold=True), Alignment(vertical="top", wrap_text=True)
    # Each level's style registered once in the workbook's style table and copied to its cells (`_style`: the
    # cell's indices into that table, which openpyxl itself copies so): setting a fill and a font on a cell hashes
    # both into the table, a sixth of the workbook's time for the 7,000 level cells of a 250-school term.
    level_styles = {}
    for name, (df, columns) in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        for lvl, c in level_colours.items() if not level_styles else ():  # the table is the workbook's: once
            styled = WriteOnlyCell(ws)
            styled.fill = PatternFill("solid", fgColor=c.lstrip("#").upper())
            styled.font = Font(bold=True, color="111111" if _is_light(c) else "FFFFFF")
            level_styles[lvl] = styled._style
        frame = sheet_frame(df, columns)
        for j, col in enumerate(columns, start=1):
            lengths = [len(str(col))] + [len(str(v)) for v in frame[col].head(500) if _cell(v) is not None]
            ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(lengths) + 2)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"
        header = []
        for col in columns:
            cell = WriteOnlyCell(ws, value=col)
            cell.font, cell.fill, cell.alignment = header_font, HEADER_FILL, header_alignment
            header.append(cell)
        if fast_rows and _RowWriter.applies():  # once the widths, panes and filter are set: it starts the sheet
            _RowWriter(ws)
        ws.append(header)
        levels = [j for j, col in enumerate(columns) if col in LEVEL_COLUMNS]
        for row in frame.itertuples(index=False, name=None):
            values = [_cell(v) for v in row]
            for j in levels:
                if isinstance(values[j], str) and values[j] in level_styles:
                    cell = WriteOnlyCell(ws, value=values[j])
                    cell._style = copy(level_styles[values[j]])
                    values[j] = cell
            ws.append(values)
    when = datetime.datetime.combine(pd.Timestamp(str(run_date)).date(), datetime.time())
    wb.properties.created = when
    wb.properties.creator = "school_improvement"
    buf = io.BytesIO()
    _save_stored(wb, buf) if stored_first and _STORED_SAVE_APPLIES else wb.save(buf)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_reproducible(buf.getvalue(), when))
    return path


# openpyxl's save deflates every part of the workbook, and _reproducible then inflates each and deflates it again
# (each entry re-stamped with the run date): the first deflate is thrown away, a fifth of the workbook's CPU. So the
# first archive is written stored (uncompressed): the same entries, the same bodies, deflated once, by _reproducible,
# into the same bytes (tests/test_workbook_stored.py). openpyxl 3.1.5's `Workbook.save` of a write-only workbook
# and its `save_workbook`, with ZIP_STORED for ZIP_DEFLATED; another openpyxl saves its own way.
_STORED_SAVE_APPLIES = openpyxl.__version__ == "3.1.5"


def _save_stored(wb: Workbook, target) -> None:
    from openpyxl.writer.excel import ExcelWriter

    if wb.write_only and not wb.worksheets:  # as Workbook.save
        wb.create_sheet()
    archive = zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True)
    wb.properties.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)
    ExcelWriter(wb, archive).save()


class _RowWriter:
    """A streamed sheet's rows written as openpyxl writes them, with the text of plain cells made directly.

    openpyxl's write-only sheet turns every value into a cell object (`_values_to_row`), its attributes into an
    ElementTree element, and serialises that through et_xmlfile (`write_row`, `etree_write_cell`): about 4% of an
    edition's CPU for the evidence sheet's ~90,000 cells. A text or number cell is one of two strings, so these are
    written as the serialiser writes them: `<c r="B2" t="inlineStr"><is><t>text</t></is></c>` (text escaped as
    ElementTree escapes it, `xml:space="preserve"` when it has spaces at either end, the empty string an empty
    element), `<c r="A2" t="n"><v>990109</v></c>` ("%.16g", openpyxl's `safe_string`) and a boolean
    `<c r="C2" t="b"><v>1</v></c>` (a quarter of the evidence sheet's cells). Every other value (a styled cell, a
    date, text openpyxl would truncate, refuse or read as a formula or an error, a number
    that is not finite) goes through openpyxl's own code for that cell, as does a row with a row dimension; with
    lxml installed (openpyxl then writes through lxml) the sheet is left to openpyxl. The workbook's bytes are the
    same (tests/test_workbook.py)."""

    def __init__(self, ws):
        self.ws = ws
        ws._get_writer()  # the writer a first append would make
        self.library_write_row = ws._writer.write_row
        ws._values_to_row = lambda values, row_idx: values  # handed to write_row as they are appended
        ws._writer.write_row = self.write_row
        self.columns = {}

    @staticmethod
    def applies() -> bool:
        return not openpyxl.LXML and _sheet_writer.write_cell is _cell_writer.etree_write_cell

    def _library_cell(self, xf, value, col_idx, row_idx):
        """openpyxl's `_values_to_row` and `write_row` for one value."""
        ws = self.ws
        cell = WriteOnlyCell(ws)
        try:
            cell.value = value
        except ValueError:
            if isinstance(value, Cell):
                cell = value
            else:
                raise ValueError
        cell.column = col_idx
        cell.row = row_idx
        if cell.hyperlink is not None:
            cell.hyperlink.ref = cell.coordinate
        if cell._comment is not None:
            ws._comments.append(CommentRecord.from_cell(cell))
        if cell._value is None and not cell.has_style and not cell._comment:
            return
        _sheet_writer.write_cell(xf, ws, cell, cell.has_style)

    def write_row(self, xf, values, row_idx):
        if self.ws.row_dimensions.get(row_idx):
            self.library_write_row(xf, _library_values_to_row(self.ws, values, row_idx), row_idx)
            return
        write = xf._file
        columns = self.columns
        parts = [f'<row r="{row_idx}">']
        for col_idx, value in enumerate(values, 1):
            if value is None:
                continue
            letter = columns.get(col_idx) or columns.setdefault(col_idx, get_column_letter(col_idx))
            kind = type(value)
            if kind is str and len(value) <= 32767 and not (len(value) > 1 and value[0] == "=") \
                    and value not in ERROR_CODES and not ILLEGAL_CHARACTERS_RE.search(value):
                if not value:
                    parts.append(f'<c r="{letter}{row_idx}" t="inlineStr" />')
                    continue
                stripped = value.strip()
                space = ' xml:space="preserve"' if stripped and value != stripped else ""
                parts.append(f'<c r="{letter}{row_idx}" t="inlineStr"><is><t{space}>{_escape_cdata(value)}</t></is></c>')
            elif (kind is int or kind is float) and math.isfinite(value):
                parts.append(f'<c r="{letter}{row_idx}" t="n"><v>{"%.16g" % value}</v></c>')
            elif kind is bool:  # safe_string: "%.16g" % True is "1"
                parts.append(f'<c r="{letter}{row_idx}" t="b"><v>{"1" if value else "0"}</v></c>')
            elif kind is Cell and value.data_type == "s" and type(value._value) is str and value._value \
                    and value.hyperlink is None and value._comment is None and value.has_style:
                # a level (write_workbook's styled cells): its text as above, with its style's index
                text = value._value
                value.column, value.row = col_idx, row_idx  # as _library_cell leaves it
                stripped = text.strip()
                space = ' xml:space="preserve"' if stripped and text != stripped else ""
                parts.append(f'<c r="{letter}{row_idx}" s="{value.style_id}" t="inlineStr"><is><t{space}>'
                             f'{_escape_cdata(text)}</t></is></c>')
            else:
                write("".join(parts))
                parts = []
                self._library_cell(xf, value, col_idx, row_idx)
        parts.append("</row>")
        write("".join(parts))


def _library_values_to_row(ws, values, row_idx):
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    return WriteOnlyWorksheet._values_to_row(ws, values, row_idx)


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
