"""Which delivery dates are done: every date is processed exactly once, in date order (docs/operations.md).

The warehouse table ``delivery_runs`` has one row per delivery date that a run ever touched:

- a run's first warehouse connection to write (``fangfanpin.assets.resources``) calls ``start_run``: the date becomes
  ``started``, with the run id and the listing (name, size, mtime, SHA-256) of its landing folder, and every later date
  becomes ``stale`` (its indicators, scores, rule hits, ledger and outbox were built on the earlier state);
- the daily job's last asset that writes (``deliverables/county_outbox``) calls ``finish_run``: the date becomes
  ``done``, but only in a run of the whole daily job (a run of some of its assets leaves the date ``started``). The
  daily overview after it only reads: it neither starts nor finishes a date, and a run of it alone changes nothing.

So whatever launched the run (the command, the sensor, the schedule, the UI) the record says the same. A date is
done when its row is ``done`` and its run succeeded in the Dagster instance (a step after the outbox, such as the
overview, can still fail; a run unknown to the instance counts as it is recorded). ``plan_pending`` lists what
``run --pending`` runs: every landing date from the first one that is not done, or whose folder changed after it was
processed (a county's late file), onwards in date order; ``plan_from`` the same for ``run --date``. Both refuse
(``RunPlanError``) when a date they would have to run again has lost its landing folder: running it would turn it
into an empty delivery.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from fangfanpin.assets.constants import FIRST_DELIVERY_DATE
from fangfanpin.core.privacy import mask_text
from fangfanpin.core.sql import transaction
from fangfanpin.ingest.read import delivery_dates
from fangfanpin.schema import ensure_schema

TABLE = "delivery_runs"  # its DDL is the warehouse schema's (schema/sql/runs.sql)
STARTED, DONE, STALE = "started", "done", "stale"
TIMEZONE = ZoneInfo("Asia/Shanghai")  # the delivery partitions' (assets/constants.py)
DATE_FORMAT = "YYYY-MM-DD"


class RunPlanError(RuntimeError):
    """The dates cannot be run safely (the message is Chinese and English)."""


class UsageError(ValueError):
    """A command was given a value it cannot use (the message is one line, Chinese and English)."""


@dataclass(frozen=True)
class Record:
    status: str
    run_id: str | None
    # [[name, size, mtime_ns, sha256], ...] of the landing folder when the run started (no sha256 in records made
    # before it was kept); None: not known
    files: list | None


def date_problem(day: date) -> str | None:
    """Why the pipeline cannot run ``day`` (None: it can): a date after today, or before the first delivery date (a
    typing mistake), never becomes a delivery partition."""
    today, first = datetime.now(TIMEZONE).date(), date.fromisoformat(FIRST_DELIVERY_DATE)
    if day > today:
        return f"日期 {day} 晚于今天（{today}） / {day} is after today ({today})"
    if day < first:
        return f"日期 {day} 早于最早的交付日期 {first} / {day} is before the first delivery date {first}"
    return None


def real_date(text: str, option: str = "") -> date:
    """Any real date written YYYY-MM-DD, else UsageError with one line; ``option`` names where it was given."""
    day = None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:  # 2026-13-01, 2026-02-30
            pass
    if day is None:
        given = f"{option} {text!r}".lstrip()
        raise UsageError(
            f"{given} 不是有效的日期，应为 {DATE_FORMAT}，例如 2026-09-17 / {given} is not a valid date: "
            f"{DATE_FORMAT} expected, e.g. 2026-09-17"
        )
    return day


def parse_day(text: str) -> date:
    """A date the pipeline can run, given as YYYY-MM-DD; UsageError with a one-line message (Chinese and English)."""
    day = real_date(text)
    if problem := date_problem(day):
        raise UsageError(problem)
    return day


def scan_landing(landing_dir: Path, records: dict[date, Record] | None = None) -> tuple[dict[date, list], list[str]]:
    """(every runnable landing date → its files, one line per folder that is not run and why, masked). A file that
    only differs from a date's record by its time, with the content the date ran on, is listed as recorded
    (``as_recorded``)."""
    root = Path(landing_dir)
    days = delivery_dates(root)
    named = {d.isoformat() for d in days}
    notices = [
        f"落地目录中的文件夹 {p.name} 不是有效的交付日期（应为 {DATE_FORMAT}，例如 2026-09-17），未处理 / landing "
        f"folder {p.name} is not named by a real date ({DATE_FORMAT} expected, e.g. 2026-09-17): not processed"
        for p in (sorted(root.iterdir()) if root.is_dir() else [])
        if p.is_dir() and not p.name.startswith(".") and p.name not in named
    ]
    runnable = {}
    for d in days:
        if problem := date_problem(d):
            notices.append(
                f"交付文件夹 {d} 暂不处理：{problem.split(' / ')[0]} / delivery folder {d} is not processed: "
                f"{problem.split(' / ')[1]}"
            )
        else:
            runnable[d] = as_recorded(root / d.isoformat(), folder_files(root, d), (records or {}).get(d))
    return runnable, [mask_text(line) for line in notices]  # folder names come from outside


def folder_files(landing_dir: Path, day: date, *, digests: bool = False) -> list[list]:
    """[name, size, mtime_ns] of every file in the date's landing folder, by name (hidden files left out); with
    ``digests``, each file's SHA-256 too (what a run records)."""
    folder = Path(landing_dir) / day.isoformat()
    if not folder.is_dir():
        return []
    stats = [(p.name, p.stat()) for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    listing = sorted([name, st.st_size, st.st_mtime_ns] for name, st in stats)
    return [[*f, _digest_unless_changed(folder / f[0], f[1], f[2])] for f in listing] if digests else listing


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _digest_unless_changed(path: Path, size: int, mtime_ns: int) -> str | None:
    """The file's SHA-256, or None when it was rewritten while being read (its digest would not be the listed
    version's: without one, a later time counts as a change)."""
    digest = _sha256(path)
    st = path.stat()
    return digest if (st.st_size, st.st_mtime_ns) == (size, mtime_ns) else None


@cache  # the sensor scans every tick: a restored file is read once per process, not on every tick
def _content(path: Path, size: int, mtime_ns: int, inode: int, ctime_ns: int) -> str:
    return _sha256(path)


def as_recorded(folder: Path, files: list[list], record: Record | None) -> list[list]:
    """``files`` with the recorded time for a file whose size and SHA-256 are the ones its date ran on: a landing
    folder copied or restored without its file times is not new. Only such files are read."""
    recorded = {f[0]: f for f in (record.files or [])} if record else {}
    listed = []
    for name, size, mtime in files:
        was = recorded.get(name)
        if was and len(was) > 3 and was[3] and was[1] == size and was[2] != mtime:
            st = (folder / name).stat()
            if _content(folder / name, size, mtime, st.st_ino, st.st_ctime_ns) == was[3]:
                mtime = was[2]
        listed.append([name, size, mtime])
    return listed


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse schema; in a warehouse that processed dates before this table was kept, the dates its case
    ledger processed count as done."""
    ensure_schema(con)
    if con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0] == 0:
        con.execute(
            f"INSERT INTO {TABLE} SELECT DISTINCT processed_date, NULL, ?, NULL, NULL, NULL FROM workflow_runs", [DONE]
        )


def start_run(con: duckdb.DuckDBPyConnection, day: date, run_id: str, files: list[list]) -> None:
    """A run of ``day`` begins to write: the date is not done until the run finishes, and later dates are stale."""
    prepare(con)
    if con.execute(
        f"SELECT count(*) FROM {TABLE} WHERE delivery_date = ? AND run_id = ? AND status = ?", [day, run_id, STARTED]
    ).fetchall()[0][0]:
        return  # this run already started the date (its connection was opened again)
    with transaction(con):
        con.execute(f"UPDATE {TABLE} SET status = ? WHERE delivery_date > ?", [STALE, day])
        con.execute(
            f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, current_timestamp, NULL, ?)",
            [day, run_id, STARTED, json.dumps(files, ensure_ascii=False)],
        )


def finish_run(con: duckdb.DuckDBPyConnection, day: date, run_id: str) -> None:
    con.execute(
        f"UPDATE {TABLE} SET status = ?, finished_at = current_timestamp "
        "WHERE delivery_date = ? AND run_id = ? AND status = ?",
        [DONE, day, run_id, STARTED],
    )


def invalidate_from(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """``day`` and every later date must run again (an operator accepted a held delivery of ``day``)."""
    prepare(con)
    con.execute(f"UPDATE {TABLE} SET status = ? WHERE delivery_date >= ?", [STALE, day])


def read_records(con: duckdb.DuckDBPyConnection) -> dict[date, Record]:
    """Every date's record (``prepare`` first, on a connection that may write)."""
    rows = con.execute(f"SELECT delivery_date, status, run_id, files FROM {TABLE}").fetchall()
    return {
        d: Record(status, run_id, json.loads(files) if files is not None else None) for d, status, run_id, files in rows
    }


@dataclass
class Plan:
    days: list[date] = field(default_factory=list)  # to run, in this order
    reasons: dict[date, str] = field(default_factory=dict)  # why a date runs again (new dates have none)


def _changed(before: list | None, now: list) -> list[str]:
    """Names of the files added, changed or removed since ``before``."""
    if before is None:
        return []
    old, new = {f[0]: f[:3] for f in before}, {f[0]: f[:3] for f in now}  # name, size, time: not the digest
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def _why(day: date, record: Record | None, files: list, run_ok: dict[str, bool]) -> str | None:
    """Why ``day`` is not done (None: it is done). Every reason is one line, Chinese then English."""
    if record is None:
        return ""
    if record.status == STARTED:
        return "上次运行没有完成（失败或被中断），重新运行 / its last run did not finish (failed or killed): running it again"
    if record.status == STALE:
        return (
            "结果已过时（更早的日期重新运行过，或操作员接受了暂缓的交付），重新计算 / its results are out of date (an "
            "earlier date ran again, or an operator accepted a held delivery): recomputing it"
        )
    if record.run_id and not run_ok.get(record.run_id, True):
        return f"上次运行 {record.run_id} 失败，重新运行 / its last run {record.run_id} failed: running it again"
    if changed := _changed(record.files, files):
        names = "、".join(changed)
        return (
            f"处理之后又有文件到达或被更改（{names}），重新运行 / files arrived or changed after it was processed "
            f"({', '.join(changed)}): running it again"
        )
    return None


def _forward(first: date, landing: list[date], records: dict[date, Record], reasons: dict[date, str]) -> Plan:
    """Run ``first`` and every landing date after it, in order; refuse if a processed later date lost its folder."""
    present = set(landing)
    gone = sorted(d for d in records if d > first and d not in present)
    if gone:
        names = "、".join(d.isoformat() for d in gone)
        raise RunPlanError(
            f"从 {first} 起需要按日期顺序重新计算，但已处理过的 {names} 的落地文件夹已不存在，重新运行会把它变成空交付。"
            f"请先把这些文件夹恢复到落地目录，再运行（确要撤销某日的交付，就放一个该日期的空文件夹）。 / Recomputing "
            f"forward from {first} would have to run {', '.join(d.isoformat() for d in gone)} again, but their landing "
            "folders are gone (they would become empty deliveries). Restore those folders to the landing directory, "
            "then run again (to withdraw a date's deliveries on purpose, put an empty folder of that date there)."
        )
    plan = Plan()
    for d in [d for d in landing if d >= first]:
        plan.days.append(d)
        if reasons.get(d):
            plan.reasons[d] = reasons[d]
        elif d > first and d in records:
            plan.reasons[d] = f"晚于 {first}，随之重新计算 / later than {first}: recomputed after it"
    return plan


def plan_pending(landing: dict[date, list], records: dict[date, Record], run_ok: dict[str, bool]) -> Plan:
    """``landing``: every runnable landing date → its folder's files. Every date not done, and everything after it."""
    reasons = {d: why for d, files in landing.items() if (why := _why(d, records.get(d), files, run_ok)) is not None}
    if not reasons:
        return Plan()
    return _forward(min(reasons), sorted(landing), records, reasons)


def plan_from(day: date, landing: dict[date, list], records: dict[date, Record], run_ok: dict[str, bool]) -> Plan:
    """``run --date day``: the date alone, or, when a later date was processed, the date and every later one."""
    later = [d for d in records if d > day]
    if not later:
        return Plan(days=[day])
    reasons = {d: why for d, files in landing.items() if d > day and (why := _why(d, records.get(d), files, run_ok))}
    dates = sorted(set(landing) | {day})
    return _forward(day, dates, records, reasons)
