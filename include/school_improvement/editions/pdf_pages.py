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
_depths: dict[tuple, int] = {}  # (class, property) -> how many blocks are serving it


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
def _serving(owner, name: str, original: property, getter, on_first=None):
    """`owner.<name>` read through `getter` while the block runs, the library's `original` property after it.
    Nestable (the outermost block swaps the property in and out); writes in other threads wait, as they share the
    class."""
    key = (owner, name)
    with _LOCK:
        if not _depths.get(key):
            if on_first is not None:
                on_first()
            setattr(owner, name, property(getter, doc=original.__doc__))
        _depths[key] = _depths.get(key, 0) + 1
        try:
            yield
        finally:
            _depths[key] -= 1
            if not _depths[key]:
                setattr(owner, name, original)


def cached_page_references():
    """Serve `pydyf.PDF.page_references` from a per-document cache while the block runs."""
    return _serving(pydyf.PDF, "page_references", _ORIGINAL, _cached)


# pydyf computes a stream's bytes (joined and compressed) each time `Stream.data` is read, and
# `PDF.write` reads every object's data twice when the file has an identifier (every PDF/UA file here does:
# once to write it, once more to hash the whole file for the identifier), so every page's content stream was
# compressed twice. Within `cached_stream_data()` a stream's bytes are computed once and kept on the stream; only
# around `PDF.write`, when no object changes any more, so the bytes written are the same.
_ORIGINAL_STREAM_DATA = pydyf.Stream.__dict__["data"]
_block = object()  # a new token per outermost block: bytes kept in an earlier block are never served again


def _stream_data(stream) -> bytes:
    cached = stream.__dict__.get("_data_cache")
    if cached is None or cached[0] is not _block:
        cached = stream.__dict__["_data_cache"] = (_block, _ORIGINAL_STREAM_DATA.fget(stream))
    return cached[1]


def _new_block() -> None:
    global _block
    _block = object()


def cached_stream_data():
    """Serve `pydyf.Stream.data` once per stream while the block runs."""
    return _serving(pydyf.Stream, "data", _ORIGINAL_STREAM_DATA, _stream_data, on_first=_new_block)
