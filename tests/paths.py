"""Where the tests find the repository and their own data, wherever a test module sits below tests/."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
# the folders of the package ``fangfanpin`` that hold code, lowest layer first (docs/architecture.md)
CODE_PACKAGES = (
    "config",
    "core",
    "data_contracts",
    "charts",
    "schema",
    "ingest",
    "generator",
    "crosscheck",
    "models",
    "workflow",
    "deliverables",
    "assets",
    "pipeline",
)
