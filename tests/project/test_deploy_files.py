"""The deployment files (docs/deployment.md) are not run in CI; these checks keep them parseable and, where the
Dagster libraries are installed, valid against Dagster's own config schemas."""

import shutil

import pytest
import yaml
from paths import REPO

pytestmark = pytest.mark.unit

DEPLOY = REPO / "deploy"


def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        assert [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc], path


def test_instance_yaml_passes_the_dagster_schema(tmp_path):
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "dagster/code_location", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits


def test_run_launcher_config_passes_the_dagster_k8s_schema():
    from dagster._config import validate_config
    from dagster_k8s import K8sRunLauncher

    launcher = yaml.safe_load((DEPLOY / "dagster.yaml").read_text(encoding="utf-8"))["run_launcher"]
    result = validate_config(K8sRunLauncher.config_type(), launcher["config"])
    assert result.success, [e.message for e in result.errors]


def test_helm_values_one_code_location_per_region():
    from fangfanpin.config.regions import load_regions

    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text(encoding="utf-8"))
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert {"key": "dagster/code_location", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in queue[
        "tagConcurrencyLimits"
    ]
    resources = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["containerConfig"]["resources"]
    assert resources["requests"]["cpu"] == "2"
    deployments = values["dagster-user-deployments"]["deployments"]
    assert len({d["name"] for d in deployments}) == len(deployments)
    for d in deployments:
        assert d["includeConfigInLaunchedRuns"]["enabled"] and "resources" not in d
        assert d["name"] == "ffp-" + d["env"]["FFP_REGION"]
        assert d["env"]["FFP_REGION"] in load_regions()  # a region of config/regions.yaml, which the runs read
        assert {"FFP_LANDING_DIR", "FFP_OUTBOX_DIR", "FFP_WAREHOUSE", "FFP_MODEL_DIR"} <= set(d["env"])
        claims = {v["persistentVolumeClaim"]["claimName"] for v in d["volumes"]}
        assert claims == {f"{d['name']}-files", f"{d['name']}-warehouse"}
