"""Lines drawn again from the document's notes (editions/draw_text.py `draw_text`): the PDF bytes are the library's,
for one write and for pages written again from the same layout (the drafts' per-school files)."""

from __future__ import annotations

import io

import pytest
from weasyprint import HTML
from weasyprint.draw import text as library_text

from school_improvement.editions import draw_text
from school_improvement.editions import render  # noqa: F401  (installs the patches)

# Words repeated in table cells and paragraphs, over, under and struck-through lines, decorations with thickness and
# offset, justified text, spaced text, a line that starts with a space kept, hidden text, pre text with newlines.
_LINES_HTML = (
    "<html lang='en'><head><title>t</title><style>@page { size: A6 } td { border: 1pt solid }"
    ".u { text-decoration: underline } .o { text-decoration: overline } .x { text-decoration: line-through }"
    ".t { text-decoration: underline 2pt; text-underline-offset: 3pt } .j { text-align: justify }"
    ".s { letter-spacing: 0.5pt; word-spacing: 2pt } .p { white-space: pre } .v { visibility: hidden }"
    ".c { color: #b2182b }</style></head><body>"
    + "".join(
        "<table><tr><th>School</th><th>Level</th></tr>"
        + "".join(f"<tr><td>School {j % 3}</td><td class='c'>{('Low', 'Medium', 'High')[j % 3]}</td></tr>"
                  for j in range(5))
        + "</table>"
        f"<p class='u'>Underlined words {i % 2}</p><p class='o'>Overlined words</p><p class='x'>Struck words {i % 2}</p>"
        f"<p class='t'>Thick underline</p><p class='j'>{'Justified text over the lines of the page. ' * 3}</p>"
        f"<p class='s'>Spaced words {i % 2}</p><p class='p'>  kept spaces\nand a second line {i % 2}</p>"
        f"<p class='v'>Hidden words</p><p>Low</p><p>Medium <b>High</b> <i>Low</i></p>"
        for i in range(6))
    + "</body></html>")


def _written(html: str, pages=None) -> list[bytes]:
    """The document's bytes, then (with `pages`) each slice of its pages written again from the same layout."""
    doc = HTML(string=html).render(pdf_variant="pdf/ua-1")
    if pages:
        draw_text.lines_drawn_again(doc.font_config)
    out = []
    for part in [doc] + [doc.copy(doc.pages[a:b]) for a, b in (pages or [])]:
        buffer = io.BytesIO()
        part.write_pdf(buffer, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
        out.append(buffer.getvalue())
    return out


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def test_lines_are_drawn_from_notes_once_the_report_is_imported():
    import weasyprint.draw

    assert library_text.draw_text is draw_text.draw_text is weasyprint.draw.draw_text
    doc = HTML(string=_LINES_HTML).render(pdf_variant="pdf/ua-1")
    drawn = []
    original = draw_text.LIBRARY_DRAW_TEXT

    def counting(stream, textbox, *args):
        drawn.append(textbox)
        return draw_text.draw_text(stream, textbox, *args)

    weasyprint.draw.draw_text = counting
    try:
        doc.write_pdf(io.BytesIO(), pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    finally:
        weasyprint.draw.draw_text = draw_text.draw_text
    (fonts, notes), = doc.pages[0]._page_box.style.font_config._drawn_lines.values()
    assert fonts is doc.fonts and original is not draw_text.draw_text
    assert 20 < len(notes) < len(drawn) / 2, (len(notes), len(drawn))  # most lines were drawn from the notes


def test_pages_written_again_draw_their_lines_from_the_notes_into_their_own_fonts(monkeypatch):
    applied = []

    def apply(fonts, effects):
        applied.append(draw_text_apply(fonts, effects))
        return applied[-1]

    draw_text_apply = draw_text._apply
    monkeypatch.setattr(draw_text, "_apply", apply)
    doc = HTML(string=_LINES_HTML).render(pdf_variant="pdf/ua-1")
    draw_text.lines_drawn_again(doc.font_config)
    doc.write_pdf(io.BytesIO(), pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    assert not applied
    part = doc.copy(doc.pages[1:3])
    part.write_pdf(io.BytesIO(), pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    assert applied.count(True) > 10 and False in applied  # a font new to the part: its first line drawn in full
    assert part.fonts and all(font.widths and font.to_unicode for font in part.fonts.values())


# a document laid out and written twice, patched and as the library does: over test-fast's CPU budget
@pytest.mark.slow
def test_a_document_is_the_same_bytes_with_the_librarys_draw_text(epoch):
    from test_render_first_lines import _FIRST_LINES_HTML
    from test_render_patches import _ours_text, _text_document_bytes

    def documents():
        return (_written(_LINES_HTML, pages=[(0, 2), (1, 4), (2, 3)]), _written(_FIRST_LINES_HTML),
                _text_document_bytes())

    ours = (_written(_LINES_HTML, pages=[(0, 2), (1, 4), (2, 3)]), _written(_FIRST_LINES_HTML), _ours_text())
    draw_text.uninstall_drawn_lines()
    try:
        assert library_text.draw_text is draw_text.LIBRARY_DRAW_TEXT
        assert documents() == ours
    finally:
        assert draw_text.install_drawn_lines()


def test_drawn_lines_leave_a_weasyprint_they_were_not_written_for_alone(monkeypatch):
    draw_text.uninstall_drawn_lines()
    try:
        monkeypatch.setattr(draw_text, "LIBRARY_DRAW_TEXT_SHA", "0" * 16)
        assert draw_text.install_drawn_lines() is False and library_text.draw_text is draw_text.LIBRARY_DRAW_TEXT
        monkeypatch.undo()
        monkeypatch.setattr(library_text, "draw_first_line", draw_text.LIBRARY_DRAW_FIRST_LINE)
        assert draw_text.install_drawn_lines() is False and library_text.draw_text is draw_text.LIBRARY_DRAW_TEXT
    finally:
        monkeypatch.undo()
        assert draw_text.install_drawn_lines() is True and library_text.draw_text is draw_text.draw_text


def test_a_line_is_drawn_in_full_into_fonts_whose_widths_are_not_the_ones_it_was_written_with():
    from types import SimpleNamespace

    def fonts(**widths):
        return {7: SimpleNamespace(widths=dict(widths), to_unicode={})}

    # glyph 36 written with width 556 (the font had it), its own width at the line's size 556; glyph 37: 500, own 501
    effects = ((7,), (36, 556, 556, "A"), (37, 500, 501, "B"), (36, 556, 556, "A"))
    same = fonts(**{})  # both glyphs new: the library would give 36 its own 556 and 37 its own 501, not the 500 used
    assert draw_text._apply(same, effects) is False and same[7].widths == {} and same[7].to_unicode == {}
    having = {7: SimpleNamespace(widths={37: 500}, to_unicode={37: "b"})}  # 37 met before at another size
    assert draw_text._apply(having, effects) is True
    assert having[7].widths == {37: 500, 36: 556} and having[7].to_unicode == {37: "b", 36: "A"}
    other = {7: SimpleNamespace(widths={36: 555, 37: 500}, to_unicode={})}
    assert draw_text._apply(other, effects) is False and other[7].to_unicode == {}
    assert draw_text._apply({8: other[7]}, effects) is False and draw_text._apply(other, None) is False
