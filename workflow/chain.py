"""The tamper-evident case ledger: every row of ``case_events`` carries a hash chained to the previous event.

    chain_events(con, since=day)      # after a run: (re)hash the events of processed dates >= day, in ledger order
    report = verify_chain(con)        # recompute everything; report.first names the first altered/removed event

Definition (stable; changing it invalidates every stored hash):

- ledger order: ``processed_date, case_id, event_seq`` (total: (case_id, event_seq) is the key). A run of date D
  only ever rewrites processed dates >= D, which is exactly a suffix of this order, so re-running a date recomputes
  the chain of that suffix from the last hash before it, byte-for-byte the same.
- ``row_digest`` = sha256 (hex) of the JSON array of ``HASHED_COLUMNS`` as text (dates ISO, booleans true/false,
  NULL as null), computed by DuckDB in one vectorised pass.
- ``event_hash`` = sha256_hex(prev_hash + row_digest); the first event's ``prev_hash`` is 64 zeros.
- ``ledger_chain`` keeps, per processed date, the cumulative event count and the chain head after that date, so that
  removing the newest events (which no later hash points to) is detected too.

The chain itself is sequential by nature: one hashlib call per event over 128 hex characters in a tight loop
(about 1 µs per event; see benchmarks/ledger_chain_benchmark.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from fangfanpin.core.arrow import registered

GENESIS = "0" * 64
HASHED_COLUMNS = (
    "case_id",
    "event_seq",
    "household_id",
    "event_date",
    "processed_date",
    "event",
    "source",
    "source_feed",
    "source_file",
    "source_row",
    "rule_codes",
    "unit",
    "old_state",
    "new_state",
    "risk_types",
    "severity",
    "green_channel",
    "task_id",
    "batch_id",
    "effective_date",
    "due_date",
    "source_ref",
    "evidence_zh",
)
ORDER = "processed_date, case_id, event_seq"
ORDER_DESC = "processed_date DESC, case_id DESC, event_seq DESC"
DIGEST_SQL = "sha256(to_json(list_value(" + ", ".join(f'"{c}"::VARCHAR' for c in HASHED_COLUMNS) + ")))"


def chain_hashes(prev: str, digests: list[str]) -> list[str]:
    """event_hash of each digest in order, starting after ``prev``."""
    out = []
    append, sha = out.append, hashlib.sha256
    for d in digests:
        prev = sha((prev + d).encode("ascii")).hexdigest()
        append(prev)
    return out


def _last_hash_before(con: duckdb.DuckDBPyConnection, day: date | None) -> tuple[str, int]:
    if day is None:
        return GENESIS, 0
    rows = con.execute(
        f"""SELECT event_hash, (SELECT count(*) FROM case_events WHERE processed_date < $d)
                           FROM case_events WHERE processed_date < $d ORDER BY {ORDER_DESC} LIMIT 1""",
        {"d": day},
    ).fetchall()
    return (rows[0][0] or GENESIS, rows[0][1]) if rows else (GENESIS, 0)


def _ordered(con: duckdb.DuckDBPyConnection, columns: str, where: str = "", params=None):
    """The events in ledger order with their digest, as a polars frame (plus a 0-based ``i``)."""
    return (
        con.sql(
            f"SELECT {columns}, {DIGEST_SQL} AS digest FROM case_events {where} ORDER BY {ORDER}", params=params or []
        )
        .pl()
        .with_row_index("i")
    )


def _heads(frame, offset: int) -> dict:
    """processed_date → (cumulative event count, index of its last event) over an ordered frame."""
    last = frame.group_by("processed_date").agg(pl.col("i").max()).rows()
    return {d: (offset + i + 1, i) for d, i in last}


def chain_events(con: duckdb.DuckDBPyConnection, since: date | None = None) -> int:
    """Hash the events of processed dates >= ``since`` (all when None) and rewrite ``ledger_chain`` from there.
    The caller holds the transaction. Returns the number of events hashed."""
    prev, count = _last_hash_before(con, since)
    where, params = ("WHERE processed_date >= ?", [since]) if since else ("", [])
    frame = _ordered(con, "case_id, event_seq, processed_date", where, params)
    hashes = chain_hashes(prev, frame["digest"].to_list())
    rows = frame.select("case_id", "event_seq").with_columns(
        pl.Series("prev_hash", ([prev] + hashes[:-1]) if hashes else [], pl.Utf8),
        pl.Series("event_hash", hashes, pl.Utf8),
    )
    with registered(con, "chain_rows", rows):
        con.execute("""UPDATE case_events SET prev_hash = c.prev_hash, event_hash = c.event_hash FROM chain_rows c
                       WHERE case_events.case_id = c.case_id AND case_events.event_seq = c.event_seq""")
    # the chain head after every processed date of the ledger (with or without events of its own)
    con.execute("DELETE FROM ledger_chain" + (" WHERE processed_date >= ?" if since else ""), params)
    heads = {d: (n, hashes[i]) for d, (n, i) in _heads(frame, count).items()}
    head, rows = (count, prev), []
    for (d,) in con.execute(f"SELECT processed_date FROM workflow_runs {where} ORDER BY 1", params).fetchall():
        head = heads.get(d, head)  # a date without events of its own carries the head before it
        rows.append([d, *head])
    if rows:
        con.executemany("INSERT INTO ledger_chain VALUES (?, ?, ?)", rows)
    return len(hashes)


@dataclass
class ChainProblem:
    kind: str  # altered / removed / truncated
    case_id: str | None
    event_seq: int | None
    event_date: date | None
    processed_date: date | None
    missing_seq: int | None = None  # for removed: the event_seq missing in the same case, when it can be named


@dataclass
class ChainReport:
    events: int
    first: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.first is None

    def message(self) -> str:
        p = self.first
        if p is None:
            return f"案件台账完整：{self.events} 条事件的哈希链校验通过。 / Case ledger intact: {self.events} events verified."
        where = f"案件 {p.case_id} 第 {p.event_seq} 号事件（事件日期 {p.event_date}，处理日期 {p.processed_date}）"
        where_en = f"case {p.case_id} event #{p.event_seq} (event date {p.event_date}, processed {p.processed_date})"
        if p.kind == "altered":
            return (
                f"案件台账被篡改：第一处被改动的事件是{where}。 / Case ledger tampered: the first altered event is "
                f"{where_en}."
            )
        if p.kind == "removed":
            named = f"（同一案件缺少第 {p.missing_seq} 号事件）" if p.missing_seq else ""
            named_en = f" (event #{p.missing_seq} of the same case is missing)" if p.missing_seq else ""
            return (
                f"案件台账被篡改：{where}之前的事件被删除或改动{named}。 / Case ledger tampered: the event before "
                f"{where_en} was removed or altered{named_en}."
            )
        return (
            f"案件台账被篡改：处理日期 {p.processed_date} 的末尾事件被删除（链头或事件数与记录不符）。 / Case ledger "
            f"tampered: the last events of processed date {p.processed_date} were removed (chain head or count "
            f"does not match)."
        )


def verify_chain(con: duckdb.DuckDBPyConnection) -> ChainReport:
    """Recompute the whole chain from the stored fields; report the first event altered or removed."""
    frame = _ordered(con, "case_id, event_seq, event_date, processed_date, prev_hash, event_hash")
    n, sha = frame.height, hashlib.sha256

    def problem(kind: str, i: int) -> ChainReport:
        case_id, seq, event_date, processed = frame.row(i)[1:5]
        missing = None
        if kind == "removed":
            earlier = frame.head(i).filter(frame.head(i)["case_id"] == case_id)["event_seq"].to_list()
            missing = max(earlier) + 1 if earlier else 1
            missing = missing if missing < seq else None
        return ChainReport(n, ChainProblem(kind, case_id, seq, event_date, processed, missing))

    expected = GENESIS
    for i, (prev_hash, event_hash, digest) in enumerate(
        zip(frame["prev_hash"].to_list(), frame["event_hash"].to_list(), frame["digest"].to_list())
    ):
        if prev_hash != expected:
            return problem("removed", i)
        if sha((expected + digest).encode("ascii")).hexdigest() != event_hash:
            return problem("altered", i)
        expected = event_hash
    hashes = frame["event_hash"].to_list()
    ends = {d: (count, hashes[i]) for d, (count, i) in _heads(frame, 0).items()}
    recorded = con.execute("SELECT processed_date, events, head_hash FROM ledger_chain ORDER BY 1").fetchall()
    runs = [r[0] for r in con.execute("SELECT processed_date FROM workflow_runs ORDER BY 1").fetchall()]
    if n and (not recorded or [r[0] for r in recorded] != runs):
        gone = sorted(set(runs) ^ {r[0] for r in recorded}) or [frame["processed_date"][-1]]
        return ChainReport(n, ChainProblem("truncated", None, None, None, gone[0]))
    head = (0, GENESIS)
    for day, events, head_hash in recorded:
        head = ends.get(day, head)
        if (events, head_hash) != head:
            return ChainReport(n, ChainProblem("truncated", None, None, None, day))
    return ChainReport(n, None)
