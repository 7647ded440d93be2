"""The set-up the README promises: `make demo` installs only what the demo needs from Debian, `make test` adds the
browser the UI test drives, and the README's set-up section names every Debian package `make` installs and that it
needs root or sudo. Read from `make -n -B` (nothing runs)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import docs_tables
import pytest
from paths import CODE_PACKAGES, REPO

pytestmark = pytest.mark.unit


def _apt_packages(target: str) -> set[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    recipe = subprocess.run(["make", "-n", "-B", target], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {
        name
        for names in re.findall(r"apt-get install -y -qq ([a-z0-9 .+-]+?)(?:;|$)", recipe, re.M)
        for name in names.split()
    }


def test_the_demo_installs_the_font_and_not_the_browser_the_tests_use():
    assert _apt_packages("demo") == {"fonts-wqy-microhei"}
    assert _apt_packages("test") == {"fonts-wqy-microhei", "chromium"}


def test_the_readme_names_every_package_make_installs_and_root():
    setup = docs_tables.section((REPO / "README.md").read_text(encoding="utf-8"), "Set-up: two commands")
    assert "two Debian packages" in setup and "root or `sudo`" in setup
    assert all(f"`{name}`" in setup for name in _apt_packages("test"))


def test_every_code_folder_is_a_package_the_distribution_ships():
    """A folder with an __init__.py that pyproject's explicit list leaves out would be missing from a wheel (an
    editable install, as in development, would not show it). The folders of data files (divisions, feeds, SQL) are
    listed too, each with its files in package-data: setuptools warns on every install about a data folder it sees
    as a package that is not listed."""
    with (REPO / "pyproject.toml").open("rb") as f:
        setuptools = tomllib.load(f)["tool"]["setuptools"]
    folders = {"fangfanpin"} | {
        ".".join(("fangfanpin", *init.parent.relative_to(REPO).parts))
        for top in CODE_PACKAGES
        for init in (REPO / top).glob("**/__init__.py")
    }
    data_folders = {name for name in setuptools["package-data"] if name not in folders}
    assert folders | data_folders == set(setuptools["packages"])
    for name in data_folders:
        folder = REPO.joinpath(*name.split(".")[1:])
        assert not (folder / "__init__.py").exists() and any(
            any(folder.glob(pattern)) for pattern in setuptools["package-data"][name]
        ), name
