"""Publication batches: the day's last decision, over every case waiting to be published."""

from __future__ import annotations

from datetime import timedelta

from fangfanpin.workflow import states as S
from fangfanpin.workflow.decide.day import Day
from fangfanpin.workflow.decide.records import Case


def publish(st: Day) -> None:
    """One batch per village for its cases in 待公示 / 消除待公示 and its 绿色通道 cases awaiting 补充公示; the
    publication period starts tomorrow and lasts the policy's minimum."""
    min_days = st.wf.publication_min_days
    start = st.day + timedelta(days=1)
    end = start + timedelta(days=min_days - 1)
    waiting = [
        c
        for c in st.active.values()
        if c.state in (S.待公示, S.消除待公示)
        or (c.green and c.supp_pub == "pending" and c.state in (S.待确认, S.已纳入))
    ]
    by_village: dict[str, list[Case]] = {}
    for c in sorted(waiting, key=lambda c: (c.village_code or "", c.household_id)):
        by_village.setdefault(c.village_code or "", []).append(c)
    for village, members in sorted(by_village.items()):
        batch_id = f"GS-{village}-{st.day:%Y%m%d}"
        first = members[0]
        st.batches.append(
            {
                "batch_id": batch_id,
                "county_code": first.county_code,
                "township": first.township,
                "village_code": village,
                "start_date": start,
                "end_date": end,
                "processed_date": st.day,
            }
        )
        for c in members:
            text = f"列入公示批次 {batch_id}，公示期 {start} 至 {end}（{min_days} 天）"
            if c.state == S.待公示:
                purpose = "纳入"
                st.move(
                    c, S.公示中, "发布公示", source="系统", batch_id=batch_id, evidence_zh=text, source_ref=batch_id
                )
            elif c.state == S.消除待公示:
                purpose = "风险消除"
                st.move(
                    c, S.消除公示中, "发布公示", source="系统", batch_id=batch_id, evidence_zh=text, source_ref=batch_id
                )
            else:
                purpose = "补充公示"
                c.supp_pub = "published"
                st.move(
                    c,
                    c.state,
                    "补充公示发布",
                    source="系统",
                    batch_id=batch_id,
                    evidence_zh="补充公示：" + text,
                    source_ref=batch_id,
                )
            st.members.append(
                {
                    "batch_id": batch_id,
                    "case_id": c.case_id,
                    "household_id": c.household_id,
                    "purpose": purpose,
                    "processed_date": st.day,
                }
            )
