"""One settings object passed in: assets take ``PipelineSettings`` as a resource and never read the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster_helpers import materialize_day
from landing_helpers import copy_delivery, first_date
from paths import REPO

from fangfanpin.assets.ingest import ingest_assets
from fangfanpin.assets.resources import PipelineSettings, pipeline_resources
from fangfanpin.config.policy import DEFAULT_POLICY, PolicyError

# what reading the environment or the policy file looks like; only assets/resources.py may do it
FORBIDDEN = {"settings", "load_policy", "policy_path", "environ", "getenv"}


@pytest.mark.unit
def test_no_asset_reads_settings_or_the_policy_itself():
    readers = []
    for path in sorted((REPO / "assets").rglob("*.py")):
        if path.name == "resources.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("fangfanpin.core.settings", "os"):
                readers += [f"{path.name}: from {node.module} import {a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                readers += [f"{path.name}: {a.name}" for a in node.names if a.name in FORBIDDEN - {"settings"}]
            elif isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(f"{path.name}: os.{node.attr}")
    assert readers == []


@pytest.mark.unit
def test_an_empty_field_comes_from_the_environment_and_a_given_one_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("FFP_OUTBOX_DIR", str(tmp_path / "from_env"))
    monkeypatch.setenv("FFP_LANDING_DIR", str(tmp_path / "landing_env"))
    resolved = PipelineSettings(landing_dir=str(tmp_path / "given")).resolve()
    assert resolved.outbox_dir == tmp_path / "from_env"
    assert resolved.landing_dir == tmp_path / "given"
    with pytest.raises(PolicyError, match="does not exist"):
        PipelineSettings(policy_file=str(tmp_path / "missing.yaml")).policy()


@pytest.mark.dagster
def test_the_ingest_assets_read_the_folder_and_policy_they_are_given(small_landing, ffp_env):
    """The environment names an empty landing folder and the packaged policy; the resource names another folder and
    a policy copy whose file limit refuses every file: the run reads the given folder under the given limits."""
    day = first_date(small_landing)
    given = ffp_env / "given_landing"
    copy_delivery(small_landing, day, given)
    policy = yaml.safe_load(Path(DEFAULT_POLICY).read_text(encoding="utf-8"))
    policy["ingest"]["file_limits"]["max_columns"] = 2
    policy_copy = ffp_env / "province.yaml"
    policy_copy.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    warehouse = ffp_env / "warehouse.duckdb"
    resources = pipeline_resources(warehouse=str(warehouse), landing_dir=str(given), policy_file=str(policy_copy))

    assert materialize_day(ingest_assets, partition_key=day.isoformat(), resources=resources).success

    with duckdb.connect(str(warehouse), read_only=True) as con:
        listed = con.execute("SELECT count(*) FROM landing_files WHERE delivery_date = ?", [day]).fetchall()[0][0]
        loaded = con.execute("SELECT coalesce(sum(rows_loaded), 0) FROM deliveries").fetchall()[0][0]
        refused = con.execute("SELECT count(*) FROM quarantine WHERE problem LIKE '%超过上限 2 列%'").fetchall()
    assert listed == len(list((given / day.isoformat()).iterdir())) > 0
    assert loaded == 0 and refused[0][0] > 0
