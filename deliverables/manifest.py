"""manifest.json per county folder: every file with its row counts and sha256, the run id, feed freshness."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(day: date, county: str, county_name: str, run_id: str, files: list[dict],
                   freshness: list[dict], model_version: str | None) -> bytes:
    """``files``: [{path (relative to the county folder), rows, sheets?, sha256, bytes}], in a stable order."""
    doc = {
        "delivery_date": day.isoformat(), "county_code": county, "county_name": county_name, "run_id": run_id,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_version": model_version,
        "files": sorted(files, key=lambda f: f["path"]),
        "feed_freshness": [{"feed": f["feed"],
                            "last_applied_delivery": f["last_applied_delivery"].isoformat()
                            if f["last_applied_delivery"] else None,
                            "age_days": f["age_days"]} for f in freshness],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def file_entry(folder: Path, path: Path, data: bytes, rows: int, **extra) -> dict:
    return {"path": path.relative_to(folder).as_posix(), "rows": rows, "bytes": len(data),
            "sha256": sha256_bytes(data), **extra}
