"""manifest.json per county folder: every file with its row counts and sha256, the run id, feed freshness, and the
case ledger's chain head after the date (``ledger_chain_head``: events, head_hash). The counties keep their
manifests: ``verify_manifests`` compares them with the ledger, so that a ledger rebuilt and re-hashed from the start
after a deletion, which its own chain no longer shows, still fails against the heads the counties were given."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

CHAIN_KEY = "ledger_chain_head"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(
    day: date,
    county: str,
    county_name: str,
    run_id: str,
    files: list[dict],
    freshness: list[dict],
    model_version: str | None,
    chain_head: dict | None = None,
) -> bytes:
    """``files``: [{path (relative to the county folder), rows, sheets?, sha256, bytes}], in a stable order;
    ``chain_head``: {events, head_hash} of the ledger after ``day`` (deliverables.data.chain_head), None without one."""
    doc = {
        "delivery_date": day.isoformat(),
        "county_code": county,
        "county_name": county_name,
        "run_id": run_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_version": model_version,
        CHAIN_KEY: chain_head,
        "files": sorted(files, key=lambda f: f["path"]),
        "feed_freshness": [
            {
                "feed": f["feed"],
                "last_applied_delivery": f["last_applied_delivery"].isoformat() if f["last_applied_delivery"] else None,
                "age_days": f["age_days"],
                "cadence_days": f["cadence_days"],
                "status": f["status"],
            }
            for f in freshness
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def file_entry(folder: Path, path: Path, data: bytes, rows: int, **extra) -> dict:
    return {
        "path": path.relative_to(folder).as_posix(),
        "rows": rows,
        "bytes": len(data),
        "sha256": sha256_bytes(data),
        **extra,
    }


@dataclass
class ManifestProblem:
    path: Path
    day: date | None
    recorded: object = None  # the manifest's chain head
    ledger: dict | None = None  # the ledger's for that date; None: the ledger has no such date
    unreadable: str = ""


@dataclass
class ManifestReport:
    folder: Path
    checked: int = 0
    skipped: int = 0  # manifests without a chain head (no ledger yet when they were written)
    problems: list[ManifestProblem] = field(default_factory=list)

    @property
    def found(self) -> int:
        return self.checked + self.skipped + sum(1 for p in self.problems if p.unreadable)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        if not self.problems:
            skipped = f"（另有 {self.skipped} 份不含链头，未核对）" if self.skipped else ""
            skipped_en = f" ({self.skipped} without a chain head not checked)" if self.skipped else ""
            return (
                f"交付清单核对通过：{self.folder} 下 {self.checked} 份 manifest.json 记录的台账链头与案件台账一致"
                f"{skipped}。 / {self.checked} manifest(s) under {self.folder} agree with the case ledger's chain "
                f"head{skipped_en}."
            )
        p, n = self.problems[0], len(self.problems)
        if p.unreadable:
            return (
                f"无法读取交付清单 {p.path}（{p.unreadable}），共 {n} 份清单未通过核对。 / Cannot read the "
                f"manifest {p.path} ({p.unreadable}); {n} manifest(s) failed the check."
            )
        return (
            f"案件台账与交付清单不符：处理日期 {p.day} 的台账链头（{_head(p.ledger, True)}）与 {p.path} 记录的"
            f"（{_head(p.recorded, True)}）不同，台账在该清单生成后被删改或重新计算；共 {n} 份清单不符。 / Case "
            f"ledger does not match the manifests: the chain head of processed date {p.day} "
            f"({_head(p.ledger, False)}) differs from the one recorded in {p.path} ({_head(p.recorded, False)}); "
            f"the ledger was changed or recomputed after that manifest was written. {n} manifest(s) differ."
        )


def _head(head, zh: bool) -> str:
    if head is None:
        return "台账中没有该日期" if zh else "the ledger has no such date"
    if not isinstance(head, dict):
        return repr(head)[:40]
    events, digest = head.get("events"), str(head.get("head_hash"))[:16]
    return f"{events} 条事件，链头 {digest}" if zh else f"{events} events, head {digest}"


def verify_manifests(con: duckdb.DuckDBPyConnection, folder: Path) -> ManifestReport:
    """Compare every manifest.json under ``folder`` (the outbox, or the copies a county holds, in any layout: the
    date is read from the manifest) with the ledger's chain head of its delivery date (table ``ledger_chain``)."""
    heads = {
        d: {"events": n, "head_hash": h}
        for d, n, h in con.execute("SELECT processed_date, events, head_hash FROM ledger_chain").fetchall()
    }
    report = ManifestReport(Path(folder))
    for path in sorted(Path(folder).rglob("manifest.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            day, recorded = date.fromisoformat(doc["delivery_date"]), doc.get(CHAIN_KEY)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            report.problems.append(ManifestProblem(path, None, unreadable=f"{type(exc).__name__}: {exc}"))
            continue
        if recorded is None:
            report.skipped += 1
            continue
        report.checked += 1
        if recorded != heads.get(day):
            report.problems.append(ManifestProblem(path, day, recorded, heads.get(day)))
    report.problems.sort(key=lambda p: (p.day or date.min, str(p.path)))
    return report
