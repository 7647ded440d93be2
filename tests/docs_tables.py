"""The per-feed tables of docs/feeds.md, rendered from the data contracts (data_contracts/feeds/*.yaml).

    .venv/bin/python tests/docs_tables.py      # rewrite the generated blocks of docs/feeds.md from the contracts

tests/project/test_docs.py fails when a contract changed and the document did not. Each feed's block sits between two
HTML comments (``BEGIN``/``END``); the prose around the blocks is written by hand and left alone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fangfanpin.data_contracts import Column, Contract, all_contracts

FEEDS_DOC = Path(__file__).resolve().parents[1] / "docs" / "feeds.md"
BEGIN = "<!-- BEGIN feed {feed}: generated from data_contracts/feeds/{feed}.yaml by tests/docs_tables.py -->"
END = "<!-- END feed {feed} -->"
BLOCK = re.compile(r"<!-- BEGIN feed (\w+): .*? -->\n(.*?)<!-- END feed \1 -->", re.S)

# Every value a contract may take must have words here: a new type, placement or row check fails the test until the
# document says what it means.
TYPES = {
    "text": "text",
    "code": "code",
    "date": "date",
    "amount": "amount",
    "int": "integer",
    "yesno": "yes/no",
    "id": "ID number",
    "division": "village code",
}
PLACEMENTS = {
    "village_code": "by 行政区划代码",
    "village_code_or_id": "by 行政区划代码, else by {id} through the roster",
    "id": "by {id} through the roster",
    "household_id": "by 户编号 through the roster",
}
ROW_CHECKS = {
    "claim_signs": "a 冲销 row carries amounts ≤ 0 and an 原结算流水号, a 正常 row amounts ≥ 0: otherwise the row is "
    "quarantined",
    "claim_personal_burden": "个人负担 equals 医疗总费用 − 基本医保支付 − 大病保险支付 − 医疗救助支付 within 1 yuan: "
    "otherwise the row is loaded and reported to 医保",
}
AFTER_DELIVERY = {"report": "later: report", "allow": "later: allow", "refuse": "later: refuse"}


def _type(c: Column) -> str:
    text = TYPES[c.type]
    if c.type == "code" and c.multi:
        text = "codes, several in a cell"
    elif c.type == "amount" and c.signed:
        text = "amount, may be < 0"
    elif c.type == "date":
        text = f"date ({AFTER_DELIVERY[c.after_delivery]})"
    return text


def _allowed(c: Column) -> str:
    if c.values:
        return "、".join(c.values)
    if c.min is not None and c.max is not None:
        return f"{c.min}–{c.max}"
    if c.min is not None:
        return f"≥ {c.min}"
    if c.max is not None:
        return f"≤ {c.max}"
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(contract: Contract) -> str:
    """The feed's heading, one line about the feed, its column table and its row checks (Markdown)."""
    headers = {c.name: c.header for c in contract.columns}
    id_header = headers[contract.id_columns[0]] if contract.id_columns else ""
    placing = set(contract.placement_columns)
    key = " + ".join(headers[k] for k in contract.key)
    lines = [
        f"### {contract.feed} — {contract.title}",
        "",
        f"Sent by {contract.department} · **{contract.kind}** · expected every {contract.cadence_days} "
        f"day{'s' if contract.cadence_days > 1 else ''} · key: {key} · placed in a county "
        f"{PLACEMENTS[contract.placement].format(id=id_header)}.",
        "",
        "| header | field | required | type | allowed values | key | placement | personal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in contract.columns:
        cells = [
            c.header,
            f"`{c.name}`",
            "yes" if c.required else "",
            _type(c),
            _allowed(c),
            "yes" if c.name in contract.key else "",
            "yes" if c.name in placing else "",
            "yes" if c.personal else "",
        ]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if contract.row_checks:
        lines += ["", "Row checks:", ""] + [f"- {ROW_CHECKS[name]}." for name in contract.row_checks]
    return "\n".join(lines) + "\n"


def blocks(text: str) -> dict[str, str]:
    """feed → the generated block found in ``text`` (without its two marker lines)."""
    return {m.group(1): m.group(2) for m in BLOCK.finditer(text)}


def rewrite(text: str) -> str:
    """``text`` with every feed's block rendered again from its contract; blocks of feeds without a contract go."""
    contracts = {c.feed: c for c in all_contracts()}

    def again(m: re.Match) -> str:
        feed = m.group(1)
        if feed not in contracts:
            return ""
        return f"{BEGIN.format(feed=feed)}\n{render(contracts[feed])}{END.format(feed=feed)}"

    return BLOCK.sub(again, text)


def missing(text: str) -> list[str]:
    """Feeds with a contract but no block in ``text``."""
    found = blocks(text)
    return [c.feed for c in all_contracts() if c.feed not in found]


def section(text: str, heading: str) -> str:
    """The part of ``text`` under the Markdown heading ``heading`` (any level), up to the next heading of that level or
    higher."""
    m = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    if m is None:
        raise KeyError(f"no heading {heading!r}")
    end = re.search(rf"^#{{1,{len(m.group(1))}}} ", text[m.end() :], re.M)
    return text[m.end() : m.end() + end.start()] if end else text[m.end() :]


def sheet_columns(text: str) -> dict[str, list[str]]:
    """Sheet → the column headers its ``Columns:`` paragraph lists, from the workbook section of docs/outputs.md."""
    workbook = section(text, "The county workbook")
    found = {}
    for m in re.finditer(r"^### ([^\n]+)\n(.*?)(?=^### |\Z)", workbook, re.M | re.S):
        columns = re.search(r"^Columns: (.+?)(?:\n\n|\Z)", m.group(2), re.M | re.S)
        if columns:
            found[m.group(1)] = [c.strip() for c in columns.group(1).replace("\n", " ").split(" · ")]
    return found


def first_column(text: str, heading: str) -> list[str]:
    """The backticked names in the first cell of each row of the first table under ``heading``."""
    rows = re.findall(r"^\| (.+?) \|", section(text, heading), re.M)
    return [name for cell in rows for name in re.findall(r"`([^`]+)`", cell)]


if __name__ == "__main__":
    text = FEEDS_DOC.read_text(encoding="utf-8")
    FEEDS_DOC.write_text(rewrite(text), encoding="utf-8")
    if absent := missing(text):
        stub = "\n\n".join(f"{BEGIN.format(feed=f)}\n{END.format(feed=f)}" for f in absent)
        sys.exit(
            f"no block for {', '.join(absent)} in {FEEDS_DOC}: add these lines where they belong, run again\n{stub}"
        )
