"""The cached page references give the same PDF bytes, and build the page tuple once per page count, not per box."""

from __future__ import annotations

import io

import pydyf
import pytest
from weasyprint import HTML

from school_improvement.editions import pdf_pages

PAGES = 12
BOXES_PER_PAGE = 30


def _document():
    # Headings, paragraphs, a table and internal links: every kind of tagged box and link that reads the references.
    body = []
    for p in range(PAGES):
        body.append(f'<h2 id="s{p}">Section {p}</h2><p><a href="#s{(p + 1) % PAGES}">next</a></p>')
        body.append("<table><tr><th>School</th><th>Figure</th></tr>" + "".join(
            f"<tr><td>School {p}-{b}</td><td>{b}</td></tr>" for b in range(BOXES_PER_PAGE // 3)) + "</table>")
        body.append("".join(f"<p>Paragraph {p}.{b}</p>" for b in range(BOXES_PER_PAGE - BOXES_PER_PAGE // 3)))
        body.append('<div style="break-after: page"></div>')
    html = f"<html lang='en'><head><title>t</title></head><body>{''.join(body)}</body></html>"
    return HTML(string=html).render(pdf_variant="pdf/ua-1")


def _write(doc) -> bytes:
    out = io.BytesIO()
    doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue()


@pytest.fixture(scope="module")
def doc():
    return _document()


@pytest.mark.slow  # documents written twice, with and without the cached page tuple (over test-fast's CPU budget)
def test_cached_write_is_byte_identical_and_builds_the_page_tuple_once_per_page_count(doc, monkeypatch):
    calls = []
    library = pdf_pages._references
    monkeypatch.setattr(pdf_pages, "_references", lambda pdf: calls.append(1) or library(pdf))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    plain = _write(doc)
    assert calls == []  # outside the block the library's own property runs, untouched
    with pdf_pages.cached_page_references():
        cached = _write(doc)
    assert len(doc.pages) >= PAGES
    assert cached == plain
    # Once per tagged box without the cache (hundreds); with it, at most once per page count reached.
    assert 1 <= len(calls) <= len(doc.pages) + 1


def test_the_library_property_is_restored_after_the_block_even_on_error():
    original = pydyf.PDF.__dict__["page_references"]
    with pytest.raises(RuntimeError):
        with pdf_pages.cached_page_references():
            assert pydyf.PDF.__dict__["page_references"] is not original
            with pdf_pages.cached_page_references():  # nested writes keep the cache until the outer one ends
                pass
            assert pydyf.PDF.__dict__["page_references"] is not original
            raise RuntimeError("write failed")
    assert pydyf.PDF.__dict__["page_references"] is original


def test_a_page_added_after_a_read_is_seen():
    pdf = pydyf.PDF()
    with pdf_pages.cached_page_references():
        for n in range(3):
            pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
            assert len(pdf.page_references) == n + 1
        assert pdf.page_references == pdf_pages._references(pdf)


@pytest.mark.slow  # documents written twice, with and without the cached stream data (over test-fast's CPU budget)
def test_cached_stream_data_is_byte_identical_and_compresses_each_stream_once(doc, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    plain = _write(doc)
    computed = []
    library = pdf_pages._ORIGINAL_STREAM_DATA
    monkeypatch.setattr(pdf_pages, "_ORIGINAL_STREAM_DATA",
                        property(lambda s: computed.append(id(s)) or library.fget(s)))
    with pdf_pages.cached_stream_data():
        cached = _write(doc)
    assert cached == plain
    assert computed and len(computed) == len(set(computed))  # every stream's bytes built once (twice without)
    assert pydyf.Stream.__dict__["data"] is pdf_pages._ORIGINAL_STREAM_DATA  # restored after the block


def test_stream_bytes_kept_in_one_block_are_not_served_in_the_next():
    stream = pydyf.Stream([b"0 0 m"], compress=False)
    with pdf_pages.cached_stream_data():
        first = stream.data
    stream.stream.append(b"1 1 l")
    with pdf_pages.cached_stream_data():
        assert stream.data != first and stream.data.endswith(b"0 0 m\n1 1 l\nendstream")
