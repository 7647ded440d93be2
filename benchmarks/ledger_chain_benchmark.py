"""Time the case ledger's hash chain (workflow/chain.py) over N synthetic events (default 1,000,000).

    .venv/bin/python benchmarks/ledger_chain_benchmark.py [N]

Prints the seconds to hash the whole ledger (DuckDB digests + one hashlib pass + writing the hashes back), to verify
it, and the hashlib chain loop alone.
"""

import sys
import time

import duckdb

from fangfanpin.core.sql import transaction
from fangfanpin.schema import ensure_schema
from fangfanpin.workflow.chain import chain_events, chain_hashes, verify_chain


def main(n: int) -> None:
    con = duckdb.connect()
    ensure_schema(con)
    days = 60
    con.execute(
        """
        INSERT INTO case_events (case_id, event_seq, household_id, event_date, processed_date, event, source, old_state,
                                 new_state, evidence_zh)
        SELECT 'AJ-' || lpad((i // 4)::VARCHAR, 15, '0'), (i % 4 + 1)::INTEGER, lpad((i // 4)::VARCHAR, 15, '0'),
               DATE '2026-09-01' + (i % $days)::INTEGER, DATE '2026-09-01' + (i % $days)::INTEGER, '部门预警立案',
               '部门预警', '∅', '待排查', '近12个月个人负担医疗费用 18,230 元（医保）'
        FROM range($n) t(i)""",
        {"n": n, "days": days},
    )
    con.execute(
        "INSERT INTO workflow_runs SELECT DATE '2026-09-01' + i::INTEGER, '', 0, 0, 0 FROM range(?) t(i)", [days]
    )
    t = time.perf_counter()
    with transaction(con):
        chain_events(con)
    full = time.perf_counter() - t
    t = time.perf_counter()
    report = verify_chain(con)
    verify = time.perf_counter() - t
    assert report.intact, report.message()
    digests = [r[0] for r in con.execute("SELECT event_hash FROM case_events").fetchall()]
    t = time.perf_counter()
    chain_hashes("0" * 64, digests)
    loop = time.perf_counter() - t
    print(
        f"{n:,} events: chain_events (digests in DuckDB + hashlib chain + UPDATE) {full:.2f} s; "
        f"verify_chain {verify:.2f} s; hashlib chain loop alone {loop:.2f} s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
