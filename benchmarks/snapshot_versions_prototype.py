"""A prototype, measured, not built: snapshots stored as versions. What reading them would cost, what storing them
would save.

    .venv/bin/python benchmarks/snapshot_versions_prototype.py WAREHOUSE --base 2026-11-20 --day 2026-11-21 [--rounds 2]

WAREHOUSE is a warehouse after ``daily_run_benchmark.py --only-ordinary-day`` (its ``1pct`` day: every snapshot of DAY
stored again whole, 1 % of its rows changed), e.g. benchmarks/out/daily/o1000000/warehouse.duckdb; it is not changed.

Two copies are made and compacted (``COPY FROM DATABASE``): ``full``, as the pipeline stores snapshots today, and
``versions``, where each snapshot of DAY keeps only its rows that differ from BASE's row at the same place (file, file
number, row) in some value or in their county, or are new; BASE's places DAY lacks are listed in
``snapshot_dropped``. The prototype's ``<feed>_asof`` reads a delivery stored so as its own rows plus its base's rows
at places it neither holds nor dropped (``versions_asof_sql``). Printed, per feed: the rows DAY stores either way
and the seconds finding them and the places dropped (the comparison ingest would make against the base); then each
copy's size; then, A B A B in fresh processes pinned to two cores, the cross-check of DAY (``run_crosscheck``) and a
read of every snapshot's
``_asof``, with a digest of the cross-check's tables and of every row read: the two must not differ (exit 1 if
they do). Only ``_asof`` is replaced: ``<feed>_delivery``, which the structure checks and the placement of reports
read, would need the same.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb

from fangfanpin.data_contracts import all_contracts
from fangfanpin.schema import feeds, q

HERE = Path(__file__).resolve().parent
WORK = HERE / "out" / "snapshot_versions"

# run in the measuring process: the cross-check of DAY and a read of every snapshot's _asof on one copy
_CHILD = """
import hashlib, shutil, sys, time
from datetime import date
from pathlib import Path
sys.path.insert(0, sys.argv[4])
import snapshot_versions_prototype as prototype
if sys.argv[1] == "versions":
    prototype.install_versions_macros()
from fangfanpin.core.warehouse_file import connect
from fangfanpin.crosscheck import run_crosscheck
from fangfanpin.data_contracts import all_contracts
from fangfanpin.schema import ensure_schema, q

source, day = Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
work = source.with_name(source.stem + "_run.duckdb")
shutil.copy(source, work)
con = connect(work)
con.execute("SET enable_progress_bar = false")
ensure_schema(con)
digest, read = hashlib.sha256(), time.perf_counter()
for c in all_contracts():
    if c.kind == "snapshot":
        sql = f"SELECT count(*), sum(hash(t)) FROM (SELECT * FROM {q(c.feed + '_asof')}(?::DATE)) t"
        digest.update(repr(con.execute(sql, [day]).fetchall()).encode())
read = time.perf_counter() - read
cross = time.perf_counter()
run_crosscheck(con, day)
cross = time.perf_counter() - cross
for table, column in (("household_indicators", "as_of_date"), ("rule_hits", "as_of_date"),
                      ("data_quality_issues", "delivery_date"), ("link_rates", "delivery_date")):
    digest.update(repr(con.execute(f"SELECT * FROM {table} WHERE {column} = ? ORDER BY ALL", [day]).fetchall()).encode())
con.close()
work.unlink()
print(f"{cross:.2f} {read:.2f} {digest.hexdigest()[:16]}")
"""


def versions_asof_sql(contract) -> str:
    """``<feed>_asof(d)`` of a snapshot stored as versions: per county the delivery in force (as today), read as the
    rows stored under it plus, when it has a base (``snapshot_bases``), the base's rows at places it neither holds
    nor dropped. The places are gathered first and anti-joined once, as one integer (``PLACE``): written as NOT
    EXISTS per row, the macro read the roster six times slower; keyed by file name, number and row, the enrolment
    three times slower. A place so is a file number and a row: the base's files must come in the same order under
    the same names (``store_as_versions`` compares the names too)."""
    feed, table = contract.feed, q(contract.feed)
    return f"""
        CREATE OR REPLACE MACRO {q(feed + "_asof")}(d) AS TABLE
        WITH v AS (SELECT s.county_code, s.version, coalesce(r.rows_of, s.version) AS stored, b.base_date AS base
                   FROM snapshot_versions_in_force('{feed}', d) s
                   LEFT JOIN reused_snapshots r ON r.feed = '{feed}' AND r.delivery_date = s.version
                   LEFT JOIN snapshot_bases b ON b.feed = '{feed}' AND b.delivery_date = coalesce(r.rows_of, s.version)),
        taken AS (SELECT o._delivery_date AS stored, {PLACE.format(t="o")} AS place FROM {table} o
                  WHERE o._delivery_date IN (SELECT stored FROM v WHERE base IS NOT NULL)
                  UNION ALL
                  SELECT x.delivery_date, {PLACE.format(t="x")} FROM snapshot_dropped x
                  WHERE x.feed = '{feed}' AND x.delivery_date IN (SELECT stored FROM v WHERE base IS NOT NULL)),
        base_rows AS (SELECT t.*, v.version AS _version, v.stored AS _stored FROM {table} t
                      JOIN v ON coalesce(t.county_code, '') = v.county_code AND t._delivery_date = v.base)
        SELECT t.* REPLACE (v.version AS _delivery_date) FROM {table} t
        JOIN v ON coalesce(t.county_code, '') = v.county_code AND t._delivery_date = v.stored
        UNION ALL
        SELECT b.* EXCLUDE (_version, _stored) REPLACE (b._version AS _delivery_date) FROM base_rows b
        ANTI JOIN taken o ON o.stored = b._stored AND o.place = {PLACE.format(t="b")}"""


PLACE = "({t}._file_seq * 1073741824 + {t}._row)"  # a row's place in its delivery, as links.sql's cc_rec packs it


def install_versions_macros() -> None:
    """The schema's snapshot ``_asof`` macros replaced by the prototype's, for ``ensure_schema`` in this process."""
    today = feeds.asof_macro_sql
    feeds.asof_macro_sql = lambda c: versions_asof_sql(c) if c.kind == "snapshot" else today(c)


def store_as_versions(path: Path, base: str, day: str) -> None:
    """Keep of each snapshot of ``day`` only its rows that differ from ``base``'s at their place, and list the places
    it dropped; print what each feed stores and how long finding it took."""
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE TABLE snapshot_bases (feed VARCHAR, delivery_date DATE, base_date DATE)")
    con.execute("CREATE TABLE snapshot_dropped (feed VARCHAR, delivery_date DATE, _file VARCHAR, _file_seq BIGINT, _row BIGINT)")  # fmt: skip
    print(f"{'feed':>20} {'rows':>10} {'stored':>8} {'dropped':>8} {'compare s':>9}")
    for c in all_contracts():
        if c.kind != "snapshot":
            continue
        feed = q(c.feed)
        place = "b._file = n._file AND b._file_seq = n._file_seq AND b._row = n._row"
        columns = [name for (name,) in con.execute(f"SELECT name FROM pragma_table_info('{c.feed}')").fetchall()]
        values = [name for name in columns if name not in ("_delivery_date", "_file", "_file_seq", "_row")]
        differs = " OR ".join(f"n.{q(name)} IS DISTINCT FROM b.{q(name)}" for name in values)
        compared = time.perf_counter()  # what ingest would do: the day's rows against the base's, both ways
        con.execute(
            f"""CREATE TEMP TABLE own AS SELECT n.* FROM {feed} n
                LEFT JOIN (SELECT * FROM {feed} WHERE _delivery_date = ?::DATE) b ON {place}
                WHERE n._delivery_date = ?::DATE AND (b._row IS NULL OR {differs})""",
            [base, day],
        )
        con.execute(
            f"""INSERT INTO snapshot_dropped SELECT ?, ?::DATE, b._file, b._file_seq, b._row FROM {feed} b
                WHERE b._delivery_date = ?::DATE AND NOT EXISTS (SELECT 1 FROM {feed} n
                      WHERE n._delivery_date = ?::DATE AND {place})""",
            [c.feed, day, base, day],
        )
        compared = time.perf_counter() - compared
        (rows,) = con.execute(f"SELECT count(*) FROM {feed} WHERE _delivery_date = ?::DATE", [day]).fetchone()
        con.execute(f"DELETE FROM {feed} WHERE _delivery_date = ?::DATE", [day])
        con.execute(f"INSERT INTO {feed} SELECT * FROM own")
        (stored,) = con.execute("SELECT count(*) FROM own").fetchone()
        (dropped,) = con.execute("SELECT count(*) FROM snapshot_dropped WHERE feed = ?", [c.feed]).fetchone()
        con.execute("DROP TABLE own")
        con.execute("INSERT INTO snapshot_bases VALUES (?, ?::DATE, ?::DATE)", [c.feed, day, base])
        print(f"{c.feed:>20} {rows:>10,} {stored:>8,} {dropped:>8,} {compared:>9.2f}", flush=True)
    con.close()


def compacted(path: Path) -> Path:
    """``path`` copied table by table into a new file: its size is what the rows take, not what deletes left."""
    out = path.with_name(path.stem + "_compact.duckdb")
    out.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
    con.execute(f"ATTACH '{out}' AS dst")
    con.execute("COPY FROM DATABASE src TO dst")
    con.close()
    path.unlink()
    return out


def main() -> None:
    sys.path.insert(0, str(HERE))
    from isolate import pin_two_cores, run_with_code

    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--base", required=True)
    ap.add_argument("--day", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    copies = {}
    for label in ("full", "versions"):
        path = WORK / f"{label}.duckdb"
        shutil.copy(args.warehouse, path)
        if label == "versions":
            store_as_versions(path, args.base, args.day)
        copies[label] = compacted(path)
        print(f"{label}: {copies[label].stat().st_size / 1e6:,.0f} MB compacted")
    print(f"{'storage':>10} {'round':>5} {'cross-check s':>13} {'reads s':>7} {'digest':>16}")
    digests = set()
    for round_ in range(1, args.rounds + 1):
        for label, path in copies.items():
            argv = [sys.executable, "-c", _CHILD, label, str(path), args.day, str(HERE)]
            cross, read, digest = run_with_code("", argv, pin_two_cores).split()
            digests.add(digest)
            print(f"{label:>10} {round_:>5} {cross:>13} {read:>7} {digest:>16}", flush=True)
    shutil.rmtree(WORK)
    if len(digests) > 1:
        sys.exit("the two storages read differently: the prototype's macros are wrong")


if __name__ == "__main__":
    main()
