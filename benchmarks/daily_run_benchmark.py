"""Daily-run benchmark: the full daily job through Dagster for one delivery date, at several sizes.

    .venv/bin/python benchmarks/daily_run_benchmark.py [--sizes 10000,100000,1000000] [--workdir benchmarks/out/daily]
                                                       [--reuse] [--ordinary-day | --only-ordinary-day]
                                                       [--code LABEL=PKGDIR ...] [--rounds 1]

For each size N (households, about 3.5 persons each) across the 12 counties whose villages are packaged in
config/divisions:
1. generate ONE delivery date (start = end = DAY, daily_days=0, default messiness), as ingest_benchmark does. The
   run starts on an empty warehouse, so it is the first delivery of a county: every snapshot feed is loaded in full,
   every rule hit is new and the workflow opens its cases on an empty ledger. That is the heaviest day a county has
   (a steady-state day re-reads the same snapshots but opens few cases), so the figures are on the safe side.
   ``--reuse`` keeps landing data already in the workdir; warehouse, outbox and Dagster instance are always fresh.
2. run ``python -m fangfanpin.pipeline.cli run --date DAY`` (what ``fangfanpin run --date`` does) in a fresh process
   pinned to 2 cores, with DAGSTER_HOME, FFP_LANDING_DIR, FFP_OUTBOX_DIR, FFP_WAREHOUSE and FFP_MODEL_DIR in the workdir.
   Peak memory is that process's max RSS (os.wait4 on it). Per-stage time comes from the Dagster instance afterwards:
   step start/end of the run (get_run_step_stats), summed per asset group (an asset check's step counts for its
   asset's group); "dagster" is the rest of the run (planning, events, step hand-over).
3. run the pandas baseline of crosscheck_benchmark.py (variant_pandas: files → three rules) on the same landing
   files and compare it with the pipeline's crosscheck stage and with its ingest + crosscheck (files → all rules).

A model must be promoted, or scoring falls back to rules only (probabilities empty, no explanations) and would be
timed too cheaply. Before the first timed run the script trains one model (not timed) on a small generated county
with month-end history (杭锦旗, 1,500 households, Feb–Oct 2026: the set-up of tests/model_helpers.py) and promotes
it even if it does not beat the rules; every size scores with it (<workdir>/models, kept between invocations:
delete the folder to train again).

The target figures use "process s", the whole `fangfanpin run --date` process (Python start-up, loading the
definitions, the run, the exit check), not only the Dagster run ("run s"). Timings on a machine shared with other
work vary by a factor of two: measure the 100k and 1M sizes on a quiet machine.

4. with ``--ordinary-day``, the delivery after the first with every snapshot re-sent unchanged, and with 1 % of
   their rows changed, plus a day's increments (ordinary_day.py), timed the same way: its own table.

With ``--code LABEL=PKGDIR`` (repeatable; a folder holding a ``fangfanpin`` package, e.g. a ``git worktree`` of
another commit linked as PKGDIR/fangfanpin), each size's first delivery is run by each code in turn on the same
landing files (``--rounds`` times, A B A B), and the ordinary day by each code after the other: the previous code's
figures measured side by side with this one's, on the same day. The pandas baseline runs once a size. The work folders
(h<N>/, o<N>/ and its after_first/) then hold what the last code's runs left.

Results: a table on stdout, <workdir>/daily_run_benchmark.json and <workdir>/daily_run_benchmark.png (time against
size per stage, log-log; matplotlib is a dependency of the project).
Targets, on 2 cores: 1,000,000 households full daily run ≤ 60 s and ≤ 4 GB peak; t(1M) ≤ 12 × t(100k).
Run sizes above 10,000 only on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from isolate import code_arguments, codes_of, pin_two_cores, run_isolated, with_code  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXIT_FINISHED = (0, 2)  # the command's exit statuses of a run that finished (2: something for the operator)
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import ordinary_day  # noqa: E402
from crosscheck_benchmark import DAY  # noqa: E402  the pandas baseline's date, so both agree
from daily_run_report import plot, print_table  # noqa: E402
from stage_table import STAGES  # noqa: E402

COUNTIES = [
    "150625",
    "152201",
    "140431",
    "411402",
    "411403",
    "411421",
    "411422",
    "411423",
    "411424",
    "411425",
    "411426",
    "411481",
]


def generate_landing(work: Path, households: int) -> dict:
    from fangfanpin.generator import MessyRates, generate

    shutil.rmtree(work / "landing", ignore_errors=True)
    shutil.rmtree(work / "truth", ignore_errors=True)
    started = time.perf_counter()
    summary = generate(
        work / "landing",
        work / "truth",
        counties=COUNTIES,
        households=households,
        start=DAY,
        end=DAY,
        seed=1,
        messy=MessyRates(),
        daily_days=0,
    )
    meta = {
        "households": summary.households,
        "persons": summary.persons,
        "rows_per_feed": summary.rows_per_feed,
        "generate_seconds": round(time.perf_counter() - started, 1),
    }
    (work / "landing.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def promoted_model(workdir: Path) -> str | None:
    """The version of the model promoted in <workdir>/models, or None."""
    from fangfanpin.models import artifacts

    pointer = artifacts.promoted_version(workdir / "models")
    return pointer["version"] if pointer else None


def train_model(workdir: Path) -> None:
    """Train and promote one model on a small county with history (not timed). Run in a process of its own
    (isolate.run_isolated): the runs measured after it would otherwise report training's peak memory as theirs."""
    import duckdb

    from fangfanpin.config.policy import load_policy, parse_policy
    from fangfanpin.models import artifacts
    from fangfanpin.models.dataset import backfill_indicators, labelled_dates
    from fangfanpin.models.demo import build_demo_warehouse
    from fangfanpin.models.training import train

    _, _, db = build_demo_warehouse(
        workdir / "model_county", households=1500, start=date(2026, 2, 1), end=date(2026, 11, 20), daily_days=0
    )
    base = load_policy()  # as tests/model_helpers.py: seven labelled month-ends, so a shorter validation window
    policy = parse_policy(
        dict(base.raw, model=dict(base.raw["model"], validation_months=2, min_positive_labels=10)), base.path
    )
    model_dir = workdir / "models"
    con = duckdb.connect(str(db))
    try:
        backfill_indicators(con, labelled_dates(con, policy.model.horizon_days, policy.model.training_months), policy)
        result = train(con, policy, model_dir)
    finally:
        con.close()
    if result.version is None:
        raise SystemExit(f"could not train the scoring model: {result.message}")
    if result.status != "promoted":  # timing needs a model whatever its quality
        artifacts.promote(model_dir, result.version)


def run_daily(work: Path, model_dir: Path, day: date = DAY, fresh: bool = True, pkgdir: str = "") -> dict:
    """The daily job in a fresh process, as `fangfanpin run --date`; returns wall time, peak RSS and the exit status.
    ``fresh``: on an empty warehouse, outbox and instance; ``pkgdir``: the code to run (isolate.with_code), "" for
    this checkout."""
    for name in ("outbox", "dagster") if fresh else ():
        shutil.rmtree(work / name, ignore_errors=True)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal") if fresh else ():
        (work / name).unlink(missing_ok=True)
    env = with_code(
        pkgdir,
        DAGSTER_HOME=str(work / "dagster"),
        FFP_LANDING_DIR=str(work / "landing"),
        FFP_OUTBOX_DIR=str(work / "outbox"),
        FFP_WAREHOUSE=str(work / "warehouse.duckdb"),
        FFP_MODEL_DIR=str(model_dir.resolve()),
    )
    log_out, log_err = work / "run.stdout.log", work / "run.stderr.log"
    with open(log_out, "wb") as out, open(log_err, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "fangfanpin.pipeline.cli", "run", "--date", day.isoformat()],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            preexec_fn=pin_two_cores,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (max RSS), not the max over all children
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "process_seconds": wall,
        "exit": proc.returncode,
        "peak_mb": round(usage.ru_maxrss / 1024),
        "stdout": log_out.read_text(encoding="utf-8", errors="replace")[-2000:],
        "stderr": log_err.read_text(encoding="utf-8", errors="replace")[-4000:],
    }


def stage_times(work: Path) -> dict:
    """Per-group step time of the (only) run in the instance at <work>/dagster."""
    from dagster import DagsterInstance

    from fangfanpin.pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    group_of_step: dict[str, str] = {}
    for a in graph.assets_defs:
        if not a.is_executable:
            continue
        keys = list(a.keys) or [c.asset_key for c in a.check_keys]
        groups = {graph.get(k).group_name for k in keys if graph.has(k)}
        group_of_step[a.node_def.name] = groups.pop() if len(groups) == 1 else "/".join(sorted(groups)) or "other"
    os.environ["DAGSTER_HOME"] = str((work / "dagster").resolve())
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_stats(run.run_id)
        steps = instance.get_run_step_stats(run.run_id)
    per_group = dict.fromkeys(STAGES, 0.0)
    for s in steps:
        if s.start_time and s.end_time:
            group = group_of_step.get(s.step_key, "other")
            per_group[group] = per_group.get(group, 0.0) + s.end_time - s.start_time
    run_seconds = (stats.end_time or 0) - (stats.start_time or 0)
    per_group["dagster"] = max(0.0, run_seconds - sum(per_group.values()))
    if per_group.get("other"):  # steps of another code's graph that this checkout does not know
        print(f"  note: {per_group['other']:.1f} s in steps of no known group (kept as 'other' in the JSON)")
    slowest = sorted((s for s in steps if s.start_time and s.end_time), key=lambda s: s.start_time - s.end_time)[:6]
    return {
        "run_id": run.run_id,
        "status": run.status.value,
        "run_seconds": run_seconds,
        "stages": {k: round(v, 2) for k, v in per_group.items()},
        "slowest_steps": {s.step_key: round(s.end_time - s.start_time, 2) for s in slowest},
    }


def run_pandas(work: Path) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "crosscheck_benchmark.py"),
            "--variant",
            "pandas",
            "--workdir",
            str(work),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(work: Path, households: int, reuse: bool, model_dir: Path, code: tuple[str, str] = ("this", "")) -> dict:
    """The first delivery of ``households`` run by ``code`` (label, package folder) on an empty warehouse."""
    work.mkdir(parents=True, exist_ok=True)
    if reuse and (work / "landing" / DAY.isoformat()).exists() and (work / "landing.json").exists():
        meta = json.loads((work / "landing.json").read_text(encoding="utf-8"))
    else:
        run_isolated(generate_landing, work, households)  # the generator's peak must not count as the run's
        meta = json.loads((work / "landing.json").read_text(encoding="utf-8"))
        print(
            f"  generated {meta['households']:,} households, {meta['persons']:,} persons in "
            f"{meta['generate_seconds']} s (not timed)",
            flush=True,
        )
    run = run_daily(work, model_dir, pkgdir=code[1])
    if run["exit"] not in EXIT_FINISHED:
        raise SystemExit(f"daily run failed for {households:,} households ({code[0]}):\n{run['stderr']}")
    result = {
        "code": code[0],
        "households": meta["households"],
        "persons": meta["persons"],
        "input_rows": sum(meta["rows_per_feed"].values()),
        "exit": run["exit"],
        "process_seconds": round(run["process_seconds"], 2),
        "peak_mb": run["peak_mb"],
        "run_output": run["stdout"].strip().splitlines()[-3:],
    }
    result |= stage_times(work)
    result["run_seconds"] = round(result["run_seconds"], 2)
    result["households_per_s"] = round(result["households"] / result["run_seconds"])
    result["input_rows_per_s"] = round(result["input_rows"] / result["run_seconds"])
    return result


def compare_with_pandas(results: list[dict], pandas: dict) -> None:
    """Each result of one size against the pandas baseline measured on its files."""
    for result in results:
        cc = result["stages"]["crosscheck"]
        result["pandas"] = {
            "seconds": round(pandas["seconds"], 2),
            "peak_mb": round(pandas["peak_mb"]),
            "hits": pandas["hits"],
            "crosscheck_over_pandas": round(cc / pandas["seconds"], 2),
            "ingest_plus_crosscheck_over_pandas": round((result["stages"]["ingest"] + cc) / pandas["seconds"], 2),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="households, comma-separated")
    parser.add_argument("--workdir", default="benchmarks/out/daily")
    parser.add_argument("--reuse", action="store_true", help="reuse generated landing data in the workdir")
    parser.add_argument("--ordinary-day", action="store_true", help="also the next day's delivery (ordinary_day.py)")
    parser.add_argument("--only-ordinary-day", action="store_true", help="the ordinary day only")
    code_arguments(parser, rounds=1)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    codes = codes_of(args)
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    version = promoted_model(workdir)
    if version is None:
        run_isolated(train_model, workdir)
        version = promoted_model(workdir)
    print(f"scoring model {version} in {workdir / 'models'} ({time.perf_counter() - t:.1f} s, not timed)", flush=True)
    results, ordinary = [], []
    for n in sizes:
        print(f"{n:,} households …", flush=True)
        if not args.only_ordinary_day:
            of_size = [
                measure(workdir / f"h{n}", n, args.reuse or i > 0, workdir / "models", code)
                | {"round": i // len(codes) + 1}
                for i, code in enumerate(codes * args.rounds)
            ]
            compare_with_pandas(of_size, run_pandas(workdir / f"h{n}"))
            results += [r | {"model_version": version} for r in of_size]
        for i, (label, pkgdir) in enumerate(codes if args.ordinary_day or args.only_ordinary_day else []):
            days = ordinary_day.measure_ordinary(
                workdir / f"o{n}", n, args.reuse or i > 0, workdir / "models", sys.modules[__name__], (label, pkgdir)
            )
            ordinary += [r | {"code": label} for r in days]
    if results:
        print_table(results, COUNTIES)
    if ordinary:
        ordinary_day.print_ordinary(ordinary, STAGES, DAY)
    out = workdir / "daily_run_benchmark.json"
    figures = {"day": DAY.isoformat(), "counties": COUNTIES, "results": results, "ordinary_day": ordinary}
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    png = plot(results, workdir / "daily_run_benchmark.png") if results else None
    print(f"\nresults: {out}" + (f"\nplot: {png}" if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
