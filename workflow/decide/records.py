"""The plain data the day's decisions read (``DayInputs``, with the ``Case`` objects they move) and return
(``Decisions``). Nothing here knows the warehouse: ``workflow.load`` fills these from it, ``workflow.write`` stores
the result, and a test can build them by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass
class Case:
    """A case as the day's decisions see and move it."""

    case_id: str
    household_id: str
    county_code: str | None
    township: str | None
    village_code: str | None
    opened_date: date
    state: str
    state_since: date
    seq: int  # event_seq of the case's last event
    risk_types: list[str] = field(default_factory=list)
    rule_codes: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    severity: str | None = None
    green: bool = False
    due_date: date | None = None
    open_task: str | None = None  # task id (or a pending request key) of the open visit task
    supp_check_done: bool = False  # 绿色通道: 补充比对 done
    supp_pub: str | None = None  # 绿色通道: None / 'pending' (to publish) / 'published' / 'passed'
    elimination_started: date | None = None
    anomaly: str | None = None  # what today's 比对 found (the review task's what-to-verify text)


@dataclass
class DayInputs:
    """Everything one delivery date's decisions read, as the warehouse held it when the day began.

    Rows are dicts keyed by the warehouse's column names (the feeds' ``_file`` and ``_row`` included)."""

    day: date
    households: Mapping[str, dict]  # household_id → household_indicators row of the day
    cases: dict[str, Case]  # case_id → the cases the day can touch (open, declined in the cool-down, named)
    first_run: bool = False  # the ledger is empty: the roster's monitored households enter 已纳入
    applications: list[dict] = field(default_factory=list)  # the day's and still-unmatched earlier ones, in order
    visits: list[dict] = field(default_factory=list)  # visit_results of the day, in processing order
    publications: list[dict] = field(default_factory=list)  # publication_results of the day, in processing order
    decisions: list[dict] = field(default_factory=list)  # county_decisions of the day, in processing order
    tasks: dict[str, dict] = field(default_factory=dict)  # task_id → visit_task_status row, for the tasks named
    exclusions: dict[str, list[str]] = field(default_factory=dict)  # household_id → the findings in Chinese
    published: dict[tuple[str, str], dict] = field(default_factory=dict)  # (batch_id, household_id) → member
    warnings: list[dict] = field(default_factory=list)  # one row per household with a rule or a model warning
    model_openings: dict[str, int] = field(default_factory=dict)  # village → 模型预警 cases opened this week
    elimination_candidates: list[dict] = field(default_factory=list)  # elimination_candidates rows of the day


@dataclass
class Decisions:
    """The rows one day writes, in the order they are written."""

    openings: list[dict]
    events: list[dict]
    tasks: list[dict]
    closures: list[dict]
    batches: list[dict]
    members: list[dict]
    outcomes: list[dict]
    issues: list[dict]
