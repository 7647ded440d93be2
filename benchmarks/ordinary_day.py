"""The ordinary day of daily_run_benchmark.py: the delivery after the first, most of it what came the day before.

    .venv/bin/python benchmarks/daily_run_benchmark.py --sizes 10000,100000 --ordinary-day

One landing per size, generated for two dates (DAY and the day after, daily_days=2), so the second date has a day's
increments (claims, assistance, returns) of the same county; the first date's snapshots lose the children born on the
second date (``_as_extracted_on``). The first date is run untimed on an empty warehouse;
a copy of its warehouse and Dagster instance is kept. Then, for each variant, from that copy, the second date is run
as `fangfanpin run --date` and timed like the first delivery (process s, per stage, peak RSS):

- ``unchanged``: every snapshot feed's files of the first date re-sent byte for byte;
- ``1pct``: the same files with 1 % of their rows changed (one column's values rotated among those rows) and
  written again as UTF-8 CSV, so every snapshot must be read.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import timedelta
from pathlib import Path

from stage_table import stage_cells, stage_header

VARIANTS = ("unchanged", "1pct")


def ab_arguments() -> argparse.Namespace:
    """The arguments of a side-by-side ordinary-day benchmark: WORK, ``--code``, ``--rounds`` and ``--variant``."""
    from isolate import code_arguments

    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path)
    code_arguments(ap)
    ap.add_argument("--variant", choices=VARIANTS, default="unchanged")
    return ap.parse_args()


def generate_two_days(work: Path, households: int, counties: list[str], day) -> dict:
    from fangfanpin.generator import MessyRates, generate

    for name in ("landing", "truth", "day2_as_generated"):
        shutil.rmtree(work / name, ignore_errors=True)
    summary = generate(
        work / "landing",
        work / "truth",
        counties=counties,
        households=households,
        start=day,
        end=day + timedelta(days=1),
        seed=1,
        messy=MessyRates(),
        daily_days=2,
    )
    meta = {"households": summary.households, "persons": summary.persons, "rows_per_feed": summary.rows_per_feed}
    meta["rows_born_later"] = _as_extracted_on(work / "landing", day)
    (work / "landing.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    shutil.copytree(work / "landing" / (day + timedelta(days=1)).isoformat(), work / "day2_as_generated")
    return meta


def _as_extracted_on(landing: Path, day) -> int:
    """The first date's snapshots without the rows a value of which is judged otherwise on the next day: the
    generator's population runs to the second date, so the first date's roster and enrolment list the children born
    on the second (a real extract of the first date cannot), and each would make its file read again on the second
    date, as it should. Files that lose rows are written again as UTF-8 CSV. Returns the rows dropped."""
    import polars as pl

    from fangfanpin.data_contracts import all_contracts
    from fangfanpin.ingest import known_counties
    from fangfanpin.ingest.normalize import normalize_column
    from fangfanpin.ingest.read import find_feed_files, read_file

    dropped = 0
    for contract in all_contracts():
        dated = [c for c in contract.columns if c.type == "id" or (c.type == "date" and c.after_delivery != "allow")]
        if contract.kind != "snapshot" or not dated:
            continue
        for path in find_feed_files(landing, day, contract.feed):
            raw = read_file(path)
            frame = raw.frame.drop("_row")
            frame.columns = raw.headers
            later = pl.repeat(False, frame.height, eager=True)
            for column in dated:
                if column.header not in frame.columns:
                    continue
                cells = frame.get_column(column.header)
                on = [normalize_column(cells, column, d, known_counties()) for d in (day, day + timedelta(days=1))]
                for part in ("problem", "note"):
                    later = later | on[0].get_column(part).ne_missing(on[1].get_column(part))
            if later.any():
                dropped += int(later.sum())
                path.unlink()
                (path.parent / (path.stem + ".csv")).write_text(frame.filter(~later).write_csv(), encoding="utf-8")
    return dropped


def set_second_day(work: Path, day, variant: str) -> int:
    """Make the second date's folder: its increments as generated, the first date's snapshots as ``variant`` says.
    Returns the snapshot rows changed."""
    from fangfanpin.data_contracts import all_contracts
    from fangfanpin.ingest.read import find_feed_files

    first, second = work / "landing" / day.isoformat(), work / "landing" / (day + timedelta(days=1)).isoformat()
    shutil.rmtree(second, ignore_errors=True)
    shutil.copytree(work / "day2_as_generated", second)
    changed = 0
    for contract in all_contracts():
        if contract.kind != "snapshot":
            continue
        for path in find_feed_files(work / "landing", day + timedelta(days=1), contract.feed):
            path.unlink()
        for path in find_feed_files(work / "landing", day, contract.feed):
            if variant == "unchanged":
                shutil.copy(path, second / path.name)
            else:
                changed += _write_changed(contract, path, second / (path.stem + ".csv"))
    assert first.exists()
    return changed


def _write_changed(contract, source: Path, target: Path) -> int:
    """``source`` as UTF-8 CSV with one column's values rotated among every hundredth row: the column, of those
    that neither key nor place a row, whose values differ most among those rows (a county's name would not change)."""
    import polars as pl

    from fangfanpin.ingest.read import read_file

    raw = read_file(source)
    frame = raw.frame.drop("_row")
    frame.columns = raw.headers
    index = pl.int_range(frame.height, eager=True).filter(pl.int_range(frame.height, eager=True) % 100 == 7)
    fixed = set(contract.key) | set(contract.placement_columns)
    free = [c.header for c in contract.columns if c.name not in fixed and c.header in frame.columns]
    header = max(free, key=lambda h: frame.get_column(h).gather(index).n_unique())
    picked = frame.get_column(header).gather(index)
    rotated = pl.concat([picked.tail(1), picked.head(picked.len() - 1)]) if picked.len() else picked
    frame = frame.with_columns(frame.get_column(header).scatter(index, rotated))
    target.write_text(frame.write_csv(), encoding="utf-8")
    return int(index.len())


STATE = ("warehouse.duckdb", "dagster", "outbox")


def keep_state(work: Path) -> None:
    """Keep the warehouse, the Dagster instance and the outbox as the first date left them."""
    kept = work / "after_first"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir()
    for name in STATE:
        source = work / name
        if source.is_dir():
            shutil.copytree(source, kept / name)
        elif source.exists():
            shutil.copy(source, kept / name)


def restore_state(work: Path) -> None:
    kept = work / "after_first"
    for name in (*STATE, "warehouse.duckdb.wal"):
        target = work / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        if (kept / name).is_dir():
            shutil.copytree(kept / name, target)
        elif (kept / name).exists():
            shutil.copy(kept / name, target)


def resent_unchanged(work: Path, day) -> list[str]:
    """The summary lines of the second date saying which snapshots were not read again (none before the change)."""
    import duckdb

    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        columns = {r[0] for r in con.execute("DESCRIBE deliveries").fetchall()}
        if "same_as" not in columns:
            return []
        rows = con.execute(
            "SELECT feed FROM deliveries WHERE delivery_date = ? AND same_as IS NOT NULL ORDER BY 1",
            [day + timedelta(days=1)],
        ).fetchall()
    return [r[0] for r in rows]


def print_ordinary(results: list[dict], stages: list[str], day) -> None:
    cols = stages + ["dagster"]
    print(f"\nan ordinary day: the delivery of {day + timedelta(days=1)} after a first one of {day}, 2 cores")
    print(f"{'households':>10} {'code':>10} {'variant':>9} {'copied':>6} " + stage_header(cols))
    for r in results:
        code = r.get("code", "this")
        print(f"{r['households']:>10,} {code:>10} {r['variant']:>9} {len(r['copied']):>6} " + stage_cells(r, cols))
    print(
        "(first: the first date on an empty warehouse, as the first-delivery table; copied: snapshot feeds recognised "
        "as re-sent unchanged and not read again; unchanged: every snapshot re-sent byte for byte; 1pct: 1 % of each "
        "snapshot's rows changed; both with the day's increments)"
    )


def measure_ordinary(
    work: Path, households: int, reuse: bool, model_dir: Path, bench, code: tuple[str, str] = ("this", "")
) -> list[dict]:
    """Both variants at one size, run by ``code`` (label, package folder; "": this checkout); ``bench`` is
    daily_run_benchmark (its runner, stage times, counties and date)."""
    from isolate import run_isolated

    day = bench.DAY
    work.mkdir(parents=True, exist_ok=True)
    if not (reuse and (work / "day2_as_generated").exists() and (work / "landing.json").exists()):
        run_isolated(generate_two_days, work, households, bench.COUNTIES, day)
    meta = json.loads((work / "landing.json").read_text(encoding="utf-8"))
    results = []
    label, pkgdir = code
    first = bench.run_daily(work, model_dir, day, pkgdir=pkgdir)
    if first["exit"] not in bench.EXIT_FINISHED:
        raise SystemExit(f"first delivery failed for {households:,} households ({label}):\n{first['stderr']}")
    results.append(_result(meta, "first", 0, work, day, first, bench))
    keep_state(work)
    for variant in VARIANTS:
        restore_state(work)
        changed = set_second_day(work, day, variant)
        run = bench.run_daily(work, model_dir, day + timedelta(days=1), fresh=False, pkgdir=pkgdir)
        if run["exit"] not in bench.EXIT_FINISHED:
            raise SystemExit(
                f"ordinary day ({variant}) failed for {households:,} households ({label}):\n{run['stderr']}"
            )
        results.append(_result(meta, variant, changed, work, day, run, bench))
        print(f"  {variant}: {run['process_seconds']:.1f} s, {len(results[-1]['copied'])} snapshot feeds copied")
    return results


def _result(meta: dict, variant: str, changed: int, work: Path, day, run: dict, bench) -> dict:
    result = {
        "households": meta["households"],
        "variant": variant,
        "snapshot_rows_changed": changed,
        "first_date_rows_born_later_dropped": meta.get("rows_born_later", 0),
        "copied": resent_unchanged(work, day) if variant != "first" else [],
        "exit": run["exit"],
        "process_seconds": round(run["process_seconds"], 2),
        "peak_mb": run["peak_mb"],
    } | bench.stage_times(work)
    result["run_seconds"] = round(result["run_seconds"], 2)
    return result
