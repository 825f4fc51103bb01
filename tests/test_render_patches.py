"""The render module's stand-ins for WeasyPrint hot paths answer as the library's own code does, so the PDFs are
the same bytes: each is checked against the library's code on every value it can meet, and on a document."""

from __future__ import annotations

import io
import itertools
import re
from types import SimpleNamespace

import pytest
from weasyprint import HTML
from weasyprint.formatting_structure.boxes import Box

from school_improvement.editions import render

FLOATS = ("none", "left", "right", "inline-start", "inline-end", "footnote")
POSITIONS = ("static", "relative", "absolute", "fixed", "sticky", ("running()", "header"), ("note()", "aside"))


def test_is_in_normal_flow_answers_as_the_librarys_for_every_float_and_position():
    assert Box.is_in_normal_flow is render._is_in_normal_flow  # in force once the report is imported
    library = render.LIBRARY_IS_IN_NORMAL_FLOW
    assert library is not render._is_in_normal_flow and library.__qualname__ == "Box.is_in_normal_flow"
    answers = set()
    for fl, position in itertools.product(FLOATS, POSITIONS):
        box = SimpleNamespace(style={"float": fl, "position": position})
        # The library's composition of its five tests, bound to a stand-in box with those methods.
        for name in ("is_floated", "is_absolutely_positioned", "is_running", "is_footnote", "is_note"):
            setattr(box, name, getattr(Box, name).__get__(box))
        want = library(box)
        assert render._is_in_normal_flow(box) is want, (fl, position)
        answers.add(want)
    assert answers == {True, False}


def _document_bytes() -> bytes:
    # Floats, absolute and running elements beside normal flow, inline children on many lines.
    html = ("<html lang='en'><head><title>t</title><style>@page { @top-center { content: element(head) } }"
            ".h { position: running(head) } .f { float: left; width: 20mm } .a { position: absolute; top: 0 }"
            "</style></head><body><div class='h'>Running head</div>"
            + "".join(f"<p><span class='f'>float {i}</span>Text <b>bold {i}</b> <i>and</i> more words to wrap "
                      f"across lines of the page {'word ' * 30}<span class='a'>abs {i}</span></p>" for i in range(40))
            + "</body></html>")
    doc = HTML(string=html).render(pdf_variant="pdf/ua-1")
    out = io.BytesIO()
    doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_a_document_is_the_same_bytes_with_the_librarys_is_in_normal_flow(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _document_bytes()
    monkeypatch.setattr(Box, "is_in_normal_flow", render.LIBRARY_IS_IN_NORMAL_FLOW)
    assert _document_bytes() == ours


def _margin_box_pages(css: str) -> bytes:
    from weasyprint import CSS

    # The report's and the letters' page types, a long running title and both edition marks.
    body = "".join(
        f"<section class='{cls}'><p class='edition-mark'>{mark}</p>"
        f"<h1 class='running-title'>{title}</h1>{'<p>Text of the page.</p>' * 80}</section>"
        for cls, mark, title in (
            ("title-page", "RESTRICTED", "Bournemouth, Christchurch and Poole: school improvement, 2025-26-spring"),
            ("page", "GENERAL", "Surrey: school improvement, 2025-26-spring"),
            ("letter-page", "DRAFT – RESTRICTED", "Kingston upon Hull, City of")))
    html = f"<html lang='en'><head><title>t</title></head><body>{body}</body></html>"
    doc = HTML(string=html).render(stylesheets=[CSS(string=css)], pdf_variant="pdf/ua-1")
    out = io.BytesIO()
    doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_the_margin_boxes_widths_leave_every_page_the_same_bytes(monkeypatch):
    from school_improvement import TEMPLATES_DIR

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    css = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")
    widths = re.findall(r"@(?:top|bottom)-(left|right) \{[^}]*width: (\d+)%;", css)
    assert sorted(widths) == [("left", "25"), ("left", "25"), ("right", "75"), ("right", "75")]
    auto = re.sub(r"(@(?:top|bottom)-(?:left|right) \{[^}]*) width: \d+%;", r"\1", css)
    assert "width" not in "".join(re.findall(r"@(?:top|bottom)-(?:left|right) \{[^}]*\}", auto))
    assert _margin_box_pages(css) == _margin_box_pages(auto)


_OURS: dict[str, bytes] = {}


def _ours(key: str, make) -> bytes:
    """A test document's bytes with every patch in force, laid out once per test process (the same in every test
    that compares against it): each test still lays it out again with its own patch taken out."""
    if key not in _OURS:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
            _OURS[key] = make()
    return _OURS[key]


def _ours_text() -> bytes:
    return _ours("text", _text_document_bytes)


def _ours_box_model() -> bytes:
    return _ours("box model", lambda: _bytes_of(_BOX_MODEL_HTML))


def _text_document_bytes() -> bytes:
    # Kerning pairs, bold and italic runs (font changes within a line), letter and word spacing, a glyph no font has
    # (.notdef), zero-width characters, combining marks, right-to-left text, ellipses, monospace, an SVG's text.
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' width='120' height='30'><text x='2' y='20' "
           "font-family='DejaVu Sans' font-size='12'>AV Wa chart label</text></svg>")
    html = ("<html lang='en'><head><title>t</title><style>.s { letter-spacing: 1pt; word-spacing: 3pt }"
            ".e { width: 30mm; white-space: nowrap; overflow: hidden; text-overflow: ellipsis }"
            ".c { width: 40mm; overflow: hidden; line-clamp: 2 } .m { font-family: 'DejaVu Sans Mono' }</style>"
            "</head><body>"
            + "".join(f"<p>AV To Wa Ty {i}: <b>bold AVA</b> <i>italic Te</i> <span class='s'>spaced out {i}</span>"
                      f" not\u00adshy ze\u200bro e\u0301 a\u0308 \ue000 \U0001F600 <span dir='rtl' lang='he'>שלום עולם</span>"
                      f" <span lang='ar'>مرحبا بالعالم</span> <span class='m'>mono 0O</span></p>"
                      f"<p class='e'>An ellipsis at the end of a long line {i}</p>"
                      f"<p class='c'>A clamped block of text that runs over two lines and more words {i}</p>"
                      for i in range(12))
            + f"<img src='data:image/svg+xml,{svg.replace('#', '%23')}'></body></html>")
    doc = HTML(string=html).render(pdf_variant="pdf/ua-1")
    out = io.BytesIO()
    doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_draw_first_line_writes_the_same_bytes_as_the_librarys(monkeypatch):
    from weasyprint.draw import text

    from school_improvement.editions import draw_text

    assert text.draw_first_line is draw_text.draw_first_line  # in force once the report is imported
    assert draw_text.library_source_sha() == draw_text.LIBRARY_SOURCE_SHA
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _ours_text()
    monkeypatch.setattr(text, "draw_first_line", draw_text.LIBRARY_DRAW_FIRST_LINE)
    assert _text_document_bytes() == ours


def test_draw_first_line_leaves_a_weasyprint_it_was_not_written_for_alone(monkeypatch):
    from weasyprint.draw import text

    from school_improvement.editions import draw_text

    monkeypatch.setattr(text, "draw_first_line", draw_text.LIBRARY_DRAW_FIRST_LINE)
    monkeypatch.setattr(draw_text, "LIBRARY_SOURCE_SHA", "0" * 16)
    assert draw_text.install() is False and text.draw_first_line is draw_text.LIBRARY_DRAW_FIRST_LINE
    monkeypatch.setattr(draw_text, "LIBRARY_SOURCE_SHA", draw_text.library_source_sha())
    assert draw_text.install() is True and text.draw_first_line is draw_text.draw_first_line


_BOX_MODEL_HTML = (
    "<html lang='en'><head><title>t</title><style>@page { size: A5; margin: 5% 10mm calc(8mm + 2%) }"
    ".a { width: 60%; min-width: 10mm; max-width: calc(100% - 5mm); margin: 2% auto; padding: 1em 3% }"
    ".b { box-sizing: border-box; width: 50%; height: 20mm; padding: 2mm; border: 1mm solid; min-height: 10% }"
    ".p { box-sizing: padding-box; width: 40mm; padding: 5%; max-height: 50% } .h { height: 30% }"
    "table { border-collapse: collapse; width: 90% } td { border: 1pt solid; padding: 1% 2px; width: 25% }"
    "table.s { border-collapse: separate; border-spacing: 2pt } .f { display: flex } .f > div { flex: 1; margin: 1% }"
    ".fl { float: left; width: 20%; margin-right: 2% } .ab { position: absolute; left: 10%; top: 5%; width: 30% }"
    "ul { padding-left: 5mm } img { width: 50%; max-width: 30mm }</style></head><body>"
    + "".join(f"<div class='a'>A {i} <span style='padding: 0 2%; margin: 1em'>inline</span></div>"
              f"<div class='b'>B {i}</div><div class='p'>P {i}</div><div class='h'>H</div>"
              f"<div class='fl'>float {i}</div><div class='ab'>abs {i}</div>"
              f"<table><tr><td>1</td><td>two {i}</td></tr></table>"
              f"<table class='s'><tr><td>1</td><td style='height: 10%'>x</td></tr></table>"
              f"<div class='f'><div>one</div><div style='width: 30%'>two</div></div>"
              f"<ul><li>item {i}</li></ul>" for i in range(15))
    + "</body></html>")


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_resolve_percentages_sets_every_box_as_the_librarys_does(monkeypatch):
    from weasyprint.layout import percent

    from school_improvement.editions import percentages

    assert percent.resolve_percentages is percentages.resolve_percentages  # in force once the report is imported
    seen = []

    def both(box, containing_block):
        theirs = box.copy()
        percentages.LIBRARY_RESOLVE_PERCENTAGES(theirs, containing_block)
        percentages.resolve_percentages(box, containing_block)
        assert vars(box) == vars(theirs), type(box).__name__
        seen.append(type(box).__name__)

    for module in percentages._modules_holding(percentages.resolve_percentages):
        monkeypatch.setattr(module, "resolve_percentages", both)
    HTML(string=_BOX_MODEL_HTML).render()
    assert {"PageBox", "MarginBox", "BlockBox", "TableBox", "TableCellBox", "InlineBox", "LineBox"} <= set(seen)


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_a_document_is_the_same_bytes_with_the_librarys_resolve_percentages(monkeypatch):
    from school_improvement.editions import percentages

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")

    def document():
        out = io.BytesIO()
        HTML(string=_BOX_MODEL_HTML).render(pdf_variant="pdf/ua-1").write_pdf(
            out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
        return out.getvalue()

    ours = _ours_box_model()  # the same document as document() lays out
    percentages.uninstall()
    try:
        assert document() == ours
    finally:
        percentages.install()


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_text_layouts_sharing_contexts_and_font_descriptions_give_the_same_bytes(monkeypatch):
    from weasyprint.text import line_break

    from school_improvement.editions import text_layout

    assert line_break.Layout.setup is text_layout.setup  # in force once the report is imported
    assert text_layout.library_source_sha() == text_layout.LIBRARY_SOURCE_SHA
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    # Languages, directions and a language override (contexts), sizes, weights, styles, small caps and variations
    # (font descriptions), underlines (metrics from the shared context) and font features, beside the text above.
    extra = ("<p lang='fr'>Français <u>souligné</u> <s>barré</s> <span style='text-decoration: overline'>sur</span>"
             "</p><p lang='tr' style='font-language-override: \"TRK\"'>fi ﬁ İi</p>"
             "<p style='font-size: 13.7px'>Normal <span style='font-variant: small-caps'>Small caps</span></p>"
             "<p style='font-stretch: condensed; font-weight: 300; font-variation-settings: \"wght\" 400'>Thin</p>"
             "<p style='font-feature-settings: \"liga\" 0; font-kerning: none'>office AV</p>"
             "<p dir='rtl'>right to left paragraph <span lang='en'>mixed</span></p><p>no lang</p>")

    def documents():
        html = _BOX_MODEL_HTML.replace("</body>", extra + "</body>")
        out = io.BytesIO()
        HTML(string=html).render(pdf_variant="pdf/ua-1").write_pdf(
            out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
        return _text_document_bytes(), out.getvalue()

    ours = documents()
    text_layout.uninstall()
    try:
        assert documents() == ours
    finally:
        text_layout.install()


# Line heights in every form the strut reads (normal, numbers, lengths, percentages, calc(), em), fonts and
# languages that differ in one property at a time, inline boxes whose struts differ from their line's.
_STRUT_HTML = (
    "<html lang='en'><head><title>t</title><style>body { line-height: normal }"
    ".a { line-height: 1.35 } .b { line-height: 14pt } .c { line-height: 150% } .d { line-height: calc(1em + 2pt) }"
    ".e { font-size: 7.5pt; line-height: 1.25 } .f { font-weight: bold } .g { font-style: italic }"
    ".h { font-family: 'DejaVu Sans Mono', monospace } .i { font-variant: small-caps } .j { font-size: 2em }"
    ".k { font-feature-settings: 'liga' 0 } .l { height: 2lh; min-height: 1rlh }</style></head><body>"
    + "".join(f"<p class='{c}'>Line {i} of class {c} <span class='j'>big</span> <span class='e'>small</span> "
              f"<span lang='fr' class='f'>gras</span> <span class='b'>fixed</span> {'words ' * 25}</p>"
              f"<div class='l'>lh {i}</div>"
              for i, c in enumerate("abcdefghik"))
    + "<table><tr><td class='a'>cell</td><td class='e'>small cell</td></tr></table><ul><li class='c'>item</li></ul>"
    + "</body></html>")


def _bytes_of(html: str, css: str | None = None) -> bytes:
    from weasyprint import CSS

    out = io.BytesIO()
    HTML(string=html).render(stylesheets=[CSS(string=css)] if css else None, pdf_variant="pdf/ua-1").write_pdf(
        out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


def test_strut_answers_as_the_librarys_for_every_style_of_a_document(monkeypatch):
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    from school_improvement.editions import layout_patches

    assert line_break.strut is layout_patches.strut is inline.strut  # in force once the report is imported
    seen = []

    def both(style):
        ours = layout_patches.strut(style)
        assert ours == layout_patches.LIBRARY_STRUT(style)
        seen.append(ours)
        return ours

    monkeypatch.setattr(inline, "strut", both)
    HTML(string=_STRUT_HTML).render()
    assert len(set(seen)) > 10  # many different line heights were asked for


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_a_document_is_the_same_bytes_with_the_librarys_strut(monkeypatch):
    from school_improvement.editions import layout_patches

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _bytes_of(_STRUT_HTML), _ours_text()
    layout_patches.uninstall_strut()
    try:
        assert (_bytes_of(_STRUT_HTML), _text_document_bytes()) == ours
    finally:
        assert layout_patches.install_strut()


# Page types of every kind: named pages, :first, :left and :right, :blank, :nth() of the document and of a page
# group, margin boxes with counters, strings and running elements, page-based counters set and reset.
_PAGES_CSS = (
    "@page { size: A6; margin: 15mm 10mm; @top-left { content: string(title); width: 30% }"
    "  @top-right { content: 'Page ' counter(page) ' of ' counter(pages); width: 70% }"
    "  @bottom-center { content: element(foot) } }"
    "@page :first { @top-left { content: 'First' } } @page :left { margin-left: 15mm; @bottom-left { content: 'L' } }"
    "@page :right { @bottom-right { content: 'R' counter(page, upper-roman) } } @page :blank { @top-left { content: none } }"
    "@page :nth(3) { @top-right { content: 'third' } } @page chapter { margin-top: 20mm; @top-center { content: 'Ch' } }"
    "@page chapter:nth(2) { @top-center { content: 'Second of chapter' } } @page wide { size: A6 landscape }"
    "h1 { string-set: title content() } .foot { position: running(foot) } .chapter { page: chapter }"
    ".wide { page: wide } .reset { counter-reset: page 10 } .right { break-before: right }")


def _pages_html() -> str:
    body = "".join(
        f"<section class='{cls}'><h1>Title {i}</h1><p class='foot'>Foot {i}</p>{'<p>Text of the page.</p>' * 30}</section>"
        for i, cls in enumerate(["", "chapter", "chapter", "wide", "right", "reset", "", "chapter right", ""]))
    return f"<html lang='en'><head><title>t</title></head><body>{body}</body></html>"


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_pages_sharing_their_styles_are_the_same_bytes(monkeypatch):
    from weasyprint.layout import page

    from school_improvement import TEMPLATES_DIR
    from school_improvement.editions import layout_patches

    assert page.set_page_type_computed_styles is layout_patches.set_page_type_computed_styles
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    report_css = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")

    def documents():
        return _bytes_of(_pages_html(), _PAGES_CSS), _margin_box_pages(report_css)

    ours = documents()
    layout_patches.uninstall_page_styles()
    try:
        assert documents() == ours
    finally:
        assert layout_patches.install_page_styles()


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_pages_share_styles_only_with_pages_of_the_same_cascade():
    from weasyprint import CSS

    doc = HTML(string=_pages_html()).render(stylesheets=[CSS(string=_PAGES_CSS)])
    by_style = {}
    for p in doc.pages:
        by_style.setdefault(id(p._page_box.style), []).append(p._page_box.page_type)
    assert len(doc.pages) > 20 and len(by_style) < len(doc.pages)  # shared...
    for types in by_style.values():  # ...by pages of one name, side and blankness, never with the first page
        assert len({(t.name, t.side, t.blank) for t in types}) == 1
        assert all(t.index for t in types) or len(types) == 1


# Outside markers of many kinds: bullets, numbers (another text per item), nested lists, a styled ::marker, a string
# marker (list-style-type), an image marker, right-to-left items, letter-spacing and text-indent inherited by the
# marker, other fonts and sizes, items whose markers have padding, and items of one list with different styles.
_SVG_BULLET = "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='6' height='6'><rect width='6' height='6'/></svg>"
_MARKERS_HTML = (
    "<html lang='en'><head><title>t</title><style>ol.r { list-style-type: upper-roman } ul.sq { list-style: square }"
    ".big { font-size: 14pt } .mono { font-family: 'DejaVu Sans Mono' } .ls { letter-spacing: 2pt; text-indent: 3mm }"
    "li.styled::marker { color: red; font-weight: bold; font-size: 12pt } li.arrow { list-style-type: '→ ' }"
    "li.pad::marker { padding-right: 2mm } .img { list-style-image: url(\"" + _SVG_BULLET + "\") }"
    "li.hot { color: #8b0000; font-style: italic }</style></head><body>"
    + "".join(
        f"<ul><li>bullet {i}</li><li class='hot'>another style {i}</li><li>bullet again</li></ul>"
        f"<ol start='{i * 7}'><li>number</li><li>next number</li><li class='big'>big number</li></ol>"
        f"<ol class='r'><li>roman</li><li>roman two<ul class='sq'><li>nested square</li></ul></li></ol>"
        f"<ul class='big'><li>big bullet</li></ul><ul class='mono'><li>mono bullet</li></ul>"
        f"<ul class='ls'><li>spaced bullet over a line long enough to wrap {'word ' * 20}</li></ul>"
        f"<ul><li class='styled'>styled marker</li><li class='arrow'>own content</li><li class='pad'>padded</li></ul>"
        f"<ul class='img'><li>image marker</li></ul><ul dir='rtl'><li>right to left {i}</li></ul>"
        for i in range(8))
    + "</body></html>")


def test_outside_markers_get_the_librarys_widths(monkeypatch):
    from weasyprint.layout import absolute, preferred

    from school_improvement.editions import layout_patches

    assert absolute.shrink_to_fit is layout_patches.shrink_to_fit  # in force once the report is imported
    kept = []

    def both(context, box, available):
        ours = layout_patches.shrink_to_fit(context, box, available)
        assert ours == preferred.shrink_to_fit(context, box, available)
        kept.append(layout_patches._marker_key(box) is not None)
        return ours

    monkeypatch.setattr(absolute, "shrink_to_fit", both)
    HTML(string=_MARKERS_HTML).render()
    assert kept.count(True) > 100 and kept.count(False) > 0  # most measured once per kind, the image marker not


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_a_document_is_the_same_bytes_with_the_librarys_marker_widths(monkeypatch):
    from school_improvement.editions import layout_patches

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _bytes_of(_MARKERS_HTML), _ours_box_model()
    layout_patches.uninstall_markers()
    try:
        assert (_bytes_of(_MARKERS_HTML), _bytes_of(_BOX_MODEL_HTML)) == ours
    finally:
        assert layout_patches.install_markers()


# Radii of every form (none, lengths, percentages, elliptical, calc()) on boxes split across pages (their cut sides
# lose their radii), tables, cells and inline boxes on several lines; floats on some pages only, right-to-left blocks.
_RADII_FLOATS_HTML = (
    "<html lang='en'><head><title>t</title><style>@page { size: A6 } .r1 { border: 1pt solid; border-radius: 3mm }"
    ".r2 { border: 2pt solid; border-radius: 10% 5% / 20% 2mm; background: #eef } .r3 { border-radius: calc(2mm + 5%) 0 }"
    ".r4 { border: 1pt solid; border-top-left-radius: 50%; box-decoration-break: clone; background: #fee }"
    ".badge { border-radius: 1mm; background: #b2182b; color: white } .fl { float: left; width: 15mm; height: 8mm }"
    ".fr { float: right; width: 20mm; border-radius: 2mm; background: #ddd } td { border-radius: 2pt; border: 1pt solid }"
    ".ib { display: inline-block; width: 12mm; border-radius: 1mm; border: 1pt solid }</style></head><body>"
    + "".join(f"<div class='r{1 + i % 4}'>{'Box text that runs over lines and pages. ' * (4 + 9 * (i % 3))}"
              f"<span class='badge'>badge {i} over an inline box that wraps to another line</span></div>"
              + (f"<div class='fl'>float</div><div class='fr'>right</div>" if i % 3 == 0 else "")
              + f"<p>Text beside the floats {'word ' * 30}<span class='ib'>ib</span></p>"
              f"<table><tr><td>cell {i}</td><td class='r2'>round cell</td></tr></table>"
              f"<div dir='rtl'>right to left <span class='badge'>rtl</span> {'كلمة ' * 10}</div>"
              for i in range(12))
    + "</body></html>")


def test_radii_and_places_beside_floats_are_the_librarys(monkeypatch):
    from weasyprint.layout import background, block, inline

    from school_improvement.editions import layout_patches as lp

    assert background.resolve_radii_percentages is lp.resolve_radii_percentages
    assert block.avoid_collisions is inline.avoid_collisions is lp.avoid_collisions
    calls = {"radii": 0, "no floats": 0, "floats": 0}

    def radii(box):
        lp.LIBRARY_RESOLVE_RADII(box)
        want = [getattr(box, f"border_{c}_radius") for c in ("top_left", "top_right", "bottom_right", "bottom_left")]
        lp.resolve_radii_percentages(box)
        assert [getattr(box, f"border_{c}_radius") for c in ("top_left", "top_right", "bottom_right",
                                                             "bottom_left")] == want
        calls["radii"] += 1

    def places(context, box, containing_block, outer=True):
        ours = lp.avoid_collisions(context, box, containing_block, outer)
        assert ours == lp.LIBRARY_AVOID_COLLISIONS(context, box, containing_block, outer)
        calls["floats" if context.excluded_shapes else "no floats"] += 1
        return ours

    monkeypatch.setattr(background, "resolve_radii_percentages", radii)
    monkeypatch.setattr(block, "avoid_collisions", places)
    monkeypatch.setattr(inline, "avoid_collisions", places)
    HTML(string=_RADII_FLOATS_HTML).render()
    assert min(calls.values()) > 20, calls


@pytest.mark.slow  # documents laid out and written twice, patched and as the library does (over test-fast's CPU budget)
def test_a_document_is_the_same_bytes_with_the_librarys_radii_and_floats(monkeypatch):
    from school_improvement.editions import layout_patches as lp

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _bytes_of(_RADII_FLOATS_HTML), _ours_box_model(), _ours_text()
    lp.uninstall_radii()
    lp.uninstall_floats()
    try:
        assert (_bytes_of(_RADII_FLOATS_HTML), _bytes_of(_BOX_MODEL_HTML), _text_document_bytes()) == ours
    finally:
        assert lp.install_radii() and lp.install_floats()


def assert_left_alone_where_the_library_differs(monkeypatch, module, name, library, uninstall, install, current):
    """A patch guarded by the library's source (module.<name>, its sha): with another sha, as a library it was not
    written for gives, install() declines and the library's own function stays; with the real one it is installed."""
    uninstall()
    try:
        monkeypatch.setattr(module, name, "0" * 16)
        assert install() is False and current() is library
    finally:
        monkeypatch.undo()
        assert install() is True and current() is not library


def test_the_layout_patches_leave_a_weasyprint_they_were_not_written_for_alone(monkeypatch):
    from weasyprint.layout import absolute, background, block, page
    from weasyprint.text import line_break

    from school_improvement.editions import layout_patches as lp

    for name, library, uninstall, install, current in (
            ("LIBRARY_STRUT_SHA", lp.LIBRARY_STRUT, lp.uninstall_strut, lp.install_strut,
             lambda: line_break.strut),
            ("LIBRARY_SET_PAGE_STYLES_SHA", lp.LIBRARY_SET_PAGE_STYLES, lp.uninstall_page_styles,
             lp.install_page_styles, lambda: page.set_page_type_computed_styles),
            ("LIBRARY_SHRINK_TO_FIT_SHA", lp.LIBRARY_SHRINK_TO_FIT, lp.uninstall_markers, lp.install_markers,
             lambda: absolute.shrink_to_fit),
            ("LIBRARY_RESOLVE_RADII_SHA", lp.LIBRARY_RESOLVE_RADII, lp.uninstall_radii, lp.install_radii,
             lambda: background.resolve_radii_percentages),
            ("LIBRARY_AVOID_COLLISIONS_SHA", lp.LIBRARY_AVOID_COLLISIONS, lp.uninstall_floats, lp.install_floats,
             lambda: block.avoid_collisions)):
        assert_left_alone_where_the_library_differs(monkeypatch, lp, name, library, uninstall, install, current)
