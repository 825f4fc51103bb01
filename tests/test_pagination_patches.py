"""editions/pagination_patches.py: WeasyPrint's pagination without the steps that grew with the pages squared gives
the same PDF bytes as the library's own, on documents that use what those steps serve (anchors found through
target-counter, which repaginates; named strings in the margins; bookmarks; fixed boxes)."""

from __future__ import annotations

import io
import random

import pytest
from weasyprint import HTML
from weasyprint import document as _document
from weasyprint import layout as _layout
from weasyprint.layout import page as _page

from school_improvement.editions import pagination_patches as pp
from school_improvement.editions import render  # noqa: F401  (installs the patches, as the report stage does)

CSS = """
@page { size: A6; margin: 12mm 8mm;
  @top-left { content: string(mark); } @top-right { content: string(title, start) " / " string(title, last); }
  @bottom-left { content: string(title, first-except); }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); } }
h1 { string-set: title content(); } .mark { string-set: mark content(); }
nav a::after { content: leader('.') target-counter(attr(href), page); }
a.ref::after { content: " (page " target-counter(attr(href), page) ")"; }
.fixed { position: fixed; bottom: 2mm; right: 2mm; font-size: 6pt; }
h2::before { content: "Part "; bookmark-label: content(); bookmark-level: 3; }
"""


def _html(sections: int, fixed: bool) -> str:
    nav = "".join(f"<li><a href='#s{i}'>Section {i}</a></li>" for i in range(sections))
    body = []
    for i in range(sections):
        title = f"<h1 id='s{i}'>Section {i}</h1>" if i % 3 == 0 else f"<h2 id='s{i}'>Section {i}</h2>"
        refs = f"<p>See <a class='ref' href='#s{(i * 7) % sections}'>section {(i * 7) % sections}</a>.</p>"
        words = " ".join(f"word{j}" for j in range(40 + 13 * (i % 5)))
        extra = "<div class='fixed'>fixed on this page</div>" if fixed and i == sections // 2 else ""
        body.append(f"<section>{title}{refs}<p>{words}</p>{extra}<p>{words}</p></section>")
    return (f"<html lang='en'><head><title>Pagination</title><style>{CSS}</style></head><body>"
            f"<p class='mark'>DRAFT</p><nav><ul>{nav}</ul></nav>{''.join(body)}</body></html>")


def _bytes(html: str) -> tuple[bytes, int, int]:
    """The PDF, its pages and its bookmarks."""
    doc = HTML(string=html).render(pdf_variant="pdf/ua-1")
    out = io.BytesIO()
    bookmarks = len(doc.make_bookmark_tree())
    doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
    return out.getvalue(), len(doc.pages), bookmarks


def test_the_report_stage_paginates_with_the_patches():
    assert _page.make_page.library is pp.LIBRARY_MAKE_PAGE
    assert _layout.layout_document.library is pp.LIBRARY_LAYOUT_DOCUMENT
    assert _document.layout_document is _layout.layout_document  # where Document._render finds it
    assert _layout.LayoutContext.get_string_or_element_for.library is pp.LIBRARY_GET_STRING


@pytest.mark.slow  # two layouts of 20 pages: about 1.5 s of CPU
@pytest.mark.parametrize("fixed", [False, True])
def test_a_document_is_the_same_bytes_with_the_librarys_pagination(monkeypatch, fixed):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    html = _html(24, fixed)
    ours, pages, bookmarks = _bytes(html)
    assert pages > 20 and bookmarks >= 8  # strings, anchors and lookups on many pages, some forward references
    pp.uninstall_pagination()
    try:
        library = _bytes(html)
    finally:
        assert pp.install_pagination()
    assert library == (ours, pages, bookmarks)


def test_the_patches_are_in_force_while_a_document_is_laid_out(monkeypatch):
    """A failing edit would fall back silently to the library: check that each edited function ran."""
    calls = {"seen_before": 0, "pages_with_fixed_boxes": 0, "last_before": 0}
    for name in calls:
        original = getattr(pp, name)

        def counting(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(pp, name, counting)
    _bytes(_html(2, fixed=False))
    assert all(calls.values()), calls


def test_last_before_answers_as_the_librarys_backward_search():
    rng = random.Random(13)

    def library(assigned, current_page):
        for previous_page in range(current_page - 1, 0, -1):
            if previous_page in assigned:
                return (assigned[previous_page][-1],)
        return None

    for _ in range(2000):
        pages = rng.randint(1, 40)
        assigned = {p: [f"v{p}.{k}" for k in range(rng.randint(1, 3))]
                    for p in rng.sample(range(1, pages + 1), rng.randint(0, min(pages, rng.choice([1, 3, 40]))))}
        current = rng.randint(1, pages + 1)
        assert pp.last_before(assigned, current) == library(assigned, current), (assigned, current)


def test_seen_before_is_the_earlier_pages_values_across_remakes_and_passes():
    """Against the library's list, built afresh each time: pages made in order, a page re-made (its lists new), a
    new pass (a new page_maker list), a page number lower than the last."""
    context = type("Context", (), {})()

    def state(anchors, lookups):
        return (None, None, None, None, {"anchors": list(anchors), "content_lookups": list(lookups)})

    def library(page_maker, before):
        anchors, lookups = [], []
        for (*_, st) in page_maker[:before]:
            anchors.extend(st.get("anchors", []))
            lookups.extend(st.get("content_lookups", []))
        return anchors, lookups

    def check(page_maker, before):
        anchors, lookups = pp.seen_before(context, page_maker, before)
        want_anchors, want_lookups = library(page_maker, before)
        for value in {f"a{i}" for i in range(12)} | set(want_anchors):
            assert (value in anchors) == (value in want_anchors), (before, value)
        for value in set(range(12)) | set(want_lookups):
            assert (value in lookups) == (value in want_lookups), (before, value)
        anchors.append("new")  # this page's own: never seen by the next page's call through the kept sets
        assert "new" in anchors

    page_maker = [state([], [])]
    for n in range(1, 10):  # the first pass: page n made, its state then filled, the next page's state appended
        check(page_maker, n - 1)
        page_maker[n - 1][-1]["anchors"].append(f"a{n}")
        page_maker[n - 1][-1]["content_lookups"].append(n)
        page_maker.append(state([], []))
    check(page_maker, 9)
    page_maker = page_maker[:9]  # the pass ends: a new list; the next pass re-makes page 3 with other values
    for n in range(1, 9):
        if n == 3:
            page_maker[2][-1]["anchors"] = ["a11"]
            page_maker[2][-1]["content_lookups"] = [11]
        check(page_maker, n - 1)
    check(page_maker, 2)  # a lower page number than the last
    check(page_maker, 8)


def test_a_weasyprint_they_were_not_written_for_keeps_its_own(monkeypatch):
    pp.uninstall_pagination()
    try:
        monkeypatch.setattr(pp, "LIBRARY_LAYOUT_DOCUMENT_SHA", "0" * 16)
        assert not pp.install_pagination()
        assert _page.make_page is pp.LIBRARY_MAKE_PAGE  # none of the three, not only the one that differs
        assert _layout.layout_document is pp.LIBRARY_LAYOUT_DOCUMENT
        assert _layout.LayoutContext.get_string_or_element_for is pp.LIBRARY_GET_STRING
    finally:
        monkeypatch.undo()
        assert pp.install_pagination()


@pytest.mark.slow  # the small demo's term through the stages, its restricted report laid out twice
def test_the_demo_reports_are_the_same_bytes_with_the_librarys_pagination(tmp_path, monkeypatch):
    from school_improvement import pipeline
    from school_improvement.editions.report import build_edition
    from small_demo import small_demo

    # The 40-school demo: every section of the edition, tables over several pages and a profile a school (60 pages).
    # 120 schools tripled the cost (about 60 s of CPU on a 2-core machine); the documents above try the patches'
    # cases one by one.
    term = "2025-26-spring"
    small_demo(tmp_path / "landing", terms=[term])
    cfg = pipeline.RunConfig(la_code="999", term=term, landing=str(tmp_path / "landing"),
                             work_dir=str(tmp_path / "work"), history_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                             run_id="pages")
    for stage in pipeline.STAGES[:pipeline.STAGES.index("build_reports")]:
        getattr(pipeline, stage)(cfg)
    inputs = pipeline.report_inputs(cfg)
    build_edition(inputs, tmp_path / "ours", "restricted")
    pp.uninstall_pagination()
    try:
        build_edition(inputs, tmp_path / "library", "restricted")
    finally:
        assert pp.install_pagination()
    ours = (tmp_path / "ours" / "report.pdf").read_bytes()
    assert ours == (tmp_path / "library" / "report.pdf").read_bytes()
    from pypdf import PdfReader

    assert len(PdfReader(tmp_path / "ours" / "report.pdf").pages) > 40  # front page, tables, one profile a school
