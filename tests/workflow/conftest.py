"""The scripted county of tests/ledger_story.py as a fixture: six households on the roster of its first day."""

import duckdb
import pytest
from ledger_story import COUNTY, D1, ID, VILLAGE, H, insert_feed, insert_rows

from fangfanpin.schema import ensure_schema


@pytest.fixture
def county(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    insert_feed(
        con,
        "roster",
        D1,
        [{"household_id": H[i], "id_number": ID[i], "village_code": VILLAGE, "name": f"户主{i}"} for i in H],
    )
    insert_rows(
        con,
        "snapshot_versions",
        [{"feed": "roster", "delivery_date": D1, "county_code": COUNTY, "rows": 6, "status": "applied"}],
    )
    yield con
    con.close()
