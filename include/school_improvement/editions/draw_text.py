"""WeasyPrint's `draw_first_line` (weasyprint/draw/text.py), which writes every line of text into the PDF, with its
loop over the line's glyphs made cheaper; the same PDF operators, byte for byte.

The library reads each glyph's id, width and offsets through cffi one attribute at a time (`glyph_info.glyph`,
`glyph_info.geometry.width`, ...: a cdata object made per access) and looks up Pango's constants, the font's flags and
`FROM_UNITS` again for every glyph: the loop was about 5% of a report's CPU (py-spy, 250 schools). Here a run's
glyph records are read at once (`ffi.buffer`: the C array of `PangoGlyphInfo`, 20 bytes each: an unsigned id and
three signed widths and offsets, then the visual attributes) and the loop keeps what does not change within a run
in local names. Every value and expression is the library's, in the library's order (the floats are the same). A
line with an ellipsis or with a font that has colour glyphs (SVG, PNG or COLR emoji) is drawn by the library's own
function, not a copy of it.

The library's source is checked when this module is imported: a WeasyPrint whose `draw_first_line` differs from the
one this was written for (70.0) keeps its own. tests/test_render_patches.py compares the bytes of documents drawn
with both.
"""

from __future__ import annotations

import hashlib
import inspect

from weasyprint.draw import text as _library_text
from weasyprint.logger import LOGGER
from weasyprint.text.ffi import FROM_UNITS, ffi, pango

LIBRARY_DRAW_FIRST_LINE = getattr(_library_text.draw_first_line, "library", _library_text.draw_first_line)
# sha256 of inspect.getsource(weasyprint.draw.text.draw_first_line) in WeasyPrint 70.0, first 16 hex digits.
LIBRARY_SOURCE_SHA = "1bb8eae6d88e71b1"
_GLYPH_INFO_SIZE = 20  # guint glyph; gint width, x_offset, y_offset; guint attr bit-field
_LAYOUT_AS_EXPECTED = (ffi.sizeof("PangoGlyphInfo") == _GLYPH_INFO_SIZE
                       and ffi.offsetof("PangoGlyphInfo", "geometry") == 4
                       and ffi.sizeof("PangoGlyphGeometry") == 12
                       and memoryview(b"\0" * 4).cast("I").itemsize == 4 == memoryview(b"\0" * 4).cast("i").itemsize)


def _glyphs(stream, textbox, glyph_item, num_glyphs, font, font_size, pango_font, string, x_advance):
    """The library's loop for a font without colour glyphs, reading the glyph records at once."""
    records = memoryview(ffi.buffer(glyph_item.glyphs.glyphs, num_glyphs * _GLYPH_INFO_SIZE))
    signed = records.cast("i")
    glyph_ids = records.cast("I")[0::5].tolist()
    widths = signed[1::5].tolist()
    x_offsets = signed[2::5].tolist()
    y_offsets = signed[3::5].tolist()
    empty, unknown = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
    to_unicode, font_widths, bitmap = font.to_unicode, font.widths, font.bitmap
    utf8_text = None
    noting = stream.effects if type(stream) is _Recorder and stream.glyphs else None
    if noting is not None:
        noting.append((stream.font_keys[id(font)],))
    for i in range(num_glyphs):
        glyph_id = glyph_ids[i]
        width = widths[i]

        if glyph_id == empty:
            string += f'>{-width / font_size}<'
            continue

        if glyph_id & unknown:
            if type(stream) is _Recorder:  # the line logs a warning: drawn by the library's steps every time
                stream.notdef = True
            codepoint = glyph_id - unknown
            LOGGER.warning(
                '.notdef glyph rendered for Unicode string unsupported by fonts: '
                '"%s" (U+%04X)', chr(codepoint), codepoint)
            glyph_id = font.get_unused_glyph_id(codepoint)
            font_widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
            if 0 not in font_widths:
                font_widths[0] = font_widths[glyph_id]

        if glyph_id not in to_unicode:
            start, end = _cluster_span(glyph_item, num_glyphs, i)
            utf8_text = utf8_text or textbox.pango_layout.text.encode()
            to_unicode[glyph_id] = utf8_text[start:end].decode()

        offset = x_offsets[i] / font_size
        rise = y_offsets[i] / 1000
        if rise:
            if string[-1] == '<':
                string = string[:-1]
            else:
                string += '>'
            if string:
                stream.show_text(string)
            stream.set_text_rise(-rise)
            string = ''
            if offset:
                string = f'{-offset}'
            string += f'<{glyph_id:02x}>' if bitmap else f'<{glyph_id:04x}>'
            stream.show_text(string)
            stream.set_text_rise(0)
            string = '<'
        else:
            if offset:
                string += f'>{-offset}<'
            string += f'{glyph_id:02x}' if bitmap else f'{glyph_id:04x}'

        if glyph_id in font_widths:
            logical_width = font_widths[glyph_id]
            if noting is not None:  # the width this line gives the glyph in a font it is new to
                pango.pango_font_get_glyph_extents(
                    pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
                own_width = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
        else:
            pango.pango_font_get_glyph_extents(
                pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
            logical_width = own_width = font_widths[glyph_id] = round(
                stream.logical_rect.width * 1000 * FROM_UNITS / font_size)

        if noting is not None:  # the width used, the width and text it gives a font it is new to
            utf8_text = utf8_text or textbox.pango_layout.text.encode()
            noting.append((glyph_id, logical_width, own_width,
                           _glyph_text(glyph_item, num_glyphs, i, utf8_text, stream)))

        kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
        if kerning:
            string += f'>{int(kerning)}<'

        x_advance += (logical_width + offset - kerning) / 1000
    return string, x_advance


def _cluster_span(glyph_item, num_glyphs, i):
    """The byte span of the layout's text that glyph `i` stands for (its cluster), as the library's loop finds it."""
    item = glyph_item.item
    clusters = glyph_item.glyphs.log_clusters
    offset = item.offset
    t1 = clusters[i]
    if item.analysis.level % 2:  # rtl
        t2 = item.length if i == 0 else clusters[i-1]
    else:
        t2 = item.length if i == num_glyphs-1 else clusters[i+1]
    return offset + t1, offset + t2


def _glyph_text(glyph_item, num_glyphs, i, utf8_text, recorder):
    """The text the library maps glyph `i` to when it is new to its font (its cluster's bytes)."""
    start, end = _cluster_span(glyph_item, num_glyphs, i)
    try:
        return utf8_text[start:end].decode()
    except UnicodeDecodeError:  # the library would fail drawing this line into a font new to the glyph: not noted
        recorder.other = True


def draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    """Draw the given ``textbox`` line to the document ``stream``: the library's function, its glyph loop in
    `_glyphs`. A line with an ellipsis, or with a font that has colour glyphs (emoji), is drawn by the library's own
    function: neither occurs in the reports, and the library's code is then the one that runs."""
    # Don’t draw lines with only invisible characters.
    if not textbox.text.strip():
        return []

    if textbox.style['font_size'] < 1e-6:  # default float precision used by pydyf
        return []

    if text_overflow == 'ellipsis' or block_ellipsis != 'none':  # before the layout is changed for the ellipsis
        return LIBRARY_DRAW_FIRST_LINE(stream, textbox, text_overflow, block_ellipsis, matrix)

    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _ = textbox.pango_layout.get_first_line()

    # The line's runs with their fonts, in the library's order (`add_font` is cached by font: calling it here first
    # adds the same fonts to the stream in the same order); a colour font hands the line to the library.
    runs = []
    previous_pango_font = None
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        pango_font = glyph_item.item.analysis.font
        new_font = pango_font != previous_pango_font
        if new_font:
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)
            if font.svg or font.png or font.colr:
                return LIBRARY_DRAW_FIRST_LINE(stream, textbox, text_overflow, block_ellipsis, matrix)
            # Workaround for https://gitlab.gnome.org/GNOME/pango/-/issues/530.
            if pango.pango_version() < 14802:
                font_size = textbox.style['font_size']
        runs.append((glyph_item, glyph_item.glyphs.num_glyphs, new_font, font, font_size, pango_font))

    stream.set_text_matrix(*matrix.values)
    string = ''
    x_advance = 0
    for glyph_item, num_glyphs, new_font, font, font_size, pango_font in runs:
        if new_font:
            # Go through the run glyphs.
            if string:
                stream.show_text(string)
            string = ''
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        string += '<'
        if num_glyphs > 0:
            string, x_advance = _glyphs(
                stream, textbox, glyph_item, num_glyphs, font, font_size, pango_font, string, x_advance)

        # Close the last glyphs list, remove if empty.
        if string[-1] == '<':
            string = string[:-1]
        else:
            string += '>'

    # Draw text.
    stream.show_text(string)

    if type(stream) is _Recorder:
        stream.fast = True
    return []


draw_first_line.library = LIBRARY_DRAW_FIRST_LINE


def library_source_sha() -> str:
    return hashlib.sha256(inspect.getsource(LIBRARY_DRAW_FIRST_LINE).encode()).hexdigest()[:16]


def install() -> bool:
    """Put `draw_first_line` in the library's place (idempotent) when the library is the one it was written for."""
    if _library_text.draw_first_line is draw_first_line:
        return True
    if not _LAYOUT_AS_EXPECTED or library_source_sha() != LIBRARY_SOURCE_SHA:
        return False
    _library_text.draw_first_line = draw_first_line
    return True


# --- drawn lines ----------------------------------------------------------------------------------------------------
# `draw_text` draws each text box: it sets the box's Pango layout up again (`Layout.reactivate`: a new Pango layout
# of the box's text, shaped again), and `draw_first_line` reads its glyphs and writes them as PDF operators: about
# 7% of a report's CPU, and 83% of a 250-school report's text boxes draw a line an earlier box of the same document
# drew (the same words in the same styles: table cells, labels, headings). The operators written after the text
# matrix are made only from the Pango layout (set up from the box's text, its layout's text and justification
# spacing, and the style values `split_first_line`'s key lists: what `Layout.setup` and `set_text` read) and from
# the document's fonts, whose glyph widths and Unicode texts are filled in when a glyph is first drawn and never
# change after. So a line drawn by `draw_first_line` in full is noted (the calls it makes on the stream: font and
# size, text runs, rises), and a later box with the same text and values, drawn into the same document's fonts, makes
# the same calls on its stream, at its own place, without the Pango layout. Pages written again from the same layout
# into a file of their own (the drafts' per-school files: new fonts, filled in from nothing) are drawn from the same
# notes, each line's glyphs first given to the file's fonts they are new to as the library's loop gives them (their
# text, then their width, each only when the font has none); a line with a font the file has not met yet is drawn
# in full. A line drawn by the library's own function (an ellipsis, a colour font), with a glyph no font has (a
# warning each time), or with emojis is never noted. The rest of `draw_text` (colour, decorations, emojis) is the
# library's code.
from weasyprint.draw import text as _draw_text_module  # noqa: E402
from weasyprint.matrix import Matrix  # noqa: E402
from weasyprint.text.fonts import get_pango_font_key  # noqa: E402

LIBRARY_DRAW_TEXT = getattr(_library_text.draw_text, "library", _library_text.draw_text)
LIBRARY_DRAW_TEXT_SHA = "ebaf96239c6ca363"  # sha256 of inspect.getsource(draw_text) in WeasyPrint 70.0


class _Recorder:
    """The stream as `draw_first_line` sees it: every call passed on, the operators after the text matrix noted."""

    def __init__(self, stream, glyphs=False):
        self._stream = stream
        self.glyphs = glyphs  # whether the glyphs' effects on the fonts are noted (for pages drawn again)
        self.calls = []
        self.matrix = self.fast = self.notdef = self.other = False
        self.effects = []  # the fonts and glyphs the line draws, in the order of the library's loop
        self.font_keys = {}


    @property
    def ink_rect(self):
        return self._stream.ink_rect

    @property
    def logical_rect(self):
        return self._stream.logical_rect

    def add_font(self, pango_font):
        font, font_size = self._stream.add_font(pango_font)
        if self.glyphs:
            self.font_keys[id(font)] = get_pango_font_key(pango_font)[0]  # the font's key in the document's fonts
        return font, font_size

    def set_text_matrix(self, *values):
        if self.matrix or self.calls:
            self.other = True
        self.matrix = True
        self._stream.set_text_matrix(*values)

    def set_font_size(self, font, size):
        self.calls.append(("set_font_size", font, size))
        self._stream.set_font_size(font, size)

    def show_text(self, string):
        self.calls.append(("show_text", string))
        self._stream.show_text(string)

    def set_text_rise(self, height):
        self.calls.append(("set_text_rise", height))
        self._stream.set_text_rise(height)

    def __getattr__(self, name):  # anything else: passed on, and the line is not noted
        self.other = True
        return getattr(self._stream, name)


def _line_key(stream, textbox, text_overflow, block_ellipsis):
    """(the document's noted lines, the key of this box's line), or None for a line that is always drawn in full."""
    if text_overflow == "ellipsis" or block_ellipsis != "none":
        return None
    from .layout_patches import _FIRST_LINE_KEYS, _value_key

    style, layout = textbox.style, textbox.pango_layout
    shared = style.font_config.__dict__.setdefault("_line_shared", {})
    try:
        values = tuple([_value_key(style[name]) for name in _FIRST_LINE_KEYS])
        key = (textbox.text, layout.text, layout.justification_spacing, shared.setdefault(values, values))
    except (TypeError, AttributeError):
        return None
    fonts = stream._fonts
    noted = style.font_config.__dict__.setdefault("_drawn_lines", {})
    held = noted.get(id(fonts))
    if held is None or held[0] is not fonts:  # the fonts are held, so their id stays their own
        held = noted[id(fonts)] = (fonts, set())
    return style.font_config.__dict__.setdefault("_line_notes", {}), held[1], key


def _apply(fonts, effects) -> bool:
    """The line's glyphs given to the fonts they are new to, as the library's loop gives them (its text first, then
    its width, each only if the font has none). False, changing nothing, if one of its fonts is not in `fonts` yet
    (then the line is drawn in full, which adds it), or if a glyph's width in these fonts is not the one the noted
    operators were written with (a font's width of a glyph is the one the first line drawing it gave, at that
    line's size: the kerning written depends on it)."""
    if effects is None:
        return False
    given = {}
    for effect in effects:  # the library's loop, checked first: the widths it would read
        if len(effect) == 1:
            font = fonts.get(effect[0])
            if font is None:
                return False
            widths = font.widths
            continue
        glyph_id, used, own, _ = effect
        width = given.setdefault((id(widths), glyph_id), widths.get(glyph_id, own))
        if width != used:
            return False
    for effect in effects:
        if len(effect) == 1:
            font = fonts[effect[0]]
            to_unicode, widths = font.to_unicode, font.widths
            continue
        glyph_id, _, own, text = effect
        if glyph_id not in to_unicode:
            to_unicode[glyph_id] = text
        if glyph_id not in widths:
            widths[glyph_id] = own
    return True


def draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis):
    """Draw a textbox to a pydyf stream: the library's `draw_text`, a line drawn before in the same document written
    again from its notes."""
    from weasyprint.layout.percent import percentage
    get_color = _draw_text_module.get_color
    draw_text_decoration = _draw_text_module.draw_text_decoration
    draw_emojis = _draw_text_module.draw_emojis

    # Pango crashes with font-size: 0.
    assert textbox.style['font_size']

    # Don’t draw invisible textboxes.
    if textbox.style['visibility'] != 'visible':
        return

    # Draw underline and overline.
    text_decoration_values = textbox.style['text_decoration_line']
    text_decoration_color = get_color(textbox.style, 'text_decoration_color')
    if 'underline' in text_decoration_values or 'overline' in text_decoration_values:
        if textbox.style['text_decoration_thickness'] in ('auto', 'from-font'):
            thickness = textbox.pango_layout.underline_thickness
        else:
            thickness = percentage(
                textbox.style['text_decoration_thickness'], textbox.style,
                textbox.style['font_size'])
    if 'overline' in text_decoration_values:
        offset_y = (
            textbox.baseline - textbox.pango_layout.ascent + thickness / 2)
        draw_text_decoration(
            stream, textbox, offset_x, offset_y, thickness,
            text_decoration_color)
    if 'underline' in text_decoration_values:
        if textbox.style['text_underline_offset'] == 'auto':
            underline_offset = - textbox.pango_layout.underline_position
        else:
            underline_offset = percentage(
                textbox.style['text_underline_offset'], textbox.style,
                textbox.style['font_size'])
        offset_y = textbox.baseline + underline_offset + thickness / 2
        draw_text_decoration(
            stream, textbox, offset_x, offset_y, thickness,
            text_decoration_color)

    # Draw text.
    x, y = textbox.position_x, textbox.position_y + textbox.baseline
    stream.set_color(textbox.style['color'])
    found = _line_key(stream, textbox, text_overflow, block_ellipsis)
    held = found[0].get(found[2]) if found else None
    if held is not None and found[2] not in found[1]:  # drawn before, into other fonts (another file's)
        if _apply(stream._fonts, held[4]):
            found[1].add(found[2])
        else:
            held = None
    if held is not None:
        # The calls `draw_first_line` made for this line, at this box's place, without setting a Pango layout up;
        # the box's layout is left with the attributes the library's set-up and release leave on it.
        matrix, calls, after, after_text, _ = held
        textbox.pango_layout.__dict__.update(after)
        textbox.pango_layout.text = after_text
        stream.begin_text()
        if matrix:
            stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)
        for name, *args in calls:
            getattr(stream, name)(*args)
        stream.end_text()
        draw_emojis(stream, textbox.style, x, y, [])
        if 'line-through' in text_decoration_values:  # the box's layout's metrics, as set up at layout
            thickness = textbox.pango_layout.strikethrough_thickness
            offset_y = textbox.baseline - textbox.pango_layout.strikethrough_position
            draw_text_decoration(
                stream, textbox, offset_x, offset_y, thickness, text_decoration_color)
        return
    textbox.pango_layout.reactivate(textbox.style)
    stream.begin_text()
    recorder = _Recorder(stream, textbox.style.font_config.__dict__.get("_lines_drawn_again")) if found else stream
    emojis = _draw_text_module.draw_first_line(
        recorder, textbox, text_overflow, block_ellipsis, Matrix(d=-1, e=x, f=y))
    stream.end_text()

    # Draw emojis.
    draw_emojis(stream, textbox.style, x, y, emojis)

    # Draw line through.
    if 'line-through' in text_decoration_values:
        thickness = textbox.pango_layout.strikethrough_thickness
        offset_y = textbox.baseline - textbox.pango_layout.strikethrough_position
        draw_text_decoration(
            stream, textbox, offset_x, offset_y, thickness, text_decoration_color)
    textbox.pango_layout.deactivate()
    if found and not emojis and (recorder.fast or not (recorder.matrix or recorder.calls)) and not (
            recorder.notdef or recorder.other):
        # What reactivate, get_first_line and deactivate left on the layout (its text, first line's direction,
        # metrics): made from the key's values, as the calls are. Its width is the box's own.
        # Kept once for all the lines that leave the same (most lines of a style), their text apart.
        after = tuple((name, value) for name, value in vars(textbox.pango_layout).items()
                      if name not in ("max_width", "text"))
        shared = textbox.style.font_config.__dict__["_line_shared"]
        effects = tuple(recorder.effects) if textbox.style.font_config.__dict__.get("_lines_drawn_again") else None
        try:
            after = shared.setdefault(after, after)
        except TypeError:  # a value that cannot be a key: kept for this line alone
            pass
        found[0][found[2]] = (recorder.matrix, tuple(recorder.calls), after, textbox.pango_layout.text, effects)
        found[1].add(found[2])


draw_text.library = LIBRARY_DRAW_TEXT


def install_drawn_lines() -> bool:
    """Put `draw_text` in the library's place (idempotent) when the library is the one it was written for."""
    if _library_text.draw_text is draw_text:
        return True
    if hashlib.sha256(inspect.getsource(LIBRARY_DRAW_TEXT).encode()).hexdigest()[:16] != LIBRARY_DRAW_TEXT_SHA:
        return False
    if _library_text.draw_first_line is not draw_first_line:  # the notes are of what this module's function calls
        return False
    import weasyprint.draw as _draw

    _library_text.draw_text = _draw.draw_text = draw_text
    return True


def uninstall_drawn_lines() -> None:
    import weasyprint.draw as _draw

    if _library_text.draw_text is draw_text:
        _library_text.draw_text = _draw.draw_text = LIBRARY_DRAW_TEXT


def forget_lines(font_config) -> None:
    """Drop the document's notes of drawn lines (when no page of it will be drawn again): their memory back."""
    for name in ("_line_notes", "_drawn_lines", "_line_shared"):
        font_config.__dict__.pop(name, None)


def lines_drawn_again(font_config) -> None:
    """Pages of this document will be written again into files of their own (`Document.copy`): its lines' notes
    also keep what their glyphs give the fonts, so those files draw them from the notes too."""
    font_config.__dict__["_lines_drawn_again"] = True
