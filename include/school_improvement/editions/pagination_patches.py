"""WeasyPrint 70.0's pagination in time that grows with the pages, not with the pages squared; the same PDF bytes.

Three places in the library's pagination look at every earlier (or every other) page once per page, so a report of
P pages pays P x P small steps: nothing at a county's 300 pages, 3% of build_reports at 2,000 demo schools
(2,200 pages), rising with the pages (py-spy at 500 and 2,000 schools, issue 13's growth goal):

- `make_page` (layout/page.py) rebuilds, for each page, the list of the anchors and counter lookups met on all the
  pages before it (`for ... in page_maker[:page_number - 1]: cached_anchors.extend(...)`), then searches it.
  Here the same sets are kept per pass and grown by the pages made since the last page (`seen_before`).
- `layout_document` (layout/__init__.py) hands, for each page, the list of every other page to
  `layout_fixed_boxes`, which looks at each for `position: fixed` boxes (the report has none), and checks each
  bookmarked box against a list of the elements already bookmarked. Here the pages that hold fixed boxes are found
  once, and the bookmarked elements are a set (an element is equal only to itself, so membership is the same).
- `LayoutContext.get_string_or_element_for` (the `string()` of the running title and the edition mark, three
  margin boxes a page) searches back page by page to the page that set the string (the first). Here it looks at
  the pages that set one, when they are fewer than the pages to search back.

Each is the library's own function with those lines replaced (its source is read, checked against the sha256 of
WeasyPrint 70.0's, edited and compiled with the library module's globals), so everything else is the library's; a
WeasyPrint whose functions differ keeps its own. tests/test_pagination_patches.py lays documents out with and
without them (anchors, target-counter, string-set, bookmarks, fixed boxes, repagination) and compares the bytes.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import textwrap
import types

from weasyprint import layout as _layout
from weasyprint.layout import page as _page

_NAME = "_SI_PAGINATION"  # the one name these rewritten functions add to the library's module globals


def _sha(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def _rewrite(function, replacements: list[tuple[str, str]]):
    """`function` compiled again from its own source with each `old` (found exactly once) replaced by `new`, its
    globals the library module's own (so later patches of that module's names reach it, as they reach the library's)."""
    source = textwrap.dedent(inspect.getsource(function))
    for old, new in replacements:
        if source.count(old) != 1:
            return None
        source = source.replace(old, new)
    code = compile(source, f"{inspect.getsourcefile(function)} (as edited by {__name__})", "exec")
    body = next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == function.__name__)
    new = types.FunctionType(body, function.__globals__, function.__name__, function.__defaults__,
                             function.__closure__)
    new.__kwdefaults__ = function.__kwdefaults__
    new.__qualname__ = function.__qualname__
    new.__doc__ = function.__doc__
    new.library = function
    return new


# --- make_page: the anchors and counter lookups of the earlier pages -----------------------------------------------
class _Seen:
    """What `make_page` did with its list of the earlier pages' anchors (or lookups): `in` and `append`. The earlier
    pages' values are a set shared with the next page's call (never changed here), this page's own are apart."""
    __slots__ = ("before", "here")

    def __init__(self, before: set):
        self.before = before
        self.here: set = set()

    def __contains__(self, value) -> bool:
        return value in self.before or value in self.here

    def append(self, value) -> None:
        self.here.add(value)


def seen_before(context, page_maker: list, pages_before: int) -> tuple[_Seen, _Seen]:
    """The anchors and counter lookups of `page_maker[:pages_before]` (the pages before the one being made).

    Within one pass of `make_all_pages` the pages are made in order and a page's entry changes only while that page
    is made (or re-made: its lists are then new, emptied ones), so the entries before the page being made are
    final, and the sets kept from the previous page's call are grown by the entries since. A new pass works on a
    new `page_maker` list (each pass ends by slicing it), and a page number lower than the last starts again from
    the first page: either way the sets are built afresh."""
    kept = context.__dict__.get("_si_seen_before")
    if kept is None or kept[0] is not page_maker or kept[1] > pages_before:
        kept = context.__dict__["_si_seen_before"] = [page_maker, 0, set(), set()]
    _, done, anchors, lookups = kept
    for (_, _, _, _, remake_state) in page_maker[done:pages_before]:
        anchors.update(remake_state.get("anchors", []))
        lookups.update(remake_state.get("content_lookups", []))
    kept[1] = pages_before
    return _Seen(anchors), _Seen(lookups)


LIBRARY_MAKE_PAGE = getattr(_page.make_page, "library", _page.make_page)
LIBRARY_MAKE_PAGE_SHA = "656f183328e8b1b5"  # sha256 of inspect.getsource(make_page) in WeasyPrint 70.0, first 16 hex
_MAKE_PAGE_EDITS = [(
    "    cached_anchors = []\n"
    "    cached_lookups = []\n"
    "    for (_, _, _, _, x_remake_state) in page_maker[:page_number - 1]:\n"
    "        cached_anchors.extend(x_remake_state.get('anchors', []))\n"
    "        cached_lookups.extend(x_remake_state.get('content_lookups', []))\n",
    f"    cached_anchors, cached_lookups = {_NAME}.seen_before(context, page_maker, page_number - 1)\n")]


# --- layout_document: fixed boxes of the other pages, bookmarks already seen ---------------------------------------
def pages_with_fixed_boxes(pages) -> list:
    """(index, page) of the pages that hold fixed boxes: the only ones `layout_fixed_boxes` lays anything out for."""
    return [(index, page) for index, page in enumerate(pages) if page.fixed_boxes]


LIBRARY_LAYOUT_DOCUMENT = getattr(_layout.layout_document, "library", _layout.layout_document)
LIBRARY_LAYOUT_DOCUMENT_SHA = "a5cbf437e99caf72"  # ... of layout_document
_LAYOUT_DOCUMENT_EDITS = [
    ("    watch_elements = []\n    watch_elements_before = []\n    watch_elements_after = []\n",
     "    watch_elements = set()\n    watch_elements_before = set()\n    watch_elements_after = set()\n"),
    ("                    checklist.append(child.element)\n", "                    checklist.add(child.element)\n"),
    ("        root_children.extend(layout_fixed_boxes(context, pages[:i], page))\n",
     f"        if i == 0:\n            fixed_pages = {_NAME}.pages_with_fixed_boxes(pages)\n"
     "        root_children.extend(layout_fixed_boxes(context, [p for j, p in fixed_pages if j < i], page))\n"),
    ("        root_children.extend(layout_fixed_boxes(context, pages[i + 1:], page))\n",
     "        root_children.extend(layout_fixed_boxes(context, [p for j, p in fixed_pages if j > i], page))\n"),
]


# --- get_string_or_element_for: the last value set before this page -----------------------------------------------
def last_before(assigned: dict, current_page: int):
    """The library's backward search, `for previous_page in range(current_page - 1, 0, -1): if previous_page in
    assigned: return (assigned[previous_page][-1],)`, looking at the pages that set a value when they are fewer than
    the pages to search back (the report sets its running strings once, on its first pages)."""
    if len(assigned) < current_page:
        pages = [page for page in assigned if 0 < page < current_page]
        return (assigned[max(pages)][-1],) if pages else None
    for previous_page in range(current_page - 1, 0, -1):
        if previous_page in assigned:
            return (assigned[previous_page][-1],)
    return None


LIBRARY_GET_STRING = getattr(_layout.LayoutContext.get_string_or_element_for, "library",
                             _layout.LayoutContext.get_string_or_element_for)
LIBRARY_GET_STRING_SHA = "f40ec28ae3470c6e"  # ... of LayoutContext.get_string_or_element_for
_GET_STRING_EDITS = [(  # the method's source dedented by one level
    "        for previous_page in range(self.current_page - 1, 0, -1):\n"
    "            if previous_page in store[name]:\n"
    "                return (store[name][previous_page][-1],)\n",
    f"        found = {_NAME}.last_before(store[name], self.current_page)\n"
    "        if found is not None:\n"
    "            return found\n")]


_INSTALLED: dict = {}


def _targets():
    """(holder, attribute, library function, its sha, edits) for each patch."""
    return [(_page, "make_page", LIBRARY_MAKE_PAGE, LIBRARY_MAKE_PAGE_SHA, _MAKE_PAGE_EDITS),
            (_layout, "layout_document", LIBRARY_LAYOUT_DOCUMENT, LIBRARY_LAYOUT_DOCUMENT_SHA, _LAYOUT_DOCUMENT_EDITS),
            (_layout.LayoutContext, "get_string_or_element_for", LIBRARY_GET_STRING, LIBRARY_GET_STRING_SHA,
             _GET_STRING_EDITS)]


def _holders(holder, name: str, value) -> list:
    """The holder, and every other WeasyPrint module that imported `value` by name."""
    found = [holder]
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("weasyprint.") and module is not holder and vars(module).get(name) is value:
            found.append(module)
    return found


def install_pagination() -> bool:
    """Put the three edited functions in place of the library's; False (nothing changed) unless all three are the
    library's WeasyPrint 70.0 source."""
    if _INSTALLED:
        return True
    if any(_sha(function) != sha for _, _, function, sha, _ in _targets()):
        return False
    edited = [(holder, name, function, _rewrite(function, edits)) for holder, name, function, _, edits in _targets()]
    if any(new is None for *_, new in edited):
        return False
    for holder, name, function, new in edited:
        function.__globals__[_NAME] = sys.modules[__name__]
        for where in _holders(holder, name, function):
            setattr(where, name, new)
        _INSTALLED[name] = (holder, function, new)
    return True


def uninstall_pagination() -> None:
    for name, (holder, function, new) in list(_INSTALLED.items()):
        for where in _holders(holder, name, new):
            setattr(where, name, function)
        del _INSTALLED[name]
