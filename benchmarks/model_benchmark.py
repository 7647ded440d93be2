"""Risk model benchmark and card figures.

    .venv/bin/python benchmarks/model_benchmark.py [--households 10000] [--workdir /tmp/ffp_model_bench]
                                                   [--train-households 100000] [--score-households 1000000]

1. The demo county (杭锦旗): the generator's county over 16 months (2025-08-01 … 2026-11-20, default messiness),
   ingested delivery by delivery; month-end indicators backfilled; the model trained on the warehouse's labels and
   evaluated on the validation window against the warehouse labels and the generator's ground truth (never used for
   training). Prints the card's figures.
2. Training speed: 12 monthly snapshots of ``--train-households`` households. The demo's indicators, rule hits and
   confirmations are replicated under new household ids (×k) in a separate warehouse, so the timing covers exactly
   what ``train`` does (training set query, two calibrated candidates, evaluation, refit, artifact), not the
   generator or ingest.
3. Scoring speed: ``--score-households`` households on one day (the demo's newest day replicated), with the
   promoted model: ``score_households`` end to end (query, predict, explanations, warnings, delete + insert).
Results go to <workdir>/model_benchmark.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fangfanpin.config.policy import load_policy  # noqa: E402
from fangfanpin.models import artifacts  # noqa: E402
from fangfanpin.models.dataset import backfill_indicators, labelled_dates  # noqa: E402
from fangfanpin.models.demo import build_demo_warehouse  # noqa: E402
from fangfanpin.models.scoring import score_households  # noqa: E402
from fangfanpin.models.training import train  # noqa: E402

START = date(2025, 8, 1)
SCORE_DAY = date(2026, 11, 20)


def replicate(source: Path, target: Path, copies: int, *, day: date | None = None) -> None:
    """A warehouse with every household of ``source`` present ``copies`` times (ids suffixed), for timing only."""
    if target.exists():
        target.unlink()
    con = duckdb.connect(str(target))
    con.execute("ATTACH ? AS src (READ_ONLY)", [str(source)])
    con.execute("CREATE TABLE k AS SELECT range AS k FROM range(?)", [copies])
    where = "WHERE as_of_date = ?" if day else ""
    params = [day] if day else []
    con.execute(
        f"""CREATE TABLE household_indicators AS SELECT h.* REPLACE (h.household_id || '-' || k.k AS household_id,
                    h.village_code || '-' || k.k AS village_code) FROM src.household_indicators h, k {where}""",
        params,
    )
    con.execute(
        f"""CREATE TABLE rule_hits AS SELECT r.* REPLACE (r.household_id || '-' || k.k AS household_id,
                    r.village_code || '-' || k.k AS village_code) FROM src.rule_hits r, k {where}""",
        params,
    )
    if not day:  # what labels and feature dates read
        for table in ("deliveries", "snapshot_versions", "reused_snapshots"):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
        con.execute("""CREATE TABLE county_decisions AS SELECT d.* REPLACE (d.household_id || '-' || k.k AS household_id)
                       FROM src.county_decisions d, k""")
        con.execute("""CREATE TABLE roster AS SELECT r.* REPLACE (r.household_id || '-' || k.k AS household_id)
                       FROM src.roster r, k WHERE r.risk_identified_date IS NOT NULL""")
        from fangfanpin.data_contracts import load_contract
        from fangfanpin.ingest.warehouse import asof_macro_sql

        for feed in ("county_decisions", "roster"):
            con.execute(asof_macro_sql(load_contract(feed)))
    con.execute("DETACH src")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/ffp_model_bench"))
    ap.add_argument("--train-households", type=int, default=100_000)
    ap.add_argument("--score-households", type=int, default=1_000_000)
    args = ap.parse_args()
    out: dict = {}
    policy = load_policy()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    landing, truth, db = build_demo_warehouse(work / "demo", args.households, start=START, daily_days=2)
    con = duckdb.connect(str(db))
    dates = labelled_dates(con, policy.model.horizon_days, policy.model.training_months)
    backfill_indicators(con, dates + [SCORE_DAY], policy)
    out["demo_build_seconds"] = round(time.perf_counter() - t0, 1)
    shutil.rmtree(work / "demo_models", ignore_errors=True)
    result = train(con, policy, work / "demo_models", truth=truth)
    card = result.card
    out["demo"] = {
        "households": args.households,
        "status": result.status,
        "model": result.chosen,
        "train_seconds": round(result.seconds, 1),
        "training_dates": card["training_dates"],
        "validation_dates": card["validation_dates"],
        "candidates": card["candidates"],
        "warehouse_labels": {k: card["validation"][k] for k in ("model", "rules", "workload")},
        "ground_truth": {k: card["truth_validation"][k] for k in ("model", "rules", "workload")},
        "card": str(work / "demo_models" / result.version / "card.md"),
    }
    if result.status != "promoted":
        artifacts.promote(work / "demo_models", result.version)  # the scoring benchmark needs a model
    t = time.perf_counter()
    n = score_households(con, SCORE_DAY, policy, work / "demo_models")
    out["demo"]["score_rows"], out["demo"]["score_seconds"] = n, round(time.perf_counter() - t, 2)
    out["demo"]["warnings"] = con.execute(
        """SELECT risk_level, count(*), count(*) FILTER (WHERE model_warning)
                                             FROM household_scores WHERE as_of_date = ? GROUP BY 1 ORDER BY 1""",
        [SCORE_DAY],
    ).fetchall()
    con.close()
    print(json.dumps(out["demo"], ensure_ascii=False, indent=1, default=str), flush=True)

    copies = max(1, round(args.train_households / args.households))
    bench = work / "train_bench.duckdb"
    replicate(db, bench, copies)
    con = duckdb.connect(str(bench))
    rows = con.execute(
        "SELECT count(DISTINCT household_id), count(DISTINCT as_of_date) FROM household_indicators "
        "WHERE as_of_date IN (SELECT unnest(?::DATE[]))",
        [dates],
    ).fetchall()[0]
    shutil.rmtree(work / "bench_models", ignore_errors=True)
    t = time.perf_counter()
    big = train(con, policy, work / "bench_models")
    out["training"] = {
        "households": rows[0],
        "snapshots": rows[1],
        "seconds": round(time.perf_counter() - t, 1),
        "status": big.status,
        "model": big.chosen,
        "rows": big.card.get("rows"),
    }
    con.close()
    print(json.dumps(out["training"], ensure_ascii=False), flush=True)

    copies = max(1, round(args.score_households / args.households))
    scoring = work / "score_bench.duckdb"
    replicate(db, scoring, copies, day=SCORE_DAY)
    con = duckdb.connect(str(scoring))
    t = time.perf_counter()
    n = score_households(con, SCORE_DAY, policy, work / "demo_models")
    out["scoring"] = {
        "households": n,
        "seconds": round(time.perf_counter() - t, 2),
        "warnings": con.execute(
            "SELECT count(*) FILTER (WHERE model_warning), "
            "count(*) FILTER (WHERE top_features_zh <> '') FROM household_scores"
        ).fetchall()[0],
    }
    con.close()
    print(json.dumps(out["scoring"], ensure_ascii=False), flush=True)
    (work / "model_benchmark.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
