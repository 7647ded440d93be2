"""The state table of the dynamic-management workflow (docs/policy.md, "The workflow"), as data.

Inclusion: 待排查 → 待比对 → 待公示 → 公示中 → 待确认 → 已纳入, with 比对异常 (review) and 不予纳入 (closed).
绿色通道: a visit recommending inclusion of a 因自然灾害/因意外事故 case goes straight to 待确认 (after a same-day pass
through 待比对); its 补充比对 / 补充公示 follow, and an exclusion hit or an upheld objection sends it to 比对异常, even
after the county confirmed it (已纳入 → 比对异常).
Elimination (风险消除) runs through the same steps, with its own states so that a path is unambiguous:
已纳入 → 消除待排查 → 消除待公示 → 消除公示中 → 消除待确认 → 风险消除 (closed), and back to 已纳入 whenever a step says
the risk is not gone.
"""

from __future__ import annotations

START = "∅"  # old_state of a case's first event

待排查, 待比对, 比对异常, 待公示, 公示中, 待确认 = "待排查", "待比对", "比对异常", "待公示", "公示中", "待确认"
已纳入, 不予纳入, 风险消除 = "已纳入", "不予纳入", "风险消除"
消除待排查, 消除待公示, 消除公示中, 消除待确认 = "消除待排查", "消除待公示", "消除公示中", "消除待确认"

INCLUSION_OPEN = (待排查, 待比对, 比对异常, 待公示, 公示中, 待确认)
ELIMINATION_OPEN = (消除待排查, 消除待公示, 消除公示中, 消除待确认)
OPEN_STATES = INCLUSION_OPEN  # an "open case" (docs/policy.md): identification in progress
CLOSED_STATES = (不予纳入, 风险消除)
STATES = INCLUSION_OPEN + (已纳入,) + ELIMINATION_OPEN + CLOSED_STATES
# A household with a case in one of these states gets no new case: evidence joins the existing one.
ACTIVE_STATES = INCLUSION_OPEN + (已纳入,) + ELIMINATION_OPEN

# (old_state, new_state) → the events allowed to make that move. Events that leave the state unchanged
# (new evidence, a re-issued visit task, 补充比对/补充公示 passed) are allowed in every non-closed state.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (START, 待排查): frozenset({"立案"}),
    (START, 已纳入): frozenset({"花名册导入"}),
    (待排查, 待比对): frozenset({"走访建议纳入"}),
    (待排查, 不予纳入): frozenset({"走访不建议纳入"}),
    (待比对, 待公示): frozenset({"比对通过"}),
    (待比对, 比对异常): frozenset({"比对异常"}),
    (待比对, 待确认): frozenset({"绿色通道"}),
    (比对异常, 待公示): frozenset({"复核通过"}),
    (比对异常, 待确认): frozenset({"复核通过"}),
    (比对异常, 不予纳入): frozenset({"复核不予纳入", "县级不予纳入"}),
    (待公示, 公示中): frozenset({"发布公示"}),
    (公示中, 待确认): frozenset({"公示通过"}),
    (公示中, 不予纳入): frozenset({"公示未通过"}),
    (待确认, 已纳入): frozenset({"确认纳入"}),
    (待确认, 不予纳入): frozenset({"县级不予纳入"}),
    (待确认, 待排查): frozenset({"退回重新核实"}),
    (待确认, 比对异常): frozenset({"补充比对异常", "补充公示未通过"}),
    (已纳入, 比对异常): frozenset({"补充比对异常", "补充公示未通过"}),
    (已纳入, 消除待排查): frozenset({"风险消除候选"}),
    (消除待排查, 消除待公示): frozenset({"走访建议风险消除"}),
    (消除待排查, 已纳入): frozenset({"走访风险未消除"}),
    (消除待公示, 消除公示中): frozenset({"发布公示"}),
    (消除公示中, 消除待确认): frozenset({"公示通过"}),
    (消除公示中, 已纳入): frozenset({"公示未通过"}),
    (消除待确认, 风险消除): frozenset({"确认风险消除"}),
    (消除待确认, 已纳入): frozenset({"退回重新核实"}),
}
SELF_EVENTS = frozenset({"新证据", "重新派发排查任务", "补充比对通过", "补充公示通过", "补充公示发布"})


def is_legal(old: str, new: str, event: str) -> bool:
    if old == new:
        return old not in CLOSED_STATES and old != START and event in SELF_EVENTS
    return event in TRANSITIONS.get((old, new), frozenset())


def legal_path(steps: list[tuple[str, str, str]]) -> tuple[bool, str]:
    """Whether (old_state, new_state, event) steps, in order, form a legal path from START; with the reason if not."""
    current = START
    for i, (old, new, event) in enumerate(steps):
        if old != current:
            return False, f"step {i}: old_state {old} but the case was in {current}"
        if not is_legal(old, new, event):
            return False, f"step {i}: {old} → {new} by {event} is not in the state table"
        current = new
    return True, ""


def state_table_markdown() -> str:
    rows = ["| from | to | event |", "|---|---|---|"]
    rows += [f"| {a} | {b} | {'、'.join(sorted(e))} |" for (a, b), e in TRANSITIONS.items()]
    return "\n".join(rows)
