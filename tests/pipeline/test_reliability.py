"""Reliability and personal data, with real ``fangfanpin run --date`` subprocesses through Dagster on a small
generated warehouse of two counties, whose deliveries also carry damaged files with full ID numbers in every cell,
header, file and sheet name (tests/privacy_helpers.py ``inject_id_damage``):

- crashes: the run is SIGKILLed (``FFP_TEST_KILL_AT``, core/testhooks.py) inside an ingest transaction, inside
  the ledger transaction and between writing an outbox file and renaming it; after each kill nobody can see a half
  table or file, and re-running the date leaves the warehouse tables and the outbox exactly as an uninterrupted run;
- a second writer gets a clear Chinese + English message, not a DuckDB traceback;
- files are owner-only; no full ID number or phone number leaves the warehouse (outbox, logs, Dagster storage,
  model artifacts); each county folder holds its own households only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import unicodedata
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from model_helpers import model_county, trained_model  # noqa: F401  (fixtures of the model-artifact test)
from privacy_helpers import full_id_numbers, inject_id_damage

from fangfanpin.core.testhooks import PHASES

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=115)]

COUNTIES = ["150625", "150626"]
INJECTED_PHONES = ["13912345678", "13800000001", "13700000002", "13600000003", "13500000004"]
FFP = str(Path(sys.executable).with_name("fangfanpin"))


def _env(root: Path, landing: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFP_", "DAGSTER_"))}
    env |= {
        "FFP_LANDING_DIR": str(landing),
        "FFP_OUTBOX_DIR": str(root / "outbox"),
        "FFP_MODEL_DIR": str(root / "models"),
        "FFP_WAREHOUSE": str(root / "wh" / "warehouse.duckdb"),
        "DAGSTER_HOME": str(root / "dagster"),
    } | extra
    return env


def _run(root: Path, landing: Path, day: date, logs: list[str], **extra) -> subprocess.CompletedProcess:
    """``fangfanpin run --date`` in a child with a permissive umask (the command must restrict it itself)."""
    done = subprocess.run(
        [FFP, "run", "--date", day.isoformat()],
        env=_env(root, landing, **extra),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        preexec_fn=lambda: os.umask(0o022),
    )
    logs += [done.stdout, done.stderr]
    return done


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A: day 1 (a full delivery) and day 2 (a daily one), uninterrupted. B: a copy of A after day 1, where day 2
    crashes."""
    from fangfanpin.generator import MessyRates, generate
    from fangfanpin.ingest.read import delivery_dates

    base = tmp_path_factory.mktemp("reliability")
    landing, truth = base / "landing", base / "truth"
    generate(
        landing,
        truth,
        counties=COUNTIES,
        households=60,
        start=date(2026, 10, 1),
        end=date(2026, 11, 20),
        seed=13,
        messy=MessyRates.heavy(),
        daily_days=1,
    )
    days = delivery_dates(landing)
    persons = pl.read_parquet(truth / "persons.parquet").filter(pl.col("household_id").str.starts_with(COUNTIES[0]))
    ids = sorted(persons["id_number"].drop_nulls().to_list())  # one county's: a row of IDs stays in that county
    for i, day in enumerate(days):  # damaged files whose every cell, header and name is an ID or a phone number
        inject_id_damage(
            landing / day.isoformat(), ids[i * 7 :] + ids[: i * 7], INJECTED_PHONES[i:] + INJECTED_PHONES[:i]
        )
    a, b = base / "a", base / "b"
    a.mkdir(), b.mkdir()
    logs: list[str] = []
    assert _run(a, landing, days[0], logs).returncode in (0, 2), logs[-1]
    for sub in ("wh", "outbox", "dagster"):
        shutil.copytree(a / sub, b / sub)
    assert _run(a, landing, days[1], logs).returncode in (0, 2), logs[-1]
    return {"base": base, "landing": landing, "truth": truth, "days": days, "a": a, "b": b, "logs": logs}


# ------------------------------------------------------------------------------------------------------ comparing
def _tables(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in names}


def _outbox(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "manifest.json":  # only the run id and generation time may differ (docs/outputs.md)
                doc = json.loads(data)
                doc.pop("run_id"), doc.pop("generated_at")
                data = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
            out[p.relative_to(root).as_posix()] = data
    return out


def test_crashes_in_every_phase_then_rerun_equals_an_uninterrupted_run(world):
    b, landing, day, logs = world["b"], world["landing"], world["days"][1], world["logs"]
    db = b / "wh" / "warehouse.duckdb"
    before = _tables(db)
    for phase in PHASES:
        killed = _run(b, landing, day, logs, FFP_TEST_KILL_AT=phase)
        assert killed.returncode == -signal.SIGKILL, (phase, killed.stderr[-2000:])
        tables = _tables(db)  # the warehouse opens (WAL replayed) and shows whole transactions only
        if phase == "ingest":  # the first delivery of the day was rolled back: nothing of day 2 anywhere
            assert not any(r[1] == day for r in tables["deliveries"])
            assert tables["case_events"] == before["case_events"]
        elif phase == "ledger":  # ingest and cross-check of day 2 are in; the ledger is still as after day 1
            assert any(r[1] == day for r in tables["deliveries"])
            for t in ("case_events", "ledger_chain", "workflow_runs", "case_openings", "visit_tasks"):
                assert tables[t] == before[t], t
        else:  # killed before the first rename: a temporary file, no half-written visible file
            folder = b / "outbox" / day.isoformat()
            assert any(p.name.startswith(".tmp-") for p in folder.rglob("*"))
            visible = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")]
            assert visible == [], visible
    rerun = _run(b, landing, day, logs)
    assert rerun.returncode in (0, 2), rerun.stderr[-3000:]
    got_tables, want_tables = _tables(db), _tables(world["a"] / "wh" / "warehouse.duckdb")  # A: uninterrupted
    # the run bookkeeping names each run (id, times): only which dates are done must agree
    done = [{r[0]: r[2] for r in t.pop("delivery_runs")} for t in (got_tables, want_tables)]
    assert got_tables == want_tables and done[0] == done[1]
    got, want = _outbox(b / "outbox"), _outbox(world["a"] / "outbox")
    assert sorted(got) == sorted(want)
    assert all(got[k] == want[k] for k in want), [k for k in want if got[k] != want[k]]
    verified = subprocess.run([FFP, "verify-ledger"], env=_env(b, landing), capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0 and "完整" in verified.stdout


def test_a_second_writer_gets_a_clear_message(world):
    b, landing = world["b"], world["landing"]
    db = b / "wh" / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(300)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        second = _run(b, landing, world["days"][1], world["logs"])
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1
    assert "正被另一个进程占用" in second.stderr and "in use by another process" in second.stderr
    assert f"PID {holder.pid}" in second.stderr and "Traceback" not in second.stderr
    assert "IO Error" not in second.stderr
    verified = subprocess.run([FFP, "verify-ledger"], env=_env(b, landing), capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stderr


# -------------------------------------------------------------------------------------------------- personal data
def _modes(root: Path) -> list[tuple[str, str]]:
    bad = []
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if p.is_symlink():
            continue
        if (p.is_dir() and mode != 0o700) or (p.is_file() and mode != 0o600):
            bad.append((str(p), oct(mode)))
    return bad


def test_warehouse_outbox_and_dagster_storage_are_owner_only(world):
    a = world["a"]
    for sub in ("wh", "outbox", "dagster"):
        assert _modes(a / sub) == [], sub


def _known(world) -> tuple[re.Pattern, re.Pattern, dict]:
    import polars as pl

    persons = pl.read_parquet(world["truth"] / "persons.parquet")
    ids = set(persons["id_number"].drop_nulls().to_list())
    with duckdb.connect(str(world["a"] / "wh" / "warehouse.duckdb"), read_only=True) as con:
        ids |= {r[0] for r in con.execute("SELECT id_number FROM roster WHERE length(id_number) = 18").fetchall()}
        phones = {r[0] for r in con.execute("SELECT DISTINCT phone FROM roster WHERE phone IS NOT NULL").fetchall()}
    phones = {p for p in phones if re.fullmatch(r"1[3-9]\d{9}", p)} | set(INJECTED_PHONES)
    assert len(ids) > 200 and len(phones) > 50
    # the first 17 characters name the person: they also catch an ID with a wrong check digit or one that a
    # 20-digit 残疾人证号 is built on (the texts are NFKC-normalised, so full-width digits count too)
    id_re = re.compile("|".join(sorted({re.escape(i[:17]) for i in ids})), re.IGNORECASE)
    phone_re = re.compile("|".join(sorted(map(re.escape, phones))))
    return id_re, phone_re, {"ids": ids, "phones": phones}


def _texts(path: Path):
    """(label, NFKC-normalised text) of everything readable inside ``path``: xlsx/zip members, PDF text and bytes,
    other files."""
    for label, text in _raw_texts(path):
        yield label, unicodedata.normalize("NFKC", text)


def _raw_texts(path: Path):
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                yield f"{path}!{name}", z.read(name).decode("utf-8", "ignore")
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        yield f"{path} (text)", "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    yield str(path), data.decode("utf-8", "ignore")


def _sheet_cells(path: Path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        yield ws.title, " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)


def test_no_id_or_phone_number_outside_the_warehouse(world):
    id_re, phone_re, _ = _known(world)
    roster = next((world["landing"] / world["days"][0].isoformat()).glob("roster*"))
    assert any(id_re.search(t) for _, t in _texts(roster)), "the scan must see IDs where they are (control)"
    leaks, scanned = [], []
    roots = [world["a"] / "outbox", world["a"] / "dagster", world["b"] / "outbox", world["b"] / "dagster"]
    for root in roots:
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            scanned.append(p)
            for label, text in _texts(p):
                if m := id_re.search(text):
                    leaks.append(("ID", label, m.group(0)[:6] + "…"))
                leaks += [("valid ID", label, found) for found in full_id_numbers(text)]
                # phone numbers: only in the county workbook's 排查任务 sheet (docs/outputs.md); checked per sheet below
                if p.suffix != ".xlsx" and (m := phone_re.search(text)):
                    leaks.append(("phone", label, m.group(0)[:3] + "…"))
            if p.suffix == ".xlsx":
                for sheet, text in _sheet_cells(p):
                    if sheet != "排查任务" and (m := phone_re.search(text)):
                        leaks.append(("phone", f"{p}[{sheet}]", m.group(0)[:3] + "…"))
    for i, log in enumerate(world["logs"]):
        for kind, pattern in (("ID", id_re), ("phone", phone_re)):
            if m := pattern.search(unicodedata.normalize("NFKC", log)):
                leaks.append((kind, f"command output {i}", m.group(0)[:3] + "…"))
        leaks += [("valid ID", f"command output {i}", found) for found in full_id_numbers(log)]
    with duckdb.connect(str(world["a"] / "wh" / "warehouse.duckdb"), read_only=True) as con:  # control: the damage
        told = {
            r[0]
            for r in con.execute(
                "SELECT file FROM quarantine UNION SELECT file FROM ingest_reports "
                "UNION SELECT name FROM landing_files WHERE problem IS NOT NULL"
            ).fetchall()
        }
    assert {"students_damaged.csv", "medical_claims_noheader.csv", "medical_claims_sheets.xlsx"} <= told
    assert sum(name.startswith(("visit_results_", "econ_check_1")) or name[:6].isdigit() for name in told) >= 3
    suffixes = {p.suffix for p in scanned}
    assert {".xlsx", ".csv", ".json", ".db"} <= suffixes, suffixes  # outbox files and Dagster's sqlite storage
    assert any("compute_logs" in str(p) or "storage" in str(p) for p in scanned)
    assert leaks == []


def test_each_county_folder_holds_only_its_own_households(world):
    import polars as pl

    from fangfanpin.deliverables.masking import mask_id

    with duckdb.connect(str(world["a"] / "wh" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT county_code, household_id, village_code, id_number FROM roster").fetchall()
    masks = {c: {mask_id(r[3]) for r in rows if r[0] == c and r[3]} for c in COUNTIES}
    for day in world["days"]:
        for county in COUNTIES:
            other = next(c for c in COUNTIES if c != county)
            folder = world["a"] / "outbox" / day.isoformat() / county
            assert (folder / "candidates.csv").is_file()
            foreign = re.compile(rf"(?<!\d){other}(\d{{9}}|\d{{6}})(?!\d)")  # 户编号 (15) or 村代码 (12)
            foreign_masks = masks[other] - masks[county]
            for p in folder.rglob("*"):
                for label, text in _texts(p) if p.is_file() else ():
                    assert not foreign.search(text), (label, foreign.search(text).group(0))
                    assert not any(m in text for m in foreign_masks), label
            cands = pl.read_csv(folder / "candidates.csv", infer_schema=False)
            assert cands["household_id"].str.starts_with(county).all()
            assert cands["village_code"].str.starts_with(county).all()
            assert all(p.name.startswith(county) for p in (folder / "公示").glob("*.pdf"))


def test_model_artifacts_hold_no_personal_data_and_are_owner_only(model_county, trained_model):
    import polars as pl

    persons = pl.read_parquet(model_county["truth"] / "persons.parquet")
    id_re = re.compile("|".join(map(re.escape, persons["id_number"].drop_nulls().to_list())), re.IGNORECASE)
    with duckdb.connect(str(model_county["db"]), read_only=True) as con:
        phones = [r[0] for r in con.execute("SELECT DISTINCT phone FROM roster WHERE phone IS NOT NULL").fetchall()]
    phone_re = re.compile("|".join(map(re.escape, [p for p in phones if re.fullmatch(r"1[3-9]\d{9}", p)])))
    model_dir = trained_model["model_dir"]
    files = [p for p in model_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".skops" for p in files)
    for p in files:
        for label, text in _texts(p):
            assert not id_re.search(text), label
            assert not phone_re.search(text), label
    assert _modes(model_dir) == []
