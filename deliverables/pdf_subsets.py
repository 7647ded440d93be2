"""The embedded font's subsets, each made, compressed and formatted once a process.

A PDF embeds a TrueType font as subsets of up to 256 characters, numbered in the order the document first uses them;
reportlab makes each subset's font program (a TrueType file of its glyphs) and compresses it in every document. A
village's task pack is a few cards long, so that was most of a pack's time. A document that starts by using the same
characters (``build_pdf``'s ``first_text``: the task pack's form) has the same first subset as every other such
document, and its program is made once; so are its widths, written as numbers one by one, and its compressed
ToUnicode map.

This module imports reportlab at the top: deliverables/pdf.py imports it only when a PDF is written.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable
from functools import cache, partial
from typing import TypeVar

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont, TTFontFace

KEPT = 8  # programs (and widths, maps) kept: the shared first subsets stay, as every document asks for them again
T = TypeVar("T")


def share_subset_programs(font: TTFont) -> TTFont:
    """``font``, whose documents take each subset's compressed program from the ones made before in this process.
    The font file's tables are sliced out once: making a subset copies several whole (the glyphs' among them)."""
    font.face.get_table = cache(font.face.get_table)
    font.face.addSubsetObjects = partial(_subset_objects, font.face, OrderedDict())
    font.addObjects = partial(_add_objects, font.addObjects, OrderedDict())
    return font


def _kept(made: OrderedDict, key, make: Callable[[], T]) -> T:
    """``made[key]``, made by ``make`` when it is not there; the KEPT used last stay."""
    value = made.get(key)
    if value is None:
        value = made[key] = make()
        if len(made) > KEPT:
            made.popitem(last=False)
    else:
        made.move_to_end(key)
    return value


def _program(face: TTFontFace, programs: OrderedDict, subset: list[int]) -> tuple[int, bytes]:
    """The subset's font program: its length, and its bytes compressed."""

    def make() -> tuple[int, bytes]:
        raw = face.makeSubset(subset)
        return len(raw), zlib.compress(raw)

    return _kept(programs, tuple(subset), make)


def _flate() -> pdfdoc.PDFArray:
    """The filter of a stream whose content is already compressed, as ``PDFStream.format`` names it."""
    return pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])


class _Formatted(pdfdoc.PDFObject):
    """A PDF object already written: its bytes."""

    def __init__(self, written: bytes) -> None:
        self.written = written

    def format(self, document) -> bytes:
        return self.written


def _add_objects(add_objects: Callable, made: OrderedDict, doc) -> None:
    """``TTFont.addObjects``, then each subset font's widths and ToUnicode map taken, to the byte, as written before:
    the widths as ``PDFArray.format`` writes them, the map's stream compressed as ``PDFStream.format`` compresses it
    (neither depends on the document)."""
    add_objects(doc)
    for font in doc.idToObject["BasicFonts"].dict.values():
        widths = getattr(font, "Widths", None)
        if type(widths) is pdfdoc.PDFArray:
            key = ("widths", rl_config.pdfMultiLine, *widths.sequence)  # the setting PDFArray.format reads
            font.Widths = _Formatted(_kept(made, key, partial(widths.format, doc)))
        to_unicode = getattr(font, "ToUnicode", None)
        stream = doc.idToObject.get(to_unicode.name) if to_unicode is not None else None
        if stream is not None and stream.filters == [pdfdoc.PDFZCompress] and "Filter" not in stream.dictionary.dict:
            stream.content = _kept(
                made, ("to_unicode", stream.content), partial(zlib.compress, stream.content.encode("utf8"))
            )
            stream.dictionary["Filter"] = _flate()


def _subset_objects(face: TTFontFace, programs: OrderedDict, doc, fontname: str, subset: list[int]):
    """What ``TTFontFace.addSubsetObjects`` adds to the document, to the byte: the font file stream (compressed, as
    its filter says) and the FontDescriptor referring to it."""
    raw_length, compressed = _program(face, programs, subset)
    font_file = pdfdoc.PDFStream()
    font_file.dictionary["Length1"] = raw_length
    if doc.compression:
        font_file.content = compressed
        font_file.dictionary["Filter"] = _flate()
    else:
        font_file.content = zlib.decompress(compressed)
    font_file_ref = doc.Reference(font_file, f"fontFile:{face.filename}({fontname})")
    descriptor = pdfdoc.PDFDictionary(
        {
            "Type": "/FontDescriptor",
            "Ascent": face.ascent,
            "CapHeight": face.capHeight,
            "Descent": face.descent,
            "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(face.bbox),
            "FontName": pdfdoc.PDFName(fontname),
            "ItalicAngle": face.italicAngle,
            "StemV": face.stemV,
            "FontFile2": font_file_ref,
            "MissingWidth": face.defaultWidth,
        }
    )
    return doc.Reference(descriptor, "fontDescriptor:" + fontname)
