"""The data-quality issue kinds that ``sql/quality.sql`` writes to ``data_quality_issues.kind``, as users read them.

    QUALITY_KINDS_ZH["unmatched_record"]                        # 无法关联到花名册
    con.execute(f"SELECT coalesce(z.kind_zh, i.kind) FROM data_quality_issues i LEFT JOIN {KIND_ZH} z USING (kind)",
                kind_params())

One place for the labels: the workbook's 数据质量问题 sheet, the cross-check asset and the daily overview read them.
"""

from __future__ import annotations

QUALITY_KINDS_ZH = {
    "inactive_person_receiving": "死亡或迁出人员仍在享受",
    "id_sex_mismatch": "性别与证件号码不符",
    "id_birth_mismatch": "出生日期与证件号码不符",
    "household_size_mismatch": "户人数与花名册行数不符",
    "student_overage": "学生年龄远超学段",
    "settlement_outside_roster": "花名册外人员的医疗结算",
    "unmatched_record": "无法关联到花名册",
    "ambiguous_name_match": "按姓名+出生日期+村匹配到多人",
}

# the labels as a table to join on ``kind`` (parameters: kind_params())
KIND_ZH = "(SELECT unnest($kinds::VARCHAR[]) AS kind, unnest($kinds_zh::VARCHAR[]) AS kind_zh)"


def kind_params() -> dict[str, list[str]]:
    return {"kinds": list(QUALITY_KINDS_ZH), "kinds_zh": list(QUALITY_KINDS_ZH.values())}
