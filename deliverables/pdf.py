"""What every printed PDF shares: the embedded CJK font, A4 pages, and reproducible bytes (reportlab's invariant
mode, creation date set to the delivery date), so that re-running a date rewrites identical files.

reportlab is imported inside these functions: it is only needed when a PDF is written, and the code location (the
UI, the sensor) imports the deliverables far more often than it writes one.
"""

from __future__ import annotations

import io
import time as _time
from datetime import date
from functools import cache, lru_cache
from xml.sax.saxutils import escape

from fangfanpin.core.fonts import FONT_NAME, find_font


@cache
def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from fangfanpin.deliverables.pdf_subsets import share_subset_programs  # slow: imports reportlab

    pdfmetrics.registerFont(share_subset_programs(TTFont(FONT_NAME, str(find_font()), subfontIndex=0)))
    return FONT_NAME


CELL_PADDING = 6  # reportlab's default left and right padding of a table cell


def cell_text(text: str, style, width: float):
    """``text`` for a table cell ``width`` wide whose TableStyle gives the font, size, leading and colour of the
    ParagraphStyle ``style``: its lines as a plain string, or a Paragraph when they are not plain (a word wider than
    the cell).

    The table draws a string's lines exactly where a Paragraph in the same cell draws them (left aligned; the same
    baselines whatever the vertical alignment), without the parse and wrap a Paragraph costs in every cell: a short
    text is measured, a longer one is wrapped by a Paragraph once and its lines taken as it would draw them."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    room = width - 2 * CELL_PADDING
    if text == " ".join(text.split()) and stringWidth(text, style.fontName, style.fontSize) < room - 1:
        return text
    lines = _lines(text, style.fontName, style.fontSize, style.leading, room)
    return Paragraph(escape(text), style) if lines is None else lines


@lru_cache(maxsize=4096)  # the fixed texts of a form, and the same 核实内容 on many cards
def _lines(text: str, font: str, size: float, leading: float, room: float) -> str | None:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    para = Paragraph(escape(text), ParagraphStyle("cell", fontName=font, fontSize=size, leading=leading))
    para.wrap(room, 1e6)
    bl = para.blPara
    if bl.kind != 0 or any(extra < 0 for extra, _ in bl.lines):  # fragments, or a line wider than the cell
        return None
    return "\n".join(" ".join(words) for _, words in bl.lines)


def listed_lines(items: list[str], style, width: float, sep: str = "、") -> str:
    """Paragraph markup of ``items`` joined by ``sep`` for a table cell ``width`` wide whose text has the font and size
    of ``style``, broken after a separator: a line ends with ``sep`` and holds whole items, and no line starts with
    ``sep``. An item too wide for a line with its separator is cut between characters, its last character kept
    with the separator. A list that fits on one line is the plain joined text.

    >>> from reportlab.lib.styles import ParagraphStyle
    >>> style = ParagraphStyle("c", fontName=register_font(), fontSize=10)
    >>> listed_lines(["因病", "因残", "其他"], style, 200)
    '因病、因残、其他'
    >>> listed_lines(["因病", "因自然灾害", "因意外事故"], style, 110)
    '因病、因自然灾害、<br/>因意外事故'
    >>> listed_lines(["因意外事故", "其他"], style, 62)
    '因意外事<br/>故、其他'
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    room = width - 2 * CELL_PADDING - 1  # a margin, as in cell_text: reportlab must not wrap these lines again

    def fits(text: str) -> bool:
        return stringWidth(text, style.fontName, style.fontSize) <= room

    lines: list[str] = []
    line = ""
    for i, item in enumerate(items):
        token = item if i == len(items) - 1 else item + sep
        if fits(line + token):
            line += token
            continue
        if line:
            lines.append(line)
        pieces = [token] if fits(token) else _cut(token, sep, fits)
        lines += pieces[:-1]
        line = pieces[-1]
    return "<br/>".join(escape(text) for text in lines + [line])


def _cut(token: str, sep: str, fits) -> list[str]:
    """``token`` cut between characters into lines that fit, a line never starting with ``sep``."""
    pieces: list[str] = []
    piece = ""
    for char in token:
        if piece and not fits(piece + char):
            pieces.append(piece)
            piece = ""
        piece += char
    if piece == sep and pieces and len(pieces[-1]) > 1:  # the separator alone: the character before it comes along
        pieces[-1], piece = pieces[-1][:-1], pieces[-1][-1] + sep
    return pieces + [piece]


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def build_pdf(
    story: list, day: date, *, title: str, author: str, subject: str, margin_mm: float = 18, first_text: str = ""
) -> bytes:
    """A4 portrait PDF of the platypus ``story``, dated ``day`` (UTC midnight) whatever the clock says.
    ``first_text``: characters of the registered font that the document uses before anything is drawn, in their
    order, so that the font's first subset is the same in every document given the same text and is made once
    (deliverables/pdf_subsets.py); what the document draws is unchanged."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import TimeStamp
    from reportlab.pdfbase import pdfmetrics
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    margin = margin_mm * mm
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=author,
        subject=subject,
        creator="fangfanpin",
        invariant=1,
    )
    stamp = TimeStamp(invariant=1)
    epoch = (day - date(1970, 1, 1)).days * 86400
    stamp.t, stamp.lt = epoch, _time.gmtime(epoch)
    stamp.YMDhms = tuple(stamp.lt)[:6]

    def _date_stamp(canvas, _doc):
        canvas._doc._timeStamp = stamp

    def _first_page(canvas, _doc):
        _date_stamp(canvas, _doc)
        if first_text:
            pdfmetrics.getFont(register_font()).splitString(first_text, canvas._doc)

    doc.build(story, onFirstPage=_first_page, onLaterPages=_date_stamp)
    return buf.getvalue()
