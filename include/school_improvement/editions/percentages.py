"""WeasyPrint's `resolve_percentages` (weasyprint/layout/percent.py) in one function: the same used values.

The layout calls it for every box each time the box is laid out (table cells several times, for their widths and
then their rows), about 4% of a report's CPU. The library resolves each of 14 properties through two calls
(`resolve_one_percentage`, then `percentage`) that read `box.style` again each time. Here the same steps run inline
in the same order: a length in px is its value, a percentage is `refer_to * value / 100` (the library's expression),
anything else (calc(), other units) goes through the library's own `percentage`; 'auto' min-widths become 0; the
heights and border widths as the library sets them; `adjust_box_sizing` is the library's, skipped only for
`content-box`, where it changes nothing. tests/test_render_patches.py checks every box of a document against the
library's result and compares the PDFs' bytes.
"""

from __future__ import annotations

import sys
from math import inf

from weasyprint.css.functions import check_math
from weasyprint.formatting_structure import boxes
from weasyprint.layout import percent as _percent

LIBRARY_RESOLVE_PERCENTAGES = getattr(_percent.resolve_percentages, "library", _percent.resolve_percentages)
_percentage = _percent.percentage
_adjust_box_sizing = _percent.adjust_box_sizing
_Box, _PageBox = boxes.Box, boxes.PageBox
_BORDERS = tuple(f"border_{side}_width" for side in ("top", "right", "bottom", "left"))


def resolve_percentages(box, containing_block):
    """Set used values as attributes of the box object (the library's function, inline)."""
    if isinstance(containing_block, _Box):
        cb_width = containing_block.width
        cb_height = containing_block.height
    else:
        cb_width, cb_height = containing_block
    maybe_height = cb_height if isinstance(box, _PageBox) else cb_width
    style = box.style
    for name, refer_to in (("margin_left", cb_width), ("margin_right", cb_width),
                           ("margin_top", maybe_height), ("margin_bottom", maybe_height),
                           ("padding_left", cb_width), ("padding_right", cb_width),
                           ("padding_top", maybe_height), ("padding_bottom", maybe_height),
                           ("width", cb_width), ("min_width", cb_width), ("max_width", cb_width)):
        value = style[name]
        if value is not None and value != "auto":
            unit = getattr(value, "unit", None)
            if unit == "px":
                value = value.value
            elif unit == "%":
                value = refer_to * value.value / 100
            else:
                value = _percentage(value, style, refer_to)
        setattr(box, name, value)
        if value == "auto" and name == "min_width":
            box.min_width = 0

    if cb_height == "auto":
        height = style["height"]
        if height == "auto" or check_math(height) or height.unit == "%":
            box.height = "auto"
        else:
            assert height.unit.lower() == "px"
            box.height = height.value
        heights = (("min_height", 0), ("max_height", inf))
    else:
        heights = (("height", cb_height), ("min_height", cb_height), ("max_height", cb_height))
    for name, refer_to in heights:
        value = style[name]
        if value is not None and value != "auto":
            unit = getattr(value, "unit", None)
            if unit == "px":
                value = value.value
            elif unit == "%":
                value = refer_to * value.value / 100
            else:
                value = _percentage(value, style, refer_to)
        setattr(box, name, value)
        if value == "auto" and name == "min_height":
            box.min_height = 0

    collapse = style["border_collapse"] == "collapse"
    for prop in _BORDERS:
        if not (collapse and hasattr(box, prop)):
            setattr(box, prop, style[prop])

    if style["box_sizing"] != "content-box":
        _adjust_box_sizing(box, "width")
        _adjust_box_sizing(box, "height")


resolve_percentages.library = LIBRARY_RESOLVE_PERCENTAGES


def _modules_holding(function):
    return [m for name, m in list(sys.modules.items())
            if name.startswith("weasyprint.") and getattr(m, "resolve_percentages", None) is function]


def install() -> None:
    """Ours in place of the library's, in its module and in every WeasyPrint module that imported it by name."""
    for module in _modules_holding(LIBRARY_RESOLVE_PERCENTAGES):
        module.resolve_percentages = resolve_percentages


def uninstall() -> None:
    for module in _modules_holding(resolve_percentages):
        module.resolve_percentages = LIBRARY_RESOLVE_PERCENTAGES
