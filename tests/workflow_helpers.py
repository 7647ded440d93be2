"""Helpers for the workflow tests: household_scores derived from rule_hits (no model code), and the closed loop
(ingest → cross-check → scores → workflow → simulated field team) run directly, without Dagster."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from fangfanpin.schema import ensure_schema, keep_scored_day


def scores_from_rules(con: duckdb.DuckDBPyConnection, day: date, model_share: float = 0.01) -> None:
    """household_scores for ``day``: one row per household; rules from rule_hits; a pseudo-model flags a stable
    hash-chosen ``model_share`` of the households without a rule (probability 0.30–0.60)."""
    ensure_schema(con)
    con.execute("DELETE FROM household_scores WHERE as_of_date = ?", [day])
    con.execute(
        """
        INSERT INTO household_scores
        WITH r AS (
            SELECT household_id, string_agg(DISTINCT rule_code, ';' ORDER BY rule_code) AS codes,
                   string_agg(DISTINCT risk_type, ';' ORDER BY risk_type) AS types,
                   CASE WHEN bool_or(severity = '高') THEN '高' ELSE '中' END AS sev,
                   string_agg(explanation_zh, '；' ORDER BY rule_code) AS expl
            FROM rule_hits WHERE as_of_date = $d GROUP BY 1),
        h AS (SELECT h.*, r.codes, r.types, r.sev, r.expl,
                     (hash(h.household_id) % 1000000) / 1000000.0 AS x FROM household_indicators h
              LEFT JOIN r USING (household_id) WHERE h.as_of_date = $d),
        m AS (SELECT *, codes IS NULL AND NOT coalesce(monitored, false) AND x < $share AS model FROM h)
        SELECT $d, county_code, township, village_code, household_id, household_type, coalesce(monitored, false),
               round(CASE WHEN model THEN 0.30 + 0.30 * x / $share ELSE 0.05 * x END, 4) AS p,
               CASE WHEN sev = '高' OR (model AND 0.30 + 0.30 * x / $share >= 0.5) THEN '高' WHEN sev IS NOT NULL OR model THEN '中' ELSE '低' END,
               coalesce(codes, CASE WHEN model THEN 'MODEL' ELSE '' END), coalesce(types, CASE WHEN model THEN '其他' ELSE '' END),
               sev, model, coalesce(expl, CASE WHEN model THEN '模型预警' ELSE '' END), '', 'test-rules-only'
        FROM m ORDER BY household_id""",
        {"d": day, "share": model_share},
    )
    keep_scored_day(con, day)


def run_pipeline_day(con: duckdb.DuckDBPyConnection, landing: Path, day: date, *, workflow: bool = True) -> None:
    from fangfanpin.crosscheck import run_crosscheck
    from fangfanpin.data_contracts import all_contracts
    from fangfanpin.ingest import ingest_feed
    from fangfanpin.workflow import run_workflow

    for contract in all_contracts():
        ingest_feed(con, contract, landing, day)
    run_crosscheck(con, day)
    scores_from_rules(con, day)
    if workflow:
        run_workflow(con, day)


def closed_loop(
    db: Path, landing: Path, truth: Path, days: list[date], *, warmup: list[date] = (), seed: int = 0, log=None
) -> None:
    """Ingest and cross-check the ``warmup`` dates (history), then run the loop day by day over ``days``."""
    from fangfanpin.workflow.simulator import prepare_closed_loop, simulate_day

    prepare_closed_loop(landing, days)
    con = duckdb.connect(str(db))
    try:
        for day in warmup:
            run_pipeline_day(con, landing, day, workflow=False)
        for day in days:
            run_pipeline_day(con, landing, day)
            summary = simulate_day(con, day, landing, truth, seed=seed)
            if log:
                log(day, summary)
    finally:
        con.close()
