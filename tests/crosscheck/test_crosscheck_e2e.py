"""Cross-check end to end on generated data: ingest every feed of one delivery, run the stage, and materialize the
Dagster assets; no full ID number reaches asset metadata."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest
from dagster_helpers import materialize_day

from fangfanpin.crosscheck import run_crosscheck
from fangfanpin.data_contracts import all_contracts
from fangfanpin.ingest import ingest_feed

pytestmark = pytest.mark.dagster

DAY = date(2026, 10, 31)


def test_generated_delivery_end_to_end(small_landing, tmp_path):
    from fangfanpin.assets.crosscheck import crosscheck_assets
    from fangfanpin.assets.resources import pipeline_resources

    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    for contract in all_contracts():
        ingest_feed(con, contract, small_landing, DAY)
    first = run_crosscheck(con, DAY)
    assert first.households > 250 and first.links > 1000 and first.rule_hits > 0
    rates = dict(
        con.execute(
            """SELECT feed, sum(records) FILTER (WHERE match_method <> 'unmatched') / sum(records)
                                FROM link_rates WHERE delivery_date = ? GROUP BY 1""",
            [DAY],
        ).fetchall()
    )
    assert rates["students"] > 0.8 and rates["medical_enrollment"] > 0.8
    listed = con.execute(
        """SELECT count(*), count(file), count(*) FILTER (WHERE "row" >= 2) FROM person_links
                            WHERE delivery_date = ?""",
        [DAY],
    ).fetchall()[0]
    assert listed[0] > 0 and listed[0] == listed[1] == listed[2]  # every listed record names its file and row
    codes = {r[0] for r in con.execute("SELECT DISTINCT rule_code FROM rule_hits").fetchall()}
    assert {"INC-LOW", "MED-UNINSURED"} <= codes
    # Every explanation names a department or source in brackets.
    assert con.execute("SELECT count(*) FROM rule_hits WHERE explanation_zh NOT LIKE '%（%）%'").fetchall()[0][0] == 0
    assert run_crosscheck(con, DAY) == first  # idempotent
    con.close()

    result = materialize_day(
        crosscheck_assets, partition_key=DAY.isoformat(), resources=pipeline_resources(warehouse=str(db))
    )
    assert result.success
    text = ""
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        assert "dagster/row_count" in metadata and "dagster/column_schema" in metadata
        text += " ".join(str(v.value) for v in metadata.values())
    assert "匹配率" in text and "问题类型" in text and "乡镇" in text
    assert not re.search(r"\d{17}[\dXx]", text)
