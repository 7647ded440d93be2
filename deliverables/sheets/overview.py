"""工作概览: the county's figures for the day, each saying what it counts.

Case figures are the cases in each state after the day's run (现有: every case, closed ones included, replayed from
the ledger once a day into ``dlv_cases``) and the day's change (今日变化: cases that entered the state today minus
those that left it; a case passing through a state within the day counts in both). Today's alerts are divided as the
新增预警 sheet divides them (deliverables/sheets/alerts.py).
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.deliverables.data import feed_title, rows
from fangfanpin.deliverables.sheets.alerts import alert_counts, previous_date
from fangfanpin.deliverables.xlsx import Col, percent_text
from fangfanpin.ingest.freshness import STATUS_ZH, feed_freshness
from fangfanpin.workflow import states as S

COLUMNS = [
    Col("类别", "kind"),
    Col("项目", "item", width=34),
    Col("数值", "value", "auto", width=14),
    Col("今日变化", "change", "signed"),
    Col("备注", "note", width=60),
]

# per state, and per township and state: cases now, entered today, left today
_STATES = """
    WITH now AS (SELECT township, state, count(*) AS n FROM dlv_cases WHERE county_code = $c GROUP BY ALL),
    ev AS (SELECT o.township, e.old_state, e.new_state FROM case_events e JOIN case_openings o USING (case_id)
           WHERE e.processed_date = $d AND o.county_code = $c AND e.old_state <> e.new_state),
    moves AS (SELECT township, state, n, 0 AS entered, 0 AS left_ FROM now
              UNION ALL SELECT township, new_state, 0, 1, 0 FROM ev
              UNION ALL SELECT township, old_state, 0, 0, 1 FROM ev)
    SELECT township, state, sum(n)::BIGINT AS n, sum(entered)::BIGINT AS entered, sum(left_)::BIGINT AS left_,
           grouping(township) AS county_total
    FROM moves WHERE list_contains($states::VARCHAR[], state)
    GROUP BY GROUPING SETS ((state), (township, state))"""


def _state_rows(con: duckdb.DuckDBPyConnection, day: date, county: str) -> tuple[dict, dict]:
    got = rows(con, _STATES, {"d": day, "c": county, "states": list(S.STATES)})
    total = {r["state"]: r for r in got if r["county_total"]}
    by_township: dict[str, dict] = {}
    for r in got:
        if not r["county_total"]:
            by_township.setdefault(r["township"] or "（未知乡镇）", {})[r["state"]] = r
    return total, by_township


def _moved(r: dict | None) -> tuple[int, int, int]:
    return (r["n"], r["entered"] - r["left_"], r["entered"]) if r else (0, 0, 0)


def overview(
    con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy, sheets: dict[str, int], model: str | None
):
    data: list[dict] = []

    def add(kind, item, value, note="", change=None):
        data.append({"kind": kind, "item": item, "value": value, "change": change, "note": note})

    previous = previous_date(con, day, county)
    add("基本信息", "交付日期", day)
    add("基本信息", "上一交付日期", previous or "无", "今日变化、新增预警均与上一交付日期相比")
    add("基本信息", "模型版本", model or "尚未启用模型")

    overdue = dict(
        con.execute(
            """SELECT case_status, count(*) FROM case_status_daily WHERE as_of_date = ? AND county_code = ?
               AND overdue GROUP BY 1""",
            [day, county],
        ).fetchall()
    )
    total, by_township = _state_rows(con, day, county)
    for state in S.STATES:
        n, change, entered = _moved(total.get(state))
        note = f"今日转入 {entered} 件，转出 {entered - change} 件"
        if overdue.get(state):
            note += f"；现有中逾期 {overdue[state]} 件（见“逾期提醒”）"
        add("案件状态（现有件数）", state, n, note, change)
    for township in sorted(by_township):
        for state in S.ACTIVE_STATES:
            n, change, entered = _moved(by_township[township].get(state))
            if n or change:
                add("乡镇案件（现有件数）", f"{township}：{state}", n, "", change)

    counts = alert_counts(con, day, county)
    since = f"上一交付日期（{previous}）" if previous else "上一交付日期（无）"
    add("今日预警（非监测户）", "今日预警户数", sum(counts.values()), "规则触发或模型预警的非监测户")
    add("今日预警（非监测户）", "其中：新增预警", counts["新增预警"], f"{since}未预警，列在“新增预警”表")
    add("今日预警（非监测户）", "其中：持续预警", counts["持续预警"], f"{since}已预警，不再列入“新增预警”表")
    add("今日预警（非监测户）", "其中：今日不予纳入", counts["今日不予纳入"], "今日走访或县级决定不予纳入，不列入")
    add("今日预警（非监测户）", "其中：已有进行中案件", counts["已有案件"], "预警作为新证据并入该案件，不列入")

    opened = con.execute(
        "SELECT count(*) FROM case_openings WHERE processed_date = ? AND county_code = ?", [day, county]
    ).fetchall()[0][0]
    add("今日工作", "今日新立案件", opened)
    add("今日工作", "待走访任务（现有）", sheets.get("排查任务", 0), "见“排查任务”表")
    add("今日工作", "逾期案件（现有）", sheets.get("逾期提醒", 0), "见“逾期提醒”表")
    add("今日工作", "风险消除候选（今日）", sheets.get("风险消除候选", 0), "见“风险消除候选”表")
    for r in rows(
        con,
        """SELECT feed, count(*) AS n FROM data_quality_issues WHERE delivery_date = ? AND county_code = ?
           GROUP BY 1 ORDER BY 1""",
        [day, county],
    ):
        add("数据质量", f"跨部门比对问题：{feed_title(r['feed'])}", r["n"])
    add("数据质量", "问题行合计", sheets.get("数据质量问题", 0))
    for f in feed_freshness(con, day):
        add(
            "数据时效",
            feed_title(f["feed"]),
            f["last_applied_delivery"] or "无",
            ("" if f["age_days"] is None else f"距今 {f['age_days']} 天，")
            + f"约定每 {f['cadence_days']} 天交付一次：{STATUS_ZH[f['status']]}",
        )
    lv = policy.risk_levels
    add("阈值", f"{day.year} 年监测范围（元/人/年）", policy.monitoring_line(day.year))
    add("阈值", "风险等级“高”：模型概率不低于", percent_text(lv.high_probability), "或触发任一“高”级规则")
    add("阈值", "风险等级“中”：模型概率不低于", percent_text(lv.medium_probability), "或触发其他规则")
    add(
        "阈值",
        "模型预警：每村每周最多（户）",
        lv.model_capacity_per_village_per_week,
        f"未触发规则的农户按模型概率从高到低，且不低于平均水平的 {lv.model_warning_min_lift:g} 倍",
    )
    add("阈值", "其他规则阈值", "见“说明”工作表")
    return COLUMNS, data
