"""The Dagster UI in a real browser, as an analyst opens it in the morning: a small county's first two delivery dates
are run by the command into a fresh instance (the second without its medical claims: a department that stopped
delivering), the webserver is started on it, and headless Chromium (Debian's, installed by `make test`) opens the
daily job's runs, the timeline, the asset graph with the late feed, the partitions, the asset pages and their charts.
What each shows is asserted, and no full ID number may appear in any page or in any file of the instance (run
storage, event logs, compute logs).

Screenshots go to $FFP_SCREENSHOT_DIR if set, else to the test's temporary folder; the path is printed.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from landing_helpers import copy_delivery
from paths import REPO
from privacy_helpers import full_id_numbers
from system_helpers import require_installed

from fangfanpin.data_contracts import FEED_NAMES as INGEST_FEEDS
from fangfanpin.ingest.read import delivery_dates

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=70)]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = REPO
RUN_DAYS = 2
LATE_FEED = "medical_claims"  # every 10 days; missing from the second date, a month after the first
OTHER_FEEDS = [f for f in INGEST_FEEDS if f != LATE_FEED]
JOB_PATH = "/locations/fangfanpin/jobs/daily_job"


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
    """The daily job run by the command for the first RUN_DAYS delivery dates (the late feed missing from the last),
    then dagster-webserver on that instance."""
    from fangfanpin.pipeline.cli import main

    require_installed(CHROMIUM, "Debian chromium is not installed at /usr/bin/chromium (make test installs it)")
    days = delivery_dates(small_landing)[:RUN_DAYS]
    for day in days:
        copy_delivery(small_landing, day, ffp_env / "landing", None if day != days[-1] else OTHER_FEEDS)
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
        yield url, ffp_env, days
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _graph_node(page, asset: str):
    """The asset graph's box of ``asset`` (the innermost element holding its name and its checks)."""
    return page.locator("div").filter(has=page.get_by_text(asset, exact=True)).filter(has_text="Asset checks").last


def _timeline_counts() -> set[str]:
    """What the timeline's green box of the runs may read: the runs, and, when the daily schedule's next tick falls
    within the hour (the timeline draws the future ticks of a running schedule), that tick merged into the box."""
    from fangfanpin.pipeline.schedules import daily_schedule

    minute, hour = (int(field) for field in daily_schedule.cron_schedule.split()[:2])
    now = datetime.now(ZoneInfo(daily_schedule.execution_timezone))
    tick = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    tick += timedelta(days=1) if tick <= now else timedelta()
    return {str(RUN_DAYS)} | ({str(RUN_DAYS + 1)} if tick - now < timedelta(hours=1) else set())


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FFP_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_asset_graph_and_pages_show_assets_and_checks_without_id_numbers(webserver, tmp_path):
    from playwright.sync_api import sync_playwright

    url, home, days = webserver
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
            page.wait_for_timeout(500)  # the dialog fades in
            page.screenshot(path=str(shots / f"{name}.png"))
            page.get_by_role("button", name="Close").click()

        # the runs the command started are the daily job's, on the timeline too
        visit("job_runs", f"{JOB_PATH}/runs", "daily_job")
        listed = re.findall(r"partition: (\d{4}-\d{2}-\d{2})", page.inner_text("body"))
        assert sorted(listed) == [d.isoformat() for d in days] and "Success" in pages["job_runs"], listed
        visit("timeline", "/overview/activity/timeline", "daily_job")
        row = page.locator("div[style*='height: 32px']").filter(has=page.locator(f"a[href='{JOB_PATH}']"))
        succeeded = row.locator("[style*='accent-green']").inner_text().strip()
        assert succeeded in _timeline_counts(), succeeded  # succeeded runs
        # the partitions are the delivery dates, and nothing else
        visit("partitions", "/assets/ingest/roster?view=partitions", "Partitions")
        assert re.search(rf"\b{RUN_DAYS} Partitions\b", pages["partitions"], re.I), pages["partitions"][-3000:]
        # the late feed is red on the asset graph, without opening it
        visit("ingest_graph", "/locations/fangfanpin/asset-groups/ingest", "roster", LATE_FEED)
        checks_icon = "a[href$='?view=checks'] [role=img]"
        late = _graph_node(page, LATE_FEED).locator(checks_icon)
        assert late.get_attribute("aria-label") == "close" and "accent-red" in late.get_attribute("style")
        on_time = _graph_node(page, "roster").locator(checks_icon)
        assert on_time.get_attribute("aria-label") != "close" and "accent-red" not in on_time.get_attribute("style")
        sensor = _graph_node(page, "roster").locator("[aria-label=sensor]")  # the automation is on
        assert "accent-green" in sensor.get_attribute("style")
        visit("ingest_catalog", "/assets/ingest?view=folder", *INGEST_FEEDS)
        visit(f"{LATE_FEED}_checks", f"/assets/ingest/{LATE_FEED}?view=checks", "freshness")
        page.get_by_text("freshness", exact=True).first.click()
        page.get_by_text("严重迟交").first.wait_for()
        page.screenshot(path=str(shots / f"{LATE_FEED}_freshness.png"), full_page=True)
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
        # the morning's one page: the late feed, new warnings by township and rule, the overdue cases as a list
        visit("daily_overview", "/assets/overview/daily_overview", "summary", "feeds", "overdue_cases")
        overview = pages["daily_overview"]
        assert "医疗费用结算" in overview and "严重迟交" in overview, "the late feed is named in the overview"
        assert "warnings_by_rule" in overview and "逾期工作日" in overview
        masked_households = re.findall(r"\b\d{6}\*{8}\d{4}\b", page.inner_text("body"))
        assert masked_households, "the overdue cases are listed by masked household ID"
        chart("new_warnings_chart", "warnings_chart")
        browser.close()
    print(f"\nscreenshots: {shots}")

    for name, text in pages.items():
        assert not full_id_numbers(text), f"a full ID number on the page {name}"
    leaks = []
    for path in (home / "dagster").rglob("*"):
        if path.is_file() and full_id_numbers(path.read_bytes()):
            leaks.append(path.relative_to(home))
    assert not leaks, f"full ID numbers in the Dagster instance: {leaks}"
