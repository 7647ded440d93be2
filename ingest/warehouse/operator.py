"""What an operator sees and does after a run: the deliveries held or rejected, everything to look at (exit
status 2), and accepting a held snapshot."""

from __future__ import annotations

from datetime import date

import duckdb


def accept_delivery(con: duckdb.DuckDBPyConnection, feed: str, day: date) -> int:
    """An operator accepts a held snapshot; returns the number of county versions released."""
    con.execute("INSERT OR IGNORE INTO operator_acceptances VALUES (?, ?)", [feed, day])
    released = con.execute(
        "UPDATE snapshot_versions SET status = 'accepted' WHERE feed = ? AND delivery_date = ? AND status = 'held'",
        [feed, day],
    ).fetchall()[0][0]
    con.execute(
        "UPDATE deliveries SET status = 'applied', message = message || '（操作员已确认接受）' "
        "WHERE feed = ? AND delivery_date = ? AND status IN ('held', 'partial')",
        [feed, day],
    )
    return released


def held_or_rejected(con: duckdb.DuckDBPyConnection, day: date) -> list[tuple[str, str, str]]:
    """(feed, status, message) of the date's deliveries that were held or rejected."""
    return con.execute(
        "SELECT feed, status, message FROM deliveries WHERE delivery_date = ? AND status IN ('held', 'partial', 'rejected') "
        "ORDER BY feed",
        [day],
    ).fetchall()


def delivery_problems(con: duckdb.DuckDBPyConnection, day: date) -> list[tuple[str, str, str]]:
    """(feed, status, message) of what an operator must look at after the date's run (exit status 2): deliveries
    held or rejected, files refused inside a delivery that otherwise loaded, entries of the delivery folder that were
    not read at all (ingest.landing), and no feed delivered at all. Texts quote file names: mask before showing."""
    refused = con.execute(
        """SELECT d.feed, 'file_rejected', string_agg(format('文件 {} 被拒收：{}', f.name, coalesce((
                      SELECT first(problem ORDER BY "row" NULLS FIRST, problem) FROM quarantine q
                      WHERE q.feed = d.feed AND q.delivery_date = d.delivery_date AND q.file = f.name), '原因见数据质量问题')),
                  '；' ORDER BY f.name)
           FROM deliveries d, unnest(from_json(d.files, '[{"name": "VARCHAR", "rejected": "BOOLEAN"}]')) AS u(f)
           WHERE d.delivery_date = ? AND d.status NOT IN ('held', 'partial', 'rejected') AND f.rejected
           GROUP BY d.feed""",
        [day],
    ).fetchall()
    not_read = con.execute(
        """SELECT '交付文件夹', 'file_not_read', string_agg(format('「{}」{}', name, problem), '；' ORDER BY name)
           FROM landing_files WHERE delivery_date = ? AND problem IS NOT NULL HAVING count(*) > 0""",
        [day],
    ).fetchall()
    problems = sorted(held_or_rejected(con, day) + refused) + not_read
    if not con.execute("SELECT count(*) FROM deliveries WHERE delivery_date = ? AND files <> '[]'", [day]).fetchall()[
        0
    ][0]:
        problems.append(
            (
                "全部数据集",
                "no_delivery",
                "本日没有任何数据集交付：落地文件夹不存在或其中没有可识别的数据文件（文件名以数据集名开头，"
                "如 roster_150625.csv） / no feed delivered at all: the landing folder is missing or holds no "
                "file named after a feed (e.g. roster_150625.csv)",
            )
        )
    return problems
