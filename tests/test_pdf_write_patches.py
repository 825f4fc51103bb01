"""The PDF write's stand-ins (editions/pdf_pages.py: pydyf's `_to_bytes`, an indirect object's bytes kept for the
identifier's second reading, WeasyPrint's `Stream.set_color`) give the library's answers and the same PDF bytes:
each checked against the library's own code on the values it can meet, and on a document written with and without
it."""

from __future__ import annotations

import io

import pydyf
import pytest
from tinycss2.color4 import parse_color
from weasyprint import HTML
from weasyprint.pdf import generate_pdf
from weasyprint.pdf.stream import Stream as WeasyStream

from school_improvement.editions import pdf_pages
from school_improvement.editions import render  # noqa: F401  (installs the patches, as a report does)
from test_render_patches import assert_left_alone_where_the_library_differs


class _Str(str):
    def __str__(self):
        return "other"


class _Int(int):
    pass


VALUES = (b"", b"0 0 m", bytearray(b"ab"), "", "/StructElem", "Type", _Str("x"), 0, -3, 10**20, True, False,
          _Int(7), 0.0, -0.0, 1.0, 2.5, -1.25, 1e-7, 123456.789, 1e20, float("inf"), None,
          pydyf.Dictionary({"A": 1}), pydyf.Array([1, b"2 0 R", "/N"]), pydyf.String("t(x)"), pydyf.String("é"))


def test_to_bytes_answers_as_the_librarys_for_every_kind_of_value():
    assert pydyf._to_bytes is pdf_pages._to_bytes  # in force once the report is imported
    library = pdf_pages.LIBRARY_TO_BYTES
    assert library is not pdf_pages._to_bytes and library.__module__ == "pydyf"
    for value in VALUES:
        try:
            want = library(value)
        except Exception as error:  # noqa: BLE001 - the same error, whatever it is
            with pytest.raises(type(error)):
                pdf_pages._to_bytes(value)
        else:
            got = pdf_pages._to_bytes(value)
            assert got == want and type(got) is type(want), value
    with pytest.raises(UnicodeEncodeError):  # String.data relies on it to write a non-ASCII string in UTF-16
        pdf_pages._to_bytes("é")


COLOURS = ("red", "#4393c3", "rgb(10 20 30 / 50%)", "hsl(120 50% 40%)", "hwb(200 10% 20%)", "hwb(0 60% 60%)",
           "transparent", "lab(50% 40 30)", "oklch(60% 0.1 200)", "color(xyz 0.1 0.2 0.3)",
           "device-cmyk(0.1 0.2 0.3 0.4)", "currentcolor")


def _stream():
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary()})
    return WeasyStream({}, (0, 0, 1, 1), resources, {}, None, {}, None)


def test_set_color_writes_what_the_librarys_writes():
    assert WeasyStream.set_color is pdf_pages.set_color
    colours = [c for c in map(parse_color, COLOURS) if c is not None and hasattr(c, "space")]
    assert len(colours) >= 10
    # Every colour after every other, filled and stroked, twice over (the second time from the kept conversions).
    sequence = [(c, stroke) for _ in range(2) for c in colours for d in colours for stroke in (False, True)
                for c in (c, d)]
    ours, library = _stream(), _stream()
    for colour, stroke in sequence:
        pdf_pages.set_color(ours, colour, stroke)
        pdf_pages.LIBRARY_SET_COLOR(library, colour, stroke)
    assert ours.stream == library.stream and len(ours.stream) > len(colours)
    assert ours._resources == library._resources


def _document():
    # Text in colours of several spaces, borders, a table, links and lists: streams, structure elements, arrays.
    colours = ("#111", "hsl(10 80% 40%)", "hwb(200 10% 20%)", "rgb(0 0 255 / 60%)", "lab(50% 40 30)")
    body = []
    for p in range(3):
        colour = colours[p % len(colours)]
        body.append(f'<h2 id="s{p}" style="color: {colour}">Section {p}</h2><p><a href="#s{(p + 1) % 3}">next</a></p>')
        body.append(f'<table style="border-collapse: collapse; border: 1pt solid {colour}"><tr><th>School</th>'
                    "<th>Figure</th></tr>" + "".join(
                        f"<tr><td style='border: 0.5pt solid {colours[b % 5]}'>School {p}-{b}</td>"
                        f"<td style='color: {colours[(b + 1) % 5]}'>{b / 3:.2f}</td></tr>" for b in range(6))
                    + "</table>")
        body.append("<ul>" + "".join(f"<li>Item {p}.{b}</li>" for b in range(5)) + "</ul>")
        body.append('<div style="break-after: page"></div>')
    html = f"<html lang='en'><head><title>t</title></head><body>{''.join(body)}</body></html>"
    return HTML(string=html).render(pdf_variant="pdf/ua-1")


@pytest.fixture(scope="module")
def doc():
    return _document()


def _write(doc) -> bytes:
    out = io.BytesIO()
    options = _options()
    with pdf_pages.cached_page_references():
        pdf = generate_pdf(doc, out, 1, **options)
    with pdf_pages.cached_stream_data():  # as render._write writes
        pdf.write(out, options["pdf_version"], b"0" * 32, not options["uncompressed_pdf"])
    return out.getvalue()


def _options():
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.pdf import VARIANTS

    options = {**DEFAULT_OPTIONS, "pdf_variant": "pdf/ua-1", "pdf_identifier": b"0" * 32}
    for key, value in VARIANTS["pdf/ua-1"][1].items():
        if options.get(key) is None:
            options[key] = value
    return options


def _plain_write(doc) -> bytes:
    out = io.BytesIO()
    doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


def test_a_document_is_the_same_bytes_with_the_librarys_write(doc, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = _write(doc)
    pdf_pages.uninstall_to_bytes()
    pdf_pages.uninstall_colors()
    try:
        assert pydyf._to_bytes is pdf_pages.LIBRARY_TO_BYTES
        assert WeasyStream.set_color is pdf_pages.LIBRARY_SET_COLOR
        library = _plain_write(doc)  # no block: every object's bytes computed by pydyf, twice
    finally:
        assert pdf_pages.install_to_bytes() and pdf_pages.install_colors()
    assert ours == library


def test_each_indirect_object_is_serialised_once_per_write(doc, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    computed = []
    kept = pdf_pages._kept_data
    monkeypatch.setattr(pdf_pages, "_kept_data",
                        lambda obj, compute: kept(obj, lambda o: computed.append(o.number) or compute(o)))
    first = _write(doc)
    indirect = [n for n in computed if n is not None]
    assert indirect and len(indirect) == len(set(indirect))  # twice each without the block
    assert pydyf.Dictionary.__dict__["data"] is pdf_pages._ORIGINAL_DICTIONARY_DATA  # restored after the block
    assert pydyf.Array.__dict__["data"] is pdf_pages._ORIGINAL_ARRAY_DATA
    assert _write(doc) == first  # bytes kept in one write are not served in the next


def test_bytes_kept_in_one_block_are_not_served_in_the_next():
    pdf = pydyf.PDF()
    dictionary = pydyf.Dictionary({"A": 1})
    pdf.add_object(dictionary)
    with pdf_pages.cached_stream_data():
        first = dictionary.data
        dictionary["A"] = 2
        assert dictionary.data == first  # within the block, no object changes: kept
    with pdf_pages.cached_stream_data():
        assert dictionary.data == b"<</A 2>>"
    inner = pydyf.Dictionary({"B": 1})  # no number: written inside its holder, never kept
    with pdf_pages.cached_stream_data():
        inner.data
        inner["B"] = 3
        assert inner.data == b"<</B 3>>"


def test_the_write_patches_leave_a_pydyf_or_weasyprint_they_were_not_written_for_alone(monkeypatch):
    for name, uninstall, install, current, library in (
            ("LIBRARY_TO_BYTES_SHA", pdf_pages.uninstall_to_bytes, pdf_pages.install_to_bytes,
             lambda: pydyf._to_bytes, pdf_pages.LIBRARY_TO_BYTES),
            ("LIBRARY_SET_COLOR_SHA", pdf_pages.uninstall_colors, pdf_pages.install_colors,
             lambda: WeasyStream.set_color, pdf_pages.LIBRARY_SET_COLOR)):
        assert_left_alone_where_the_library_differs(monkeypatch, pdf_pages, name, library, uninstall, install, current)
