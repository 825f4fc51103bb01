"""Small stand-ins for WeasyPrint 70.0 layout hot paths, each giving the library's result for less work; the same
PDF bytes (tests/test_render_patches.py lays documents out with and without each and compares the bytes).

Each is guarded: the library's source is checked when it is installed, and a WeasyPrint whose function differs
from the one this was written for (70.0) keeps its own.
"""

from __future__ import annotations

import hashlib
import inspect
import sys

from weasyprint.layout import page as _page
from weasyprint.text import line_break as _line_break


def _source_sha(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def _modules_holding(function) -> list:
    return [m for name, m in list(sys.modules.items())
            if name.startswith("weasyprint.") and any(v is function for v in vars(m).values())]


def _swap(old, new) -> None:
    """`new` in `old`'s place in every WeasyPrint module that holds `old` by name."""
    for module in _modules_holding(old):
        for name, value in list(vars(module).items()):
            if value is old:
                setattr(module, name, new)


# --- strut ----------------------------------------------------------------------------------------------------------
# Every line box, inline box and text box asks `strut(style)` for its line height and baseline. The library caches
# the answer on the font configuration under a string: `str()` of a tuple of the 14 font properties, plus the font
# size and line height, built on every call (about 2% of a report's CPU, for a cache that nearly always hits). Here
# the same values, as a tuple (no string made), key a second cache in front of the library's: a miss asks the
# library (which computes and caches as before). Equal tuples have equal values, for which the library computes
# the same strut (Pango is given the same numbers), so the answer is the library's.
LIBRARY_STRUT = getattr(_line_break.strut, "library", _line_break.strut)
LIBRARY_STRUT_SHA = "b57885b70dd08efe"  # sha256 of inspect.getsource(strut) in WeasyPrint 70.0, first 16 hex digits
LIBRARY_FONT_KEY_SHA = "d6b09d54b8258d58"  # ... of _font_style_cache_key: the properties the library's key holds
_STRUT_KEYS = ("font_family", "font_style", "font_stretch", "font_weight", "font_variant_ligatures",
               "font_variant_position", "font_variant_caps", "font_variant_numeric", "font_variant_alternates",
               "font_variant_east_asian", "font_feature_settings", "font_variation_settings",
               "font_language_override", "lang", "font_size", "line_height")
_MISSING = object()


def strut(style):
    """The library's `strut(style)`, looked up by the style's values before the library's string key is made."""
    try:
        key = tuple([style[name] for name in _STRUT_KEYS])
        cache = style.font_config.__dict__.setdefault("_struts_by_values", {})
        result = cache.get(key, _MISSING)
    except TypeError:  # a value that cannot be hashed: the library's way
        return LIBRARY_STRUT(style)
    if result is _MISSING:
        result = cache[key] = LIBRARY_STRUT(style)
    return result


strut.library = LIBRARY_STRUT


def install_strut() -> bool:
    if _line_break.strut is strut:
        return True
    if (_source_sha(LIBRARY_STRUT) != LIBRARY_STRUT_SHA
            or _source_sha(_line_break._font_style_cache_key) != LIBRARY_FONT_KEY_SHA):
        return False
    _swap(LIBRARY_STRUT, strut)
    return True


def uninstall_strut() -> None:
    _swap(strut, LIBRARY_STRUT)


# --- page styles ----------------------------------------------------------------------------------------------------
# Each page gets a page type (side, blank, name, index, groups), and `set_page_type_computed_styles` cascades the
# @page rules for it and makes a new computed style for the page and for each of its margin boxes (@top-left, ...,
# @footnote): every property of each computed again, lazily, on every page (2 to 3% of a report's CPU, in
# make_page and make_margin_boxes), and a scan of every page's cascade so far for this page's (time that grows as
# pages squared). A computed style is made from its parent's, its cascaded declarations and the document's
# constants (`ComputedStyle(parent_style, cascaded, pseudo_type, root_style, base_url, font_config,
# initial_page_sizes)`: not from the page type itself). So pages whose cascades hold the same declarations (the same
# parsed values, with the same weights) get the same computed styles: here the first such page's, shared. The
# library's later changes to a page's styles (the page's `overflow` from the root, the page counters'
# `_standardize_page_based_counters`) set the same values on every page, so sharing leaves every value as the
# library's. The first page keeps styles of its own, as the library gives it: they are read before the page sizes
# that later styles may refer to are known.
LIBRARY_SET_PAGE_STYLES = getattr(_page.set_page_type_computed_styles, "library",
                                  _page.set_page_type_computed_styles)
LIBRARY_SET_PAGE_STYLES_SHA = "4e68b396b35c4a06"  # WeasyPrint 70.0's set_page_type_computed_styles


def _page_pseudo_types(style_for) -> tuple:
    """Every pseudo-type (margin box) the document's @page rules can give a page, in a fixed order."""
    cached = style_for.__dict__.get("_page_pseudo_types")
    if cached is None:
        found = {selector[1] for sheet, _origin, _specificity in style_for._sheets
                 for _rule, selector_list, _declarations in sheet.page_rules for selector in selector_list}
        cached = style_for.__dict__["_page_pseudo_types"] = tuple(sorted(p for p in found if p))
    return cached


def _hashable(value):
    """A weight as a key: (precedence, layer order, specificity), the specificity of a page selector a list."""
    return tuple(map(_hashable, value)) if isinstance(value, (list, tuple)) else value


def set_page_type_computed_styles(page_type, html, style_for):
    """The library's `set_page_type_computed_styles`, the computed styles shared by pages with the same cascade."""
    if page_type.index == 0:
        return LIBRARY_SET_PAGE_STYLES(page_type, html, style_for)
    style_for.add_page_declarations(page_type)
    cascaded = style_for.get_cascaded_styles()
    pseudo_types = [p for p in _page_pseudo_types(style_for) if (page_type, p) in cascaded]
    try:
        key = tuple((p, tuple(sorted((name, id(value), _hashable(weight))
                                     for name, (value, weight) in cascaded.get((page_type, p), {}).items())))
                    for p in (None, *pseudo_types))
        hash(key)
    except TypeError:
        key = None
    shared = style_for.__dict__.setdefault("_shared_page_styles", {})
    computed = style_for.get_computed_styles()
    if key is not None and key in shared:
        for p, style in shared[key].items():
            computed[page_type, p] = style
        return
    # The library's steps (add_page_declarations is done), with the pseudo-types found above: the same as its scan
    # of the whole cascade for entries of this page type.
    style_for.set_computed_styles(
        page_type, root=html.etree_element, parent=html.etree_element, base_url=html.base_url)
    for p in pseudo_types:
        style_for.set_computed_styles(
            page_type, pseudo_type=p, root=html.etree_element, parent=page_type, base_url=html.base_url)
    if key is not None:
        # The declarations' values are the style sheets', alive as long as the document (their ids stay theirs).
        shared[key] = {p: computed[page_type, p] for p in (None, *pseudo_types)}


set_page_type_computed_styles.library = LIBRARY_SET_PAGE_STYLES


def install_page_styles() -> bool:
    if _page.set_page_type_computed_styles is set_page_type_computed_styles:
        return True
    if _source_sha(LIBRARY_SET_PAGE_STYLES) != LIBRARY_SET_PAGE_STYLES_SHA:
        return False
    _swap(LIBRARY_SET_PAGE_STYLES, set_page_type_computed_styles)
    return True


def uninstall_page_styles() -> None:
    _swap(set_page_type_computed_styles, LIBRARY_SET_PAGE_STYLES)


# --- outside list markers -------------------------------------------------------------------------------------------
# An outside list marker ("• " before each <li>) is laid out as an absolutely positioned block of auto width, so
# `absolute_width` gives it its shrink-to-fit width: its min-content and max-content widths, each measured by laying
# its text out with Pango (about 2.5% of a report's CPU: a county's profiles have thousands of bullets). Both widths
# depend only on the marker's boxes and their styles, and those are made by the library from the `::marker` style
# alone (`marker_to_box`: the block's and the text's styles are anonymous styles of it, their inherited values its
# own, their others initial, with `position: absolute` and `white-space: pre-wrap` set on them the same way each
# time). The `::marker` style is a computed style of its item's style and of the `::marker` declarations cascaded
# to it (`ComputedStyle(parent_style, cascaded, ...)`), and items of one list share their style object. So markers
# with the same text, of items with the same style object and the same `::marker` declarations (the same parsed
# values, with the same weights), have the same two widths: measured for the first, and kept per document.
# Anything else (an image marker, boxes other than lines of text, an item without a `::marker` style of its own)
# is measured by the library as before.
from weasyprint.css import AnonymousStyle as _AnonymousStyle  # noqa: E402
from weasyprint.css import ComputedStyle as _ComputedStyle  # noqa: E402
from weasyprint.formatting_structure import boxes as _boxes  # noqa: E402
from weasyprint.layout import absolute as _absolute  # noqa: E402
from weasyprint.layout import preferred as _preferred  # noqa: E402

LIBRARY_SHRINK_TO_FIT = getattr(_absolute.shrink_to_fit, "library", _absolute.shrink_to_fit)
LIBRARY_SHRINK_TO_FIT_SHA = "38ecf6d5c6439df6"  # WeasyPrint 70.0's shrink_to_fit
LIBRARY_ABSOLUTE_WIDTH_SHA = "001cdfc7bbe96bb9"  # ... and its caller here, absolute_width


def _anonymous_depth(style):
    """(the first non-anonymous style up the chain, how many anonymous styles lead to it)."""
    depth = 0
    while type(style) is _AnonymousStyle:
        style, depth = style.parent_style, depth + 1
    return style, depth


def _marker_key(box):
    """What an outside marker's min- and max-content widths are made from, or None for a box not handled here: the
    `::marker` style every box's style is an anonymous style of (the library makes the text's from it, the block's
    from the text's and the line's from the block's), the shape of the boxes, and the text."""
    if type(box) is not _boxes.BlockBox:
        return None
    marker_style, depth = _anonymous_depth(box.style)
    if type(marker_style) is not _ComputedStyle or marker_style.pseudo_type != "marker" or not depth:
        return None
    shape = [depth]
    for line in box.children:
        if type(line) is not _boxes.LineBox or _anonymous_depth(line.style)[0] is not marker_style:
            return None
        shape.append(_anonymous_depth(line.style)[1])
        for text in line.children:
            if type(text) is not _boxes.TextBox or _anonymous_depth(text.style)[0] is not marker_style:
                return None
            shape += [_anonymous_depth(text.style)[1], text.text]
        shape.append(None)  # the end of a line
    item_style = marker_style.parent_style
    try:
        cascade = tuple(sorted((name, id(value), _hashable(weight))
                               for name, (value, weight) in marker_style.cascaded.items()))
        key = (id(item_style), cascade, tuple(shape))
        hash(key)
    except TypeError:
        return None
    return key, item_style


def shrink_to_fit(context, box, available_content_width):
    """The library's `shrink_to_fit`, an outside marker's two widths measured once per kind of marker."""
    if not box.is_outside_marker:
        return LIBRARY_SHRINK_TO_FIT(context, box, available_content_width)
    found = _marker_key(box)
    if found is None:
        return LIBRARY_SHRINK_TO_FIT(context, box, available_content_width)
    key, item_style = found
    widths = context.__dict__.setdefault("_outside_marker_widths", {})
    held = widths.get(key)
    if held is None or held[0] is not item_style:  # the item style is held, so its id stays its own
        held = widths[key] = (item_style, _preferred.min_content_width(context, box, outer=False),
                              _preferred.max_content_width(context, box, outer=False))
    _, min_content, max_content = held
    # The library's expression, with the widths it would measure.
    return min(max(min_content, available_content_width), max_content)


shrink_to_fit.library = LIBRARY_SHRINK_TO_FIT


def install_markers() -> bool:
    if _absolute.shrink_to_fit is shrink_to_fit:
        return True
    if (_source_sha(LIBRARY_SHRINK_TO_FIT) != LIBRARY_SHRINK_TO_FIT_SHA
            or _source_sha(_absolute.absolute_width) != LIBRARY_ABSOLUTE_WIDTH_SHA):
        return False
    _absolute.shrink_to_fit = shrink_to_fit  # only where absolute boxes are sized (floats keep the library's)
    return True


def uninstall_markers() -> None:
    if _absolute.shrink_to_fit is shrink_to_fit:
        _absolute.shrink_to_fit = LIBRARY_SHRINK_TO_FIT



# --- border radii ---------------------------------------------------------------------------------------------------
# Every box of every page has its four border radii resolved when the page's backgrounds are laid out
# (`resolve_radii_percentages`, about 1.5% of a report's CPU): for each corner the library builds the property's name
# with an f-string, reads the style, and for the usual zero radius sets (0, 0). The same steps, the names built once
# and the style read through a local name; a radius other than zero goes through the library's own steps.
from weasyprint.layout import background as _background  # noqa: E402
from weasyprint.layout import percent as _percent  # noqa: E402

LIBRARY_RESOLVE_RADII = getattr(_percent.resolve_radii_percentages, "library", _percent.resolve_radii_percentages)
LIBRARY_RESOLVE_RADII_SHA = "4980b3798c671710"  # WeasyPrint 70.0's resolve_radii_percentages
_CORNERS = tuple((f"border_{corner}_radius", tuple(corner.split("_")))
                 for corner in ("top_left", "top_right", "bottom_right", "bottom_left"))
_ZERO_RADIUS = (0, "px")


def resolve_radii_percentages(box):
    """The library's `resolve_radii_percentages`, corner by corner in its order."""
    style = box.style
    for property_name, sides in _CORNERS:
        rx, ry = style[property_name]
        # Short track for common case
        if _ZERO_RADIUS in (rx, ry):
            setattr(box, property_name, (0, 0))
            continue
        for side in sides:
            if side in box.remove_decoration_sides:
                setattr(box, property_name, (0, 0))
                break
        else:
            rx = _percent.percentage(rx, style, box.border_width())
            ry = _percent.percentage(ry, style, box.border_height())
            setattr(box, property_name, (rx, ry))


resolve_radii_percentages.library = LIBRARY_RESOLVE_RADII


def install_radii() -> bool:
    if _background.resolve_radii_percentages is resolve_radii_percentages:
        return True
    if _source_sha(LIBRARY_RESOLVE_RADII) != LIBRARY_RESOLVE_RADII_SHA:
        return False
    _swap(LIBRARY_RESOLVE_RADII, resolve_radii_percentages)
    return True


def uninstall_radii() -> None:
    _swap(resolve_radii_percentages, LIBRARY_RESOLVE_RADII)


# --- floats ---------------------------------------------------------------------------------------------------------
# Each line box (several times per line) and each table asks `avoid_collisions` where it may go beside the floats
# placed so far (about 1.5% of a report's CPU). The reports have no floats: with no excluded shape the library's loop
# finds no colliding shape, takes the containing block's content box as the bounds and breaks out at once. The same
# steps without the loop over no shapes; with any float on the page the library's own function runs.
from weasyprint.layout import float as _float  # noqa: E402

LIBRARY_AVOID_COLLISIONS = getattr(_float.avoid_collisions, "library", _float.avoid_collisions)
LIBRARY_AVOID_COLLISIONS_SHA = "5fc7793c573af328"  # WeasyPrint 70.0's avoid_collisions


def avoid_collisions(context, box, containing_block, outer=True):
    """The library's `avoid_collisions`, for a page with no float placed so far without the loop over floats."""
    if context.excluded_shapes or containing_block.style["direction"] != "ltr":
        return LIBRARY_AVOID_COLLISIONS(context, box, containing_block, outer)
    position_y = box.position_y if outer else box.border_box_y()

    if outer:  # as the library, though only the loop over floats reads them
        box.margin_width(), box.margin_height()
    else:
        box.border_width(), box.border_height()

    if box.border_height() == 0 and box.is_floated():
        return 0, position_y, containing_block.width

    # No colliding shape: the default maximum bounds.
    max_left_bound = containing_block.content_box_x()
    max_right_bound = max_left_bound + containing_block.width

    if not outer:
        max_left_bound += box.margin_left
        max_right_bound -= box.margin_right

    assert (
        box.is_floated() or
        isinstance(box, _boxes.LineBox) or
        box.is_table_wrapper or
        isinstance(box, _boxes.BlockReplacedBox) or
        box.establishes_formatting_context())

    # Left to right: the x-position is the left bound, whatever the box's float.
    position_x = max_left_bound
    available_width = max_right_bound - max_left_bound

    if not outer:
        position_x -= box.margin_left
        position_y -= box.margin_top

    return position_x, position_y, available_width


avoid_collisions.library = LIBRARY_AVOID_COLLISIONS


def install_floats() -> bool:
    if _float.avoid_collisions is avoid_collisions:
        return True
    if _source_sha(LIBRARY_AVOID_COLLISIONS) != LIBRARY_AVOID_COLLISIONS_SHA:
        return False
    _swap(LIBRARY_AVOID_COLLISIONS, avoid_collisions)
    return True


def uninstall_floats() -> None:
    _swap(avoid_collisions, LIBRARY_AVOID_COLLISIONS)


# --- first lines ----------------------------------------------------------------------------------------------------
# Every piece of text is fitted to its line by `split_first_line` (Pango lays the text out, then the library tries
# the next word, hyphenation and word breaks): about 15% of a report's CPU. A table's cells are measured for their
# min- and max-content widths and laid out again at their width, a page's content is laid out again when the page
# is remade, and the reports repeat the same words in the same styles ("Low", "Yes", headings, column labels): 78%
# of the calls of a 250-school report ask what an earlier call of the same document asked. The answer is made only
# from the arguments: the text, the widths and flags, the style's values listed in _FIRST_LINE_KEYS (everything the
# function, the Pango layout it sets up and the helpers it calls read from the style; a test records the reads) and
# the document's fonts (`style.font_config`, one per document, as is the layout context that holds the answers
# here). So an earlier answer is given again, its layout a new object with the same attributes (each text box
# draws, and so changes, its own), and a first question asks the library.
from weasyprint.layout import inline as _inline  # noqa: E402
from weasyprint.text import fonts as _fonts  # noqa: E402

LIBRARY_SPLIT_FIRST_LINE = getattr(_line_break.split_first_line, "library", _line_break.split_first_line)
# WeasyPrint 70.0's split_first_line and what it calls that reads the style or makes the layout it returns.
_FIRST_LINE_SHAS = (
    (LIBRARY_SPLIT_FIRST_LINE, "39ad1016863ca34d"), (_line_break.create_layout, "6587192cc0ab3ffa"),
    (_line_break.first_line_metrics, "55ec5d0b58b29a8b"), (_line_break.line_size, "03fa04fd51fc69aa"),
    (_line_break.Layout.set_text, "fe23ca9937dbf520"), (_line_break.Layout.set_tabs, "2ee73daabd64e1aa"),
    (_line_break.Layout.get_first_line, "bb65cbda0e27f135"), (_line_break.Layout.deactivate, "bfec3ec8406e1c82"),
    (_line_break.Layout.__init__, "c17d3975d808536e"), (_fonts.get_font_description, "85734b8947b9bf64"),
    (_fonts.font_features, "e35741064c068852"))
LIBRARY_LAYOUT_SETUP_SHA = "fb227a55094f41d4"  # Layout.setup (text_layout.setup, when installed, reads the same)
_FIRST_LINE_KEYS = (
    "white_space", "font_size", "hyphens", "lang", "hyphenate_limit_chars", "hyphenate_limit_zone",
    "hyphenate_character", "overflow_wrap", "word_break", "word_spacing", "letter_spacing", "tab_size", "direction",
    "font_language_override", "font_family", "font_style", "font_stretch", "font_weight", "font_variant_caps",
    "font_variation_settings", "text_decoration_line", "font_kerning", "font_variant_ligatures",
    "font_variant_position", "font_variant_numeric", "font_variant_alternates", "font_variant_east_asian",
    "font_feature_settings")


def _value_key(value):
    """A style value as a key: a set (text-decoration-line's) as a frozenset, equal as the set is."""
    return frozenset(value) if type(value) is set else value


def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
    """The library's `split_first_line`, a question asked before in the same document answered as before."""
    zone = style["hyphenate_limit_zone"]
    if getattr(zone, "unit", None) is None or context is None:  # calc() may read any property: the library's way
        return LIBRARY_SPLIT_FIRST_LINE(
            text, style, context, max_width, justification_spacing, is_line_start, minimum)
    try:
        key = (text, max_width, justification_spacing, is_line_start, minimum, id(style.font_config),
               *[_value_key(style[name]) for name in _FIRST_LINE_KEYS])
        answers = context.__dict__.setdefault("_first_lines", {})
        held = answers.get(key)
    except TypeError:  # a value that cannot be a key
        return LIBRARY_SPLIT_FIRST_LINE(
            text, style, context, max_width, justification_spacing, is_line_start, minimum)
    if held is None:
        answer = LIBRARY_SPLIT_FIRST_LINE(
            text, style, context, max_width, justification_spacing, is_line_start, minimum)
        layout = answer[0]
        # The font configuration is held with the answer, so its id stays its own while the answer is kept.
        answers[key] = (type(layout), dict(vars(layout)), answer[1:], style.font_config)
        return answer
    layout_type, attributes, rest, _ = held
    layout = layout_type.__new__(layout_type)
    layout.__dict__.update(attributes)
    return (layout, *rest)


split_first_line.library = LIBRARY_SPLIT_FIRST_LINE


def install_first_lines() -> bool:
    if _inline.split_first_line is split_first_line:
        return True
    setup_sha = _source_sha(getattr(_line_break.Layout.setup, "library", _line_break.Layout.setup))
    if setup_sha != LIBRARY_LAYOUT_SETUP_SHA or any(_source_sha(f) != sha for f, sha in _FIRST_LINE_SHAS):
        return False
    # Only where boxes are laid out and measured (inline.py, preferred.py); SVG text keeps the library's.
    _inline.split_first_line = _preferred.split_first_line = split_first_line
    return True


def uninstall_first_lines() -> None:
    if _inline.split_first_line is split_first_line:
        _inline.split_first_line = _preferred.split_first_line = LIBRARY_SPLIT_FIRST_LINE
