"""Deliverables: the files the pipeline hands to people, for one delivery date.

    paths = write_county_outputs(con, day, outbox_dir, policy, run_id="...")

writes, for every county with households on ``day``::

    <outbox>/<YYYY-MM-DD>/<county_code>/<县名>_防返贫监测工作清单_<YYYYMMDD>.xlsx
                                       candidates.csv
                                       公示/<village_code>_<村名>_<拟纳入名单公示|纳入名单补充公示|拟消除风险名单公示>.pdf
                                       manifest.json
    <outbox>/<YYYY-MM-DD>/未归属/数据质量问题.xlsx

Each file is written atomically (temporary name in the same folder, then os.replace). Re-running a date rewrites
each county folder with identical bytes (only manifest.json's run_id and generated_at differ) and removes files of an
earlier run that this run did not write (e.g. a village notice no longer due).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.deliverables import data as D
from fangfanpin.deliverables.candidates import COLUMNS as CANDIDATE_COLUMNS
from fangfanpin.deliverables.candidates import candidate_rows, candidates_csv
from fangfanpin.deliverables.manifest import file_entry, manifest_bytes
from fangfanpin.deliverables.masking import atomic_write_bytes, safe_filename
from fangfanpin.deliverables.notices import Notice, notice_pdf, village_notices
from fangfanpin.deliverables.render_pool import MIN_CARDS, MIN_ROWS, RenderPool
from fangfanpin.deliverables.return_templates import FOLDER as TEMPLATES_FOLDER
from fangfanpin.deliverables.return_templates import DueTemplate, due_templates, render_template
from fangfanpin.deliverables.task_packs import FOLDER as TASK_PACKS_FOLDER
from fangfanpin.deliverables.task_packs import TaskPack, task_pack_pdf, village_task_packs
from fangfanpin.deliverables.workbook import SHEETS, county_sheets, render_workbook, unplaced_sheets
from fangfanpin.ingest.freshness import feed_freshness

UNPLACED_DIR = "未归属"
__all__ = ["write_county_outputs", "CANDIDATE_COLUMNS", "SHEETS", "CountyOutput", "last_summary"]


@dataclass
class CountyOutput:
    county_code: str
    county_name: str
    files: list[dict] = field(default_factory=list)  # manifest entries: path, rows, bytes, sha256 (+ sheets)
    candidates: int = 0


_LAST: list[CountyOutput] = []


def last_summary() -> list[CountyOutput]:
    """What the last write_county_outputs call wrote, per county (for asset metadata)."""
    return list(_LAST)


def _clean(folder: Path, keep: set[Path]) -> None:
    for p in sorted(folder.rglob("*"), reverse=True):
        if p.is_file() and p not in keep:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()


@dataclass(frozen=True)
class _Day:
    """What every county folder of one date shares."""

    day: date
    policy: Policy
    model: str | None
    freshness: list[dict]
    chain_head: dict | None
    run_id: str
    pool: RenderPool


def write_county_outputs(
    con: duckdb.DuckDBPyConnection,
    day: date,
    outbox_dir: Path,
    policy: Policy,
    *,
    run_id: str,
    render_workers: int = 1,
) -> list[Path]:
    """Write every county folder of ``day`` and the 未归属 workbook; return the paths written. Big workbooks and task
    packs are rendered in ``render_workers`` processes (deliverables/render_pool.py). They only read the warehouse
    (its schema made by whoever wrote it, fangfanpin.schema), so ``con`` may be read-only."""
    policy = policy.as_of(day)
    root = Path(outbox_dir) / day.isoformat()
    for stale in sorted(root.rglob(".tmp-*")) if root.exists() else []:  # a run killed between write and rename
        stale.unlink()
    D.prepare(con, day)
    counties = D.counties(con, day)
    written: list[Path] = []
    _LAST.clear()
    with RenderPool(render_workers) as pool:
        shared = _Day(
            day, policy, D.model_version(con, day), feed_freshness(con, day), D.chain_head(con, day), run_id, pool
        )
        # with workers, the 未归属 workbook renders from the start and each county's files one county ahead, while the
        # folder before is written; without, nothing is read before it is written (one county's rows in memory)
        early = pool.workers > 1
        unplaced_book = _queue_unplaced(con, shared, counties) if early else None
        coming = (_queue(con, shared, county) for county in counties)
        ahead = deque(islice(coming, 1 if early else 0))
        for _ in counties:
            ahead.extend(islice(coming, 1))
            _LAST.append(_write_county(con, shared, ahead.popleft(), root, written))
        book, counts = (unplaced_book or _queue_unplaced(con, shared, counties))()
    path = atomic_write_bytes(root / UNPLACED_DIR / "数据质量问题.xlsx", book)
    written.append(path)
    _LAST.append(
        CountyOutput(UNPLACED_DIR, UNPLACED_DIR, [file_entry(root / UNPLACED_DIR, path, book, sum(counts.values()))])
    )
    return written


@dataclass(frozen=True)
class _Queued:
    """A county's workbook, village notices, task packs and return templates, handed to the render pool before its
    folder is written."""

    county: str
    county_name: str
    workbook: Callable[[], tuple[bytes, dict[str, int]]]
    notices: list[Notice]
    notice_pdfs: Iterator[bytes]
    packs: list[TaskPack]
    pdfs: Iterator[bytes]
    templates: list[DueTemplate]
    template_files: Iterator[bytes]


def _queue_unplaced(
    con: duckdb.DuckDBPyConnection, at: _Day, counties: list[str]
) -> Callable[[], tuple[bytes, dict[str, int]]]:
    sheets = unplaced_sheets(con, at.day, counties)
    return at.pool.submit(partial(render_workbook, day=at.day), sheets, worth_a_worker=len(sheets[0][2]) >= MIN_ROWS)


def _queue(con: duckdb.DuckDBPyConnection, at: _Day, county: str) -> _Queued:
    name = D.county_name(con, county)
    sheets = county_sheets(con, at.day, county, at.policy, at.model)
    rows = sum(len(data) for _, _, data in sheets)
    notices = village_notices(con, at.day, county, at.policy)
    packs = village_task_packs(con, at.day, county, at.policy)
    cards = sum(len(pack.tasks) for pack in packs)
    templates = due_templates(con, at.day, county)
    due = sum(len(template.rows) for template in templates)
    return _Queued(
        county,
        name,
        at.pool.submit(partial(render_workbook, day=at.day), sheets, worth_a_worker=rows >= MIN_ROWS),
        notices,  # a few a day: workers only once started (kept across dates, or for a county's big files)
        at.pool.render(partial(notice_pdf, day=at.day), notices, worth_a_worker=False),
        packs,
        at.pool.render(partial(task_pack_pdf, day=at.day, county_name=name), packs, worth_a_worker=cards >= MIN_CARDS),
        templates,
        at.pool.render(
            partial(render_template, day=at.day, risk_types=at.policy.risk_types),
            templates,
            worth_a_worker=due >= MIN_ROWS,
        ),
    )


def _write_county(
    con: duckdb.DuckDBPyConnection, at: _Day, queued: _Queued, root: Path, written: list[Path]
) -> CountyOutput:
    """One county's folder: workbook, candidates.csv, notices, task packs, return templates, then manifest.json;
    files of an earlier run that this one did not write are removed."""
    day, policy, county, name = at.day, at.policy, queued.county, queued.county_name
    folder = root / county
    out = CountyOutput(county, name)

    def put(path: Path, payload: bytes, rows: int, **extra) -> None:
        atomic_write_bytes(path, payload)
        written.append(path)
        out.files.append(file_entry(folder, path, payload, rows, **extra))

    book, sheet_rows = queued.workbook()
    put(
        folder / f"{safe_filename(name)}_防返贫监测工作清单_{day:%Y%m%d}.xlsx",
        book,
        sum(v for k, v in sheet_rows.items() if k not in ("工作概览", "说明")),
        sheets=sheet_rows,
    )
    cands = candidate_rows(con, day, county, policy)
    out.candidates = cands.height
    put(folder / "candidates.csv", candidates_csv(cands), cands.height)
    for notice, pdf in zip(queued.notices, queued.notice_pdfs):
        put(
            folder
            / "公示"
            / f"{safe_filename(notice.village_code)}_{safe_filename(notice.village_name)}_{notice.file_tag}.pdf",
            pdf,
            sum(len(b["members"]) for b in notice.batches),
            batches=[b["batch_id"] for b in notice.batches],
        )
    for pack, pdf in zip(queued.packs, queued.pdfs):
        put(
            folder
            / TASK_PACKS_FOLDER
            / f"{safe_filename(pack.village_code)}_{safe_filename(pack.village_name)}_排查任务.pdf",
            pdf,
            len(pack.tasks),
        )
    for template, payload in zip(queued.templates, queued.template_files):
        put(folder / TEMPLATES_FOLDER / template.file_name, payload, len(template.rows))
    manifest = folder / "manifest.json"
    atomic_write_bytes(
        manifest, manifest_bytes(day, county, name, at.run_id, out.files, at.freshness, at.model, at.chain_head)
    )
    written.append(manifest)
    _clean(folder, set(written))
    return out
