"""Village publication notices (公示): printable A4 PDFs for the villages with a publication batch issued on the
delivery date, one per village and kind of publication.

Decisions (documented for the county in docs/outputs.md):
- A notice is printed when the batch is issued (publication_batches.processed_date = the delivery date): that is
  when the village posts it; the 公示名单 sheet of the workbook lists every household in 待公示/公示中 every day.
- A batch holds every household of the village published that day, for different purposes; each purpose is its own
  notice with its own title and wording (KINDS): 拟纳入 (纳入), 纳入补充公示 (补充公示: 绿色通道 households helped
  first and published after) and 拟消除风险 (风险消除).
- The village is named as villagers say it (五苗树村, 乌日根嘎查, deliverables/places.py) and its committee signs.
- Columns: household head name, 村民小组 (from the roster; "—" where it has none), household size, then household
  type (inclusion) or the date monitoring began (elimination), and the standard risk types (因病 is a category, not
  a diagnosis). No ID number, phone number, income, amount, diagnosis or free-text evidence appears on a notice.
- The Chinese font is embedded and the bytes are reproducible (deliverables/pdf.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.deliverables.data import rows
from fangfanpin.deliverables.pdf import build_pdf, cn_date, listed_lines, register_font
from fangfanpin.deliverables.places import village_committee, village_place

HOTLINE = "12317"
NO_GROUP = "—"
COLUMN_WIDTHS_MM = (12, 30, 24, 20, 28, 56)  # 序号 … 风险类型


@dataclass(frozen=True)
class Kind:
    title: str  # after the village's name
    intro: str
    last_column: str  # the column after 家庭人口: 户类型, or 纳入监测时间 for an elimination


KINDS = {
    "纳入": Kind(
        "防止返贫监测对象拟纳入名单公示",
        "根据防止返贫动态监测和帮扶工作要求，经农户申请、部门筛查预警或干部排查，村级入户核实和县级部门信息比对，"
        "现将拟纳入防止返贫监测对象的农户名单予以公示，接受群众监督。",
        "户类型",
    ),
    "补充公示": Kind(
        "防止返贫监测对象纳入名单补充公示",
        "下列农户因自然灾害、意外事故等突发困难，经村级入户核实，已按绿色通道先行纳入防止返贫监测并落实帮扶。"
        "根据防止返贫动态监测和帮扶工作要求，现补充履行公示程序，接受群众监督。",
        "户类型",
    ),
    "风险消除": Kind(
        "防止返贫监测对象拟消除风险名单公示",
        "根据防止返贫动态监测和帮扶工作要求，经村级入户核实和县级部门信息比对，下列监测对象收入持续稳定高于监测范围，"
        "义务教育、基本医疗、住房安全和饮水安全有保障，返贫致贫风险已稳定消除，拟标注为风险消除，现予公示，"
        "接受群众监督。",
        "纳入监测时间",
    ),
}


@dataclass
class Notice:
    village_code: str
    village_name: str  # as villagers say it (五苗树村, 乌日根嘎查)
    committee: str  # who posts and signs it
    township: str
    purpose: str  # a key of KINDS
    batches: list[dict]  # batch_id, start_date, end_date, members: [{head_name, group, size, last, risk_types: [..]}]

    @property
    def title(self) -> str:
        return self.village_name + KINDS[self.purpose].title

    @property
    def file_tag(self) -> str:
        """What the file name says after the village: 拟纳入名单公示, 纳入名单补充公示, 拟消除风险名单公示."""
        return KINDS[self.purpose].title.removeprefix("防止返贫监测对象")


def village_notices(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy) -> list[Notice]:
    """The notices of ``day`` in ``county``, by village code, then kind (KINDS order)."""
    data = rows(
        con,
        """
        SELECT b.batch_id, b.village_code, b.township, b.start_date, b.end_date, m.household_id, m.purpose,
               hh.head_name, hh.village_group, hh.household_size, hh.household_type, c.risk_types, c.monitored_since
        FROM publication_batches b JOIN publication_members m USING (batch_id)
        LEFT JOIN dlv_hh hh ON hh.household_id = m.household_id
        LEFT JOIN (SELECT case_id, risk_types, monitored_since FROM dlv_cases) c ON c.case_id = m.case_id
        WHERE b.processed_date = $d AND b.county_code = $c AND list_contains($kinds::VARCHAR[], m.purpose)
        ORDER BY b.village_code, list_position($kinds::VARCHAR[], m.purpose), b.batch_id, m.household_id""",
        {"d": day, "c": county, "kinds": list(KINDS)},
    )
    names = dict(
        con.execute(
            "SELECT village_code, min(village_name) FROM dlv_hh WHERE county_code = ? GROUP BY 1", [county]
        ).fetchall()
    )
    standard = set(policy.risk_types)
    order = {t: i for i, t in enumerate(policy.risk_types)}
    out: dict[tuple[str, str], Notice] = {}
    for r in data:
        name = names.get(r["village_code"]) or r["village_code"]
        n = out.setdefault(
            (r["village_code"], r["purpose"]),
            Notice(
                r["village_code"], village_place(name), village_committee(name), r["township"] or "", r["purpose"], []
            ),
        )
        if not n.batches or n.batches[-1]["batch_id"] != r["batch_id"]:
            n.batches.append(
                {"batch_id": r["batch_id"], "start_date": r["start_date"], "end_date": r["end_date"], "members": []}
            )
        types = sorted({t for t in (r["risk_types"] or "").split(";") if t in standard}, key=order.get)
        since = r["monitored_since"]
        n.batches[-1]["members"].append(
            {
                "head_name": r["head_name"] or "",
                "group": r["village_group"] or NO_GROUP,
                "size": r["household_size"],
                "last": (r["household_type"] or "")
                if KINDS[r["purpose"]].last_column == "户类型"
                else (f"{since.year}年{since.month}月" if since else ""),
                "risk_types": types or ["其他"],
            }
        )
    return list(out.values())


def notice_pdf(notice: Notice, day: date) -> bytes:
    from reportlab.lib import colors  # reportlab is imported only when a PDF is written (deliverables/pdf.py)
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    font = register_font()
    kind = KINDS[notice.purpose]
    title_style = ParagraphStyle("t", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6 * mm)
    body = ParagraphStyle("b", fontName=font, fontSize=11, leading=18, firstLineIndent=22, wordWrap="CJK")
    plain = ParagraphStyle("p", fontName=font, fontSize=11, leading=18)
    right = ParagraphStyle("r", fontName=font, fontSize=11, leading=18, alignment=2)
    cell = ParagraphStyle("c", fontName=font, fontSize=10.5, leading=14)
    types_width = COLUMN_WIDTHS_MM[-1] * mm

    story = [Paragraph(escape(notice.title), title_style), Paragraph(kind.intro, body), Spacer(1, 3 * mm)]
    for b in notice.batches:
        days = (b["end_date"] - b["start_date"]).days + 1
        story += [
            Paragraph(f"公示批次：{escape(b['batch_id'])}", plain),
            Paragraph(f"公示期：{cn_date(b['start_date'])}至{cn_date(b['end_date'])}（共{days}天）", plain),
            Spacer(1, 2 * mm),
        ]
        table = [["序号", "户主姓名", "村民小组", "家庭人口", kind.last_column, "风险类型"]]
        for i, m in enumerate(b["members"], start=1):
            table.append(
                [
                    str(i),
                    Paragraph(escape(m["head_name"]), cell),
                    Paragraph(escape(m["group"]), cell),
                    "" if m["size"] is None else f"{int(m['size'])}人",
                    m["last"],
                    Paragraph(listed_lines(m["risk_types"], cell, types_width), cell),
                ]
            )
        t = Table(table, colWidths=[w * mm for w in COLUMN_WIDTHS_MM], repeatRows=1)
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
    committee = escape(notice.committee)
    story += [
        Paragraph(
            f"公示期间，如对名单有异议，请向{committee}反映，或拨打县乡村振兴部门监督举报电话 {HOTLINE}。"
            "反映情况应实事求是，署名或当面反映的，我们将对反映人信息严格保密。",
            body,
        ),
        Spacer(1, 10 * mm),
        Paragraph(committee, right),
        Paragraph(cn_date(day), right),
    ]

    return build_pdf(story, day, title=notice.title, author=notice.committee, subject=kind.title)
