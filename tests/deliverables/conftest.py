"""The deliverables tests' warehouse, built once per session: a closed loop of two generated counties; then one
village renamed and one new alert's explanation rewritten to look like formulas (tests/deliverables_helpers.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from deliverables_helpers import COUNTIES, END, FLAGGED, FORMULA_EXPLANATION, FORMULA_VILLAGE, LOOP, unflag
from shared_builds import built_once

from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables import write_county_outputs


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    """Read-only for tests: copy ``wh.duckdb`` before changing it."""
    from workflow_helpers import closed_loop

    from fangfanpin.generator import MessyRates, generate
    from fangfanpin.ingest.read import delivery_dates

    def build(root: Path) -> None:
        generate(
            root / "landing",
            root / "truth",
            counties=COUNTIES,
            households=150,
            start=date(2026, 8, 1),
            end=END,
            seed=11,
            messy=MessyRates(),
            daily_days=6,
        )
        warmup = [d for d in delivery_dates(root / "landing") if d < LOOP[0]][-1:]
        closed_loop(root / "wh.duckdb", root / "landing", root / "truth", LOOP, warmup=warmup)
        con = duckdb.connect(str(root / "wh.duckdb"))
        try:
            # a village with a notice on some day gets a formula-looking name in the roster and the indicators
            row = con.execute("""SELECT b.village_code, b.processed_date FROM publication_batches b
                                 JOIN publication_members m USING (batch_id) WHERE m.purpose IN ('纳入', '补充公示')
                                 ORDER BY b.processed_date DESC, b.village_code LIMIT 1""").fetchall()
            assert row, "the loop issued no publication batch"
            con.execute("UPDATE roster SET village_name = ? WHERE village_code = ?", [FORMULA_VILLAGE, row[0][0]])
            con.execute(
                "UPDATE household_indicators SET village_name = ? WHERE village_code = ?", [FORMULA_VILLAGE, row[0][0]]
            )
            # a household flagged on END without an open case becomes new on END (not flagged the day before), so that
            # the 新增预警 sheet shows its formula-looking explanation
            (household,) = con.execute(
                f"""SELECT min(household_id) FROM household_scores WHERE as_of_date = $d AND NOT monitored AND {FLAGGED}
                    AND household_id NOT IN (SELECT household_id FROM case_status_daily WHERE as_of_date = $d)""",
                {"d": END},
            ).fetchall()[0]
            unflag(
                con,
                "household_id = $h AND as_of_date = (SELECT max(as_of_date) FROM household_scores WHERE as_of_date < $d)",
                {"h": household, "d": END},
            )
            con.execute(
                "UPDATE household_scores SET explanation_zh = ? WHERE as_of_date = ? AND household_id = ?",
                [FORMULA_EXPLANATION, END, household],
            )
            (root / "notice_day").write_text(row[0][1].isoformat())
        finally:
            con.close()

    return built_once(tmp_path_factory, "deliverables", build)


@pytest.fixture(scope="session")
def outputs(warehouse, tmp_path_factory):
    """Outputs of the newest day and of the notice day, written once, from the warehouse opened read-only: the
    deliverables only read it."""
    out = tmp_path_factory.mktemp("outbox")
    notice_day = date.fromisoformat((warehouse / "notice_day").read_text())
    con = duckdb.connect(str(warehouse / "wh.duckdb"), read_only=True)
    try:
        paths = {}
        for day in sorted({END, notice_day}):
            paths[day] = write_county_outputs(con, day, out, load_policy(), run_id="run-1")
    finally:
        con.close()
    return out, paths, notice_day
