"""The demo's national system: the roster delivered after a county decision shows it, as the real one would
(used by ``workflow.simulator``)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest.read import read_file


def reflect_ledger_in_roster(con: duckdb.DuckDBPyConnection, day: date, folder: Path) -> int:
    """The national system records the county's decisions: rewrite the roster delivered in ``folder`` (if any) so
    that households confirmed on the ledger by ``day`` are monitoring objects (户类型 监测户 unless 脱贫户, category,
    风险识别时间 = the decision date) and households whose risk was eliminated say so. Returns households changed."""
    changes = {
        r["household_id"]: r
        for r in con.sql(
            """
        SELECT c.household_id, c.state, e.effective_date, e.evidence_zh FROM cases c
        JOIN case_events e ON e.case_id = c.case_id AND e.event IN ('确认纳入', '确认风险消除')
        WHERE c.state IN ('已纳入', '风险消除', '消除待排查', '消除待公示', '消除公示中', '消除待确认')
          AND e.processed_date <= ?
        QUALIFY row_number() OVER (PARTITION BY c.household_id ORDER BY e.processed_date DESC, e.event_seq DESC) = 1""",
            params=[day],
        )
        .pl()
        .to_dicts()
    }
    if not changes:
        return 0
    categories = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
    decided = pl.DataFrame(
        {
            "_hid": list(changes),
            "_eliminated": [ch["state"] == "风险消除" for ch in changes.values()],
            "_effective": [ch["effective_date"].isoformat() for ch in changes.values()],
            "_category": [
                next((c for c in categories if c in (ch["evidence_zh"] or "")), "突发严重困难户")
                for ch in changes.values()
            ],
        },
        schema_overrides={"_hid": pl.Utf8},
    )
    header = {c.name: c.header for c in load_contract("roster").columns}
    changed: set[str] = set()
    for path in sorted(folder.glob("roster*.csv")):
        raw = read_file(path)
        col = {h: f"c{i}" for i, h in enumerate(raw.headers)}
        if not all(
            header[n] in col
            for n in (
                "household_id",
                "household_type",
                "monitoring_category",
                "risk_eliminated",
                "risk_identified_date",
                "risk_eliminated_date",
            )
        ):
            continue
        c = {n: col[h] for n, h in header.items() if h in col}
        columns = [x for x in raw.frame.columns if x != "_row"]
        rows = (
            raw.frame.select(columns)
            .with_columns(pl.col(c["household_id"]).str.strip_chars().alias("_hid"))
            .join(decided, on="_hid", how="left", maintain_order="left")
        )
        changed.update(rows.filter(pl.col("_eliminated").is_not_null())["_hid"].to_list())
        eliminated, confirmed = pl.col("_eliminated"), ~pl.col("_eliminated")  # both null (false) for other rows
        rows = rows.with_columns(
            pl.when(eliminated)
            .then(pl.lit("是"))
            .when(confirmed)
            .then(pl.lit("否"))
            .otherwise(pl.col(c["risk_eliminated"]))
            .alias(c["risk_eliminated"]),
            pl.when(eliminated)
            .then(pl.col("_effective"))
            .when(confirmed)
            .then(pl.lit(None, dtype=pl.Utf8))
            .otherwise(pl.col(c["risk_eliminated_date"]))
            .alias(c["risk_eliminated_date"]),
            pl.when(confirmed & (pl.col(c["household_type"]).str.strip_chars().fill_null("") != "脱贫户"))
            .then(pl.lit("监测户"))
            .otherwise(pl.col(c["household_type"]))
            .alias(c["household_type"]),
            pl.when(confirmed)
            .then(pl.col("_category"))
            .otherwise(pl.col(c["monitoring_category"]))
            .alias(c["monitoring_category"]),
            pl.when(confirmed)
            .then(pl.col("_effective"))
            .otherwise(pl.col(c["risk_identified_date"]))
            .alias(c["risk_identified_date"]),
        )
        head = io.StringIO()
        csv.writer(head).writerow(raw.headers)  # as csv.writer writes the rows too: minimal quoting, CRLF
        body = rows.select(columns).write_csv(include_header=False, line_terminator="\r\n")
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes((head.getvalue() + body).encode("utf-8"))
        tmp.replace(path)
    return len(changed)
