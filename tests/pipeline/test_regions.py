"""Regions (config/regions.yaml): households never cross county lines, so regions run as independent
processes, each with its own landing, warehouse, outbox and Dagster instance. Two regions run in parallel give
exactly (byte for byte) the county deliverables of one combined run; a region's ingest places no row in a county of
another region; the regions file is validated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from fangfanpin.config.regions import RegionsError, get_region, load_regions, region_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=45)]

COUNTIES = ["150625", "152201"]  # 杭锦旗 (region erdos) and 乌兰浩特市 (region xingan)


def _clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any setting, so that the region's own defaults apply."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("FFP_") or k == "DAGSTER_HOME")}
    return env | {"FFP_LOG_LEVEL": "ERROR"} | extra


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fangfanpin.pipeline.cli", "run", "--pending", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate(timeout=600)
    assert process.returncode in (0, 2), out  # 2: a delivery held (the generator's messy values), the run completed
    assert "leaked" not in out, out  # DuckDB's bindings report objects alive at exit (once caused by the event log)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    """Every file's bytes; the manifest's without its run provenance (run_id, generated_at), which names the run, and
    without the ledger's chain head, which covers every county of the warehouse that wrote it (a region's or all)."""
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    manifest = json.loads(files["manifest.json"])
    assert manifest.pop("run_id") and manifest.pop("generated_at") and manifest.pop("ledger_chain_head")
    files["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return files


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory):
    """One landing with both counties, run once combined and once as two regions in parallel processes."""
    from fangfanpin.generator import generate

    root = tmp_path_factory.mktemp("regions")
    landing = root / "landing"
    generate(
        landing,
        root / "truth",
        counties=COUNTIES,
        households=120,
        start=date(2026, 10, 1),
        end=date(2026, 11, 20),
        seed=11,
        daily_days=1,  # a full delivery, then a daily one
    )

    combined = root / "combined"
    paths = {
        "FFP_LANDING_DIR": str(landing),
        "FFP_OUTBOX_DIR": str(combined / "outbox"),
        "FFP_WAREHOUSE": str(combined / "warehouse.duckdb"),
        "FFP_MODEL_DIR": str(combined / "models"),
        "DAGSTER_HOME": str(combined / "dagster"),
    }
    combined.mkdir()
    one = _run(combined, _clean_env(**paths))

    # The landing sync of docs/deployment.md: each county's files go to its region's landing.
    split = root / "split"
    for path in landing.rglob("*.*"):
        county = path.stem.rsplit("_", 1)[-1]
        target = split / "var/regions" / region_of(county) / "landing" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    regions = [region_of(c) for c in COUNTIES]
    parallel = [_run(split, _clean_env(), "--region", r) for r in regions]
    _finish(one)
    for process in parallel:
        _finish(process)
    return combined, split, regions


def test_two_regions_in_parallel_give_the_deliverables_of_one_combined_run(two_regions):
    combined, split, regions = two_regions
    outbox = combined / "outbox"
    days = sorted(p.name for p in outbox.iterdir())
    assert len(days) >= 2
    compared = 0
    for region in regions:
        region_outbox = split / "var/regions" / region / "outbox"
        assert sorted(p.name for p in region_outbox.iterdir()) == days
        for day in days:
            county_folders = [p for p in (region_outbox / day).iterdir() if p.name != "未归属"]
            assert [p.name for p in county_folders] == [c for c in COUNTIES if region_of(c) == region]
            for folder in county_folders:
                mine, theirs = _files(folder), _files(outbox / day / folder.name)
                assert mine.keys() == theirs.keys(), (day, folder.name)
                different = [name for name in mine if mine[name] != theirs[name]]
                assert not different, (day, folder.name, different)
                assert {"manifest.json", "candidates.csv"} <= mine.keys() and any(n.endswith(".xlsx") for n in mine)
                compared += len(mine)
    assert compared == sum(
        1 for day in days for p in (outbox / day).rglob("*") if p.is_file() and "未归属" not in p.parts
    )


def test_each_region_keeps_everything_under_its_own_folder(two_regions):
    _, split, regions = two_regions
    for region in regions:
        base = split / "var/regions" / region
        assert (base / "warehouse.duckdb").is_file() and (base / "dagster").is_dir()
        with duckdb.connect(str(base / "warehouse.duckdb"), read_only=True) as con:
            counties = {
                r[0]
                for r in con.execute("SELECT DISTINCT county_code FROM roster WHERE county_code IS NOT NULL").fetchall()
            }
        assert counties == set(get_region(region).counties) & set(COUNTIES)


def test_the_region_runs_are_tagged_in_their_instance(two_regions):
    from dagster import DagsterInstance, RunsFilter

    _, split, regions = two_regions
    for region in regions:
        home = split / "var/regions" / region / "dagster"
        with DagsterInstance.from_config(str(home)) as instance:
            runs = instance.get_runs(RunsFilter(tags={"ffp/region": region}))
        assert runs and all(r.is_success for r in runs)


def test_a_region_places_no_row_in_another_regions_county(tmp_path):
    """A file of another region's county that lands here by mistake is loaded unplaced and reported, not shown."""
    from fangfanpin.data_contracts import load_contract
    from fangfanpin.generator import generate
    from fangfanpin.ingest import ingest_feed
    from fangfanpin.ingest.read import delivery_dates

    landing = tmp_path / "landing"
    generate(
        landing,
        tmp_path / "truth",
        counties=COUNTIES,
        households=40,
        start=date(2026, 11, 1),
        end=date(2026, 11, 20),
        seed=3,
        daily_days=0,
    )
    day = delivery_dates(landing)[0]
    erdos = frozenset(get_region("erdos").counties)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for feed in ("roster", "medical_claims"):
            ingest_feed(con, load_contract(feed), landing, day, region_counties=erdos)
        placed = {r[0] for r in con.execute("SELECT DISTINCT county_code FROM roster").fetchall()}
        foreign = con.execute("SELECT count(*) FROM roster WHERE substr(village_code, 1, 6) = '152201'").fetchall()[0][
            0
        ]
        reported = con.execute(
            "SELECT count(*) FROM ingest_reports WHERE feed = 'roster' AND problem LIKE '%本区域以外的县（152201）%'"
        ).fetchall()[0][0]
        claims = dict(con.execute("SELECT county_code, count(*) FROM medical_claims GROUP BY 1").fetchall())
    assert placed == {"150625", None}
    assert foreign > 0 and reported == foreign
    assert set(claims) == {"150625", None} and claims[None] > 0  # claims follow their person's roster row: unplaced


def test_the_regions_file_is_validated(tmp_path):
    regions = load_regions()
    assert region_of("150625") == "erdos" and region_of("999999") is None
    assert len({c for r in regions.values() for c in r.counties}) == sum(len(r.counties) for r in regions.values())
    bad = tmp_path / "regions.yaml"
    for text, message in (
        ("regions:\n  a: {counties: ['150625']}\n  b: {counties: ['150625']}\n", "in both regions a and b"),
        ("regions:\n  Erdos: {counties: ['150625']}\n", "lower-case ASCII"),
        ("regions:\n  a: {counties: ['15062']}\n", "not a six-digit county code"),
        ("regions: []\n", "non-empty mapping"),
    ):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(RegionsError, match=message):
            load_regions(bad)


def test_an_unknown_region_is_refused_with_the_known_ones(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fangfanpin.pipeline.cli", "run", "--pending", "--region", "nowhere"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "unknown region 'nowhere'" in result.stderr and "erdos" in result.stderr
