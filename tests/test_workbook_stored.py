"""The workbook's first archive is written stored, not deflated (editions/workbook.py `_save_stored`): _reproducible
deflates every entry again anyway, so the file is the same bytes as when openpyxl deflated it first."""

from __future__ import annotations

import zipfile

from school_improvement.editions import workbook
from school_improvement.editions.charts import LEVEL_COLOURS

from test_workbook_rows import _sheets


def test_the_stored_first_archive_gives_the_same_workbook(tmp_path):
    assert workbook._STORED_SAVE_APPLIES
    for fast_rows in (True, False):
        stored = workbook.write_workbook(_sheets(), tmp_path / f"stored{fast_rows}.xlsx", "2026-03-01", LEVEL_COLOURS,
                                         fast_rows=fast_rows)
        library = workbook.write_workbook(_sheets(), tmp_path / f"library{fast_rows}.xlsx", "2026-03-01",
                                          LEVEL_COLOURS, fast_rows=fast_rows, stored_first=False)
        assert stored.read_bytes() == library.read_bytes()
        with zipfile.ZipFile(stored) as z:  # still deflated, every entry, once
            assert z.testzip() is None
            assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}


def test_a_workbook_with_no_sheet_is_saved_as_openpyxl_saves_it(tmp_path):
    stored = workbook.write_workbook({}, tmp_path / "stored.xlsx", "2026-03-01", LEVEL_COLOURS)
    library = workbook.write_workbook({}, tmp_path / "library.xlsx", "2026-03-01", LEVEL_COLOURS, stored_first=False)
    assert stored.read_bytes() == library.read_bytes()
