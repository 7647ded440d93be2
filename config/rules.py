"""The rule registry: every screening rule (部门筛查预警) defined once, in the policy file's ``rules`` section.

    rules = parse_rules(data["rules"], risk_types)       # validated; PolicyError names the rule and the token
    rules["HOU-UNSAFE"].value("grades")                  # ('C', 'D')
    sql, binds = rule_select(rules["MED-BURDEN"], "r2_") # its SELECT over h (the day's household_indicators)

A rule is: a Chinese name and description, a risk type (fixed, or taken from an expression, or mapped from a reason
text), a severity, parameters, a condition over the household indicators (config/indicators.py), the Chinese
evidence (one wording, or several each with its own condition) and the facts kept as JSON. docs/policy.md describes
the format for a province; the expression language is config/expressions.py. Every rule's SQL is also prepared
once against an empty indicator table when the policy loads, so a type mistake is reported then, naming the rule.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import duckdb
from sqlglot import exp

from fangfanpin.config.expressions import SqlWriter, Template, parse_expression, parse_template
from fangfanpin.config.indicators import GLOBALS, INDICATOR_PARAMS, INDICATORS, NOT_FOR_RULES, SHARED_PARAMS
from fangfanpin.config.values import PolicyError, fail, fraction, mapping, number, risk_type, text, whole

SEVERITIES = ("高", "中")
CODE = re.compile(r"^[A-Z]{2,}(-[A-Z0-9]+)+$")  # INC-LOW, MED-BURDEN …; never MODEL or an EXC- code
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KEYS = ("name", "description", "risk_type", "severity", "enabled", "params", "define", "when", "evidence", "facts")
# Parameters whose name says what they are: checked as such wherever they appear.
PARAM_CHECKS = {
    "window_days": lambda k, v: whole(k, v, minimum=1),
    "drop_share": fraction,
    "line_multiple": number,
    "share_poverty": number,
    "share_other": number,
    "total_cost": number,
    "min_age": whole,
    "max_age": whole,
    "min_students": lambda k, v: whole(k, v, minimum=1),
    "grades": lambda k, v: _texts(k, v),
}
RULE_NAMES = {n: t for n, t in INDICATORS.items() if n not in NOT_FOR_RULES} | {n: t for n, (_, t) in GLOBALS.items()}
GLOBAL_SQL = {n: f"${p}::DATE" if t == "DATE" else f"${p}" for n, (p, t) in GLOBALS.items()}
_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Evidence:
    when: exp.Expression | None  # None: the last wording, used when no earlier one's condition holds
    template: Template


@dataclass(frozen=True)
class Rule:
    code: str
    name: str  # short Chinese name
    description: str  # Chinese, may name parameters as {name}
    severity: str  # 高 / 中
    risk_type: str  # a standard risk type, or "from" / "map_reason" (derived for each household)
    risk_expr: exp.Expression | None  # the value (from) or the reason text (map_reason)
    fallback: str | None  # the risk type when the derived one is empty
    note: str | None  # how a derived risk type is found, in Chinese
    params: Mapping[str, Any]
    defines: Mapping[str, exp.Expression]
    when: exp.Expression
    evidence: tuple[Evidence, ...]
    facts: tuple[tuple[str, exp.Expression], ...]
    enabled: bool = True

    def value(self, name: str) -> Any:
        try:
            return self.params[name]
        except KeyError:
            raise PolicyError(f"rules.{self.code}.params.{name}: not set in the policy file") from None

    def description_zh(self) -> str:
        return self.description.format(**{k: show(v) for k, v in self.params.items()})

    def risk_type_zh(self) -> str:
        if self.risk_expr is None:
            return self.risk_type
        how = self.note or ("按" if self.risk_type == "from" else "按关键词映射") + self.risk_expr.sql("duckdb")
        return f"{how}（无则{self.fallback}）"


def show(value: Any) -> str:
    """A parameter value as the 说明 sheet and descriptions show it."""
    if isinstance(value, (list, tuple)):
        return "、".join(show(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _texts(key: str, value: Any) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise fail(key, "a non-empty list", value)
    return tuple(value)


def _param(key: str, name: str, value: Any) -> Any:
    if name in PARAM_CHECKS:
        return PARAM_CHECKS[name](key, value)
    if isinstance(value, list):
        if not value or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
            raise fail(key, "a non-empty list of numbers or texts", value)
        return tuple(value)
    if isinstance(value, (str, int, float, bool)):
        return value
    raise fail(key, "a number, a text, true/false or a list", value)


def _risk(key: str, value: Any, risk_types: tuple[str, ...], names: Mapping[str, str]):
    """(risk_type, expression, fallback, note)"""
    if isinstance(value, str):
        return risk_type(key, value, risk_types), None, None, None
    entry = mapping(key, value)
    unknown = sorted(set(entry) - {"from", "map_reason", "fallback", "note"})
    if unknown or ("from" in entry) == ("map_reason" in entry):
        raise fail(
            key, "a risk type, or {from: expression, fallback: …} or {map_reason: expression, fallback: …}", value
        )
    kind = "from" if "from" in entry else "map_reason"
    tree = parse_expression(entry[kind], key=f"{key}.{kind}", names=names)
    if kind == "from" and isinstance(tree, (exp.Case, exp.If)):  # fixed results must be standard types
        results = [i.args.get("true") for i in tree.args.get("ifs", [])] + [tree.args.get("default")]
        if isinstance(tree, exp.If):
            results = [tree.args.get("true"), tree.args.get("false")]
        for r in results:
            if isinstance(r, exp.Literal) and r.is_string:
                risk_type(f"{key}.from", r.this, risk_types)
    fallback = risk_type(f"{key}.fallback", entry.get("fallback"), risk_types)
    note = text(f"{key}.note", entry["note"]) if "note" in entry else None
    return kind, tree, fallback, note


def _evidence(key: str, value: Any, names: Mapping[str, str]) -> tuple[Evidence, ...]:
    if isinstance(value, str):
        return (Evidence(None, parse_template(value, key=key, names=names)),)
    if not isinstance(value, list) or not value:
        raise fail(key, "a text, or a list of {when: condition, text: …} ending with {text: …}", value)
    out = []
    for i, item in enumerate(value):
        k = f"{key}[{i}]"
        item = mapping(k, item)
        unknown = sorted(set(item) - {"when", "text"})
        if unknown:
            raise PolicyError(f"{k}.{unknown[0]}: unknown key (a wording has when and text)")
        last = i == len(value) - 1
        if last == ("when" in item):
            raise PolicyError(f"{k}: " + ("the last wording has no when" if last else "needs a when (a condition)"))
        when = None if last else parse_expression(item["when"], key=f"{k}.when", names=names, boolean=True)
        out.append(Evidence(when, parse_template(item.get("text"), key=f"{k}.text", names=names)))
    return tuple(out)


def _rule(code: str, entry: Any, risk_types: tuple[str, ...]) -> Rule:
    key = f"rules.{code}"
    if not isinstance(code, str) or not CODE.match(code):
        raise PolicyError(f"{key}: a rule code is capital letters in parts joined by '-', such as MED-BURDEN")
    entry = mapping(key, entry)
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise PolicyError(f"{key}.{unknown[0]}: unknown key (a rule has {', '.join(KEYS)}; parameters go in params)")
    for required in ("name", "description", "risk_type", "severity", "when", "evidence"):
        if required not in entry:
            raise PolicyError(f"{key}.{required}: missing (docs/policy.md, 'A rule')")
    severity = entry["severity"]
    if severity not in SEVERITIES:
        raise fail(f"{key}.severity", "高 or 中", severity)
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail(f"{key}.enabled", "true or false", enabled)
    params = {}
    for name, value in mapping(f"{key}.params", entry.get("params") or {}).items():
        if not isinstance(name, str) or not NAME.match(name) or name in RULE_NAMES:
            raise PolicyError(
                f"{key}.params.{name}: a parameter name is lower-case letters, digits and _, "
                "and not the name of an indicator"
            )
        params[name] = _param(f"{key}.params.{name}", name, value)
    if "min_age" in params and "max_age" in params and params["min_age"] > params["max_age"]:
        raise fail(f"{key}.params.min_age", f"≤ max_age ({params['max_age']})", params["min_age"])
    names = dict(RULE_NAMES) | {n: "BOOLEAN" if isinstance(v, bool) else "" for n, v in params.items()}
    defines = {}
    for name, value in mapping(f"{key}.define", entry.get("define") or {}).items():
        if not isinstance(name, str) or not NAME.match(name) or name in names:
            raise PolicyError(
                f"{key}.define.{name}: a defined name is lower-case letters, digits and _, "
                "and not an indicator or parameter name"
            )
        defines[name] = parse_expression(value, key=f"{key}.define.{name}", names=names)
    names |= {n: "" for n in defines}
    when = parse_expression(entry["when"], key=f"{key}.when", names=names, boolean=True)
    facts_raw = entry.get("facts")
    if facts_raw is None:  # the indicators the condition names
        seen = dict.fromkeys(c.name for c in when.find_all(exp.Column) if c.name in INDICATORS)
        facts = tuple((n, exp.column(n)) for n in seen)
    else:
        facts = tuple(
            (str(k), parse_expression(v, key=f"{key}.facts.{k}", names=names))
            for k, v in mapping(f"{key}.facts", facts_raw).items()
        )
    kind, risk_expr, fallback, note = _risk(f"{key}.risk_type", entry["risk_type"], risk_types, names)
    description = text(f"{key}.description", entry["description"])
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(description) if f is not None}
    except ValueError as error:
        raise PolicyError(f"{key}.description: {error} (write {{{{ and }}}} for braces)") from None
    if fields - set(params):
        raise PolicyError(f"{key}.description: {{{sorted(fields - set(params))[0]}}} is not a parameter of the rule")
    return Rule(
        code=code,
        name=text(f"{key}.name", entry["name"]),
        description=description,
        severity=severity,
        risk_type=kind,
        risk_expr=risk_expr,
        fallback=fallback,
        note=note,
        params=MappingProxyType(params),
        defines=MappingProxyType(defines),
        when=when,
        evidence=_evidence(f"{key}.evidence", entry["evidence"], names),
        facts=facts,
        enabled=enabled,
    )


def parse_rules(raw: Any, risk_types: tuple[str, ...]) -> Mapping[str, Rule]:
    rules = {code: _rule(code, entry, risk_types) for code, entry in mapping("rules", raw).items()}
    for code, name in list(INDICATOR_PARAMS.values()) + list(SHARED_PARAMS):
        if code not in rules:
            raise PolicyError(
                f"rules.{code}: missing (its {name} is used outside the rule; switch it off with "
                "enabled: false instead)"
            )
        if name not in rules[code].params:
            raise PolicyError(f"rules.{code}.params.{name}: missing (used outside the rule)")
    _prepare(rules)
    return MappingProxyType(rules)


def rule_select(rule: Rule, prefix: str) -> tuple[str, dict[str, Any]]:
    """The rule's SELECT over ``h`` (the day's household_indicators) and its bound values; the delivery date's values
    stay ``$d``, ``$line`` and ``$prior_income`` (config/indicators.py GLOBALS), bound by the caller."""
    w = SqlWriter(prefix, rule.params, GLOBAL_SQL, rule.defines)
    code = w.bind(rule.code)
    derived = w.expr(rule.risk_expr) if rule.risk_expr is not None else "NULL"
    *cases, last = rule.evidence
    explanation = w.template(last.template)
    if cases:
        whens = " ".join(f"WHEN {w.expr(e.when)} THEN {w.template(e.template)}" for e in cases)
        explanation = f"CASE {whens} ELSE {explanation} END"
    facts = ", ".join(f"{w.bind(k)}, {w.expr(e)}" for k, e in rule.facts)
    condition = w.expr(rule.when)
    sql = (
        f"SELECT household_id, {code} AS rule_code, ({derived})::VARCHAR AS derived_risk, "
        f"{explanation} AS explanation_zh, json_object({facts}) AS evidence FROM h WHERE {condition}"
    )
    return sql, w.binds


def used_globals(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The delivery date's values (``d``, ``line``, ``prior_income``) a generated statement uses."""
    used = set(_PLACEHOLDER.findall(sql))
    return {k: v for k, v in values.items() if k in used}


def _prepare(rules: Mapping[str, Rule]) -> None:
    """Prepare every rule's SQL against an empty indicator table: DuckDB's type errors name the rule at load."""
    con = duckdb.connect()
    try:
        columns = ", ".join(f"{n} {t}" for n, t in INDICATORS.items())
        con.execute(f"CREATE TABLE h (as_of_date DATE, household_id VARCHAR, {columns})")
        sample = {"d": date(2026, 1, 1), "line": 1.0, "prior_income": 1.0}
        for code, rule in rules.items():
            sql, binds = rule_select(rule, "p")
            try:
                con.execute(sql, binds | used_globals(sql, sample)).fetchall()
            except duckdb.Error as error:
                first = str(error).splitlines()[0]
                raise PolicyError(
                    f"rules.{code}: the condition, evidence or facts do not fit together: {first}"
                ) from None
    finally:
        con.close()
