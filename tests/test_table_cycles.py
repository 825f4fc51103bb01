"""editions/table_cycles.py: a laid-out table's columns hold it weakly, so reference counting frees it (no garbage
collection needed), with the same cells for a column and the same PDF, column backgrounds included."""

import gc
import weakref

import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from school_improvement.editions import render, table_cycles  # noqa: F401  (render installs the patches)

ROWS = "".join(f"<tr><td>row {i}</td><td>{'word ' * (i % 7)}</td><td>{i}</td></tr>" for i in range(24))
PAGE = f"""<html><head><style>
  @page {{ size: 60mm 50mm; margin: 5mm }}
  table {{ border-collapse: collapse; width: 100% }} td {{ border: 0.5pt solid #999 }}
  col.b {{ background: #e8eef5 }}
</style></head><body><p>Before</p>
<table><colgroup><col class="a"><col class="b"><col></colgroup>
<thead><tr><th>A</th><th>B</th><th>C</th></tr></thead><tbody>{ROWS}</tbody></table></body></html>"""


def _pdf() -> bytes:
    return HTML(string=PAGE).write_pdf(pdf_identifier=b"0" * 32, uncompressed_pdf=True)


def _tables(doc):
    return [b for page in doc.pages for b in page._page_box.descendants() if isinstance(b, boxes.TableBox)]


@pytest.fixture
def library():
    table_cycles.uninstall()
    yield
    assert table_cycles.install()


def test_installed():
    assert table_cycles.install()
    assert isinstance(boxes.TableColumnBox.__dict__["get_cells"], table_cycles._ColumnCells)


@pytest.mark.slow  # documents written twice, with and without the collector (over test-fast's CPU budget)
def test_same_pdf_as_the_library(library):
    theirs = _pdf()
    assert table_cycles.install()
    assert _pdf() == theirs


def test_a_column_gives_its_cells():
    doc = HTML(string=PAGE).render()
    tables = _tables(doc)
    assert len(tables) > 1  # the table runs over pages
    last = tables[-1]
    for group in last.column_groups:
        for column in group.children:
            expected = [cell for group_ in last.children for row in group_.children for cell in row.children
                        if cell.grid_x == column.grid_x]
            assert expected and column.get_cells() == expected
        assert group.get_cells() == [c for column in group.children for c in column.get_cells()]


def _table_freed_without_collection() -> bool:
    doc = HTML(string=PAGE).render()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        table = weakref.ref(_tables(doc)[0])
        del doc
        return table() is None
    finally:
        if was:
            gc.enable()


@pytest.mark.slow  # documents written twice, with and without the collector (over test-fast's CPU budget)
def test_freed_by_reference_counting():
    assert _table_freed_without_collection()


@pytest.mark.slow  # documents written twice, with and without the collector (over test-fast's CPU budget)
def test_the_library_needs_the_collector(library):
    assert not _table_freed_without_collection()  # what the patch changes: this test can fail
