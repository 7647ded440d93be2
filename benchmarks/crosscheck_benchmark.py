"""Cross-check benchmark: three representative rules side by side on the same delivery.

    .venv/bin/python benchmarks/crosscheck_benchmark.py --households 20000 [--workdir /tmp/ccbench] [--reuse]
    .venv/bin/python benchmarks/crosscheck_benchmark.py --stage-on benchmarks/out/h1000000/warehouse.duckdb --date 2026-10-31

(a) pandas baseline: reads the same landing files (CSV/XLSX), vectorised, computes MED-BURDEN (with reversals),
    EDU-MISSING and HOU-UNSAFE;
(b) bare DuckDB SQL over already-typed tables (the floor) for the same three rules;
(c) the pipeline on the same files as (a): ingest them under their contracts (files → warehouse), then the cross-check
    (links, indicators, all 15 rules); its rule stage (typed tables → hits) is timed separately.
With ``--stage-on WAREHOUSE --date D`` it instead times the whole stage on a copy of a warehouse holding every feed
(e.g. the one benchmarks/ingest_benchmark.py builds for 1,000,000 households): target under 60 s and 4 GB.
Each variant runs in its own process pinned to 2 cores (DuckDB threads = 2); peak memory is that process's max RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from isolate import pin_two_cores, run_isolated  # noqa: E402

DAY = date(2026, 11, 20)


def thresholds() -> dict:
    """The three rules' thresholds for DAY, from the policy's rule registry (as the pipeline takes them)."""
    from fangfanpin.config.policy import load_policy

    policy = load_policy().as_of(DAY)
    rule = policy.rule
    return {
        "d": DAY,
        "med_window": rule("MED-BURDEN").value("window_days"),
        "prior_income": policy.rural_income_prior_year(DAY.year),
        "share_poverty": rule("MED-BURDEN").value("share_poverty"),
        "share_other": rule("MED-BURDEN").value("share_other"),
        "missing_min": rule("EDU-MISSING").value("min_age"),
        "missing_max": rule("EDU-MISSING").value("max_age"),
        "unsafe_grades": list(rule("HOU-UNSAFE").value("grades")),
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _files(landing: Path, feed: str, up_to: date, *, latest_only: bool) -> list[Path]:
    days = sorted(d for d in landing.iterdir() if d.is_dir() and date.fromisoformat(d.name) <= up_to)
    found = [[p for p in sorted(d.iterdir()) if p.name.startswith(feed + "_") or p.stem == feed] for d in days]
    found = [f for f in found if f]
    return (found[-1] if found else []) if latest_only else [p for f in found for p in f]


def variant_pandas(landing: Path) -> dict:
    import pandas as pd

    from fangfanpin.data_contracts import load_contract

    def read(feed: str, latest_only: bool) -> pd.DataFrame:
        contract = load_contract(feed)
        rename = {c.header: c.name for c in contract.columns}
        frames = []
        for path in _files(landing, feed, DAY, latest_only=latest_only):
            if path.suffix == ".xlsx":
                frame = pd.read_excel(path, dtype=str)
            else:
                raw = path.read_bytes()
                encoding = "utf-8-sig" if raw[:3] == b"\xef\xbb\xbf" else "utf-8"
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    encoding = "gb18030"
                frame = pd.read_csv(path, dtype=str, encoding=encoding)
            frames.append(frame.rename(columns=rename))
        return pd.concat(frames, ignore_index=True)

    t = thresholds()
    start = time.perf_counter()
    roster = read("roster", True)
    roster["birth_date"] = pd.to_datetime(roster["birth_date"], errors="coerce")
    living = roster[roster["person_status"].fillna("正常") == "正常"]
    d = pd.Timestamp(DAY)
    # MED-BURDEN: claims of all deliveries, later delivery wins per settlement, reversals netted onto originals.
    claims = read("medical_claims", False).drop_duplicates("settlement_id", keep="last")
    claims["settlement_date"] = pd.to_datetime(claims["settlement_date"], errors="coerce")
    claims["personal_burden"] = pd.to_numeric(claims["personal_burden"].str.replace(",", ""), errors="coerce")
    claims = claims[claims["settlement_date"] <= d]
    rev = claims[claims["settlement_type"] == "冲销"].groupby("original_settlement_id")["personal_burden"].sum()
    orig = claims[claims["settlement_type"] == "正常"].copy()
    orig["net"] = orig["personal_burden"] + orig["settlement_id"].map(rev).fillna(0)
    orig = orig[orig["settlement_date"] > d - pd.Timedelta(days=t["med_window"])]
    orig = orig.merge(living[["id_number", "household_id"]], on="id_number")
    oop = orig.groupby("household_id")["net"].sum()
    types = roster.groupby("household_id")["household_type"].first()
    share = types.isin(["脱贫户", "监测户"]).map({True: t["share_poverty"], False: t["share_other"]})
    med = oop[oop > share.reindex(oop.index) * t["prior_income"]]
    # EDU-MISSING: living members of school age with no student record.
    students = read("students", True)
    age = (
        d.year
        - living["birth_date"].dt.year
        - ((living["birth_date"].dt.month * 100 + living["birth_date"].dt.day) > d.month * 100 + d.day).astype(int)
    )
    kids = living[
        (age >= t["missing_min"]) & (age <= t["missing_max"]) & ~living["id_number"].isin(students["id_number"])
    ]
    edu = kids["household_id"].unique()
    # HOU-UNSAFE: newest assessment per head, C/D and not completed.
    housing = read("housing_safety", True)
    housing["assessment_date"] = pd.to_datetime(housing["assessment_date"], errors="coerce")
    newest = housing.sort_values("assessment_date").drop_duplicates("head_id_number", keep="last")
    newest = newest.merge(roster[["id_number", "household_id"]], left_on="head_id_number", right_on="id_number")
    hou = newest[newest["safety_grade"].isin(t["unsafe_grades"]) & (newest["renovation_status"] != "已竣工")][
        "household_id"
    ].unique()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "hits": {"MED-BURDEN": len(med), "EDU-MISSING": len(edu), "HOU-UNSAFE": len(hou)}}


BARE_SQL = """
WITH r AS (SELECT * FROM t_roster), living AS (SELECT * FROM r WHERE coalesce(person_status, '正常') = '正常'),
rev AS (SELECT original_settlement_id AS sid, sum(personal_burden) AS b FROM t_claims WHERE settlement_type = '冲销' GROUP BY 1),
oop AS (
    SELECT l.household_id, sum(c.personal_burden + coalesce(rev.b, 0)) AS oop
    FROM t_claims c LEFT JOIN rev ON rev.sid = c.settlement_id JOIN living l ON l.id_number = c.id_number
    WHERE c.settlement_type = '正常' AND c.settlement_date > $d::DATE - $med_window::INT GROUP BY 1),
hh AS (SELECT household_id, any_value(household_type) AS household_type FROM r GROUP BY 1)
SELECT 'MED-BURDEN', count(*) FROM oop JOIN hh USING (household_id)
WHERE oop > CASE WHEN household_type IN ('脱贫户', '监测户') THEN $share_poverty ELSE $share_other END * $prior_income
UNION ALL
SELECT 'EDU-MISSING', count(DISTINCT household_id) FROM living
WHERE date_diff('year', birth_date, $d::DATE) - CASE WHEN strftime($d::DATE, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END BETWEEN $missing_min AND $missing_max
  AND id_number NOT IN (SELECT id_number FROM t_students)
UNION ALL
SELECT 'HOU-UNSAFE', count(DISTINCT r.household_id) FROM (
    SELECT * FROM t_housing QUALIFY row_number() OVER (PARTITION BY head_id_number ORDER BY assessment_date DESC) = 1) h
JOIN r ON r.id_number = h.head_id_number
WHERE list_contains($unsafe_grades, h.safety_grade) AND h.renovation_status <> '已竣工'
"""


def variant_sql(warehouse: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("SET threads = 2")
    # Typing and point-in-time selection happen before the clock starts: the floor is the rules alone.
    for name, source in (
        ("t_roster", "roster"),
        ("t_claims", "medical_claims"),
        ("t_students", "students"),
        ("t_housing", "housing_safety"),
    ):
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {source}_asof(?)", [DAY]).fetchall()
    con.execute("DELETE FROM t_claims WHERE settlement_date > ?", [DAY]).fetchall()
    params = thresholds()
    start = time.perf_counter()
    hits = dict(con.execute(BARE_SQL, params).fetchall())
    return {"seconds": time.perf_counter() - start, "hits": hits}


RULE_FEEDS = ("roster", "students", "housing_safety", "medical_claims")  # what the three rules read, as in (a)


def variant_pipeline(landing: Path, warehouse: Path) -> dict:
    """The same files as (a): the newest snapshot of roster, students and housing, every claims delivery."""
    from fangfanpin.config.policy import load_policy
    from fangfanpin.core.warehouse_file import connect
    from fangfanpin.crosscheck import compute_indicators, evaluate_rules, link_persons
    from fangfanpin.data_contracts import load_contract
    from fangfanpin.ingest import ingest_feed

    warehouse.unlink(missing_ok=True)
    con = connect(warehouse)  # the pipeline's own connection (memory limit, row group size)
    con.execute("SET threads = 2")
    start = time.perf_counter()
    for feed in RULE_FEEDS:
        contract = load_contract(feed)
        paths = _files(landing, feed, DAY, latest_only=contract.kind == "snapshot")
        for day in sorted({date.fromisoformat(p.parent.name) for p in paths}):
            ingest_feed(con, contract, landing, day)
    ingest_seconds = time.perf_counter() - start
    t0 = time.perf_counter()
    policy = load_policy()
    link_persons(con, DAY, policy)
    compute_indicators(con, DAY, policy)
    t1 = time.perf_counter()
    evaluate_rules(con, DAY, policy)
    rules_seconds = time.perf_counter() - t1
    rule_stage = time.perf_counter() - t0
    hits = dict(
        con.execute(
            """SELECT rule_code, count(DISTINCT household_id) FROM rule_hits WHERE as_of_date = ?
                               AND rule_code IN ('MED-BURDEN', 'EDU-MISSING', 'HOU-UNSAFE') GROUP BY 1""",
            [DAY],
        ).fetchall()
    )
    households = con.execute("SELECT count(*) FROM household_indicators WHERE as_of_date = ?", [DAY]).fetchall()[0][0]
    con.close()
    return {
        "seconds": time.perf_counter() - start,
        "ingest_seconds": ingest_seconds,
        "rule_stage_seconds": rule_stage,
        "rules_seconds": rules_seconds,
        "households": households,
        "hits": hits,
    }


def variant_stage(warehouse: Path, day: date) -> dict:
    """The whole cross-check stage (links, data quality, indicators, all 15 rules) on a warehouse holding every feed."""
    from fangfanpin.config.policy import load_policy
    from fangfanpin.core.warehouse_file import connect
    from fangfanpin.crosscheck import check_quality, compute_indicators, evaluate_rules, link_persons

    con = connect(warehouse)  # the pipeline's own connection (memory limit, row group size)
    con.execute("SET threads = 2")
    policy = load_policy()
    timings = {}
    for name, step in (
        ("links", lambda: link_persons(con, day, policy)),
        ("indicators", lambda: compute_indicators(con, day, policy)),
        ("rules", lambda: evaluate_rules(con, day, policy)),
        ("data quality", lambda: check_quality(con, day, policy)),
    ):
        t = time.perf_counter()
        step()
        timings[name] = round(time.perf_counter() - t, 2)
    households = con.execute("SELECT count(*) FROM household_indicators WHERE as_of_date = ?", [day]).fetchall()[0][0]
    con.close()
    return {"timings": timings, "households": households}


def generate_landing(work: Path, households: int) -> None:
    from fangfanpin.generator import MessyRates, generate

    generate(
        work / "landing",
        work / "truth",
        counties=["150625"],
        households=households,
        start=DAY - timedelta(days=80),
        end=DAY,
        seed=7,
        messy=MessyRates.none(),
        daily_days=6,
    )


def _child(args) -> None:
    pin_two_cores()
    landing, warehouse = Path(args.workdir) / "landing", Path(args.workdir) / "warehouse.duckdb"
    if args.variant == "pandas":
        out = variant_pandas(landing)
    elif args.variant == "sql":
        out = variant_sql(warehouse)
    elif args.variant == "stage":
        out = variant_stage(Path(args.warehouse), date.fromisoformat(args.date))
    else:
        out = variant_pipeline(landing, warehouse)
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out))


def stage_only(args) -> int:
    """--stage-on WAREHOUSE --date D: time the whole stage on a copy of a warehouse that holds every feed."""
    import shutil

    copy = Path(args.workdir) / "stage_copy.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.stage_on, copy)
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--variant",
            "stage",
            "--warehouse",
            str(copy),
            "--date",
            args.date,
            "--workdir",
            args.workdir,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    total = sum(out["timings"].values())
    core = out["timings"]["links"] + out["timings"]["indicators"] + out["timings"]["rules"]
    print(
        f"cross-check stage, {out['households']:,} households, {args.date}, 2 cores: {total:.1f} s, peak {out['peak_mb']:,.0f} MB"
    )
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in out["timings"].items()))
    print(f"  indicators + rules (with links): {core:.1f} s   target < 60 s and < 4,096 MB peak")
    copy.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--workdir", default="/tmp/ffp_crosscheck_bench")
    parser.add_argument("--reuse", action="store_true", help="reuse generated landing files in workdir")
    parser.add_argument("--stage-on", metavar="WAREHOUSE", help="time the whole stage on (a copy of) this warehouse")
    parser.add_argument("--date", default=DAY.isoformat(), help="with --stage-on: the delivery date")
    parser.add_argument("--variant", choices=["pandas", "sql", "pipeline", "stage"], help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:
        _child(args)
        return 0
    if args.stage_on:
        return stage_only(args)
    work = Path(args.workdir)
    if not (args.reuse and (work / "landing").exists()):
        t = time.perf_counter()
        run_isolated(generate_landing, work, args.households)  # the generator's peak must not count as a variant's
        print(f"generated {args.households:,} households in {time.perf_counter() - t:.1f} s")
    results = {}
    for variant in ("pipeline", "sql", "pandas"):  # pipeline first: it builds the warehouse the floor reads
        proc = subprocess.run(
            [sys.executable, __file__, "--variant", variant, "--workdir", str(work)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
    p, s, a = results["pipeline"], results["sql"], results["pandas"]
    print(f"households: {p['households']:,}   date: {DAY}   cores: 2")
    print(
        f"(a) pandas, files → 3 rules:            {a['seconds']:8.2f} s   peak {a['peak_mb']:8.0f} MB   hits {a['hits']}"
    )
    print(
        f"(b) bare SQL on typed tables, 3 rules:  {s['seconds']:8.2f} s   peak {s['peak_mb']:8.0f} MB   hits {s['hits']}"
    )
    print(
        f"(c) pipeline, files → all rules:        {p['seconds']:8.2f} s   peak {p['peak_mb']:8.0f} MB   hits {p['hits']}"
    )
    print(
        f"    of which ingest (contracts, quarantine, DuckDB) {p['ingest_seconds']:.2f} s; typed tables → hits "
        f"{p['rule_stage_seconds']:.2f} s = links + indicators {p['rule_stage_seconds'] - p['rules_seconds']:.2f} s "
        f"+ the 15 rules over indicators {p['rules_seconds']:.2f} s"
    )
    print(
        f"ratios: pipeline / pandas, files → hits {p['seconds'] / a['seconds']:.2f}× (target < 1); "
        f"rule step / bare SQL {p['rules_seconds'] / s['seconds']:.1f}× (target ≤ 3); "
        f"typed tables → hits incl. links and all indicators / bare SQL {p['rule_stage_seconds'] / s['seconds']:.1f}×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
