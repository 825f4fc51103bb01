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


@contextlib.contextmanager
def cached_stream_data():
    """Serve `pydyf.Stream.data` once per stream, and an indirect dictionary's or array's data once per object,
    while the block runs."""
    with (_serving(pydyf.Stream, "data", _ORIGINAL_STREAM_DATA, _stream_data, on_first=_new_block),
          _serving(pydyf.Dictionary, "data", _ORIGINAL_DICTIONARY_DATA, _dictionary_data),
          _serving(pydyf.Array, "data", _ORIGINAL_ARRAY_DATA, _array_data)):
        yield


# The same for the file's other objects: the identifier's hash reads every object's data again, and a tagged report's
# objects are mostly small dictionaries (a structure element per tagged box, 40,000 in a 250-school report) each
# serialised twice, its arrays and inner dictionaries with it. An indirect object's (one with a number, written as
# an object of its own) bytes are kept the first time they are read in the block; an object written inside another
# has no number and is serialised with its holder, as before. Kept beside the object's other attributes, without a
# tuple, to keep the write's memory low (the object stream holds the same bytes until the write ends anyway).
_ORIGINAL_DICTIONARY_DATA = pydyf.Dictionary.__dict__["data"]
_ORIGINAL_ARRAY_DATA = pydyf.Array.__dict__["data"]


def _kept_data(obj, compute) -> bytes:
    if obj.number is None:
        return compute(obj)
    attributes = obj.__dict__
    if attributes.get("_data_block") is not _block:
        attributes["_data"] = compute(obj)
        attributes["_data_block"] = _block
    return attributes["_data"]


def _dictionary_data(obj) -> bytes:
    return _kept_data(obj, _ORIGINAL_DICTIONARY_DATA.fget)


def _array_data(obj) -> bytes:
    return _kept_data(obj, _ORIGINAL_ARRAY_DATA.fget)


# --- values to bytes ------------------------------------------------------------------------------------------------
# pydyf turns every value it writes into bytes with `_to_bytes(item)`: a stream's operators, every dictionary's keys
# and values, every array's items. It tests `isinstance(item, bytes)`, then `float`, then pydyf's `Object`, and
# writes anything else as `str(item).encode('ascii')`. Nearly every value is exactly bytes (operators, references),
# a str (names, keys) or an int (lengths, MCIDs), and a report writes millions. Here exact types are told by
# `type(item) is ...` and each gets the library's own expression: bytes as they are; an exact str is its own
# `str()`, so `item.encode('ascii')`; an exact int `str(item).encode('ascii')`; an exact float the library's two
# float expressions. Anything else (objects, subclasses of these types) goes to the library's function. The same
# bytes, the same errors (a str that is not ASCII raises the same UnicodeEncodeError, which `String.data` catches).
LIBRARY_TO_BYTES = getattr(pydyf._to_bytes, "library", pydyf._to_bytes)
LIBRARY_TO_BYTES_SHA = "1cefd02c285d3aee"  # sha256 of inspect.getsource(pydyf._to_bytes) in pydyf 0.13.0


def _to_bytes(item):
    """pydyf's `_to_bytes`, the exact built-in types told apart without `isinstance`."""
    kind = type(item)
    if kind is bytes:
        return item
    if kind is str:
        return item.encode('ascii')
    if kind is int:
        return str(item).encode('ascii')
    if kind is float:
        if item.is_integer():
            return str(int(item)).encode('ascii')
        else:
            return f'{item:f}'.rstrip('0').encode('ascii')
    return LIBRARY_TO_BYTES(item)


_to_bytes.library = LIBRARY_TO_BYTES


def install_to_bytes() -> bool:
    from .layout_patches import _source_sha

    if pydyf._to_bytes is _to_bytes:
        return True
    if _source_sha(LIBRARY_TO_BYTES) != LIBRARY_TO_BYTES_SHA:
        return False
    pydyf._to_bytes = _to_bytes
    return True


def uninstall_to_bytes() -> None:
    if pydyf._to_bytes is _to_bytes:
        pydyf._to_bytes = LIBRARY_TO_BYTES


# --- colours --------------------------------------------------------------------------------------------------------
# WeasyPrint's `Stream.set_color` writes a colour whenever it differs from the stream's current one: a table's text
# and its borders alternate, so a report writes hundreds of thousands, each converted again to sRGB by tinycss2
# (`color.to('srgb').coordinates`, a new Color made each time). The conversion reads only the colour's space and
# coordinates (`Color.to`), so its answer is kept per (space, coordinates), the stream's own key for the colour;
# every other step is the library's, in its order. Colours of other spaces (Lab, CMYK, profiles) are the library's
# function's.
from weasyprint.pdf.stream import Stream as _WeasyStream  # noqa: E402

LIBRARY_SET_COLOR = getattr(_WeasyStream.set_color, "library", _WeasyStream.set_color)
LIBRARY_SET_COLOR_SHA = "d289ec41ef8285c2"  # WeasyPrint 70.0's Stream.set_color
_SRGB_SPACES = ("srgb", "hsl", "hwb")
_srgb_coordinates: dict = {}  # (space, *coordinates) -> the sRGB coordinates tinycss2 converts them to


def set_color(self, color, stroke=False):
    """The library's `Stream.set_color`, an sRGB conversion made once per colour."""
    if color.space not in _SRGB_SPACES:
        return LIBRARY_SET_COLOR(self, color, stroke)
    *channels, alpha = color
    self.set_alpha(alpha, stroke)

    key = (color.space, *channels)
    if stroke:
        if key == self._current_color_stroke:
            return
        else:
            self._current_color_stroke = key
    else:
        if key == self._current_color:
            return
        else:
            self._current_color = key

    coordinates = _srgb_coordinates.get(key)
    if coordinates is None:
        coordinates = color.to('srgb').coordinates
        try:
            _srgb_coordinates[key] = coordinates
        except TypeError:  # a coordinate that cannot be a key: converted each time
            pass
    self.set_color_rgb(*coordinates, stroke)


set_color.library = LIBRARY_SET_COLOR


def install_colors() -> bool:
    from .layout_patches import _source_sha

    if _WeasyStream.set_color is set_color:
        return True
    if _source_sha(LIBRARY_SET_COLOR) != LIBRARY_SET_COLOR_SHA:
        return False
    _WeasyStream.set_color = set_color
    return True


def uninstall_colors() -> None:
    if _WeasyStream.set_color is set_color:
        _WeasyStream.set_color = LIBRARY_SET_COLOR
