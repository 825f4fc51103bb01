"""WeasyPrint's `Layout.setup` (weasyprint/text/line_break.py) with its Pango context and font description made once
per document and kind, not once per piece of text; the same Pango layouts, so the same PDF.

Every piece of text WeasyPrint measures or draws gets a new Pango layout (`Layout.setup`: at layout for each try at
a line, and again at drawing, `Layout.reactivate`): 5% of a 250-school term's reports' CPU (py-spy), ~10 us each.
Each made a new Pango context (the font map's, with the direction and language set) and a new font description
(family, style, stretch, weight, size, variant, variations) from the box's style: about half of the setup's time.
Both are only read by Pango once made: a layout keeps its own reference to its context and copies the description
(`pango_layout_set_font_description` copies it; `pango_context_get_metrics` only reads it), and nothing changes a
context after `setup` (WeasyPrint never asks a layout for its context). So one context per (direction, language) and
one description per font is shared, cached on the document's `FontConfiguration` (its font map is the contexts'),
and everything else is the library's code, in its order. The library's source is checked when this module is
imported: a WeasyPrint whose `Layout.setup` differs from the one this was written for (70.0) keeps its own.
tests/test_render_patches.py compares the bytes of documents laid out and drawn with both.
"""

from __future__ import annotations

import hashlib
import inspect

from weasyprint.text import line_break as _line_break
from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
from weasyprint.text.fonts import font_features, get_font_description

LIBRARY_SETUP = getattr(_line_break.Layout.setup, "library", _line_break.Layout.setup)
# sha256 of inspect.getsource(weasyprint.text.line_break.Layout.setup) in WeasyPrint 70.0, first 16 hex digits.
LIBRARY_SOURCE_SHA = "fb227a55094f41d4"
_FONT_KEYS = ("font_family", "font_style", "font_stretch", "font_weight", "font_size", "font_variant_caps",
              "font_variation_settings")  # what get_font_description reads


def _context(style, font_config):
    """The Pango context and language `setup` makes for this style's direction and language, made once."""
    if style['font_language_override'] != 'normal':
        lang = LST_TO_ISO.get(style['font_language_override'].lower(), style['font_language_override'])
    elif style['lang']:
        lang = style['lang']
    else:
        lang = None
    key = (style['direction'], lang)
    contexts = font_config.__dict__.setdefault("_shared_pango_contexts", {})
    if key not in contexts:
        pango_context = ffi.gc(
            pango.pango_font_map_create_context(font_config.font_map),
            gobject.g_object_unref)
        pango.pango_context_set_round_glyph_positions(pango_context, False)
        pango.pango_context_set_base_dir(
            pango_context, PANGO_DIRECTION[style['direction']])
        if lang:
            lang_p, lang = unicode_to_char_p(lang)
            language = pango.pango_language_from_string(lang_p)
            pango.pango_context_set_language(pango_context, language)
        else:
            language = pango.pango_language_get_default()
        contexts[key] = (pango_context, language)
    return contexts[key]


def _font_description(style, font_config):
    key = tuple(style[name] for name in _FONT_KEYS)
    try:
        hash(key)
    except TypeError:  # a value the cache cannot key on: the library's way, a new one
        return get_font_description(style)
    descriptions = font_config.__dict__.setdefault("_shared_font_descriptions", {})
    if key not in descriptions:
        descriptions[key] = get_font_description(style)
    return descriptions[key]


def setup(self, style):
    """The library's `Layout.setup`, its Pango context and font description shared (see the module's docstring)."""
    self.style = style
    self.first_line_direction = 0

    pango_context, self.language = _context(style, style.font_config)

    assert not isinstance(style['font_family'], str), (
        'font_family should be a list')
    font_description = _font_description(style, style.font_config)
    self.layout = ffi.gc(
        pango.pango_layout_new(pango_context),
        gobject.g_object_unref)
    pango.pango_layout_set_auto_dir(self.layout, False)
    pango.pango_layout_set_font_description(self.layout, font_description)

    text_decoration = style['text_decoration_line']
    if text_decoration != 'none':
        metrics = ffi.gc(
            pango.pango_context_get_metrics(
                pango_context, font_description, self.language),
            pango.pango_font_metrics_unref)
        self.ascent = FROM_UNITS * (
            pango.pango_font_metrics_get_ascent(metrics))
        self.underline_position = FROM_UNITS * (
            pango.pango_font_metrics_get_underline_position(metrics))
        self.strikethrough_position = FROM_UNITS * (
            pango.pango_font_metrics_get_strikethrough_position(metrics))
        self.underline_thickness = FROM_UNITS * (
            pango.pango_font_metrics_get_underline_thickness(metrics))
        self.strikethrough_thickness = FROM_UNITS * (
            pango.pango_font_metrics_get_strikethrough_thickness(metrics))
    else:
        self.ascent = None
        self.underline_position = None
        self.strikethrough_position = None

    features = font_features(
        style['font_kerning'], style['font_variant_ligatures'],
        style['font_variant_position'], style['font_variant_caps'],
        style['font_variant_numeric'], style['font_variant_alternates'],
        style['font_variant_east_asian'], style['font_feature_settings'])
    if features:
        features = ','.join(
            f'{key} {value}' for key, value in features.items()).encode()
        # In the meantime, keep a cache to avoid leaking too many of them.
        attr = style.font_config.font_features.setdefault(
            features, pango.pango_attr_font_features_new(features))
        attr_list = pango.pango_attr_list_new()
        pango.pango_attr_list_insert(attr_list, attr)
        pango.pango_layout_set_attributes(self.layout, attr_list)


setup.library = LIBRARY_SETUP


def library_source_sha() -> str:
    return hashlib.sha256(inspect.getsource(LIBRARY_SETUP).encode()).hexdigest()[:16]


def install() -> bool:
    """Put `setup` in the library's place (idempotent) when the library is the one it was written for."""
    if _line_break.Layout.setup is setup:
        return True
    if library_source_sha() != LIBRARY_SOURCE_SHA:
        return False
    _line_break.Layout.setup = setup
    return True


def uninstall() -> None:
    _line_break.Layout.setup = LIBRARY_SETUP
