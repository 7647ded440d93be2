"""Village publication notices (公示名单): one printable A4 PDF per village with a publication batch issued on the
delivery date.

Decisions (documented for the county):
- A notice is printed when the batch is issued (publication_batches.processed_date = the delivery date): that is
  when the village posts it; households already 公示中 from an earlier batch were on that earlier day's notice, and
  the 公示名单 sheet of the workbook lists every household in 待公示/公示中 every day.
- Members with purpose 纳入 and 补充公示 (绿色通道) are on the 拟纳入 notice; 风险消除 batches are not printed here.
- Columns: household head name, village group (the roster has none: shown as "—"), household size, household type,
  risk types. Risk types are the standard category names only (因病 is a category, not a diagnosis: it is allowed);
  no ID number, phone number, income, amount, diagnosis or free-text evidence appears on a notice.
- The Chinese font (WenQuanYi Micro Hei, Debian package fonts-wqy-microhei) is embedded; it is looked up at run time.
- Bytes are reproducible: reportlab invariant mode, and the PDF creation date set to the delivery date.
"""

from __future__ import annotations

import io
import time as _time
from dataclasses import dataclass
from datetime import date
from functools import cache

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.core.fonts import FONT_NAME, find_font
from fangfanpin.deliverables.data import rows

HOTLINE = "12317"


@cache
def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_font()
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME


@dataclass
class Notice:
    village_code: str
    village_name: str
    township: str
    batches: list[dict]  # batch_id, start_date, end_date, members: [{head_name, size, type, risk_types}]


def village_notices(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy) -> list[Notice]:
    data = rows(
        con,
        """
        SELECT b.batch_id, b.village_code, b.township, b.start_date, b.end_date, m.household_id,
               hh.village_name, hh.head_name, hh.household_size, hh.household_type, c.risk_types
        FROM publication_batches b JOIN publication_members m USING (batch_id)
        LEFT JOIN dlv_hh hh ON hh.household_id = m.household_id
        LEFT JOIN (SELECT case_id, risk_types FROM cases_asof($d)) c ON c.case_id = m.case_id
        WHERE b.processed_date = $d AND b.county_code = $c AND m.purpose IN ('纳入', '补充公示')
        ORDER BY b.village_code, b.batch_id, m.household_id""",
        {"d": day, "c": county},
    )
    names = {
        r[0]: r[1]
        for r in con.execute(
            """SELECT village_code, min(village_name) FROM dlv_hh
                                                WHERE county_code = ? GROUP BY 1""",
            [county],
        ).fetchall()
    }
    standard = set(policy.risk_types)
    order = {t: i for i, t in enumerate(policy.risk_types)}
    out: dict[str, Notice] = {}
    for r in data:
        n = out.setdefault(
            r["village_code"],
            Notice(r["village_code"], names.get(r["village_code"]) or r["village_code"], r["township"] or "", []),
        )
        if not n.batches or n.batches[-1]["batch_id"] != r["batch_id"]:
            n.batches.append(
                {"batch_id": r["batch_id"], "start_date": r["start_date"], "end_date": r["end_date"], "members": []}
            )
        types = sorted({t for t in (r["risk_types"] or "").split(";") if t in standard}, key=order.get)
        n.batches[-1]["members"].append(
            {
                "head_name": r["head_name"] or "",
                "size": r["household_size"],
                "type": r["household_type"] or "",
                "risk_types": "、".join(types) or "其他",
            }
        )
    return list(out.values())


def _place(village: str) -> str:
    """The village as a place, for the title: 五苗树村委会 → 五苗树村, 官渠巷社区居委会 → 官渠巷社区 (the divisions file
    names many villages by their committee); a name without a committee suffix stays as it is."""
    for suffix, keep in (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""), ("居委会", "")):
        if village.endswith(suffix) and len(village) > len(suffix):
            return village[: -len(suffix)] + keep
    return village


def _committee(village: str) -> str:
    """The body that posts the notice: a name like 新建村委会 already is one; 新建村 becomes 新建村村民委员会."""
    return village if village.endswith(("委员会", "村委会", "居委会")) else f"{village}村民委员会"


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def notice_pdf(notice: Notice, day: date) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import TimeStamp
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_font()
    title_style = ParagraphStyle("t", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6 * mm)
    body = ParagraphStyle("b", fontName=font, fontSize=11, leading=18, firstLineIndent=22)
    plain = ParagraphStyle("p", fontName=font, fontSize=11, leading=18)
    right = ParagraphStyle("r", fontName=font, fontSize=11, leading=18, alignment=2)
    cell = ParagraphStyle("c", fontName=font, fontSize=10.5, leading=14)
    village = escape(notice.village_name)
    title = f"{_place(notice.village_name)}防止返贫监测对象拟纳入名单公示"

    story = [
        Paragraph(escape(title), title_style),
        Paragraph(
            "根据防止返贫动态监测和帮扶工作要求，经农户申请、部门筛查预警或干部排查，村级入户核实和县级部门信息比对，"
            "现将拟纳入防止返贫监测对象的农户名单予以公示，接受群众监督。",
            body,
        ),
        Spacer(1, 3 * mm),
    ]
    for b in notice.batches:
        days = (b["end_date"] - b["start_date"]).days + 1
        story += [
            Paragraph(f"公示批次：{escape(b['batch_id'])}", plain),
            Paragraph(f"公示期：{_cn_date(b['start_date'])}至{_cn_date(b['end_date'])}（共{days}天）", plain),
            Spacer(1, 2 * mm),
        ]
        table = [["序号", "户主姓名", "村民小组", "家庭人口", "户类型", "风险类型"]]
        for i, m in enumerate(b["members"], start=1):
            table.append(
                [
                    str(i),
                    Paragraph(escape(m["head_name"]), cell),
                    "—",
                    "" if m["size"] is None else f"{int(m['size'])}人",
                    m["type"],
                    Paragraph(escape(m["risk_types"]), cell),
                ]
            )
        t = Table(table, colWidths=[12 * mm, 30 * mm, 24 * mm, 22 * mm, 26 * mm, 56 * mm], repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 10.5),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("ALIGN", (0, 0), (0, -1), "CENTER"),
                ]
            )
        )
        story += [t, Spacer(1, 5 * mm)]
    committee = _committee(village)
    story += [
        Paragraph(
            f"公示期间，如对名单有异议，请向{committee}反映，或拨打县乡村振兴部门监督举报电话 {HOTLINE}。"
            "反映情况应实事求是，署名或当面反映的，我们将对反映人信息严格保密。",
            body,
        ),
        Spacer(1, 10 * mm),
        Paragraph(committee, right),
        Paragraph(_cn_date(day), right),
    ]

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=_committee(notice.village_name),
        subject="防止返贫监测对象拟纳入名单公示",
        creator="fangfanpin",
        invariant=1,
    )

    stamp = TimeStamp(invariant=1)
    epoch = (day - date(1970, 1, 1)).days * 86400
    stamp.t, stamp.lt = epoch, _time.gmtime(epoch)
    stamp.YMDhms = tuple(stamp.lt)[:6]

    def _date_stamp(canvas, _doc):
        canvas._doc._timeStamp = stamp  # the PDF's CreationDate/ModDate := the delivery date (UTC midnight)

    doc.build(story, onFirstPage=_date_stamp, onLaterPages=_date_stamp)
    return buf.getvalue()
