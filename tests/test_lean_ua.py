"""The lean user-agent sheet and the releasing write: the same PDF bytes as the library's own path, with far fewer
computed styles (one pseudo-element style per list item, not six per element) and the layout released before the
write when the caller asks."""

from __future__ import annotations

import io
from collections import Counter
from importlib.resources import files

import pytest
from weasyprint import HTML, css

from school_improvement import TEMPLATES_DIR
from school_improvement.editions import lean_ua, render

LIBRARY_CSS = (files("weasyprint.css") / "html5_ua.css").read_text(encoding="utf-8")
NOTE_PSEUDOS = ("footnote-call", "footnote-marker", "note-call", "note-marker", "note-callback")


def _html() -> str:
    # Lists (markers), tables, headings, internal links, an image: the kinds of box the report draws.
    body = []
    for p in range(6):
        body.append(f'<h2 id="s{p}">Section {p}</h2><p>See <a href="#s{(p + 1) % 6}">the next section</a>.</p>')
        body.append("<ul>" + "".join(f"<li>Bullet {p}.{i} <span class='muted'>(evidence {i})</span></li>"
                                     for i in range(5)) + "</ul>")
        body.append("<ol>" + "".join(f"<li>Step {i}</li>" for i in range(3)) + "</ol>")
        body.append("<table><thead><tr><th scope='col'>School</th><th scope='col'>Figure</th></tr></thead><tbody>"
                    + "".join(f"<tr><th scope='row'>School {p}-{r}</th><td>{r}%</td></tr>" for r in range(8))
                    + "</tbody></table>")
        body.append('<div style="break-after: page"></div>')
    return ("<html lang='en'><head><title>t</title><style>@page { @bottom-right { content: counter(page) } }"
            "a::after { content: target-counter(attr(href), page) }</style></head><body>"
            + "".join(body) + "</body></html>")


def _pseudo_styles(monkeypatch) -> Counter:
    seen = Counter()
    original = css.StyleFor.set_computed_styles

    def counting(self, element, parent, root=None, pseudo_type=None, **kwargs):
        seen[pseudo_type] += 1
        return original(self, element, parent, root, pseudo_type, **kwargs)

    monkeypatch.setattr(css.StyleFor, "set_computed_styles", counting)
    return seen


def test_the_lean_sheet_differs_from_the_librarys_only_in_the_universal_pseudo_element_rules():
    lean = lean_ua.lean_css(LIBRARY_CSS, set())
    removed = [line for line in LIBRARY_CSS.splitlines() if line not in lean.splitlines()]
    added = [line for line in lean.splitlines() if line not in LIBRARY_CSS.splitlines()]
    assert sorted(r.split(" {")[0] for r in removed) == sorted(["::marker", *(f"::{p}" for p in NOTE_PSEUDOS)])
    assert added == ["li::marker" + next(r for r in removed if r.startswith("::marker"))[len("::marker"):]]
    # A template that uses notes or other list items keeps the library's rules for them.
    assert lean_ua.lean_css(LIBRARY_CSS, {"notes", "list_items"}) == LIBRARY_CSS
    assert "::footnote-call" in lean_ua.lean_css(LIBRARY_CSS, {"notes"})


def test_our_templates_use_neither_notes_nor_other_list_items_and_a_template_that_does_is_seen(tmp_path):
    assert lean_ua._template_uses(TEMPLATES_DIR) == set()
    assert lean_ua.LEAN_UA_STYLESHEET is not None
    (tmp_path / "a.css").write_text(".fn { float: footnote }\n.x { display: list-item }\n")
    assert lean_ua._template_uses(tmp_path) == {"notes", "list_items"}


# a document laid out and written twice, patched and as the library does: over test-fast's CPU budget
@pytest.mark.slow
def test_lean_layout_computes_one_marker_style_per_list_item_and_no_note_styles(monkeypatch):
    seen = _pseudo_styles(monkeypatch)
    HTML(string=_html()).render(pdf_variant="pdf/ua-1")
    library = dict(seen)
    seen.clear()
    lean_ua.LeanHTML(string=_html()).render(pdf_variant="pdf/ua-1")
    lean = dict(seen)
    items = _html().count("<li>")
    assert all(library[p] > items for p in NOTE_PSEUDOS)  # the library's sheet: one per element
    assert not any(p in lean for p in NOTE_PSEUDOS)
    assert lean["marker"] == items
    assert lean[None] == library[None] and lean.get("after") == library.get("after")


_LIBRARY_PDF: list[bytes] = []


def _library_pdf() -> bytes:
    """The library's own layout and write of the test document, made once for both arms below."""
    if not _LIBRARY_PDF:
        out = io.BytesIO()
        HTML(string=_html()).render(pdf_variant="pdf/ua-1").write_pdf(out, pdf_variant="pdf/ua-1",
                                                                       pdf_identifier=b"0" * 32)
        _LIBRARY_PDF.append(out.getvalue())
    return _LIBRARY_PDF[0]


# a document laid out and written twice, patched and as the library does: over test-fast's CPU budget
@pytest.mark.slow
@pytest.mark.parametrize("release", [False, True])
def test_releasing_write_gives_the_librarys_bytes(tmp_path, monkeypatch, release):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    library = _library_pdf()
    doc = lean_ua.LeanHTML(string=_html()).render(pdf_variant="pdf/ua-1")
    pages = len(doc.pages)
    render._write(doc, tmp_path / "ours.pdf", b"0" * 32, "2023-11-14T22:13:20", release_layout=release)
    assert (tmp_path / "ours.pdf").read_bytes() == library
    assert len(doc.pages) == (0 if release else pages)  # drafts write one layout several times: kept unless asked
