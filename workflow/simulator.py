"""A simulated field team for the demo: closes the loop day by day.

After the daily run of date D, ``simulate_day`` reads what the deliverables are built from (open visit tasks,
publication batches awaiting a result, cases in 待确认 / 消除待确认) and the generator's ground truth, and writes the
answers due by D+1 into ``<landing>/<D+1>/`` as ``visit_results_sim.csv``, ``publication_results_sim.csv`` and
``county_decisions_sim.csv`` with the contracts' Chinese headers. Behaviour (deterministic per task / case / seed):
- visits 1–4 working days after the task, one in ten late (past the 5-working-day limit); a visit recommends
  inclusion mostly when the truth says the household really deteriorated; some visits call a D级 house safe or
  medical cover secured while 医保 has an uninsured member (→ 比对异常); reviewers settle 比对异常; elimination visits mostly confirm the risk is gone;
- publication results 1–2 days after the batch ends, with some objections, about half of them upheld;
- county decisions 1–4 working days after 待确认, sometimes one the model would not expect (不予纳入, 退回重新核实);
- now and then a cadre visits a deteriorated household on their own initiative (干部排查, no task number);
- the next day's roster (when one is delivered) shows the ledger's confirmed inclusions and eliminations
  (``workflow.simulated_roster``), as the national system would.

``prepare_closed_loop`` removes the generator's own publication_results / county_decisions files from the loop's
days (their batch numbers were never issued by the pipeline); the generator's visits stay as 干部排查.
"""

from __future__ import annotations

import csv
import functools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from fangfanpin.config.policy import Policy, load_policy
from fangfanpin.core.warehouse_file import connect
from fangfanpin.data_contracts import load_contract
from fangfanpin.workflow.calendar import add_working_days
from fangfanpin.workflow.simulated_roster import reflect_ledger_in_roster

SIM_SUFFIX = "sim"
FIELD_FEEDS = ("visit_results", "publication_results", "county_decisions")
VISITORS = ["驻村工作队 王建国", "村委会 李文华", "驻村工作队 张海燕", "村委会 刘志强", "包村干部 陈晓梅"]


@dataclass
class SimSummary:
    day: date
    visits: int
    publications: int
    decisions: int
    own_visits: int


def _rng(seed: int, *parts) -> random.Random:
    return random.Random("|".join(str(p) for p in (seed,) + parts))


def prepare_closed_loop(landing: Path, days: list[date]) -> int:
    """Remove the generator's publication_results / county_decisions files on the loop's days; returns files removed."""
    removed = 0
    for d in days:
        folder = Path(landing) / d.isoformat()
        if not folder.exists():
            continue
        for path in sorted(folder.iterdir()):
            stem = path.stem
            if any(
                stem == f or stem.startswith(f + "_") for f in ("publication_results", "county_decisions")
            ) and not stem.endswith("_" + SIM_SUFFIX):
                path.unlink()
                removed += 1
    return removed


def _write(folder: Path, feed: str, rows: list[dict]) -> None:
    path = folder / f"{feed}_{SIM_SUFFIX}.csv"
    if not rows:
        path.unlink(missing_ok=True)
        return
    contract = load_contract(feed)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in contract.columns])
        for r in rows:
            writer.writerow(["" if r.get(c.name) is None else r[c.name] for c in contract.columns])
    tmp.replace(path)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _truth(path: Path) -> dict[str, dict]:
    """The generator's ground truth per household, read once per file (the same file on each of the loop's days)."""
    return _truth_of(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _truth_of(path: str, _mtime_ns: int) -> dict[str, dict]:
    return {r["household_id"]: r for r in pl.read_parquet(path).to_dicts()}


def simulate_day(
    con: duckdb.DuckDBPyConnection,
    day: date,
    landing: Path,
    truth_dir: Path,
    *,
    seed: int = 0,
    policy: Policy | None = None,
) -> SimSummary:
    policy = (policy or load_policy()).as_of(day)
    wf = policy.workflow
    nxt = day + timedelta(days=1)
    line = policy.monitoring_line(nxt.year)
    truth = _truth(Path(truth_dir) / "households.parquet")
    info = {
        r["household_id"]: r
        for r in con.sql(
            """
        SELECT household_id, household_type, income_position, housing_grade, renovation_status, dropouts,
               uninsured_members, roster_water_unsafe, monitored
        FROM household_indicators WHERE as_of_date = ?""",
            params=[day],
        )
        .pl()
        .to_dicts()
    }
    grades = policy.rule("HOU-UNSAFE").value("grades")

    def really_at_risk(hid: str) -> bool:
        t = truth.get(hid) or {}
        return bool(t.get("deteriorated") and t.get("deterioration_date") and t["deterioration_date"] <= nxt) or bool(
            t.get("confirmed")
        )

    def visit_row(
        hid: str, task_id: str | None, conclusion: str, rng: random.Random, risk_types: str, details: str = ""
    ) -> dict:
        h = info.get(hid) or {}
        unsafe_house = h.get("housing_grade") in grades and h.get("renovation_status") != "已竣工"
        housing_secured = (not unsafe_house) or (conclusion == "建议纳入" and rng.random() < 0.35)
        base = h.get("income_position") or line
        income = base * rng.uniform(0.55, 0.95) if conclusion == "建议纳入" else max(base, line) * rng.uniform(1.1, 1.5)
        # a visitor sometimes records 基本医疗有保障 although 医保 has a member not insured (→ 比对异常)
        medical_secured = not (h.get("uninsured_members") or 0) or (conclusion == "建议纳入" and rng.random() < 0.25)
        return {
            "task_id": task_id or "",
            "household_id": hid,
            "visit_date": nxt.isoformat(),
            "visitor": rng.choice(VISITORS),
            "verified_income_per_capita": f"{income:.2f}",
            "verified_out_of_pocket": f"{rng.uniform(0, 3000):.2f}",
            "education_secured": _yes(not (h.get("dropouts") or 0)),
            "medical_secured": _yes(medical_secured),
            "housing_secured": _yes(housing_secured),
            "water_secured": _yes(not h.get("roster_water_unsafe")),
            "risk_types": risk_types.replace(";", "、"),
            "conclusion": conclusion,
            "details": details,
        }

    # --- visit tasks ---
    visits = []
    tasks = (
        con.sql(
            """
        SELECT t.task_id, t.household_id, t.purpose, t.issued_date, t.due_date, c.risk_types, c.green_channel
        FROM visit_task_status t LEFT JOIN cases c USING (case_id)
        WHERE t.status = '待走访' AND t.issued_date <= ? ORDER BY t.task_id""",
            params=[day],
        )
        .pl()
        .to_dicts()
    )
    for t in tasks:
        rng = _rng(seed, "visit", t["task_id"])
        late = rng.random() < 0.10
        delay = (
            rng.randint(wf.pending_visit_working_days + 2, wf.pending_visit_working_days + 4)
            if late
            else rng.choice([1, 1, 2, 2, 3, 4])
        )
        if add_working_days(t["issued_date"], delay, wf) > nxt:
            continue
        hid, risk = t["household_id"], t["risk_types"] or ""
        if t["purpose"] == "排查":
            p = rng.random()
            if p < 0.06:
                conclusion = "需进一步核实"
            elif p < 0.08:
                conclusion = "无法入户"
            else:
                conclusion = (
                    "建议纳入"
                    if rng.random() < (0.85 if really_at_risk(hid) or t["green_channel"] else 0.35)
                    else "不建议纳入"
                )
            deter = (truth.get(hid) or {}).get("deterioration_type")
            if deter in ("accident", "disaster") and conclusion == "建议纳入":
                risk = ";".join(filter(None, [risk, "因意外事故" if deter == "accident" else "因自然灾害"]))
            visits.append(visit_row(hid, t["task_id"], conclusion, rng, risk))
        elif t["purpose"] == "复核":
            conclusion = "建议纳入" if rng.random() < 0.6 else "不建议纳入"
            visits.append(visit_row(hid, t["task_id"], conclusion, rng, risk, "复核比对异常"))
        else:
            eliminate = rng.random() < 0.75
            row = visit_row(
                hid,
                t["task_id"],
                "建议风险消除" if eliminate else "建议纳入",
                rng,
                risk,
                "收入稳定，三保障及饮水安全有保障" if eliminate else "风险尚未消除，继续监测",
            )
            if eliminate:
                row["verified_income_per_capita"] = f"{line * rng.uniform(1.2, 1.6):.2f}"
                row["housing_secured"] = "是"
            visits.append(row)
    # --- own-initiative visits (干部排查) ---
    busy = {
        r[0]
        for r in con.execute(
            """SELECT household_id FROM cases WHERE state NOT IN ('不予纳入', '风险消除')"""
        ).fetchall()
    }
    own = 0
    for hid in sorted(truth):
        t = truth[hid]
        if hid in busy or not t.get("deteriorated") or not t.get("deterioration_date") or hid not in info:
            continue
        if not (day - timedelta(days=60) < t["deterioration_date"] <= day) or info[hid].get("monitored"):
            continue
        rng = _rng(seed, "own", hid, day)
        if rng.random() < 0.04:
            kind = {
                "accident": "因意外事故",
                "disaster": "因自然灾害",
                "illness": "因病",
                "job_loss": "因务工就业不稳",
                "dropout": "义务教育阶段失学辍学",
                "housing": "住房出现安全问题",
                "business_failure": "因产业项目失败",
                "disability": "因残",
            }.get(t["deterioration_type"], "其他")
            visits.append(visit_row(hid, None, "建议纳入", rng, kind, "干部走访中主动发现"))
            own += 1
    # --- publication results ---
    pubs = []
    for m in (
        con.sql(
            """
            SELECT b.batch_id, b.start_date, b.end_date, m.household_id, m.purpose FROM publication_members m
            JOIN publication_batches b USING (batch_id) LEFT JOIN publication_outcomes o USING (batch_id, household_id)
            WHERE o.batch_id IS NULL AND b.processed_date <= ? ORDER BY b.batch_id, m.household_id""",
            params=[day],
        )
        .pl()
        .to_dicts()
    ):
        rng = _rng(seed, "pub", m["batch_id"], m["household_id"])
        if m["end_date"] + timedelta(days=rng.choice([1, 1, 2])) > nxt:
            continue
        objection = rng.random() < 0.12
        upheld = objection and rng.random() < 0.5
        pubs.append(
            {
                "batch_id": m["batch_id"],
                "household_id": m["household_id"],
                "review_result": "同意" if rng.random() < 0.97 else "不同意",
                "start_date": m["start_date"].isoformat(),
                "end_date": m["end_date"].isoformat(),
                "objection": _yes(objection),
                "objection_conclusion": ("异议成立" if upheld else "异议不成立") if objection else "",
            }
        )
    # --- county decisions ---
    decisions = []
    for c in (
        con.sql("""SELECT case_id, household_id, state, state_since, risk_types, green_channel FROM cases
                        WHERE state IN ('待确认', '消除待确认') ORDER BY case_id""")
        .pl()
        .to_dicts()
    ):
        rng = _rng(seed, "decision", c["case_id"], c["state"], c["state_since"])
        wait = rng.choice([1, 2, 2, 3, 4]) if rng.random() > 0.1 else rng.randint(12, 16)
        if add_working_days(c["state_since"], wait, wf) > nxt:
            continue
        hid = c["household_id"]
        p = rng.random()
        if c["state"] == "待确认":
            kind = "确认纳入" if p < 0.85 else ("不予纳入" if p < 0.93 else "退回重新核实")
            htype = (info.get(hid) or {}).get("household_type")
            category = (
                ("突发严重困难户" if c["green_channel"] else "脱贫不稳定户" if htype == "脱贫户" else "边缘易致贫户")
                if kind == "确认纳入"
                else ""
            )
        else:
            kind = "确认风险消除" if p < 0.9 else "退回重新核实"
            category = ""
        decisions.append(
            {
                "household_id": hid,
                "decision_type": kind,
                "monitoring_category": category,
                "risk_types": (c["risk_types"] or "").replace(";", "、"),
                "decision_date": nxt.isoformat(),
                "decision_unit": "杭锦旗乡村振兴局",
                "details": "模拟县级决定",
            }
        )
    folder = Path(landing) / nxt.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    reflect_ledger_in_roster(con, day, folder)
    _write(folder, "visit_results", visits)
    _write(folder, "publication_results", pubs)
    _write(folder, "county_decisions", decisions)
    return SimSummary(day, len(visits), len(pubs), len(decisions), own)


def simulate_after_run(day: date, warehouse: Path, landing: Path, truth_dir: Path, *, seed: int = 0) -> SimSummary:
    """For ``fangfanpin demo``: after the daily run of ``day``, write the field team's answers for ``day + 1``."""
    with connect(warehouse, read_only=True) as con:  # it reads the ledger and writes only landing files
        return simulate_day(con, day, landing, truth_dir, seed=seed)
