"""What the deliverables tests share: the session warehouse's dates and counties (tests/deliverables/conftest.py),
the formula-looking values planted in it, and reading a written workbook back."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from fangfanpin.schema import keep_scored_day

END = date(2026, 11, 20)
LOOP = [END - timedelta(days=4 - i) for i in range(5)]
COUNTIES = ["150625", "150626"]
FORMULA_VILLAGE = '=HYPERLINK("http://x","点我")村'
FORMULA_EXPLANATION = "@SUM(1+1) 测试说明"
ID_RE = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
# the tests' own statement of a flagged household, an oracle independent of deliverables.data.FLAGGED
FLAGGED = "((rule_codes <> '' AND rule_codes <> 'MODEL') OR model_warning)"
UNFLAG = "rule_codes = '', model_warning = false, severity_max = NULL, risk_types = ''"


def unflag(con, where: str, params: dict | list) -> None:
    """Unflag the household_scores rows ``where`` selects, then bring the tables the scoring keeps beside them (first
    flag dates) up to date, as a rescoring of every date would."""
    con.execute(f"UPDATE household_scores SET {UNFLAG} WHERE {where}", params)
    keep_scored_day(con, con.execute("SELECT min(as_of_date) FROM household_scores").fetchall()[0][0])


def workbook_path(out: Path, day: date, county: str) -> Path:
    (book,) = list((out / day.isoformat() / county).glob("*_防返贫监测工作清单_*.xlsx"))
    return book


def sheet_dicts(ws) -> list[dict]:
    """A sheet's data rows as dicts by header (openpyxl worksheet)."""
    header, *rows = ws.iter_rows(values_only=True)
    return [dict(zip(header, r)) for r in rows]
