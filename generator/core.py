"""generate(): population, hidden history, deliveries, messy rendering and writing.

The steps live in their own modules: ``population`` and ``history`` (the county and what happens to it),
``snapshots`` and ``increments`` (the feeds), ``render`` (messy values, CSV/XLSX files), ``truth`` (the hidden ground
truth). The random generators are seeded per step, so a step's output does not depend on the others' draws."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .history import History
from .increments import assign_deliveries, increment_feeds
from .messy import MessyRates
from .population import build_population, load_geography
from .render import render, write_csv, write_xlsx
from .series import _d, _day
from .snapshots import Builder
from .truth import write_truth

SNAPSHOT = ["roster", "household_income", "civil_assistance", "students", "medical_enrollment", "housing_safety"]
INCREMENT = ["medical_claims", "econ_check", "applications", "visit_results", "publication_results", "county_decisions"]
FEEDS = SNAPSHOT + INCREMENT
XLSX_OK = {
    "applications",
    "visit_results",
    "publication_results",
    "county_decisions",
    "housing_safety",
    "econ_check",
    "civil_assistance",
    "students",
}
XLSX_MAX_ROWS = 3000


@dataclass
class GenerationSummary:
    deliveries: list[dt.date]
    files: list[Path]
    rows_per_feed: dict[str, int]
    seconds: float
    households: int = 0
    persons: int = 0
    counties: list[str] = field(default_factory=list)


def schedule(start: dt.date, end: dt.date, daily_days: int, rng) -> list[tuple[int, set[str]]]:
    """[(day, snapshot feeds delivered)]; increments are delivered every time."""
    e = _day(end)
    month_ends = []
    m = dt.date(start.year, start.month, 1)
    while m <= end:
        nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        me = nxt - dt.timedelta(days=1)
        if start <= me <= end:
            month_ends.append(_day(me))
        m = nxt
    daily = list(range(e - daily_days + 1, e + 1)) if daily_days > 0 else []
    if len(daily) > 4:
        skip = set(rng.choice(daily[:-1], size=2, replace=False).tolist())
        daily = [d for d in daily if d not in skip or d in month_ends]
    days = sorted(set(month_ends) | set(daily)) or [e]
    if e not in days and daily_days > 0:
        days.append(e)
    out = []
    for d in days:
        if d in month_ends or not daily or d < daily[0] or d == days[0]:
            feeds = set(SNAPSHOT)
        else:
            feeds = {f for f in SNAPSHOT if rng.random() < 0.15}
            if (e - d) % 7 == 0:
                feeds |= {"roster", "civil_assistance"}
        out.append((d, feeds))
    return out


def generate(
    landing_dir: Path,
    truth_dir: Path,
    counties: list[str],
    households: int,
    start: dt.date,
    end: dt.date,
    seed: int = 0,
    messy: MessyRates | None = None,
    daily_days: int = 21,
    divisions_file: Path | None = None,
) -> GenerationSummary:
    t0 = time.perf_counter()
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    messy = MessyRates() if messy is None else messy
    counties = [str(c) for c in counties]
    rng = np.random.default_rng(seed)
    geo = load_geography(counties, Path(divisions_file) if divisions_file else None, rng)
    plan = schedule(start, end, daily_days, np.random.default_rng([seed, 1]))
    days = np.array([d for d, _ in plan], dtype=np.int64)
    end_day = int(days[-1])
    ws = min(_day(start), int(days[0]) - 30)
    hh, persons = build_population(np.random.default_rng([seed, 2]), geo, counties, households, end_day)
    h = History(np.random.default_rng([seed, 3]), hh, persons, ws, end_day)
    b = Builder(h, geo, np.random.default_rng([seed, 4]))
    incs = {
        k: assign_deliveries(v, days, np.random.default_rng([seed, 5, i]))
        for i, (k, v) in enumerate(increment_feeds(b).items())
    }
    inc_parts = {k: v.partition_by(["_di", "_county"], as_dict=True) for k, v in incs.items()}
    files: list[Path] = []
    rows = {f: 0 for f in FEEDS}
    feed_no = {f: i for i, f in enumerate(FEEDS)}
    encs = np.array(["utf-8", "utf-8-sig", "gb18030"])
    ep = np.array([messy.enc_utf8, messy.enc_bom, messy.enc_gb18030], float)
    ep = ep / ep.sum() if ep.sum() > 0 else np.array([1.0, 0, 0])
    for di, (d, snaps) in enumerate(plan):
        ddate = _d(d)
        folder = landing_dir / ddate.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        created = dt.datetime(ddate.year, ddate.month, ddate.day, 18, 0, 0)
        frames: dict[str, dict] = {}
        for f in SNAPSHOT:
            if f in snaps:
                fr = getattr(b, "students_feed" if f == "students" else f)(d)
                frames[f] = {(counties[0],): fr} if len(counties) == 1 else fr.partition_by("_county", as_dict=True)
        for f in INCREMENT:
            frames[f] = {(c,): inc_parts[f].get((di, c)) for c in counties}
        for f, byc in frames.items():
            for ci, cc in enumerate(counties):
                fr = byc.get((cc,))
                if fr is None:
                    if f in SNAPSHOT:
                        continue
                    fr = incs[f].clear()
                fr = fr.drop([x for x in ("_county", "_day", "_di") if x in fr.columns])
                frng = np.random.default_rng([seed, 6, di, feed_no[f], ci])
                xlsx = f in XLSX_OK and fr.height <= XLSX_MAX_ROWS and frng.random() < messy.xlsx
                out, raw, sci, contract = render(fr, f, frng, messy, d, xlsx)
                if xlsx:
                    path = folder / f"{f}_{cc}.xlsx"
                    write_xlsx(path, out, raw, sci, contract, frng, created)
                else:
                    path = folder / f"{f}_{cc}.csv"
                    write_csv(path, out, str(frng.choice(encs, p=ep)))
                files.append(path)
                rows[f] += out.height
    write_truth(truth_dir, b, h, end_day)
    return GenerationSummary(
        deliveries=[_d(x) for x in days],
        files=files,
        rows_per_feed=rows,
        seconds=round(time.perf_counter() - t0, 2),
        households=h.H,
        persons=h.P,
        counties=counties,
    )
