"""The hostile-delivery corpus (tests/hostile_corpus.py) through plain ingest and through Dagster: every hostile
file gets a message naming feed, file, row and column; no crash; every good row still loads; counts reconcile."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from dagster import AssetCheckSeverity
from dagster_helpers import materialize_day
from hostile_corpus import CLAIMS, build_hostile_landing

from fangfanpin.data_contracts import FEED_NAMES, all_contracts, load_contract
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.prepare import prepare_delivery
from fangfanpin.ingest.read import UnreadableFile, find_feed_files, read_file

pytestmark = pytest.mark.dagster

FEEDS = ["roster"] + [f for f in FEED_NAMES if f != "roster"]


@pytest.fixture(scope="module")
def hostile(small_landing, tmp_path_factory):
    """The hostile landing, ingested once with the plain functions: (landing, days, cases, connection, outcomes)."""
    root = tmp_path_factory.mktemp("hostile")
    days, cases = build_hostile_landing(small_landing, root / "landing")
    con = duckdb.connect(str(root / "w.duckdb"))
    outcomes = {
        (day, feed): ingest_feed(con, load_contract(feed), root / "landing", day) for day in days for feed in FEEDS
    }
    yield root / "landing", days, cases, con, outcomes
    con.close()


def _issues(con, table: str, file: str) -> pl.DataFrame:
    return con.sql(f'SELECT feed, file, "row", "column", problem FROM {table} WHERE file = ?', params=[file]).pl()


def test_every_delivery_reconciles_and_nothing_crashed(hostile):
    _, days, _, con, outcomes = hostile
    for (day, feed), outcome in outcomes.items():
        p = outcome.prepared
        assert p.reconciles, (day, feed)
    stored = con.execute(
        "SELECT feed, delivery_date, rows_read, rows_loaded, duplicates, resent, superseded, quarantined "
        "FROM deliveries"
    ).fetchall()
    assert len(stored) == len(days) * len(FEEDS)
    for feed, day, read, loaded, duplicates, resent, superseded, quarantined in stored:
        assert read == loaded + duplicates + resent + superseded + quarantined, (feed, day)


def test_each_hostile_input_has_a_message_naming_file_row_and_column(hostile):
    _, _, cases, con, _ = hostile
    for _day, case in cases:
        if case.where == "none":
            continue
        table = "ingest_reports" if case.where == "reports" else "quarantine"
        found = _issues(con, table, case.file).filter(pl.col("problem").str.contains(case.message, literal=True))
        assert found.height, f"{case.name}: no message containing {case.message!r} for {case.file}"
        assert set(found.get_column("feed")) == {case.feed}
        if case.row is not None:
            assert case.row in found.get_column("row").to_list(), (case.name, found)
        if case.column is not None:
            hits = found.filter(pl.col("row") == case.row) if case.row is not None else found
            assert case.column in hits.get_column("column").to_list(), (case.name, hits)


def test_every_good_row_of_a_hostile_file_still_loads(hostile):
    _, _, cases, con, _ = hostile
    for day, case in cases:
        loaded = con.execute(
            f'SELECT count(*) FROM "{case.feed}_delivery"(?::DATE) WHERE _file = ?', [day, case.file]
        ).fetchall()[0][0]
        if case.name == "ten-fold volume spike":
            quarantined = con.execute(
                "SELECT quarantined + duplicates + superseded FROM deliveries WHERE feed = ? AND delivery_date = ?",
                [CLAIMS, day],
            ).fetchall()[0][0]
            assert loaded + quarantined == case.loads, case.name  # the generator's own messy rows, ten times over
        else:
            assert loaded == case.loads, case.name


def test_the_real_files_of_the_delivery_load_as_if_nothing_hostile_came_with_them(hostile, small_landing):
    _, days, _, con, _ = hostile
    for feed in ("roster", CLAIMS, "students", "medical_enrollment"):
        real = find_feed_files(small_landing, days[0], feed)
        alone = prepare_delivery(load_contract(feed), real, days[0])
        loaded = con.execute(
            f'SELECT count(*) FROM "{feed}_delivery"(?::DATE) WHERE _file = ?', [days[0], real[0].name]
        ).fetchall()[0][0]
        assert loaded == alone.rows_loaded, feed


def test_rejected_files_are_named_and_the_rest_of_the_feed_loads(hostile):
    _, days, _, con, outcomes = hostile
    files = {f.name: f for f in outcomes[(days[0], CLAIMS)].prepared.files}
    assert files["medical_claims_hostile_empty.csv"].rejected
    assert files["medical_claims_hostile_binary.csv"].rejected
    assert outcomes[(days[0], CLAIMS)].applied.status == "applied"
    problems = _issues(con, "quarantine", "medical_claims_hostile_binary.csv").get_column("problem").to_list()
    assert problems and "medical_claims_hostile_binary.csv" in problems[0]


def test_utf8_that_would_also_decode_as_gbk_is_read_as_utf8(hostile, small_landing):
    landing, days, _, con, _ = hostile
    path = landing / days[0].isoformat() / "medical_claims_hostile_utf8.csv"
    data = path.read_bytes()
    assert data.decode("gb18030", errors="replace") != data.decode("utf-8")  # a GBK sniff would mis-decode it
    raw = read_file(path)
    assert raw.encoding == "utf-8"
    names = con.execute("SELECT name FROM medical_claims WHERE _file = ? ORDER BY _row", [path.name]).fetchall()
    expected = raw.frame.get_column(f"c{raw.headers.index('姓名')}").to_list()
    assert [n for (n,) in names] == expected
    assert all("\ufffd" not in n for n in expected)


def test_gbk_behind_a_bom_loads_the_same_rows_as_plain_utf8(hostile):
    _, days, _, con, _ = hostile

    def settled(file: str) -> list:
        return con.execute(
            "SELECT substr(settlement_id, 3), name, total_cost FROM medical_claims WHERE _file = ? ORDER BY 1", [file]
        ).fetchall()

    assert settled("medical_claims_hostile_bom_gbk.csv") == settled("medical_claims_hostile_utf8.csv")


def test_the_workbook_is_read_from_its_visible_sheet_below_the_title(hostile):
    landing, days, _, con, _ = hostile
    raw = read_file(landing / days[0].isoformat() / "medical_claims_hostile_workbook.xlsx")
    assert raw.frame.get_column("_row").min() == 4
    extra = con.execute(
        "SELECT _extra FROM medical_claims WHERE _file = ? AND _row = 6", ["medical_claims_hostile_workbook.xlsx"]
    ).fetchall()
    assert "已核对" in extra[0][0]  # data under the second half of a merged header cell is kept, not dropped


def test_an_empty_snapshot_is_held_and_the_previous_one_stands(hostile):
    _, days, _, con, outcomes = hostile
    outcome = outcomes[(days[1], "roster")]
    assert outcome.applied.status == "held"
    assert "快照为空" in outcome.applied.message
    assert con.execute("SELECT DISTINCT _delivery_date FROM roster_asof(?::DATE)", [days[1]]).fetchall() == [(days[0],)]


def test_every_contract_header_row_in_gbk_is_not_utf8():
    """Why UTF-8 is tried first and trusted when it decodes: no contract's header row written in GBK is valid
    UTF-8, so a GBK delivery can never pass for UTF-8 as a whole."""
    for contract in all_contracts():
        for header in contract.columns:
            line = ",".join(c.header for c in contract.columns if c.required) or header.header
            with pytest.raises(UnicodeDecodeError):
                line.encode("gbk").decode("utf-8")


def test_utf16_and_a_renamed_workbook_are_refused_with_their_reason(tmp_path):
    utf16 = tmp_path / "roster.csv"
    utf16.write_bytes("证件号码,姓名\n".encode("utf-16"))
    with pytest.raises(UnreadableFile, match="UTF-16"):
        read_file(utf16)
    renamed = tmp_path / "roster_2.csv"
    renamed.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(UnreadableFile, match="XLSX"):
        read_file(renamed)


def test_the_hostile_delivery_through_dagster(small_landing, ffp_env):
    """The same corpus through the ingest assets and their checks: both partitions succeed, every delivery
    reconciles, the spike is a drift WARN, and the empty roster snapshot is a failed (non-blocking) check."""
    from fangfanpin.assets.ingest import ingest_assets, ingest_checks
    from fangfanpin.assets.resources import pipeline_resources

    days, _ = build_hostile_landing(small_landing, ffp_env / "landing")
    resources = pipeline_resources(warehouse=str(ffp_env / "warehouse.duckdb"))
    checks = {}
    for day in days:
        result = materialize_day([*ingest_assets, *ingest_checks], partition_key=day.isoformat(), resources=resources)
        assert result.success, day
        for event in result.get_asset_materialization_events():
            metadata = event.step_materialization_data.materialization.metadata
            if event.asset_key.path[-1] in FEEDS:  # the feeds (the other ingest asset lists the folder)
                assert metadata["reconciles"].value is True, (day, event.asset_key)
        checks[day] = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    first, second = days
    claims = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == CLAIMS)
    assert claims.step_materialization_data.materialization.metadata["rows_read"].value > 1000
    assert all(
        e.passed
        for (_, name), e in checks[first].items()
        if name in ("counts_reconcile", "contract_structure", "reports_placed")
    )
    assert all(e.passed for (_, name), e in checks[second].items() if name in ("counts_reconcile", "reports_placed"))
    spike = checks[second][(CLAIMS, "drift")]
    assert not spike.passed and spike.severity == AssetCheckSeverity.WARN
    held = checks[second][("roster", "snapshot_applied")]
    assert not held.passed and "快照为空" in held.metadata["message"].value
