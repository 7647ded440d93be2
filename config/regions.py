"""Regions (config/regions.yaml): which counties share a warehouse and a daily run.

    regions = load_regions()
    regions["erdos"].counties          # ('150625',)
    region_of("152201")                # 'xingan'

Validated on load; a bad file raises ``RegionsError`` naming the region and the value.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from fangfanpin.config import CONFIG_DIR

DEFAULT_REGIONS = CONFIG_DIR / "regions.yaml"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")  # a Kubernetes name part and a bucket prefix
_COUNTY = re.compile(r"^[0-9]{6}$")


class RegionsError(ValueError):
    """The regions file is malformed; the message names the region and the value."""


@dataclass(frozen=True)
class Region:
    name: str
    name_zh: str
    counties: tuple[str, ...]


def regions_path() -> Path:
    return Path(os.environ.get("FFP_REGIONS") or DEFAULT_REGIONS)


def load_regions(path: Path | None = None) -> dict[str, Region]:
    """The regions of ``path`` (default: FFP_REGIONS or the packaged file), parsed again only when the file changes:
    every asset's settings() asks."""
    path = Path(path or regions_path()).resolve()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None  # _parse reports the missing file
    return dict(_parse(path, stamp))


@functools.cache
def _parse(path: Path, stamp: int | None) -> tuple[tuple[str, Region], ...]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise RegionsError(f"{path}: cannot read the regions file: {error}") from error
    entries = raw.get("regions") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise RegionsError(f"{path}: needs a non-empty mapping 'regions: {{name: {{name_zh, counties}}}}'")
    regions: dict[str, Region] = {}
    owner: dict[str, str] = {}
    for name, entry in entries.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise RegionsError(f"{path}: region name {name!r} must be lower-case ASCII letters, digits or '-'")
        if not isinstance(entry, dict) or not isinstance(entry.get("counties"), list) or not entry["counties"]:
            raise RegionsError(f"{path}: regions.{name}.counties must be a non-empty list of six-digit county codes")
        counties = tuple(str(c) for c in entry["counties"])
        for code in counties:
            if not _COUNTY.match(code):
                raise RegionsError(f"{path}: regions.{name}.counties: {code!r} is not a six-digit county code")
            if code in owner:
                raise RegionsError(f"{path}: county {code} is in both regions {owner[code]} and {name}")
            owner[code] = name
        regions[name] = Region(name=name, name_zh=str(entry.get("name_zh") or name), counties=counties)
    return tuple(regions.items())


def get_region(name: str, path: Path | None = None) -> Region:
    regions = load_regions(path)
    if name not in regions:
        raise RegionsError(
            f"unknown region {name!r}: {regions_path() if path is None else path} names {', '.join(sorted(regions))}"
        )
    return regions[name]


def region_of(county_code: str, path: Path | None = None) -> str | None:
    return next((r.name for r in load_regions(path).values() if county_code in r.counties), None)
