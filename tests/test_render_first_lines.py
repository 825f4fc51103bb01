"""`split_first_line` answered from the document's earlier answers (editions/layout_patches.py): every answer is the
library's, the style values it keys on are all the library reads, and documents are the same bytes without it."""

from __future__ import annotations

import io

import pytest

from weasyprint import HTML
from weasyprint.layout import inline, preferred
from weasyprint.text import line_break

from school_improvement.editions import layout_patches as lp
from school_improvement.editions import render  # noqa: F401  (installs the patches)

# Tables measured for their column widths, the same words in many cells, hyphenation (automatic and soft hyphens),
# words broken anywhere, tabs kept, letter and word spacing, justified text, underlines, bold and italic runs,
# right-to-left text, text split over pages.
_FIRST_LINES_HTML = (
    "<html lang='en'><head><title>t</title><style>@page { size: A6 } td { border: 1pt solid }"
    ".h { hyphens: auto; width: 25mm } .a { overflow-wrap: anywhere; width: 15mm } .b { word-break: break-all }"
    ".t { white-space: pre; tab-size: 6 } .s { letter-spacing: 0.5pt; word-spacing: 2pt } .j { text-align: justify }"
    ".u { text-decoration: underline } .z { hyphenate-limit-zone: 10% } .c { hyphenate-limit-zone: calc(2mm + 1%) }"
    "</style></head><body>"
    + "".join(
        f"<table><tr><th>School</th><th>Level</th><th>Change</th></tr>"
        + "".join(f"<tr><td>School {j % 4} of the town</td><td>{('Low', 'Medium', 'High')[j % 3]}</td>"
                  f"<td>Yes</td></tr>" for j in range(6))
        + "</table>"
        f"<p class='h'>Extraordinarily uncharacteristically incomprehensible administrative arrangements {i % 3}</p>"
        f"<p class='h z'>Supercalifragilistic hyphen\u00adation soft\u00adhyphen words</p>"
        f"<p class='h c'>Internationalisation responsibilities</p>"
        f"<p class='a'>Averyveryverylongwordwithoutanybreakopportunity {i % 2}</p><p class='b'>Break all these words</p>"
        f"<p class='t'>col\tcol\tcol {i % 2}\nsecond\tline</p><p class='s'>Spaced words here {i % 2}</p>"
        f"<p class='j'>{'Justified text that runs over several lines of the narrow page. ' * 3}</p>"
        f"<p class='u'>Underlined <b>bold</b> and <i>italic</i> words</p>"
        f"<p dir='rtl' lang='he'>שלום עולם {i % 2}</p>"
        for i in range(8))
    + "</body></html>")


def _bytes(html: str) -> bytes:
    out = io.BytesIO()
    HTML(string=html).render(pdf_variant="pdf/ua-1").write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


@pytest.mark.slow  # documents laid out twice, patched and as the library does (over test-fast's CPU budget)
def test_every_first_line_is_the_librarys_answer(monkeypatch):
    assert inline.split_first_line is lp.split_first_line is preferred.split_first_line  # in force once imported
    assert line_break.split_first_line is lp.LIBRARY_SPLIT_FIRST_LINE  # SVG text keeps the library's
    calls = {"asked before": 0, "new": 0}
    asked = set()

    def both(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
        args = (text, style, context, max_width, justification_spacing, is_line_start, minimum)
        key = (text, id(style), max_width, justification_spacing, is_line_start, minimum)
        calls["asked before" if key in asked else "new"] += 1
        asked.add(key)
        ours = lp.split_first_line(*args)
        want = lp.LIBRARY_SPLIT_FIRST_LINE(*args)
        assert type(ours[0]) is type(want[0]) and vars(ours[0]) == vars(want[0]), text
        assert ours[1:] == want[1:], text
        return ours

    monkeypatch.setattr(inline, "split_first_line", both)
    monkeypatch.setattr(preferred, "split_first_line", both)
    HTML(string=_FIRST_LINES_HTML).render()
    assert calls["asked before"] > 100 and calls["new"] > 100, calls


class _Recording:
    """A style that notes every property read from it."""

    def __init__(self, style, read):
        self._style, self._read = style, read
        self.font_config = style.font_config

    def __getitem__(self, name):
        self._read.add(name)
        return self._style[name]


@pytest.mark.slow  # documents laid out twice, patched and as the library does (over test-fast's CPU budget)
def test_the_answers_are_keyed_on_every_style_value_the_library_reads(monkeypatch):
    read = set()

    def recording(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
        lp.LIBRARY_SPLIT_FIRST_LINE(text, _Recording(style, read), context, max_width, justification_spacing,
                                    is_line_start, minimum)
        return lp.LIBRARY_SPLIT_FIRST_LINE(text, style, context, max_width, justification_spacing, is_line_start,
                                           minimum)

    monkeypatch.setattr(inline, "split_first_line", recording)
    monkeypatch.setattr(preferred, "split_first_line", recording)
    HTML(string=_FIRST_LINES_HTML).render()
    assert {"hyphens", "hyphenate_limit_zone", "tab_size", "letter_spacing", "font_family"} <= read
    assert read <= set(lp._FIRST_LINE_KEYS), read - set(lp._FIRST_LINE_KEYS)


@pytest.mark.slow  # documents laid out twice, patched and as the library does (over test-fast's CPU budget)
def test_a_document_is_the_same_bytes_with_the_librarys_split_first_line(monkeypatch):
    from test_render_patches import _ours_text, _text_document_bytes

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _bytes(_FIRST_LINES_HTML), _ours_text()
    lp.uninstall_first_lines()
    try:
        assert inline.split_first_line is lp.LIBRARY_SPLIT_FIRST_LINE
        assert (_bytes(_FIRST_LINES_HTML), _text_document_bytes()) == ours
    finally:
        assert lp.install_first_lines()


def test_first_lines_leave_a_weasyprint_they_were_not_written_for_alone(monkeypatch):
    lp.uninstall_first_lines()
    try:
        function, _ = lp._FIRST_LINE_SHAS[3]
        monkeypatch.setattr(lp, "_FIRST_LINE_SHAS", (*lp._FIRST_LINE_SHAS[:3], (function, "0" * 16),
                                                     *lp._FIRST_LINE_SHAS[4:]))
        assert lp.install_first_lines() is False and inline.split_first_line is lp.LIBRARY_SPLIT_FIRST_LINE
        monkeypatch.undo()
        monkeypatch.setattr(lp, "LIBRARY_LAYOUT_SETUP_SHA", "0" * 16)
        assert lp.install_first_lines() is False and preferred.split_first_line is lp.LIBRARY_SPLIT_FIRST_LINE
    finally:
        monkeypatch.undo()
        assert lp.install_first_lines() is True and inline.split_first_line is lp.split_first_line
