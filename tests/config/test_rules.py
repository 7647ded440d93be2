"""The rule registry: the expression checker refuses what a rule may not hold, naming the rule and the token; every
value of a rule is bound, never written into its SQL; the fifteen rules of the packaged policy give exactly the hits
of the hand-written SQL oracle (tests/legacy_rules.sql) on generated data."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest
import yaml
from paths import REPO, TESTS

from fangfanpin.config.indicators import GLOBALS, INDICATORS, NOT_FOR_RULES
from fangfanpin.config.policy import DEFAULT_POLICY, PolicyError, load_policy, parse_policy
from fangfanpin.config.rules import rule_select
from fangfanpin.core.sql import run_file
from fangfanpin.crosscheck import ensure_schema, run_crosscheck
from fangfanpin.ingest.read import delivery_dates

pytestmark = pytest.mark.warehouse

LEGACY = TESTS / "legacy_rules.sql"


def raw() -> dict:
    return yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))


def with_rule(code: str, **entry) -> dict:
    data = raw()
    data["rules"][code] = dict(data["rules"][code]) | entry
    return data


@pytest.mark.parametrize(
    "when, token",
    [
        ("oop_12m > (SELECT max(oop_12m) FROM household_indicators)", "a subquery is not allowed"),
        ("h.oop_12m > 0", "'h.oop_12m'"),
        ("oop_12m > 0 AND EXISTS (SELECT 1 FROM roster)", "EXISTS (a query) is not allowed"),
        ("upper(household_type) = 'X'", "function 'upper'"),
        ("read_csv('/etc/passwd') IS NULL", "function 'read_csv'"),
        ("shell_exec('x') IS NULL", "function 'shell_exec'"),
        ("oop_13m > 0", "unknown name 'oop_13m'"),
        ("head_id_number = '150625'", "unknown name 'head_id_number'"),
        ("oop_12m > 0; DROP TABLE rule_hits", "';' is not allowed"),
        ("oop_12m > 0 -- every household", "a comment is not allowed"),
        ("oop_12m > $share_other", "a $parameter"),
        ("oop_12m::INTEGER > 0", "a cast is not allowed"),
        ("oop_12m * share_other", "must be a condition"),
        ("oop_12m >", "cannot be read"),
        ("household_type + 1 > 0", "do not fit together"),
    ],
)
def test_a_condition_with_anything_else_is_refused_naming_the_rule_and_token(when, token):
    with pytest.raises(PolicyError) as error:
        parse_policy(with_rule("MED-BURDEN", when=when))
    message = str(error.value)
    assert message.startswith("rules.MED-BURDEN") and token in message, message


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"evidence": "自付 {oop_12m:money} 元"}, "unknown format 'money'"),
        ({"evidence": "自付 {oop_13m:yuan} 元"}, "rules.MED-BURDEN.evidence {oop_13m}: unknown name 'oop_13m'"),
        ({"evidence": "自付 {oop_12m 元"}, "'{' without '}'"),
        ({"evidence": [{"when": "oop_12m > 0", "text": "甲"}]}, "evidence[0]: the last wording has no when"),
        ({"evidence": [{"text": "甲"}, {"text": "乙"}]}, "evidence[0]: needs a when"),
        ({"risk_type": "因穷"}, "rules.MED-BURDEN.risk_type: must be one of"),
        ({"risk_type": {"from": "risk_type_1"}}, "rules.MED-BURDEN.risk_type.fallback"),
        ({"risk_type": {"from": "CASE WHEN oop_12m > 0 THEN '因穷' END", "fallback": "其他"}}, "因穷"),
        ({"description": "超过 {amount} 元"}, "{amount} is not a parameter"),
        ({"params": {"window_days": 365, "share_poverty": 0.5, "share_other": 1.0, "amount": 1}}, "parameter_names"),
        ({"share_other": 0.8}, "rules.MED-BURDEN.share_other: unknown key"),
        ({"facts": {"oop": "oop_12m + head_name"}}, "rules.MED-BURDEN.facts.oop: unknown name 'head_name'"),
    ],
)
def test_evidence_risk_type_and_params_are_checked(entry, message):
    with pytest.raises(PolicyError) as error:
        parse_policy(with_rule("MED-BURDEN", **entry))
    assert message in str(error.value)


def test_every_value_of_a_rule_is_bound_never_written_into_its_sql():
    fixed = {"'{:,}'", "'%Y-%m-%d'", "'{}%'"}  # the evidence formats (and pct's * 100), part of the code
    for i, rule in enumerate(load_policy().rules.values()):
        sql, binds = rule_select(rule, f"r{i}_")
        assert set(re.findall(r"'[^']*'", sql)) <= fixed, (rule.code, sql)
        assert not re.search(r"[\u4e00-\u9fff]", sql) and not re.search(r"\b\d", re.sub(r"\$\w+|\* 100\)", "", sql)), (
            sql
        )
        assert set(re.findall(r"\$(\w+)", sql)) == set(binds) | (
            {"d", "line", "prior_income"} & set(re.findall(r"\$(\w+)", sql))
        )
    grades = load_policy().rule("HOU-UNSAFE")
    sql, binds = rule_select(grades, "x_")
    assert ["C", "D"] in binds.values() and "'已竣工'" not in sql and "已竣工" in binds.values()


# ---- the packaged rules against the hand-written oracle, on generated data -------------------------------------------
def legacy_params(day: date, policy) -> dict:
    rule = policy.as_of(day).rule
    return {
        "d": day,
        "line": policy.monitoring_line(day.year),
        "prior_income": policy.rural_income_prior_year(day.year),
        "drop_share": rule("INC-DROP").value("drop_share"),
        "drop_multiple": rule("INC-DROP").value("line_multiple"),
        "med_window": rule("MED-BURDEN").value("window_days"),
        "share_poverty": rule("MED-BURDEN").value("share_poverty"),
        "share_other": rule("MED-BURDEN").value("share_other"),
        "cat_window": rule("MED-CATASTROPHIC").value("window_days"),
        "cat_cost": rule("MED-CATASTROPHIC").value("total_cost"),
        "dropout_min": rule("EDU-DROPOUT").value("min_age"),
        "dropout_max": rule("EDU-DROPOUT").value("max_age"),
        "missing_min": rule("EDU-MISSING").value("min_age"),
        "missing_max": rule("EDU-MISSING").value("max_age"),
        "edu_min_students": rule("EDU-BURDEN").value("min_students"),
        "edu_multiple": rule("EDU-BURDEN").value("line_multiple"),
        "unsafe_grades": list(rule("HOU-UNSAFE").value("grades")),
        "new_dibao_window": rule("CIV-NEW-DIBAO").value("window_days"),
        "temp_aid_window": rule("CIV-TEMP-AID").value("window_days"),
        "disability_window": rule("CIV-DISABILITY").value("window_days"),
        "exit_window": rule("CIV-DIBAO-EXIT").value("window_days"),
        "exit_multiple": rule("CIV-DIBAO-EXIT").value("line_multiple"),
    }


def test_the_fifteen_rules_give_the_hits_of_the_hand_written_sql(small_ingested, small_landing, tmp_path):
    db = tmp_path / "wh.duckdb"
    db.write_bytes(small_ingested.read_bytes())
    con = duckdb.connect(str(db))
    policy = load_policy()
    fired, compared = set(), 0
    columns = "household_id, rule_code, derived_risk, explanation_zh, evidence::VARCHAR"
    for day in delivery_dates(small_landing)[-4:]:
        run_crosscheck(con, day, policy)
        run_file(con, LEGACY, legacy_params(day, policy))
        for a, b in (("cc_hits", "legacy_hits"), ("legacy_hits", "cc_hits")):
            only = con.execute(f"SELECT {columns} FROM {a} EXCEPT ALL SELECT {columns} FROM {b} LIMIT 5").fetchall()
            assert not only, (day, a, only)
        compared += con.execute("SELECT count(*) FROM legacy_hits").fetchall()[0][0]
        fired |= {r[0] for r in con.execute("SELECT DISTINCT rule_code FROM rule_hits").fetchall()}
    con.close()
    assert compared > 300 and len(fired) >= 10, (compared, sorted(fired))


def test_the_indicator_list_the_checker_accepts_is_the_table_and_its_documentation():
    con = duckdb.connect()
    ensure_schema(con)
    table = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'household_indicators'"
        ).fetchall()
    )
    assert table == {n: "DATE" if n == "as_of_date" else "VARCHAR" for n in NOT_FOR_RULES} | dict(INDICATORS)
    doc = (REPO / "docs" / "indicators.md").read_text(encoding="utf-8")
    section = doc[doc.index("## The indicators") : doc.index("## Not for rules")]
    assert re.findall(r"^\| `(\w+)` \|", section, flags=re.M) == list(INDICATORS)
    assert all(f"`{name}`" in doc for name in GLOBALS)
