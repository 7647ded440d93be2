"""What every printed PDF shares: the embedded CJK font, A4 pages, and reproducible bytes (reportlab's invariant
mode, creation date set to the delivery date), so that re-running a date rewrites identical files.

reportlab is imported inside these functions: it is only needed when a PDF is written, and the code location (the
UI, the sensor) imports the deliverables far more often than it writes one.
"""

from __future__ import annotations

import io
import time as _time
from datetime import date
from functools import cache

from fangfanpin.core.fonts import FONT_NAME, find_font


@cache
def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(find_font()), subfontIndex=0))
    return FONT_NAME


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def build_pdf(story: list, day: date, *, title: str, author: str, subject: str, margin_mm: float = 18) -> bytes:
    """A4 portrait PDF of the platypus ``story``, dated ``day`` (UTC midnight) whatever the clock says."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import TimeStamp
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

    doc.build(story, onFirstPage=_date_stamp, onLaterPages=_date_stamp)
    return buf.getvalue()
