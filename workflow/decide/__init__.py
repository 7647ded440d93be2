"""Deciding one day of the dynamic-management workflow on plain Python data: no warehouse, no DuckDB.

    decisions = decide_day(inputs, policy)   # DayInputs (workflow.load, or built by hand) → the rows to write

Order within a day (deterministic, so a re-run writes the same rows):
  0. first run only: monitored households of the roster enter 已纳入 (花名册导入);
  1. applications (农户申请; plus earlier applications still unmatched), by application date, file, row;
  2. visit results, then publication results, then county decisions, each by its own date, household, file, row;
  3. warnings of the day (部门预警, then 模型预警 within the village's weekly capacity, highest probability first);
  4. 风险消除 candidates enter the elimination flow;
  5. publication batches for every village with cases in 待公示 / 消除待公示 / awaiting 补充公示;
  6. task numbers are assigned (RW-<county>-<YYYYMMDD>-<NNNN>, by village, household, case).
Every event carries event_date = the processed date; the date the source row names is kept as effective_date.
An event that does not fit the case's state is written to workflow_issues (in Chinese), never applied.

Modules: ``records`` (the data in and out), ``day`` (the day's state: moving a case, due dates, tasks, issues),
``opening`` (roster, applications, warnings, cool-down, elimination candidates), ``results`` (visits and 比对,
publication results, county decisions), ``publishing`` (publication batches).
"""

from __future__ import annotations

from fangfanpin.config.policy import Policy
from fangfanpin.workflow.decide.day import Day, map_reason
from fangfanpin.workflow.decide.opening import applications, eliminations, import_roster, warnings
from fangfanpin.workflow.decide.publishing import publish
from fangfanpin.workflow.decide.records import Case, DayInputs, Decisions
from fangfanpin.workflow.decide.results import county_decision, publication_result, visit_result

__all__ = ["decide_day", "Case", "DayInputs", "Decisions", "map_reason"]


def decide_day(inputs: DayInputs, policy: Policy) -> Decisions:
    """Every transition of one delivery date, in the order above. Moves the cases of ``inputs`` in place."""
    st = Day.start(inputs, policy)
    if inputs.first_run:
        import_roster(st)
    applications(st)
    for row in inputs.visits:
        visit_result(st, row)
    for row in inputs.publications:
        publication_result(st, row)
    for row in inputs.decisions:
        county_decision(st, row)
    warnings(st)
    eliminations(st)
    publish(st)
    return st.finish()
