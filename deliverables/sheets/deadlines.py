"""排查任务 and 逾期提醒: the sheets that count time, in working days (``dlv_workdays``, deliverables/workdays.py).

Which limit a case has passed depends on its state (the ledger's due dates, workflow/decide/day.py): a visit or a
review counts from the day the state began; 待确认 from the case's opening (the total limit from opening to the
county's decision), 消除待确认 from the start of the elimination. A total limit can fall before the state began (a
case sent back for another visit reaches 待确认 again late): the sheet names the limit and the date it counts from.
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.deliverables.data import OPEN_TASKS, rows
from fangfanpin.deliverables.sheets.common import BASE, HH, PLACE, case_sheet_sql, with_head
from fangfanpin.deliverables.workdays import TODAY, ordinal
from fangfanpin.deliverables.xlsx import Col


def visit_tasks(con: duckdb.DuckDBPyConnection, day: date, county: str):
    """The open visit tasks, village by village in priority order (优先级 1 first: deliverables.data.OPEN_TASKS)."""
    data = rows(
        con,
        f"""
        SELECT t.task_id, t.purpose, t.township, t.village_code, hh.village_name, t.household_id, hh.head_name,
               hh.head_id, hh.phone, t.what_to_verify_zh, t.issued_date, t.due_date, t.case_id,
               cs.case_status, {ordinal("t.due_date")} - {TODAY} AS days_left, t.priority_rank, t.priority_zh
        FROM {OPEN_TASKS} t
        LEFT JOIN case_status_daily cs ON cs.as_of_date = $d AND cs.case_id = t.case_id
        {HH.format(t="t")}
        ORDER BY coalesce(t.township, ''), coalesce(t.village_code, ''), t.priority_rank""",
        {"d": day, "c": county},
    )
    cols = [
        Col("任务编号", "task_id", "code"),
        Col("任务类型", "purpose"),
        *PLACE[:3],
        Col("优先级（村内顺序）", "priority_rank", "int"),
        Col("优先依据", "priority_zh", width=30),
        *PLACE[3:],
        Col("联系电话", "phone", "phone"),
        Col("核实内容", "what_to_verify_zh", width=60),
        Col("派发日期", "issued_date", "date"),
        Col("截止日期", "due_date", "date"),
        Col("剩余天数（工作日）", "days_left", "int"),
        Col("案件编号", "case_id", "code"),
        Col("案件状态", "case_status"),
    ]
    return cols, [with_head(r) for r in data]


def limit_names(policy: Policy) -> dict[str, str]:
    """The limit each state's due date stands for, as the county reads it."""
    wf = policy.workflow
    visit, review, total = wf.pending_visit_working_days, wf.review_anomaly_working_days, wf.total_working_days
    return {
        "待排查": f"待排查走访时限 {visit} 个工作日（自进入待排查起）",
        "比对异常": f"比对异常复核时限 {review} 个工作日（自进入比对异常起）",
        "消除待排查": f"风险消除走访时限 {visit} 个工作日（自进入消除待排查起）",
        "待确认": f"立案至县级决定总时限 {total} 个工作日（自立案日起）",
        "消除待确认": f"风险消除总时限 {total} 个工作日（自风险消除启动起）",
    }


# working days a case of ``cs`` is past its due date on $d (needs ``prepare_workdays``)
DAYS_OVERDUE = f"{TODAY} - {ordinal('cs.due_date')}"


def limit_sql(policy: Policy) -> tuple[str, dict[str, str]]:
    """SQL naming the limit a case of ``cs`` has passed (limit_names), and its bound parameters."""
    names = limit_names(policy)
    params = {f"limit_{i}": name for i, name in enumerate(names.values())}
    limit = " ".join(f"WHEN '{state}' THEN $limit_{i}" for i, state in enumerate(names))  # states: code constants
    sql = f"""CASE cs.case_status {limit} ELSE '时限' END
              || CASE WHEN cs.due_date < cs.state_since THEN '；进入本状态时已超过此时限' ELSE '' END"""
    return sql, params


def overdue(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy):
    """One row per case past its due date, most overdue first."""
    limit, params = limit_sql(policy)
    params |= {"d": day, "c": county}
    start = """CASE cs.case_status WHEN '待确认' THEN cs.opened_date
                   WHEN '消除待确认' THEN (SELECT max(e.event_date) FROM case_events e
                        WHERE e.case_id = cs.case_id AND e.processed_date <= $d
                          AND e.new_state = '消除待排查' AND e.old_state = '已纳入')
                   ELSE cs.state_since END"""
    sql = case_sheet_sql(
        extra_select=f""",
            {limit} AS limit_zh,
            {start} AS limit_start,
            {DAYS_OVERDUE} AS days_overdue_wd,
            concat_ws('、', cs.township, hh.village_name) AS responsible""",
        where="cs.overdue",
        order="days_overdue_wd DESC, cs.due_date",
    )
    data = rows(con, sql, params)
    cols = BASE + [
        Col("案件状态", "case_status"),
        Col("进入状态日期", "state_since", "date"),
        Col("超过的时限", "limit_zh", width=44),
        Col("时限起算日期", "limit_start", "date"),
        Col("时限截止日期", "due_date", "date"),
        Col("逾期天数（工作日）", "days_overdue_wd", "int"),
        Col("待走访任务", "open_task_id", "code"),
        Col("责任单位（乡镇、村）", "responsible"),
    ]
    return cols, [with_head(r) for r in data]
