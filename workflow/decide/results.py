"""Moving cases on the day's results: visits (then 比对, or 绿色通道 with its 补充比对), publication results and county
decisions. A result that does not fit the case's state becomes an issue, never a transition."""

from __future__ import annotations

from fangfanpin.workflow import states as S
from fangfanpin.workflow.decide.day import Day, map_reason, src_of
from fangfanpin.workflow.decide.opening import open_case
from fangfanpin.workflow.decide.records import Case


def visit_result(st: Day, r: dict) -> None:
    """A visit result: checked against its task, then the case moves (or a proactive visit opens one)."""
    hid, task_id, conclusion = r["household_id"], (r["task_id"] or "").strip(), r["conclusion"]
    src, where = src_of("visit_results", r), dict(feed="visit_results", file=r["_file"], row=r["_row"])
    if r["visit_date"] and r["visit_date"] > st.day:
        st.issue(
            "日期晚于交付日期", f"走访结果的排查日期 {r['visit_date']} 晚于交付日期，未处理", household_id=hid, **where
        )
        return
    case = st.active.get(hid)
    if task_id:
        task = st.inputs.tasks.get(task_id)
        if task is None:
            st.issue(
                "任务编号不存在",
                f"走访结果的任务编号 {task_id} 不是本系统派发的任务，未处理",
                household_id=hid,
                ref=task_id,
                **where,
            )
            return
        if task["household_id"] != hid:
            st.issue(
                "任务与户不符",
                f"任务 {task_id} 派给户 {task['household_id']}，走访结果却是户 {hid}，未处理",
                household_id=hid,
                ref=task_id,
                **where,
            )
            return
        if task["status"] != "待走访" or case is None or case.case_id != task["case_id"] or case.open_task != task_id:
            st.issue(
                "任务已关闭",
                f"任务 {task_id} 已关闭（{task['closed_how'] or '案件已变化'}），走访结果未处理",
                household_id=hid,
                case=case,
                ref=task_id,
                **where,
            )
            return
    types, unmapped = map_reason(st.policy, r["risk_types"])
    evidence = (
        f"走访 {r['visit_date']}（{r['visitor']}）：{conclusion}；核实人均纯收入 {r['verified_income_per_capita']} 元；"
        f"义务教育{'有' if r['education_secured'] else '无'}保障、基本医疗{'有' if r['medical_secured'] else '无'}保障、"
        f"住房安全{'有' if r['housing_secured'] else '无'}保障、饮水安全{'有' if r['water_secured'] else '无'}保障"
        + (f"；{r['details']}" if r["details"] else "")
    )
    kw = dict(
        src=src,
        unit=r["visitor"],
        risk_types=[t for t in types if t != "其他" or unmapped],
        effective=r["visit_date"],
        evidence_zh=evidence,
        source_ref=task_id or None,
    )
    if not task_id:
        if case is None or case.state not in (S.待排查, S.比对异常, S.消除待排查):
            if conclusion != "建议纳入":
                if case is not None and case.state in S.INCLUSION_OPEN:
                    st.issue(
                        "走访与案件状态不符",
                        f"户 {hid} 的案件处于{case.state}，主动走访结论“{conclusion}”未改变案件状态",
                        case=case,
                        **where,
                    )
                return
            case = open_case(
                st,
                hid,
                "干部排查",
                src=src,
                risk_types=types or ["其他"],
                effective=r["visit_date"],
                evidence_zh="干部主动走访：" + evidence,
            )
            if case is None:
                if hid in st.households:
                    st.issue(
                        "冷却期内未重新立案",
                        f"户 {hid} 不予纳入未满 {st.wf.declined_cooldown_days} 天，主动走访无新的风险类型，未重新立案",
                        household_id=hid,
                        **where,
                    )
                else:
                    st.issue("户编号不存在", f"走访结果的户编号 {hid} 不在花名册中，未处理", household_id=hid, **where)
                return
            if case.state != S.待排查:
                return  # evidence joined an open case in a later stage
    if case.state == S.待排查:
        st.close_task(case, "已反馈")
        if conclusion == "建议纳入":
            st.move(case, S.待比对, "走访建议纳入", source="走访结果", **kw)
            compare(st, case, r)
        elif conclusion == "不建议纳入":
            st.move(case, S.不予纳入, "走访不建议纳入", source="走访结果", **kw)
        elif conclusion in ("需进一步核实", "无法入户"):
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
        else:
            st.issue(
                "走访结论与案件状态不符",
                f"案件处于待排查，走访结论“{conclusion}”不适用，已关闭任务并重新派发",
                case=case,
                **where,
            )
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
    elif case.state == S.比对异常:
        st.close_task(case, "已反馈")
        if conclusion == "建议纳入":
            target = S.待确认 if case.green or case.supp_pub == "passed" else S.待公示
            st.move(case, target, "复核通过", source="走访结果", **kw)
        elif conclusion in ("不建议纳入", "建议风险消除"):
            st.move(case, S.不予纳入, "复核不予纳入", source="走访结果", **kw)
        else:
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
    elif case.state == S.消除待排查:
        st.close_task(case, "已反馈")
        if conclusion == "建议风险消除":
            st.move(case, S.消除待公示, "走访建议风险消除", source="走访结果", **kw)
        elif conclusion in ("需进一步核实", "无法入户"):
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
        else:
            st.move(case, S.已纳入, "走访风险未消除", source="走访结果", **kw)


def compare(st: Day, case: Case, visit: dict) -> None:
    """比对: exclusion hits of the day, and the visit against department data. Then 待公示 / 比对异常 / 绿色通道."""
    found = comparison_findings(st, case.household_id, visit)
    green = any(t in st.wf.green_channel_risk_types for t in case.risk_types)
    if green:
        case.green = True
        st.move(
            case,
            S.待确认,
            "绿色通道",
            source="自动比对",
            evidence_zh=f"风险类型含{'、'.join(t for t in case.risk_types if t in st.wf.green_channel_risk_types)}，"
            "走访建议纳入后直接进入待确认（先帮扶，后补充比对、补充公示）",
        )
        case.supp_check_done = True
        if found:
            case.anomaly = "；".join(found)
            st.move(case, S.比对异常, "补充比对异常", source="自动比对", evidence_zh="补充比对：" + "；".join(found))
        else:
            st.move(case, case.state, "补充比对通过", source="自动比对", evidence_zh="补充比对未发现排除情形或矛盾")
            case.supp_pub = "pending"
        return
    if found:
        case.anomaly = "；".join(found)
        st.move(case, S.比对异常, "比对异常", source="自动比对", evidence_zh="；".join(found))
    else:
        st.move(case, S.待公示, "比对通过", source="自动比对", evidence_zh="未发现排除情形，走访与部门数据一致")


def comparison_findings(st: Day, household_id: str, visit: dict | None) -> list[str]:
    found = list(st.inputs.exclusions.get(household_id, ()))
    info = st.households.get(household_id) or {}
    if visit:
        grades = st.policy.rule("HOU-UNSAFE").value("grades")
        if (
            visit["housing_secured"]
            and info.get("housing_grade") in grades
            and info.get("renovation_status") != "已竣工"
        ):
            found.append(
                f"走访称住房安全有保障，但住建部门鉴定为{info['housing_grade']}级危房、改造状态"
                f"{info.get('renovation_status') or '未填'}（住建局）"
            )
        if visit["education_secured"] and (info.get("dropouts") or 0) > 0:
            found.append(f"走访称义务教育有保障，但教育部门有 {info['dropouts']} 名适龄成员辍学或休学（教育局）")
        if visit["medical_secured"] and (info.get("uninsured_members") or 0) > 0:
            found.append(f"走访称基本医疗有保障，但医保部门有 {info['uninsured_members']} 名成员未正常参保（医保局）")
        if visit["water_secured"] and info.get("roster_water_unsafe"):
            found.append("走访称饮水安全有保障，但花名册记录未解决安全饮用水（水利局）")
    return found


def publication_result(st: Day, r: dict) -> None:
    """A publication result for a member of a batch this ledger published, once the publication period is over."""
    hid, batch_id = r["household_id"], r["batch_id"]
    where = dict(feed="publication_results", file=r["_file"], row=r["_row"], ref=batch_id)
    m = st.inputs.published.get((batch_id, hid))
    if m is None:
        st.issue(
            "公示批次不存在",
            f"公示结果的批次 {batch_id} 中没有户 {hid}（本系统未发布），未处理",
            household_id=hid,
            **where,
        )
        return
    case = st.all_cases.get(m["case_id"])
    if m["passed"] is not None or any(o["batch_id"] == batch_id and o["household_id"] == hid for o in st.outcomes):
        st.issue("公示结果重复", f"批次 {batch_id} 户 {hid} 的公示结果已处理，此条未处理", case=case, **where)
        return
    shown = (r["end_date"] - r["start_date"]).days + 1 if r["start_date"] and r["end_date"] else 0
    if shown < st.wf.publication_min_days or st.day < m["end_date"] or r["end_date"] < m["end_date"]:
        st.issue(
            "公示期不足",
            f"批次 {batch_id} 公示 {r['start_date']} 至 {r['end_date']}（{shown} 天），"
            f"未满 {st.wf.publication_min_days} 天或早于批次结束日期 {m['end_date']}，结果未处理，请公示期满后报送",
            case=case,
            **where,
        )
        return
    if r["objection"] and not r["objection_conclusion"]:
        st.issue("异议未核实", f"批次 {batch_id} 户 {hid} 有异议但未填写异议核实结论，结果未处理", case=case, **where)
        return
    upheld = bool(r["objection"]) and r["objection_conclusion"] == "异议成立"
    passed = r["review_result"] == "同意" and not upheld
    text = f"公示 {r['start_date']} 至 {r['end_date']}（{shown} 天）；民主评议{r['review_result']}；" + (
        f"有异议，{r['objection_conclusion']}" if r["objection"] else "无异议"
    )
    kw = dict(
        source="公示结果",
        src=src_of("publication_results", r),
        unit=f"村委会 {m['village_code']}",
        batch_id=batch_id,
        effective=r["end_date"],
        evidence_zh=text,
        source_ref=batch_id,
    )
    expected = {"纳入": (S.公示中,), "风险消除": (S.消除公示中,), "补充公示": (S.待确认, S.已纳入)}[m["purpose"]]
    if case is None or case.state not in expected:
        st.issue(
            "公示结果与案件状态不符",
            f"批次 {batch_id} 户 {hid} 的案件当前为{case.state if case else '无'}，结果未处理",
            case=case,
            **where,
        )
        return
    st.outcomes.append(
        {
            "batch_id": batch_id,
            "household_id": hid,
            "passed": passed,
            "result_date": r["end_date"],
            "processed_date": st.day,
        }
    )
    if m["purpose"] == "纳入":
        st.move(case, S.待确认 if passed else S.不予纳入, "公示通过" if passed else "公示未通过", **kw)
    elif m["purpose"] == "风险消除":
        st.move(case, S.消除待确认 if passed else S.已纳入, "公示通过" if passed else "公示未通过", **kw)
    else:
        case.supp_pub = "passed"
        if passed:
            st.move(case, case.state, "补充公示通过", **kw)
        else:
            case.anomaly = "补充公示" + ("异议成立" if upheld else "民主评议不同意")
            st.move(case, S.比对异常, "补充公示未通过", **kw)


def county_decision(st: Day, r: dict) -> None:
    """A county decision on the household's active case, where the state allows it."""
    hid, kind = r["household_id"], r["decision_type"]
    where = dict(feed="county_decisions", file=r["_file"], row=r["_row"])
    case = st.active.get(hid)
    allowed = {
        "确认纳入": {S.待确认: (S.已纳入, "确认纳入")},
        "不予纳入": {S.待确认: (S.不予纳入, "县级不予纳入"), S.比对异常: (S.不予纳入, "县级不予纳入")},
        "退回重新核实": {S.待确认: (S.待排查, "退回重新核实"), S.消除待确认: (S.已纳入, "退回重新核实")},
        "确认风险消除": {S.消除待确认: (S.风险消除, "确认风险消除")},
    }[kind]
    if case is None or case.state not in allowed:
        st.issue(
            "决定与案件状态不符",
            f"{r['decision_unit']} {r['decision_date']} 对户 {hid} 作出“{kind}”，"
            f"但该户{'没有进行中的案件' if case is None else '案件处于' + case.state}，决定未处理",
            household_id=hid,
            case=case,
            **where,
        )
        return
    types, _ = map_reason(st.policy, r["risk_types"])
    new_state, event = allowed[case.state]
    st.move(
        case,
        new_state,
        event,
        source="县级决定",
        src=src_of("county_decisions", r),
        unit=r["decision_unit"],
        risk_types=types,
        effective=r["decision_date"],
        evidence_zh=f"{r['decision_unit']} {r['decision_date']} {kind}"
        + (f"（{r['monitoring_category']}）" if r["monitoring_category"] else "")
        + (f"：{r['details']}" if r["details"] else ""),
    )
