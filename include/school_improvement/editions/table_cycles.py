"""A laid-out table without a reference cycle, so that reference counting frees it.

WeasyPrint's `table_layout` gives each column of a table it lays out a `get_cells` closure holding the table
(`column.get_cells = get_column_cells(table, column)`), and the table holds its columns (`table.column_groups`): a
cycle for every table laid out, and everything under the table (rows, cells, lines, text boxes) is freed only by the
garbage collector. A report part collects once, when the layout is released (render._write): at 250 demo schools
that one collection walked 494,000 unreachable objects (0.6 s of a 10 s part), 213,000 of them in tables, and every
table laid out and dropped on the way (a page tried again) waited for it too.

Here the column keeps the table and itself weakly: `column.get_cells()` gives the same cells, from the same table,
while the table is alive (it is read only to paint a column's background, while its page is drawn). A column whose
table is gone has no cells to give (the library's closure would still give that table's). The PDFs are the same.
"""

from __future__ import annotations

import weakref

from weasyprint.formatting_structure.boxes import TableColumnBox
from weasyprint.layout import table as _table

from .layout_patches import _source_sha

LIBRARY_TABLE_LAYOUT_SHA = "6594fa40743fbc0b"  # WeasyPrint 70.0's table_layout, whose get_column_cells sets the closure
_KEY = "_si_column_cells"  # in the column's __dict__: (weak table, weak column), or a closure set by other code


def _cells(table_ref, column_ref):
    def get_cells():  # the library's get_column_cells, reading the table and column through their weak references
        table, column = table_ref(), column_ref()
        if table is None or column is None:
            return []
        return [
            cell
            for row_group in table.children
            for row in row_group.children
            for cell in row.children
            if cell.grid_x == column.grid_x]
    return get_cells


class _ColumnCells:
    """`TableColumnBox.get_cells`, a data descriptor: the library's closure is stored as weak references to the
    table and column it holds; anything else set is kept as it is."""

    def __init__(self, library):
        self.library = library

    def __get__(self, column, owner=None):
        if column is None:
            return self
        held = column.__dict__.get(_KEY)
        if held is None:
            return self.library.__get__(column, owner)
        if isinstance(held, tuple):
            return _cells(*held)
        return held

    def __set__(self, column, func):
        names = getattr(getattr(func, "__code__", None), "co_freevars", ())
        if sorted(names) == ["column", "table"] and func.__code__.co_name == "<lambda>":
            held = dict(zip(names, (c.cell_contents for c in func.__closure__)))
            column.__dict__[_KEY] = (weakref.ref(held["table"]), weakref.ref(held["column"]))
        else:
            column.__dict__[_KEY] = func

    def __delete__(self, column):
        del column.__dict__[_KEY]


def install() -> bool:
    if isinstance(TableColumnBox.__dict__.get("get_cells"), _ColumnCells):
        return True
    if _source_sha(_table.table_layout) != LIBRARY_TABLE_LAYOUT_SHA:
        return False
    TableColumnBox.get_cells = _ColumnCells(TableColumnBox.__dict__["get_cells"])
    return True


def uninstall() -> None:
    held = TableColumnBox.__dict__.get("get_cells")
    if isinstance(held, _ColumnCells):
        TableColumnBox.get_cells = held.library
