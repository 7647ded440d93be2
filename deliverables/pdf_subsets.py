"""The embedded font's subsets, each made and compressed once a process.

A PDF embeds a TrueType font as subsets of up to 256 characters, numbered in the order the document first uses them;
reportlab makes each subset's font program (a TrueType file of its glyphs) and compresses it in every document. A
village's task pack is a few cards long, so that was most of a pack's time. A document that starts by using the same
characters (``build_pdf``'s ``first_text``: the task pack's form) has the same first subset as every other such
document, and its program is made once.

This module imports reportlab at the top: deliverables/pdf.py imports it only when a PDF is written.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from functools import cache, partial

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont, TTFontFace

KEPT = 8  # programs kept: the shared first subsets stay, as every document asks for them again


def share_subset_programs(font: TTFont) -> TTFont:
    """``font``, whose documents take each subset's compressed program from the ones made before in this process.
    The font file's tables are sliced out once: making a subset copies several whole (the glyphs' among them)."""
    font.face.get_table = cache(font.face.get_table)
    font.face.addSubsetObjects = partial(_subset_objects, font.face, OrderedDict())
    return font


def _program(face: TTFontFace, programs: OrderedDict, subset: list[int]) -> tuple[int, bytes]:
    """The subset's font program: its length, and its bytes compressed."""
    key = tuple(subset)
    program = programs.get(key)
    if program is None:
        raw = face.makeSubset(subset)
        program = programs[key] = (len(raw), zlib.compress(raw))
        if len(programs) > KEPT:
            programs.popitem(last=False)
    else:
        programs.move_to_end(key)
    return program


def _subset_objects(face: TTFontFace, programs: OrderedDict, doc, fontname: str, subset: list[int]):
    """What ``TTFontFace.addSubsetObjects`` adds to the document, to the byte: the font file stream (compressed, as
    its filter says) and the FontDescriptor referring to it."""
    raw_length, compressed = _program(face, programs, subset)
    font_file = pdfdoc.PDFStream()
    font_file.dictionary["Length1"] = raw_length
    if doc.compression:
        font_file.content = compressed
        font_file.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])
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
