"""WeasyPrint's user-agent stylesheet without the rules that give every element six pseudo-element styles.

WeasyPrint's html5_ua.css has six universal pseudo-element rules: `::marker` and the notes' `::footnote-call`,
`::footnote-marker`, `::note-call`, `::note-marker`, `::note-callback`. A universal rule matches every element, and
WeasyPrint computes a style for every (element, pseudo-element) pair a rule matched, then keeps them all until the
document is written: the county report's ~55,000 elements carried ~290,000 such styles (85% of its computed
styles), about 380 MiB of the restricted report's 1.5 GiB peak at Lancashire's size, and 15% of its layout CPU.

Only list items draw a marker and only an element floated into a footnote or a note draws the notes' calls and
markers, so the lean sheet says the same thing where it can apply: `li::marker` (the only `display: list-item`
of our templates), and the notes' rules only when a template uses footnotes or notes (none does; a template that
starts to gets the library's whole sheet back, see `_USES`). Everything else is the library's own file, read from
the installed WeasyPrint. The PDFs are byte-identical (tests/test_lean_ua.py).
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import weasyprint
from weasyprint.html import UA_COUNTER_STYLE, UA_FORM_STYLESHEET, UA_STYLESHEET

from .. import TEMPLATES_DIR

_NOTE_RULE = re.compile(r"^::(?:footnote|note)-[a-z-]+ \{[^}\n]*\}\n", re.M)
_MARKER_RULE = "\n::marker {"
# What in a template would need the rules this sheet narrows: another element shown as a list item, or an
# element floated into a footnote or a note (or styling their pseudo-elements).
_USES = {"list_items": re.compile(r"list-item"),
         "notes": re.compile(r"footnote|note\(|::note-")}


def _template_uses(root: Path) -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(Path(root).rglob("*"))
                     if p.is_file() and p.suffix in {".css", ".j2", ".html", ".htm"})
    return {name for name, pattern in _USES.items() if pattern.search(text)}


def lean_css(library_css: str, uses: set[str]) -> str:
    """The library's sheet with the universal pseudo-element rules narrowed to where `uses` says they apply."""
    css = library_css
    if "notes" not in uses:
        css, n = _NOTE_RULE.subn("", css)
        if n != 5:  # a WeasyPrint whose sheet differs from the one this was written for: change nothing
            return library_css
    if "list_items" not in uses:
        if css.count(_MARKER_RULE) != 1:
            return library_css
        css = css.replace(_MARKER_RULE, "\nli::marker {")
    return css


def _lean_stylesheet():
    library_css = (files("weasyprint.css") / "html5_ua.css").read_text(encoding="utf-8")
    css = lean_css(library_css, _template_uses(TEMPLATES_DIR))
    if css == library_css:
        return UA_STYLESHEET
    return weasyprint.CSS(string=css, counter_style=UA_COUNTER_STYLE)


LEAN_UA_STYLESHEET = _lean_stylesheet()


class LeanHTML(weasyprint.HTML):
    """`weasyprint.HTML` whose user-agent stylesheet is the lean one (`_ua_stylesheets` is the library's hook
    for it; forms keep the library's form sheet)."""

    def _ua_stylesheets(self, forms=False):
        return [LEAN_UA_STYLESHEET, UA_FORM_STYLESHEET] if forms else [LEAN_UA_STYLESHEET]
