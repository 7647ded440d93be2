"""Opening cases: the roster on the first run, applications, warnings (department rules, then the model within the
village's weekly capacity), the cool-down after 不予纳入, and 风险消除 candidates entering the elimination flow."""

from __future__ import annotations

from fangfanpin.workflow import states as S
from fangfanpin.workflow.decide.day import SEVERITY_RANK, Day, map_reason
from fangfanpin.workflow.decide.records import Case


def open_case(
    st: Day,
    household_id: str,
    source: str,
    *,
    src=None,
    risk_types=(),
    rule_codes=(),
    severity=None,
    effective=None,
    evidence_zh=None,
    source_ref=None,
) -> Case | None:
    """Open a case (or attach the evidence to the household's active case). None when the cool-down holds it back."""
    case = st.active.get(household_id)
    if case is not None:
        new_types = [t for t in risk_types if t not in case.risk_types]
        new_rules = set(rule_codes) - case.rule_codes
        if new_types or new_rules or source not in case.sources:
            st.move(
                case,
                case.state,
                "新证据",
                source=source,
                src=src,
                risk_types=risk_types,
                rule_codes=rule_codes,
                severity=severity,
                effective=effective,
                evidence_zh=evidence_zh,
                source_ref=source_ref,
            )
        return case
    info = st.households.get(household_id)
    if info is None:
        return None
    prev = st.declined.get(household_id)
    if prev is not None:
        different = any(t not in prev.risk_types for t in risk_types)
        higher = SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(prev.severity, 0)
        if not (different or higher):
            return None
    n = st.opened_today[household_id]
    st.opened_today[household_id] += 1
    case_id = f"AJ-{household_id}-{st.day:%Y%m%d}" + (f"-{n + 1}" if n else "")
    case = _new_case(st, case_id, household_id, source)
    why = "" if prev is None else f"（{prev.state_since} 不予纳入后冷却期内，因新的风险类型或更高严重程度重新立案）"
    st.move(
        case,
        S.待排查,
        "立案",
        source=source,
        src=src,
        risk_types=risk_types,
        rule_codes=rule_codes,
        severity=severity,
        effective=effective,
        evidence_zh=(evidence_zh or "") + why,
        source_ref=source_ref,
    )
    return case


def _new_case(st: Day, case_id: str, household_id: str, source: str) -> Case:
    info = st.households[household_id]
    case = Case(
        case_id, household_id, info["county_code"], info["township"], info["village_code"], st.day, S.START, st.day, 0
    )
    st.all_cases[case_id] = case
    st.active[household_id] = case
    st.openings.append(
        {
            "case_id": case_id,
            "household_id": household_id,
            "county_code": case.county_code,
            "township": case.township,
            "village_code": case.village_code,
            "opened_date": st.day,
            "opening_source": source,
            "processed_date": st.day,
        }
    )
    return case


def import_roster(st: Day) -> None:
    """The first run: every household the roster monitors enters 已纳入 (花名册导入)."""
    for hid in sorted(h for h, r in st.households.items() if r["monitored"]):
        info = st.households[hid]
        st.opened_today[hid] += 1
        case = _new_case(st, f"AJ-{hid}-{st.day:%Y%m%d}", hid, "花名册")
        st.move(
            case,
            S.已纳入,
            "花名册导入",
            source="花名册",
            src={"feed": "roster"},
            effective=info["risk_identified_date"] or st.day,
            evidence_zh=f"花名册记录为监测对象，风险识别时间 {info['risk_identified_date'] or '未填'}",
        )


def applications(st: Day) -> None:
    """农户申请: a matched application opens a case (or joins the active one); an unmatched one stays pending."""
    for r in st.inputs.applications:
        src = {"feed": "applications", "file": r["_file"], "row": r["_row"]}
        if r["household_id"] is None or r["household_id"] not in st.households:
            st.issue(
                "申请未匹配农户",
                f"农户申请 {r['application_id']}（{r['application_date']}，{r['channel'] or '渠道未填'}）"
                "的户主证件号码在花名册中找不到，申请保留待处理，请乡镇核实证件号码",
                county_code=r["county_code"],
                feed="applications",
                file=r["_file"],
                row=r["_row"],
                ref=r["application_id"],
            )
            continue
        types, unmapped = map_reason(st.policy, r["reason"])
        text = f"农户申请 {r['application_id']}（{r['application_date']}，{r['channel'] or ''}）：{r['reason']}"
        if unmapped:
            text += f"；未能归类的申请理由（记为其他）：{'、'.join(unmapped)}"
        case = open_case(
            st,
            r["household_id"],
            "农户申请",
            src=src,
            risk_types=types or ["其他"],
            effective=r["application_date"],
            evidence_zh=text,
            source_ref=r["application_id"],
        )
        if case is None:
            st.issue(
                "冷却期内未重新立案",
                f"农户申请 {r['application_id']}：该户不予纳入未满 "
                f"{st.wf.declined_cooldown_days} 天，且无新的风险类型或更高严重程度，未重新立案（申请已记录）",
                household_id=r["household_id"],
                feed="applications",
                file=r["_file"],
                row=r["_row"],
                ref=r["application_id"],
            )


def warnings(st: Day) -> None:
    """部门预警 by household, then 模型预警 by village, highest probability first, within the weekly capacity."""
    rows = st.inputs.warnings
    rules = sorted((r for r in rows if r["rule_codes"] not in ("", "MODEL")), key=lambda r: r["household_id"])
    for r in rules:
        hid = r["household_id"]
        active = st.active.get(hid)
        if r["monitored"] and active is None:
            continue  # monitored by the roster but unknown to the ledger (only possible after the first run): skip
        codes = [c for c in r["rule_codes"].split(";") if c and c != "MODEL"]
        types = [t for t in (r["risk_types"] or "").split(";") if t]
        open_case(
            st,
            hid,
            "部门预警",
            src={"feed": "rule_hits"},
            risk_types=types,
            rule_codes=codes,
            severity=r["severity_max"],
            evidence_zh=r["explanation_zh"],
        )
    capacity = st.policy.risk_levels.model_capacity_per_village_per_week
    used = dict(st.inputs.model_openings)
    model = sorted(
        (r for r in rows if r["model_warning"] and r["rule_codes"] in ("", "MODEL")),
        key=lambda r: (r["village_code"] or "", -(r["probability"] or 0), r["household_id"]),
    )
    for r in model:
        hid = r["household_id"]
        if hid in st.active:
            open_case(
                st,
                hid,
                "模型预警",
                src={"feed": "household_scores"},
                rule_codes=["MODEL"],
                evidence_zh=f"模型预警，概率 {r['probability']:.4f}" if r["probability"] is not None else "模型预警",
            )
            continue
        if r["monitored"] or used.get(r["village_code"], 0) >= capacity:
            continue
        case = open_case(
            st,
            hid,
            "模型预警",
            src={"feed": "household_scores"},
            rule_codes=["MODEL"],
            risk_types=[t for t in (r["risk_types"] or "").split(";") if t],
            evidence_zh=r["explanation_zh"] or "模型预警",  # the scoring's text already gives the probability
        )
        if case is not None and case.opened_date == st.day and case.seq == 1:
            used[r["village_code"]] = used.get(r["village_code"], 0) + 1


def eliminations(st: Day) -> None:
    """风险消除 candidates (listed by SQL) whose case is still 已纳入 enter the elimination flow."""
    monitored = {c.household_id: c for c in st.active.values() if c.state == S.已纳入}
    for r in st.inputs.elimination_candidates:
        case = monitored.get(r["household_id"])
        if case is not None and case.state == S.已纳入:
            st.move(case, S.消除待排查, "风险消除候选", source="系统", evidence_zh=r["evidence_zh"])
