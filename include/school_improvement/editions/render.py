"""Jinja2 to a tagged PDF/UA-1 through WeasyPrint: autoescaped templates, resources only through a fetcher that
refuses anything outside the templates folder, reproducible bytes (content-derived identifier, fixed dates)."""

from __future__ import annotations

import contextlib
import datetime
import gc
import hashlib
import os
import re
import threading
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import pandas as pd
import pydyf
import tinyhtml5.inputstream
from weasyprint import DEFAULT_OPTIONS
from weasyprint.formatting_structure.boxes import Box
from weasyprint.pdf import VARIANTS, generate_pdf
from weasyprint.pdf.stream import Stream
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .. import TEMPLATES_DIR
from . import draw_text, layout_patches, pagination_patches, percentages, table_cycles, text_layout
from .cells import LETTER_LABELS, LEVEL_LABELS, SOURCE_LABELS, _text
from .lean_ua import LeanHTML
from .pdf_pages import cached_page_references, cached_stream_data, install_colors, install_to_bytes
from .tables import name_breaks, neutralise_bidi
from ..vocabulary import VOCAB

FLAG_LABELS = {code: flag.label for code, flag in VOCAB.intelligence_flags.items()}


class _CharsUntilRegexes(dict):
    """tinyhtml5 (WeasyPrint's HTML parser) caches the regex for each set of characters its tokenizer scans to, but
    stores it under the regex instead of the characters (`characters = cache[(characters, opposite)] = regex`
    assigns left to right), so every scan compiles its key again: about 5% of a report's render. Building the
    missing entry here, under the key looked up, gives the same regex once."""

    def __missing__(self, key):
        characters, opposite = key
        regex = "".join(f"\\x{ord(c):02x}" for c in characters)
        self[key] = regex = re.compile(f"[{regex}]+" if opposite else f"[^{regex}]+")
        return regex


if not isinstance(tinyhtml5.inputstream.characters_until_regex, _CharsUntilRegexes):
    tinyhtml5.inputstream.characters_until_regex = _CharsUntilRegexes(tinyhtml5.inputstream.characters_until_regex)


# WeasyPrint asks every inline child, several times per line it lays out, whether it is in normal flow:
# `Box.is_in_normal_flow` calls five methods that read the style's `float` twice and `position` three times, about
# 5% of a report's CPU. The same test, each property read once, in one function; it answers as the library's does
# for every value (tests/test_render_patches.py), so the layout, and the PDF, are the same.
LIBRARY_IS_IN_NORMAL_FLOW = getattr(Box.is_in_normal_flow, "library", Box.is_in_normal_flow)
_OUT_OF_FLOW_FLOATS = ("left", "right", "inline-start", "inline-end", "footnote")  # is_floated, is_footnote


def _is_in_normal_flow(self):
    style = self.style
    if style["float"] in _OUT_OF_FLOW_FLOATS:
        return False
    position = style["position"]  # is_absolutely_positioned, is_running, is_note
    return not (position in ("absolute", "fixed") or position[0] in ("running()", "note()"))


_is_in_normal_flow.library = LIBRARY_IS_IN_NORMAL_FLOW
Box.is_in_normal_flow = _is_in_normal_flow


# Every line of text is written into the PDF by `draw_first_line`, whose loop over the glyphs reads them through cffi
# one attribute at a time: the same loop reading a run's glyphs at once, byte-identical (draw_text.py).
draw_text.install()
# ... and a line drawn before in the same document (the same text and style values) is written again from its notes,
# without a Pango layout shaped again for it (draw_text.py).
draw_text.install_drawn_lines()
# Every box's margins, paddings, widths and heights are resolved each time it is laid out: the library's function
# in one function, the same used values (percentages.py).
percentages.install()
# Each piece of text measured or drawn gets a Pango layout, each with a new Pango context and font description: both
# made once per document and kind instead, the same layouts (text_layout.py).
text_layout.install()
# Every line asks for its strut (line height and baseline) by a string key built on each call: found by its values
# first (layout_patches.py).
layout_patches.install_strut()
# Every page computed its page's and its margin boxes' styles anew: pages with the same cascade share them
# (layout_patches.py).
layout_patches.install_page_styles()
# Every outside list marker measured its text twice for its shrink-to-fit width: once per kind of marker
# (layout_patches.py).
layout_patches.install_markers()
# Every box's four border radii, and every line's place beside floats (the reports have none): the same steps for
# less work (layout_patches.py).
layout_patches.install_radii()
layout_patches.install_floats()
# Every piece of text fitted to its line asked Pango again, though most ask what an earlier one asked: the earlier
# answer, for the same text, widths and style values (layout_patches.py).
layout_patches.install_first_lines()
# Every table laid out held itself in a cycle (its columns' `get_cells` closures), so its boxes waited for the
# garbage collector: the columns hold the table weakly instead, the same cells (table_cycles.py).
table_cycles.install()
# Three steps of the pagination looked at every earlier page once per page, so their cost grew with the pages squared
# (a 4,000-school report has 4,300 pages): the same answers from what was kept (pagination_patches.py).
pagination_patches.install_pagination()


PDF_ZLIB_LEVEL = 6  # zlib's own default


class _StreamZlib:
    """pydyf deflates every content stream at zlib level 9 (`zlib.compressobj(level=9)`), about a fifth of a
    report's write for files 4% smaller than at zlib's default level 6. pydyf reads `zlib` from its module, so
    this stand-in gives it the same zlib at level 6: still deflate, still byte-reproducible."""

    def __getattr__(self, name):
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level=PDF_ZLIB_LEVEL, *args, **kwargs):
        return zlib.compressobj(PDF_ZLIB_LEVEL, *args, **kwargs)


if not isinstance(pydyf.zlib, _StreamZlib):
    pydyf.zlib = _StreamZlib()
# Every value pydyf writes goes through `_to_bytes`, three `isinstance` tests each: the exact built-in types told
# apart by their type, the library's own expressions, the same bytes (pdf_pages.py).
install_to_bytes()
# ... and every colour written converted again to sRGB: once per colour instead (pdf_pages.py).
install_colors()


class _UnsizedArraysFFI:
    """WeasyPrint subsets every font of a PDF with HarfBuzz (pdf/fonts.py `Font._harfbuzz_subset`), making its glyph
    arrays with `ffi.new(f'hb_codepoint_t[{n}]', values)`, n the number of values. cffi parses each C type it has
    not seen with pycparser, 2 ms each, and n is nearly always new to a task's process (the glyphs a font kept:
    about 6 new types per report part at 34 schools, 17 in its drafts; a parsed type lives only as long as the
    task's process). `ffi.new('hb_codepoint_t[]', values)` makes the same array (n items of the same type, the
    same values, zeroed memory beyond none) from one type parsed once per worker. WeasyPrint's `fonts` module
    reads `ffi` from its module: this stand-in gives it the same ffi, that one call made unsized."""

    _SIZED = re.compile(r"(hb_codepoint_t)\[([0-9]+)\]")

    def __init__(self, ffi):
        self._ffi = ffi

    def __getattr__(self, name):
        return getattr(self._ffi, name)

    def new(self, cdecl, init=None):
        sized = self._SIZED.fullmatch(cdecl) if type(cdecl) is str else None
        if sized and type(init) in (list, tuple) and len(init) == int(sized[2]):
            return self._ffi.new(f"{sized[1]}[]", init)
        return self._ffi.new(cdecl, init)


LIBRARY_HARFBUZZ_SUBSET_SHA = "f80805663ede8080"  # WeasyPrint 70.0's Font._harfbuzz_subset


def install_unsized_arrays() -> bool:
    from weasyprint.pdf import fonts

    from .layout_patches import _source_sha

    if isinstance(fonts.ffi, _UnsizedArraysFFI):
        return True
    if _source_sha(fonts.Font._harfbuzz_subset) != LIBRARY_HARFBUZZ_SUBSET_SHA:
        return False
    fonts.ffi = _UnsizedArraysFFI(fonts.ffi)
    return True


def uninstall_unsized_arrays() -> None:
    from weasyprint.pdf import fonts

    if isinstance(fonts.ffi, _UnsizedArraysFFI):
        fonts.ffi = fonts.ffi._ffi


install_unsized_arrays()


class RefusedURL(FatalURLFetchingError):
    """A URL outside the templates folder. Fatal on purpose: a report silently missing a resource
    (or one that reached out to the network) is worse than a failed task."""


class TemplateOnlyFetcher(URLFetcher):
    """Lets WeasyPrint read data: URLs and files inside the templates folder, and nothing else."""

    def __init__(self, root: Path = TEMPLATES_DIR, **kwargs):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, **kwargs)
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise RefusedURL(f"refused remote file URL {url!r}")
            # resolve() collapses ../ and symlinks, so an escape cannot hide behind either.
            target = Path(unquote(parts.path)).resolve()
            if target == self.root or self.root in target.parents:
                return super().fetch(target.as_uri(), headers)
            raise RefusedURL(f"refused file outside {self.root}: {url!r}")
        raise RefusedURL(f"refused URL {url!r}: only data: and template files may be loaded")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Our templates end in .html.j2, which the default select_autoescape() would leave unescaped.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=neutralise_bidi,  # every {{ value }} in the PDF, as in the CSVs
    )
    env.filters["t"] = _text
    env.filters["pct"] = lambda v: "" if v is None or pd.isna(v) else f"{v:.0f}%"
    env.filters["level_label"] = lambda c: LEVEL_LABELS.get(_text(c), _text(c))
    env.filters["letter_label"] = lambda c: LETTER_LABELS.get(_text(c), _text(c).replace("_", " "))
    env.filters["source_label"] = lambda c: SOURCE_LABELS.get(_text(c), _text(c).replace("_", " "))
    env.filters["flag_label"] = lambda c: FLAG_LABELS.get(_text(c), _text(c).replace("_", " "))  # in words, not codes
    env.filters["split_reasons"] = lambda s: [p for p in _text(s).split("; ") if p]
    env.filters["split_lines"] = lambda s: [p for p in _text(s).splitlines() if p.strip()]
    env.filters["name_breaks"] = name_breaks  # file names and column codes: broken only after an underscore
    return env


_ENV = _environment()


def _layout(template_name: str, context: dict):
    """Jinja2 (autoescaped) -> a laid-out WeasyPrint document; resources only via TemplateOnlyFetcher."""
    html = _ENV.get_template(template_name).render(**context)
    # LeanHTML: the library's user-agent sheet without six pseudo-element styles for every element (lean_ua.py).
    doc = LeanHTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=TemplateOnlyFetcher()).render(
        pdf_variant="pdf/ua-1")
    # A content-derived identifier keeps re-runs byte-identical (WeasyPrint would otherwise hash the time).
    return doc, hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")


def _write(doc, path: Path, identifier: bytes, run_date, release_layout: bool = False) -> None:
    """Write a tagged PDF/UA-1, reproducibly: `doc.write_pdf`'s two steps (build the PDF's objects, then write
    them), so that with `release_layout` the laid-out pages (boxes, styles, text layouts: most of the memory)
    are released between the two, when only the PDF's objects are still needed. The caller must not use `doc`
    afterwards (its pages are emptied). Same bytes as `doc.write_pdf` (tests/test_lean_ua.py)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epoch = datetime.datetime.fromisoformat(str(run_date)).replace(tzinfo=datetime.timezone.utc) if run_date else None
    options = {**DEFAULT_OPTIONS, "pdf_variant": "pdf/ua-1", "pdf_identifier": identifier}
    for key, value in VARIANTS["pdf/ua-1"][1].items():  # as write_pdf fills in the variant's defaults
        if options.get(key) is None:
            options[key] = value
    # fontTools stamps subset fonts with "now" unless SOURCE_DATE_EPOCH is set (reproducible-builds spec).
    with _source_date_epoch(int(epoch.timestamp()) if epoch else 0), cached_page_references():
        pdf = generate_pdf(doc, path, 1, **options)
        if release_layout:
            doc.pages.clear()
            draw_text.forget_lines(doc.font_config)  # no page is drawn again
            for obj in pdf.objects:  # each page's content stream maps its tagged boxes to marked content
                if isinstance(obj, Stream):
                    obj._tags = None
            gc.collect()  # the boxes hold reference cycles: freed now, the write reuses their memory
        with open(path, "wb") as fd, cached_stream_data():  # each stream compressed once, not twice
            pdf.write(fd, options["pdf_version"], identifier, not options["uncompressed_pdf"])


def render_pdf(template_name: str, context: dict, path: Path) -> None:
    """Jinja2 (autoescaped) -> WeasyPrint tagged PDF/UA-1, resources only via TemplateOnlyFetcher."""
    doc, identifier = _layout(template_name, context)
    _write(doc, path, identifier, context.get("run_date"), release_layout=True)


# Python collects its oldest generation whenever the long-lived objects have grown by a quarter. A layout creates
# millions of long-lived objects (boxes, styles, text layouts), so one render paid for about 20 full passes over the
# whole heap: 7.3 of 41 s of CPU for a 250-school term's reports (measured with gc.callbacks). Collecting the young
# generations still cost 5% of a part's CPU at Lancashire's size (627 schools, restricted: 270 collections of the
# youngest, 1.2 s, and 20 of the middle one, 1.6 s, of 49 s), walking the layout's objects on their way to the
# oldest generation: they live until the write anyway, and the garbage made on the way (lines and pages tried and
# dropped) is nearly all freed by reference counting. So during a report part the collector does not run by itself
# (REPORT_GC_THRESHOLDS, a threshold of 0, in `few_full_collections`, school_improvement/collector.py): the write's
# own collection (`_write(release_layout=True)`) frees the layout and what cycles were left. The 627-school
# restricted part's CPU fell 7% (36 against 38.5 s); its peak rose 1.4% on average (1,088 to 1,142 MiB against
# 1,081 to 1,103 MiB, four runs each, /tmp/mem627.py).


_EPOCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _source_date_epoch(seconds: int):
    with _EPOCH_LOCK:
        old = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(seconds)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = old
