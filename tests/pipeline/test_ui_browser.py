"""The Dagster UI in a real browser: a small county is run through the daily job into a fresh instance, the
webserver is started on it, and headless Chromium (Debian's, installed by `make test`) opens the asset graph and
asset pages. The expected assets and checks must be visible, and no full ID number may appear in any page or in any
file of the instance (run storage, event logs, compute logs).

Screenshots go to $FFP_SCREENSHOT_DIR if set, else to the test's temporary folder; the path is printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from landing_helpers import copy_delivery
from paths import REPO
from privacy_helpers import full_id_numbers
from system_helpers import require_installed

from fangfanpin.data_contracts import FEED_NAMES as INGEST_FEEDS
from fangfanpin.ingest.read import delivery_dates

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = REPO
RUN_DAYS = 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"dagster-webserver exited with {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url + "/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"dagster-webserver did not answer within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def webserver(small_landing, ffp_env):
    """The daily job run for the first RUN_DAYS delivery dates, then dagster-webserver on that instance."""
    from fangfanpin.pipeline.cli import main

    require_installed(CHROMIUM, "Debian chromium is not installed at /usr/bin/chromium (make test installs it)")
    for day in delivery_dates(small_landing)[:RUN_DAYS]:
        copy_delivery(small_landing, day, ffp_env / "landing")
    assert main(["run", "--pending"]) in (0, 2)
    port = _free_port()
    log = ffp_env / "webserver.log"
    binary = Path(sys.executable).with_name("dagster-webserver")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(binary), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, server, log)
        yield url, ffp_env
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FFP_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_asset_graph_and_pages_show_assets_and_checks_without_id_numbers(webserver, tmp_path):
    from playwright.sync_api import sync_playwright

    url, home = webserver
    shots = _screenshot_dir(tmp_path)
    pages: dict[str, str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1400}, locale="zh-CN")
        page.set_default_timeout(45_000)
        # Dagster's one-time "join the community" dialog (shown on localhost until dismissed, which the UI keeps in
        # localStorage): mark it seen before any page loads, so no screenshot shows it, and should it still open at a
        # moment of its choosing, dismiss it before any action
        page.add_init_script("window.localStorage.setItem('communityNux', JSON.stringify('1'))")
        page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())

        def visit(name: str, path: str, *expected: str) -> None:
            page.goto(url + path)
            for text in expected:
                page.get_by_text(text, exact=True).first.wait_for()
            page.wait_for_timeout(1500)  # let the latest materialization and check statuses load
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            pages[name] = page.content() + "\n" + page.inner_text("body")

        def chart(name: str, key: str) -> None:
            page.locator("tr", has_text=key).get_by_text("Show Markdown").first.click()
            image = page.locator("img[src^='data:image/png;base64,']").first
            image.wait_for()
            width, height = image.evaluate("e => [e.naturalWidth, e.naturalHeight]")
            assert width >= 300 and height >= 200, (key, width, height)
            page.screenshot(path=str(shots / f"{name}.png"))
            page.get_by_role("button", name="Close").click()

        visit("ingest_catalog", "/assets/ingest?view=folder", *INGEST_FEEDS)
        visit("ingest_graph", "/locations/fangfanpin/asset-groups/ingest", "roster", "person_links")
        visit(
            "crosscheck_graph",
            "/locations/fangfanpin/asset-groups/crosscheck",
            "person_links",
            "data_quality_issues",
            "household_indicators",
            "rule_hits",
            "household_scores",
            "case_ledger",
        )
        visit(
            "roster_checks",
            "/assets/ingest/roster?view=checks",
            "contract_structure",
            "counts_reconcile",
            "drift",
            "snapshot_applied",
        )
        visit("roster", "/assets/ingest/roster", "quarantine_by_reason", "rows_quarantined")
        visit("rule_hits", "/assets/crosscheck/rule_hits", "hits_by_rule", "hits_by_rule_chart", "data-platform")
        chart("rule_hits_chart", "hits_by_rule_chart")
        visit("household_scores", "/assets/scoring/household_scores", "levels_by_township_chart")
        chart("risk_levels_chart", "levels_by_township_chart")
        visit("case_ledger", "/assets/workflow/case_ledger", "cases_by_state_chart")
        chart("cases_by_state_chart", "cases_by_state_chart")
        browser.close()
    print(f"\nscreenshots: {shots}")

    for name, text in pages.items():
        assert not full_id_numbers(text), f"a full ID number on the page {name}"
    leaks = []
    for path in (home / "dagster").rglob("*"):
        if path.is_file() and full_id_numbers(path.read_bytes()):
            leaks.append(path.relative_to(home))
    assert not leaks, f"full ID numbers in the Dagster instance: {leaks}"
