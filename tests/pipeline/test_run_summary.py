"""What the operator reads after ``fangfanpin run --pending`` of two dates (docs/operations.md): a day with no feed
(only a stray note in its folder), then a day with a refused file and a county's roster that shrank (held); exit 2,
a line per problem, a progress line as each date starts, and the summary per date, whose every figure is checked
against another record of the same run: the ingest assets' metadata in the Dagster instance, the household scores,
the case ledger's events and the counties' candidates.csv."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

import duckdb
import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance
from dagster._core.instance.ref import InstanceRef
from landing_helpers import read_text_rows
from privacy_helpers import full_id_numbers
from runs_helpers import COUNTIES, ffp, ran, world

from fangfanpin.data_contracts import FEED_NAMES
from fangfanpin.pipeline.run_summary import COLUMNS, summarize

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=25)]


@pytest.fixture(scope="module")
def operator_days(processed, deliveries, tmp_path_factory) -> dict:
    d1, d2 = deliveries[1][0], deliveries[1][1]
    root = world(processed, tmp_path_factory.mktemp("operator"), deliveries, d2)
    folder = root / "landing" / d2.isoformat()
    applications = sorted(folder.glob("applications_*.csv"))[0]
    (folder / "applications_150625_补报.csv").write_text("编号,备注\n1,这不是申请表\n", encoding="utf-8")
    roster = read_text_rows(root / "landing" / d1.isoformat() / "roster_150626.csv")
    with open(folder / "roster_150626.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(roster[:4])  # three people of a county's whole roster: held, the last one stands
    assert applications.exists() and len(roster) > 20
    empty = d2 - timedelta(days=1)
    (root / "landing" / empty.isoformat()).mkdir()
    (root / "landing" / empty.isoformat() / "说明.txt").write_text("本日无数据", encoding="utf-8")
    done = ffp(root, "run", "--pending")
    return {"root": root, "d2": d2, "empty": empty, "done": done}


def test_exit_status_2_and_one_line_per_problem(operator_days):
    done, d2, empty = operator_days["done"], operator_days["d2"], operator_days["empty"]
    assert done.returncode == 2, done.stderr[-3000:]
    assert ran(done.stdout) == [empty.isoformat(), d2.isoformat()]
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"{empty}: ") and "no feed delivered" in line for line in lines)
    refused = [line for line in lines if line.startswith(f"{d2}: applications file_rejected")]
    assert len(refused) == 1 and "applications_150625_补报.csv" in refused[0]
    assert [line for line in lines if line.startswith(f"{d2}: roster held: 快照骤减")]


def test_the_run_list_names_what_was_refused_or_held(operator_days):
    """The run of a date with a delivery to look at carries a tag naming the feeds and what happened (no file
    names, no values); so does the run of the date with nothing delivered (its folder holds only a stray entry)."""
    from fangfanpin.assets.deliverables import PROBLEMS_TAG

    root, d2, empty = operator_days["root"], operator_days["d2"], operator_days["empty"]
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(root / "dagster"))) as instance:
        tags = {r.tags["dagster/partition"]: r.tags.get(PROBLEMS_TAG) for r in instance.get_runs()}
    assert tags[d2.isoformat()] == "applications:file_rejected, roster:held"
    assert tags[empty.isoformat()] == "交付文件夹:file_not_read, 全部数据集:no_delivery"


def test_a_progress_line_as_each_date_starts(operator_days):
    done, d2, empty = operator_days["done"], operator_days["d2"], operator_days["empty"]
    lines = done.stdout.splitlines()
    first = lines.index(f"[1/2] {empty} 开始 / date 1 of 2: starting")
    (second,) = [i for i, line in enumerate(lines) if line.startswith(f"[2/2] {d2} ")]
    assert re.fullmatch(
        rf"\[2/2\] {d2} 已用 \d+:\d\d，预计还需 \d+:\d\d / date 2 of 2: \d+:\d\d elapsed, about \d+:\d\d left",
        lines[second],
    )
    finished = [i for i, line in enumerate(lines) if re.match(r"\d{4}-\d\d-\d\d: run \S+ finished", line)]
    assert first < finished[0] < second < finished[1]  # each line comes before its date runs


def _printed_summary(stdout: str) -> dict[str, list[str]]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("运行小结："))
    assert lines[start + 1].split() == ["交付日期", *(zh for zh, _ in COLUMNS.values())]
    return {line.split()[0]: line.split()[1:] for line in lines[start + 2 : start + 4]}


def test_the_summary_per_date_agrees_with_the_other_records_of_the_run(operator_days):
    root, d2, empty, done = operator_days["root"], operator_days["d2"], operator_days["empty"], operator_days["done"]
    with duckdb.connect(str(root / "wh" / "warehouse.duckdb"), read_only=True) as con:
        summaries = {s.day: s for s in summarize(con, [d2, empty])}
        scores = con.execute(
            "SELECT as_of_date, household_id, monitored, rule_codes, model_warning FROM household_scores"
        ).fetchall()
        events = con.execute("SELECT processed_date, case_id, old_state, new_state FROM case_events").fetchall()
    printed = _printed_summary(done.stdout)
    for day, s in summaries.items():
        assert printed[str(day)] == [
            f"{s.feeds}/{len(FEED_NAMES)}",
            *(f"{getattr(s, name):,}" for name in list(COLUMNS)[1:]),
        ]
    assert not full_id_numbers(done.stdout + done.stderr)

    quiet, busy = summaries[empty], summaries[d2]
    assert (quiet.feeds, quiet.rows_loaded, quiet.rows_quarantined, quiet.files_refused) == (0, 0, 0, 1)  # 说明.txt
    assert (quiet.snapshots_held, quiet.cases_opened) == (0, 0)
    assert busy.feeds == len({p.name.split("_1506")[0] for p in (root / "landing" / d2.isoformat()).iterdir()})
    assert (busy.files_refused, busy.snapshots_held) == (1, 1)  # the 补报 file; the roster of 150626

    # rows loaded and quarantined: as the ingest assets reported them to Dagster
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(root / "dagster"))) as instance:
        reported = [
            record.asset_materialization.metadata
            for feed in FEED_NAMES
            for record in instance.fetch_materializations(
                AssetRecordsFilter(asset_key=AssetKey(["ingest", feed]), asset_partitions=[d2.isoformat()]), limit=1
            ).records
        ]
    assert len(reported) == len(FEED_NAMES)
    assert busy.rows_loaded == sum(m["rows_loaded"].value for m in reported) > 0
    assert busy.rows_quarantined == sum(m["rows_quarantined"].value for m in reported) > 0

    # warnings: households flagged on d2, split by whether they were flagged on the date before (the empty day)
    def flagged(day):
        return {
            h
            for d, h, monitored, rules, model in scores
            if d == day and not monitored and (rules not in ("", "MODEL") or model)
        }

    today, before = flagged(d2), flagged(empty)
    assert (busy.new_warnings, busy.continuing_warnings) == (len(today - before), len(today & before))
    assert busy.continuing_warnings > 0

    # cases: opened (the event out of ∅) and moved (any other change of state) by d2's run
    assert busy.cases_opened == len({c for d, c, old, new in events if d == d2 and old == "∅"})
    assert busy.cases_moved == len({c for d, c, old, new in events if d == d2 and old not in ("∅", new)})

    # overdue: as the counties' candidates.csv says
    overdue = 0
    for county in COUNTIES:
        with open(root / "outbox" / d2.isoformat() / county / "candidates.csv", encoding="utf-8-sig") as fh:
            overdue += sum(row["overdue"] == "是" for row in csv.DictReader(fh))
    assert busy.cases_overdue == overdue > 0
