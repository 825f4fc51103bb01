"""WeasyPrint's font subsetting makes its glyph arrays unsized (editions/render.py `_UnsizedArraysFFI`): the same
arrays and the same PDF bytes, without cffi parsing a C type for every new array length."""

from __future__ import annotations

import pytest
from weasyprint.pdf import fonts
from weasyprint.text.ffi import ffi

from school_improvement import TEMPLATES_DIR
from school_improvement.editions import render
from school_improvement.editions.lean_ua import LeanHTML


def test_installed_for_weasyprints_fonts():
    assert isinstance(fonts.ffi, render._UnsizedArraysFFI)
    assert fonts.ffi.NULL == ffi.NULL and fonts.ffi.string == ffi.string  # everything else is the library's ffi


@pytest.mark.parametrize("values", [[], [7], (3, 1, 2), sorted(range(0, 900, 3)), tuple(range(4321))])
def test_the_same_array_as_the_sized_one(values):
    ours = fonts.ffi.new(f"hb_codepoint_t[{len(values)}]", values)
    library = ffi.new(f"hb_codepoint_t[{len(values)}]", values)
    assert ffi.sizeof(ours) == ffi.sizeof(library) and len(ours) == len(library) == len(values)
    assert ffi.typeof(ours).item is ffi.typeof(library).item
    assert list(ours) == list(library) == list(values)


def test_other_calls_are_the_library_s():
    with pytest.raises(IndexError):  # a length that does not match its values: cffi's own error
        fonts.ffi.new("hb_codepoint_t[2]", [1, 2, 3])
    assert list(fonts.ffi.new("hb_codepoint_t[4]", [1, 2])) == [1, 2, 0, 0]  # fewer values: zero-filled, sized
    assert fonts.ffi.string(fonts.ffi.new("char[]", b"abc")) == b"abc"


def test_no_type_is_parsed_for_a_new_length():
    fonts.ffi.new("hb_codepoint_t[3]", [1, 2, 3])
    before = len(ffi._parsed_types)
    for n in range(9000, 9020):
        fonts.ffi.new(f"hb_codepoint_t[{n}]", list(range(n)))
    assert len(ffi._parsed_types) == before


HTML = ('<html lang="en"><head><link rel="stylesheet" href="report.css"><title>Test</title></head><body><h1>Heading'
        "</h1><p>Text, <b>bold</b>, <i>italic</i>, 0123456789 and ‘quotes’ – dashes.</p><table><tr><th>Level</th>"
        "<td>Low</td></tr></table></body></html>")


def _pdf(html):
    return LeanHTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/",
                    url_fetcher=render.TemplateOnlyFetcher()).write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=b"x")


@pytest.mark.slow  # documents written twice, with and without the patch (over test-fast's CPU budget)
def test_the_pdf_bytes_are_the_same_with_and_without():
    htmls = [HTML, HTML.replace("Heading", "Another heading with more glyphs: XYZ qjk")]
    ours = [_pdf(h) for h in htmls]
    render.uninstall_unsized_arrays()
    try:
        library = [_pdf(h) for h in htmls]
    finally:
        assert render.install_unsized_arrays()
    assert ours == library and ours[0] != ours[1]
