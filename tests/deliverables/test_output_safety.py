"""Outputs people open, through the real pipeline (ingest → cross-check → scores → ledger → deliverables) on a
generated county whose roster file carries household-head names that Excel or WPS would run as formulas:

- candidates.csv neutralises them (OWASP: a leading single quote); the workbook keeps them as text cells;
- each county's manifest.json holds the ledger's chain head of its date, so that a ledger re-hashed from the start
  after a case was deleted (which ``verify_chain`` alone accepts) fails ``fangfanpin verify-ledger`` against the
  manifests in the outbox or the copies a county holds.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from landing_helpers import read_text_rows, write_csv

from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables import write_county_outputs
from fangfanpin.deliverables.masking import FORMULA_PREFIXES
from fangfanpin.ingest.read import delivery_dates

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=14)]

COUNTY = "150625"
POISON = ['=HYPERLINK("http://x","点")', "+1", "-2", "@SUM(A1)"]


def _poison_rosters(landing: Path) -> dict[str, str]:
    """Every second household's head gets one of the POISON names in every roster file (rewritten as UTF-8 CSV, as
    a department's export would carry it); returns household id → poisoned name."""
    poisoned: dict[str, str] = {}
    for path in sorted(landing.glob("*/roster*")):
        rows = read_text_rows(path)
        header = rows[0]
        hh, name, relation = header.index("户编号"), header.index("姓名"), header.index("与户主关系")
        ids = sorted({(r[hh] or "").strip() for r in rows[1:]})
        for r in rows[1:]:
            i = ids.index((r[hh] or "").strip())
            if (r[relation] or "").strip() == "户主" and i % 2 == 0:
                r[name] = poisoned[(r[hh] or "").strip()] = POISON[i // 2 % len(POISON)]
        path.unlink()
        write_csv(rows, path.with_suffix(".csv"), "utf-8")
    return poisoned


@pytest.fixture(scope="module")
def county(small_landing, tmp_path_factory) -> dict:
    """The generated county with poisoned head names; the last four dates with the ledger and the deliverables."""
    from workflow_helpers import run_pipeline_day

    root = tmp_path_factory.mktemp("output_safety")
    landing, outbox, db = root / "landing", root / "outbox", root / "wh.duckdb"
    shutil.copytree(small_landing, landing)
    poisoned = _poison_rosters(landing)
    dates = delivery_dates(landing)
    days = dates[-4:]
    with duckdb.connect(str(db)) as con:
        for day in dates[:-4]:
            run_pipeline_day(con, landing, day, workflow=False)
        for day in days:
            run_pipeline_day(con, landing, day)
            write_county_outputs(con, day, outbox, load_policy(), run_id=f"run-{day}")
    return {"root": root, "outbox": outbox, "db": db, "days": days, "poisoned": poisoned}


# -------------------------------------------------------------------------------------------------- formula cells
def test_candidates_csv_neutralises_formula_names(county):
    poisoned, seen = county["poisoned"], set()
    for day in county["days"]:
        path = county["outbox"] / day.isoformat() / COUNTY / "candidates.csv"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA_PREFIXES), (path, cell)
        for r in (dict(zip(rows[0], row)) for row in rows[1:]):
            name = r["head_name"]  # empty where the messy roster's head row was quarantined (an ID like 1.50625E+17)
            if r["household_id"] in poisoned and name:
                assert name == "'" + poisoned[r["household_id"]], r
                seen.add(poisoned[r["household_id"]])
            else:
                assert not name.startswith("'"), r
    assert seen == set(POISON)  # every kind of formula name reached the list as a candidate's head


def test_workbook_keeps_formula_names_as_text(county):
    import openpyxl

    seen = set()
    for day in county["days"]:
        (book,) = (county["outbox"] / day.isoformat() / COUNTY).glob("*.xlsx")
        for ws in openpyxl.load_workbook(book).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, ws.title, cell.coordinate, cell.value)
                    if cell.value in POISON:
                        assert cell.data_type == "s", (ws.title, cell.coordinate)  # '-2' stays text, not a number
                        seen.add(cell.value)
    assert seen == set(POISON)


# ------------------------------------------------------------------------------------------ ledger and manifests
@pytest.fixture
def warehouse_copy(county, tmp_path, monkeypatch) -> Path:
    db = tmp_path / "wh.duckdb"
    shutil.copy(county["db"], db)
    monkeypatch.setenv("FFP_WAREHOUSE", str(db))
    monkeypatch.setenv("FFP_OUTBOX_DIR", str(county["outbox"]))
    return db


def _manifest(county: dict, day) -> Path:
    return county["outbox"] / day.isoformat() / COUNTY / "manifest.json"


def test_each_manifest_holds_the_ledger_chain_head_of_its_date(county):
    with duckdb.connect(str(county["db"]), read_only=True) as con:
        heads = {
            d: {"events": n, "head_hash": h}
            for d, n, h in con.execute("SELECT processed_date, events, head_hash FROM ledger_chain").fetchall()
        }
    assert sorted(heads) == county["days"] and len({h["head_hash"] for h in heads.values()}) >= 2
    for day in county["days"]:
        assert json.loads(_manifest(county, day).read_text(encoding="utf-8"))["ledger_chain_head"] == heads[day]


def test_an_intact_ledger_agrees_with_the_manifests(county, warehouse_copy, capsys):
    from fangfanpin.pipeline.cli import main

    assert main(["verify-ledger"]) == 0
    out = capsys.readouterr().out
    assert "完整" in out and f"{len(county['days'])} 份 manifest.json" in out and "agree" in out


def test_a_deleted_case_rehashed_from_the_start_fails_against_the_manifests(
    county, warehouse_copy, tmp_path, monkeypatch, capsys
):
    """A tamperer deletes a case's events and re-hashes the whole chain: the chain alone verifies, the heads the
    counties were given in their manifests do not."""
    from fangfanpin.pipeline.cli import main
    from fangfanpin.workflow.chain import chain_events, verify_chain

    with duckdb.connect(str(warehouse_copy)) as con:
        case_id, first = con.execute("""SELECT case_id, min(processed_date) FROM case_events GROUP BY 1
                                        ORDER BY 2, 1 LIMIT 1""").fetchall()[0]
        con.execute("BEGIN")
        con.execute("DELETE FROM case_events WHERE case_id = ?", [case_id])
        chain_events(con)
        con.execute("COMMIT")
        assert verify_chain(con).intact
    assert main(["verify-ledger"]) == 1
    err = capsys.readouterr().err
    assert f"处理日期 {first} " in err and f"processed date {first} " in err and str(_manifest(county, first)) in err
    assert "案件台账与交付清单不符" in err and "does not match the manifests" in err

    # the copies a county holds, in a layout of its own, and an outbox that is gone
    held = tmp_path / "县里保存的清单"
    for day in county["days"]:
        (held / f"{day:%Y%m%d}").mkdir(parents=True)
        shutil.copy(_manifest(county, day), held / f"{day:%Y%m%d}" / "manifest.json")
    monkeypatch.setenv("FFP_OUTBOX_DIR", str(tmp_path / "no_outbox"))
    assert main(["verify-ledger", "--manifests", str(held)]) == 1
    assert str(held / f"{first:%Y%m%d}" / "manifest.json") in capsys.readouterr().err


def test_verify_ledger_with_a_manifests_folder_missing_empty_or_damaged(warehouse_copy, tmp_path, capsys):
    from fangfanpin.pipeline.cli import main

    assert main(["verify-ledger", "--manifests", str(tmp_path / "missing")]) == 1
    assert "交付清单目录不存在" in capsys.readouterr().err
    (tmp_path / "held").mkdir()
    assert main(["verify-ledger", "--manifests", str(tmp_path / "held")]) == 1
    assert "没有 manifest.json" in capsys.readouterr().err
    (tmp_path / "held" / "manifest.json").write_bytes(b'{"delivery_date": "2026-11-2')  # cut off in a copy
    assert main(["verify-ledger", "--manifests", str(tmp_path / "held")]) == 1
    err = capsys.readouterr().err
    assert "无法读取交付清单" in err and str(tmp_path / "held" / "manifest.json") in err
