"""WeasyPrint's `draw_first_line` (weasyprint/draw/text.py), which writes every line of text into the PDF, with its
loop over the line's glyphs made cheaper; the same PDF operators, byte for byte.

The library reads each glyph's id, width and offsets through cffi one attribute at a time (`glyph_info.glyph`,
`glyph_info.geometry.width`, ...: a cdata object made per access) and looks up Pango's constants, the font's flags and
`FROM_UNITS` again for every glyph: the loop was about 5% of a report's CPU (py-spy, 250 schools). Here a run's
glyph records are read at once (`ffi.buffer`: the C array of `PangoGlyphInfo`, 20 bytes each: an unsigned id and
three signed widths and offsets, then the visual attributes) and the loop keeps what does not change within a run
in local names. Every value and expression is the library's, in the library's order (the floats are the same), and a
font with colour glyphs (SVG, PNG or COLR emoji) goes through the library's own loop, copied unchanged below.

The library's source is checked when this module is imported: a WeasyPrint whose `draw_first_line` differs from the
one this was written for (70.0) keeps its own. tests/test_render_patches.py compares the bytes of documents drawn
with both.
"""

from __future__ import annotations

import hashlib
import inspect
from io import BytesIO
from xml.etree import ElementTree

from PIL import Image
from weasyprint.draw import text as _library_text
from weasyprint.images import RasterImage, SVGImage
from weasyprint.logger import LOGGER
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, pango
from weasyprint.text.fonts import get_hb_object_data
from weasyprint.text.line_break import get_last_word_end

LIBRARY_DRAW_FIRST_LINE = getattr(_library_text.draw_first_line, "library", _library_text.draw_first_line)
# sha256 of inspect.getsource(weasyprint.draw.text.draw_first_line) in WeasyPrint 70.0, first 16 hex digits.
LIBRARY_SOURCE_SHA = "1bb8eae6d88e71b1"
_GLYPH_INFO_SIZE = 20  # guint glyph; gint width, x_offset, y_offset; guint attr bit-field
_LAYOUT_AS_EXPECTED = (ffi.sizeof("PangoGlyphInfo") == _GLYPH_INFO_SIZE
                       and ffi.offsetof("PangoGlyphInfo", "geometry") == 4
                       and ffi.sizeof("PangoGlyphGeometry") == 12
                       and memoryview(b"\0" * 4).cast("I").itemsize == 4 == memoryview(b"\0" * 4).cast("i").itemsize)


def _library_glyphs(stream, textbox, glyph_item, num_glyphs, font, font_size, pango_font, string, x_advance,
                    emojis):
    """The library's loop over one run's glyphs, unchanged (for fonts with colour glyphs)."""
    glyphs_info = glyph_item.glyphs.glyphs
    clusters = glyph_item.glyphs.log_clusters
    utf8_text = None
    for i, glyph_info in enumerate(glyphs_info[0:num_glyphs]):
        glyph_id = glyph_info.glyph
        width = glyph_info.geometry.width

        # Display zero-width empty glyph.
        if glyph_id == pango.PANGO_GLYPH_EMPTY:
            string += f'>{-width / font_size}<'
            continue

        # Display .notdef and log warning for missing glyphs.
        if glyph_id & pango.PANGO_GLYPH_UNKNOWN_FLAG:
            codepoint = glyph_id - pango.PANGO_GLYPH_UNKNOWN_FLAG
            LOGGER.warning(
                '.notdef glyph rendered for Unicode string unsupported by fonts: '
                '"%s" (U+%04X)', chr(codepoint), codepoint)
            glyph_id = font.get_unused_glyph_id(codepoint)
            font.widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
            if 0 not in font.widths:
                font.widths[0] = font.widths[glyph_id]

        # Create mapping between glyphs and Unicode codepoints.
        if glyph_id not in font.to_unicode:
            offset = glyph_item.item.offset
            t1 = clusters[i]
            if glyph_item.item.analysis.level % 2:  # rtl
                t2 = glyph_item.item.length if i == 0 else clusters[i-1]
            else:
                t2 = glyph_item.item.length if i == num_glyphs-1 else clusters[i+1]
            utf8_text = utf8_text or textbox.pango_layout.text.encode()
            font.to_unicode[glyph_id] = utf8_text[offset+t1:offset+t2].decode()

        # Set horizontal and vertical offsets.
        offset = glyph_info.geometry.x_offset / font_size
        rise = glyph_info.geometry.y_offset / 1000
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
            string += f'<{glyph_id:02x}>' if font.bitmap else f'<{glyph_id:04x}>'
            stream.show_text(string)
            stream.set_text_rise(0)
            string = '<'
        else:
            if offset:
                string += f'>{-offset}<'
            string += f'{glyph_id:02x}' if font.bitmap else f'{glyph_id:04x}'

        # Get glyph logical widths.
        if glyph_id in font.widths:
            logical_width = font.widths[glyph_id]
        else:
            pango.pango_font_get_glyph_extents(
                pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
            logical_width = font.widths[glyph_id] = round(
                stream.logical_rect.width * 1000 * FROM_UNITS / font_size)

        # Set kerning, word spacing, letter spacing.
        kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
        if kerning:
            string += f'>{int(kerning)}<'

        # Create list of emojis.
        if font.svg:
            svg_data = get_hb_object_data(font.hb_face, 'svg', glyph_id)
            if svg_data:
                tree = ElementTree.fromstring(svg_data)
                if tree.get('id') != f'glyph{glyph_id}':
                    defs = ElementTree.Element('defs')
                    for child in list(tree):
                        defs.append(child)
                        tree.remove(child)
                    tree.append(defs)
                    ElementTree.SubElement(
                        tree, 'use', attrib={'href': f'#glyph{glyph_id}'})
                if 'viewBox' not in tree.attrib:
                    tree.attrib['viewBox'] = f'0 0 {font.upem} {font.upem}'
                image = SVGImage(tree, None, None, None)
                a = d = 1
                emojis.append([image, font, a, d, x_advance, 0])
        elif font.png:
            png_data = get_hb_object_data(font.hb_font, 'png', glyph_id)
            if png_data:
                pillow_image = Image.open(BytesIO(png_data))
                image_id = f'{font.hash}{glyph_id}'
                image = RasterImage(pillow_image, image_id, png_data)
                d = logical_width / 1000
                a = pillow_image.width / pillow_image.height * d
                pango.pango_font_get_glyph_extents(
                    pango_font, glyph_id, stream.ink_rect,
                    stream.logical_rect)
                f = -stream.logical_rect.y
                f = f * FROM_UNITS / font_size - font_size
                emojis.append([image, font, a, d, x_advance, f])
        elif font.colr:
            svg_data = get_hb_object_data(font.hb_font, 'colr', glyph_id)
            if svg_data:
                tree = ElementTree.fromstring(svg_data)
                image = SVGImage(tree, None, None, None)
                a = d = 1
                e = x_advance - kerning
                emojis.append([image, font, a, d, e, -textbox.baseline])

        x_advance += (logical_width + offset - kerning) / 1000
    return string, x_advance


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
    for i in range(num_glyphs):
        glyph_id = glyph_ids[i]
        width = widths[i]

        if glyph_id == empty:
            string += f'>{-width / font_size}<'
            continue

        if glyph_id & unknown:
            codepoint = glyph_id - unknown
            LOGGER.warning(
                '.notdef glyph rendered for Unicode string unsupported by fonts: '
                '"%s" (U+%04X)', chr(codepoint), codepoint)
            glyph_id = font.get_unused_glyph_id(codepoint)
            font_widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
            if 0 not in font_widths:
                font_widths[0] = font_widths[glyph_id]

        if glyph_id not in to_unicode:
            item = glyph_item.item
            clusters = glyph_item.glyphs.log_clusters
            offset = item.offset
            t1 = clusters[i]
            if item.analysis.level % 2:  # rtl
                t2 = item.length if i == 0 else clusters[i-1]
            else:
                t2 = item.length if i == num_glyphs-1 else clusters[i+1]
            utf8_text = utf8_text or textbox.pango_layout.text.encode()
            to_unicode[glyph_id] = utf8_text[offset+t1:offset+t2].decode()

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
        else:
            pango.pango_font_get_glyph_extents(
                pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
            logical_width = font_widths[glyph_id] = round(
                stream.logical_rect.width * 1000 * FROM_UNITS / font_size)

        kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
        if kerning:
            string += f'>{int(kerning)}<'

        x_advance += (logical_width + offset - kerning) / 1000
    return string, x_advance


def draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    """Draw the given ``textbox`` line to the document ``stream``: the library's function, its glyph loop in
    `_glyphs` (or `_library_glyphs` for colour fonts)."""
    # Don’t draw lines with only invisible characters.
    if not textbox.text.strip():
        return []

    if textbox.style['font_size'] < 1e-6:  # default float precision used by pydyf
        return []

    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)

    if text_overflow == 'ellipsis' or block_ellipsis != 'none':
        assert textbox.pango_layout.max_width is not None
        max_width = textbox.pango_layout.max_width
        pango.pango_layout_set_width(
            textbox.pango_layout.layout, int(max_width * TO_UNITS))
        if text_overflow == 'ellipsis':
            pango.pango_layout_set_ellipsize(
                textbox.pango_layout.layout, pango.PANGO_ELLIPSIZE_END)
        else:
            if block_ellipsis == 'auto':
                ellipsis = '…'
            else:
                assert block_ellipsis[0] == 'string'
                ellipsis = block_ellipsis[1]

            # Remove last word if hyphenated.
            new_text = textbox.pango_layout.text
            if new_text.endswith(textbox.style['hyphenate_character']):
                last_word_end = get_last_word_end(
                    new_text[:-len(textbox.style['hyphenate_character'])],
                    textbox.style['lang'])
                if last_word_end:
                    new_text = new_text[:last_word_end]

            textbox.pango_layout.set_text(new_text + ellipsis)

    first_line, index = textbox.pango_layout.get_first_line()

    if block_ellipsis != 'none':
        while index:
            last_word_end = get_last_word_end(
                textbox.pango_layout.text[:-len(ellipsis)],
                textbox.style['lang'])
            if last_word_end is None:
                break
            new_text = textbox.pango_layout.text[:last_word_end]
            textbox.pango_layout.set_text(new_text + ellipsis)
            first_line, index = textbox.pango_layout.get_first_line()

    stream.set_text_matrix(*matrix.values)
    previous_pango_font = None
    string = ''
    x_advance = 0
    emojis = []
    run = first_line.runs[0]
    while run != ffi.NULL:
        # Get Pango objects.
        glyph_item = run.data
        run = run.next
        num_glyphs = glyph_item.glyphs.num_glyphs

        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:
            # Add font file content and get font size.
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)

            # Workaround for https://gitlab.gnome.org/GNOME/pango/-/issues/530.
            # This is also needed by raster emoji fonts, see #2800.
            if pango.pango_version() < 14802 or font.png:
                font_size = textbox.style['font_size']

            # Go through the run glyphs.
            if string:
                stream.show_text(string)
            string = ''
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        string += '<'
        if font.svg or font.png or font.colr:
            string, x_advance = _library_glyphs(
                stream, textbox, glyph_item, num_glyphs, font, font_size, pango_font, string, x_advance, emojis)
        elif num_glyphs > 0:
            string, x_advance = _glyphs(
                stream, textbox, glyph_item, num_glyphs, font, font_size, pango_font, string, x_advance)

        # Close the last glyphs list, remove if empty.
        if string[-1] == '<':
            string = string[:-1]
        else:
            string += '>'

    # Draw text.
    stream.show_text(string)

    return emojis


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
