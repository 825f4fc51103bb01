"""The tagged-PDF write in time that grows with pages, not with tagged boxes times pages.

pydyf's `PDF.page_references` is a property that builds a new tuple of every page's reference on each read.
WeasyPrint's tag tree (weasyprint/pdf/tags.py) reads it once per tagged box, and its links once per link, so a
PDF/UA report of P pages holding B boxes does B x P work: the county report's write grows faster than its
schools. Within `cached_page_references()` the tuple is built once per page count and reused; it is rebuilt as
soon as a page is added, so the bytes written are the same (tests/test_pdf_pages.py proves it). The upstream
report and a minimal reproduction are in docs/upstream/.
"""

from __future__ import annotations

import contextlib
import threading

import pydyf

_ORIGINAL = pydyf.PDF.__dict__["page_references"]  # the library's own property, restored after each write
_LOCK = threading.RLock()
_depth = 0


def _references(pdf) -> tuple:
    """The library's computation: one reference per page, in page order."""
    return _ORIGINAL.fget(pdf)


def _cached(pdf) -> tuple:
    kids = pdf.pages["Kids"]
    key = (id(kids), len(kids))  # a page added (or the page list replaced) means a new tuple
    cached = pdf.__dict__.get("_page_references_cache")
    if cached is None or cached[0] != key:
        cached = (key, _references(pdf))
        pdf.__dict__["_page_references_cache"] = cached
    return cached[1]


@contextlib.contextmanager
def cached_page_references():
    """Serve `pydyf.PDF.page_references` from a per-document cache while the block runs (nestable; PDF writes
    in other threads wait, as they share the class)."""
    global _depth
    with _LOCK:
        if _depth == 0:
            pydyf.PDF.page_references = property(_cached, doc=_ORIGINAL.__doc__)
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
            if _depth == 0:
                pydyf.PDF.page_references = _ORIGINAL
