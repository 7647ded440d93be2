"""What the deliverables read from the warehouse for one delivery date (all SQL here, parameters bound)."""

from __future__ import annotations

import csv
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from fangfanpin.data_contracts import FEED_NAMES, load_contract
from fangfanpin.models.targeting import priority_sql, severity_rank_sql
from fangfanpin.workflow import states as S

OPEN = list(S.INCLUSION_OPEN)
# A household is flagged on a date when a rule fired for it or the model warned (household_scores; the warehouse's
# macro, schema/sql/scoring.sql); a warning is a flag on a household not monitored: the workbook's 新增预警, the
# command's summary and the daily overview count them.
FLAGGED = "flagged(rule_codes, model_warning)"
WARNED = f"(NOT coalesce(monitored, false) AND {FLAGGED})"
# Every warning on each date of $days, and whether it is new: no warning for the household at the previous scored
# date (the newest scored date before the day, in any county). Columns: day, before, the household_scores row's own.
WARNINGS = f"""(
    SELECT p.day, p.before, t.* EXCLUDE (as_of_date), b.household_id IS NULL AS new
    FROM (SELECT day, (SELECT max(as_of_date) FROM scored_dates WHERE as_of_date < day) AS before
          FROM (SELECT unnest($days::DATE[]) AS day)) p
    JOIN (SELECT * FROM household_scores WHERE {WARNED}) t ON t.as_of_date = p.day
    LEFT JOIN (SELECT as_of_date, household_id FROM household_scores WHERE {WARNED}) b
           ON b.as_of_date = p.before AND b.household_id = t.household_id)"""
# The visit tasks still open on the delivery date ($d), of every county (prepare keeps them in the temp table
# dlv_open_tasks; OPEN_TASKS is one county's, $c): 排查任务, the task packs, the 走访结果 template.
# Each with its priority (models.targeting: the higher of the case's rule severity and today's, then today's model
# probability), priority_rank (1 = first within its village; then due date) and priority_zh (what it rests on).
_RANK = f"greatest({severity_rank_sql('ps.severity_max')}, coalesce(pe.severity_rank, 0))"
_OPEN_TASKS_OF_DAY = f"""SELECT *, row_number() OVER (PARTITION BY county_code, village_code
                                ORDER BY priority DESC, due_date, household_id, task_id) AS priority_rank
    FROM (SELECT t.*, {priority_sql(_RANK, "ps.probability")} AS priority,
                 concat_ws('；', CASE {_RANK} WHEN 2 THEN '规则严重程度高' WHEN 1 THEN '规则严重程度中' END,
                           CASE WHEN ps.probability IS NOT NULL
                                THEN '模型概率 ' || printf('%.1f', ps.probability * 100) || '%' END) AS priority_zh
          FROM visit_tasks t
          LEFT JOIN visit_task_closures x ON x.task_id = t.task_id AND x.processed_date <= $d
          LEFT JOIN household_scores ps ON ps.as_of_date = $d AND ps.household_id = t.household_id
          LEFT JOIN (SELECT case_id, max({severity_rank_sql("severity")}) AS severity_rank FROM case_events
                     WHERE processed_date <= $d GROUP BY case_id) pe ON pe.case_id = t.case_id
          WHERE t.processed_date <= $d AND x.task_id IS NULL)"""
OPEN_TASKS = "(SELECT * FROM dlv_open_tasks WHERE county_code = $c)"


def _bound(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None) -> list | dict:
    """Named ``params`` may hold more than the query takes (the day's $d and $c): only those its statement names are
    bound (DuckDB refuses the others)."""
    if isinstance(params, dict):
        named = con.extract_statements(sql)[0].named_parameters
        return {k: v for k, v in params.items() if k in named}
    return params or []


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    """The query's rows as dicts (params as :func:`_bound` takes them)."""
    cur = con.execute(sql, _bound(con, sql, params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def frame_of(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """The query's rows as a polars frame (params as :func:`_bound` takes them)."""
    return con.sql(sql, params=_bound(con, sql, params)).pl()


@cache
def county_names() -> dict[str, str]:
    path = Path(__file__).resolve().parents[1] / "config" / "divisions" / "counties.csv"
    with path.open(encoding="utf-8") as fh:
        return {r["county_code"]: r["county_name"] for r in csv.DictReader(fh)}


def prepare(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Temp tables of the day: ``dlv_hh``, one row per household: head (name, ID, phone), names of village/township,
    村民小组, size and type, from the roster as of ``day`` with household_indicators as fallback; ``dlv_open_tasks``,
    the visit tasks open on ``day`` (OPEN_TASKS); ``dlv_cases``, every case as it stood after ``day`` (``cases_asof``,
    replayed from the ledger once a day, not once per county and sheet)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE dlv_hh AS
        WITH heads AS (
            SELECT household_id, county_code, name, id_number, phone, village_name, township_name, county_name,
                   village_code, household_size, household_type,
                   nullif(trim(village_group), '') AS village_group
            FROM roster_in_force(?::DATE) WHERE relation = '户主'
            QUALIFY row_number() OVER (PARTITION BY household_id
                ORDER BY CASE WHEN coalesce(person_status, '正常') = '正常' THEN 0 ELSE 1 END, id_number) = 1),
        ind AS (SELECT * FROM household_indicators WHERE as_of_date = ?::DATE)
        SELECT coalesce(i.household_id, h.household_id) AS household_id,
               coalesce(i.county_code, h.county_code) AS county_code,
               coalesce(i.township, h.township_name) AS township,
               coalesce(i.village_code, h.village_code) AS village_code,
               coalesce(i.village_name, h.village_name) AS village_name,
               coalesce(h.name, i.head_name) AS head_name, coalesce(h.id_number, i.head_id_number) AS head_id,
               h.phone, coalesce(h.household_size, i.recorded_size) AS household_size,
               coalesce(i.household_type, h.household_type) AS household_type, h.county_name,
               h.village_group
        FROM ind i FULL JOIN heads h ON h.household_id = i.household_id""",
        [day, day],
    ).fetchall()
    con.execute(f"CREATE OR REPLACE TEMP TABLE dlv_open_tasks AS {_OPEN_TASKS_OF_DAY}", {"d": day}).fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE dlv_cases AS SELECT * FROM cases_asof(?::DATE)", [day]).fetchall()


def counties(con: duckdb.DuckDBPyConnection, day: date) -> list[str]:
    """Counties with households on ``day`` (the roster, the scores or the ledger)."""
    sql = """SELECT county_code FROM dlv_hh UNION SELECT county_code FROM household_scores WHERE as_of_date = ?
             UNION SELECT county_code FROM case_status_daily WHERE as_of_date = ?"""
    params = [day, day]
    return sorted(
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT county_code FROM ({sql}) WHERE county_code IS NOT NULL "
            "AND regexp_full_match(county_code, '[0-9]{6}')",
            params,
        ).fetchall()
    )


def county_name(con: duckdb.DuckDBPyConnection, county: str) -> str:
    got = con.execute("SELECT min(county_name) FROM dlv_hh WHERE county_code = ?", [county]).fetchall()[0][0]
    return county_names().get(county) or got or county


def model_version(con: duckdb.DuckDBPyConnection, day: date) -> str | None:
    got = con.execute(
        """SELECT string_agg(DISTINCT model_version, ';' ORDER BY model_version) FROM household_scores
                         WHERE as_of_date = ? AND probability IS NOT NULL""",
        [day],
    ).fetchall()[0][0]
    return got or None


def chain_head(con: duckdb.DuckDBPyConnection, day: date) -> dict | None:
    """The case ledger's chain head after processed date ``day`` (workflow/chain.py): a county keeps it in its
    manifest, so that a ledger re-hashed after a deletion no longer matches. None without a ledger for ``day``."""
    got = con.execute("SELECT events, head_hash FROM ledger_chain WHERE processed_date = ?", [day]).fetchall()
    return {"events": got[0][0], "head_hash": got[0][1]} if got else None


def quality_rows(
    con: duckdb.DuckDBPyConnection, day: date, county: str | None, known: list[str] | None = None
) -> list[dict]:
    """Problem rows of the day's deliveries: ingest quarantine and reports, cross-check data-quality issues.
    ``county`` None: the rows placed in none of the ``known`` counties (NULL, empty, or a code without a folder)."""
    # ingest reports are corrections, notes and re-sent rows alike (their problem text says which): not all "已自动修正"
    parts = [
        f"""SELECT county_code, feed, department, file, "row", "column" AS field, raw_value, problem,
                   NULL AS household_id, NULL AS id_masked, department AS fix_by, '{how}' AS handling
            FROM {table} WHERE delivery_date = ?"""
        for table, how in (("quarantine", "隔离（未入库）"), ("ingest_reports", "提示（按问题说明处理）"))
    ]
    parts.append("""SELECT county_code, feed, NULL AS department, name AS file, NULL AS "row", NULL AS field,
                           NULL AS raw_value, problem, NULL AS household_id, NULL AS id_masked,
                           '交付文件的报送单位' AS fix_by, '文件未读取' AS handling
                    FROM landing_files WHERE delivery_date = ? AND problem IS NOT NULL""")  # files not read at all
    parts.append("""SELECT county_code, feed, department, file, "row", kind AS field, NULL AS raw_value,
                           description_zh AS problem, household_id, id_number_masked AS id_masked,
                           coalesce(fix_by, department) AS fix_by, '跨部门比对' AS handling
                    FROM data_quality_issues WHERE delivery_date = ?""")
    sql = " UNION ALL ".join(parts)
    where = "county_code = ?" if county else "county_code IS NULL OR NOT list_contains(?::VARCHAR[], county_code)"
    params = [day] * len(parts) + [county if county else list(known or [])]
    return rows(
        con,
        f"""SELECT * FROM ({sql}) WHERE {where}
                         ORDER BY feed, file, "row" NULLS LAST, field, problem, handling""",
        params,
    )


def feed_title(feed: str | None) -> str:
    """The feed's Chinese title from its data contract (e.g. roster → 农户及家庭成员信息); the code if unknown."""
    return load_contract(feed).title if feed in FEED_NAMES else (feed or "")


@cache
def id_headers(feed: str | None) -> frozenset[str]:
    """The Chinese headers of the feed's ID-number columns: a raw value from one of them is an ID number whatever
    shape it arrived in (full-width, a 20-digit 残疾人证号, a bad date), so it is masked as one, not pattern-matched."""
    return (
        frozenset(c.header for c in load_contract(feed).columns if c.type == "id")
        if feed in FEED_NAMES
        else frozenset()
    )
