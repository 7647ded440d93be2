"""The expression language of screening rules (docs/policy.md): read with sqlglot (DuckDB dialect), checked node by
node, and written back as DuckDB SQL in which every value is a bound ``$parameter``.

    tree = parse_expression("oop_12m > share * rural_income_prior_year", key="rules.MED-BURDEN.when", names=...)
    template = parse_template("近{window_days}天 … {oop_12m:yuan} 元", key=..., names=...)
    writer = SqlWriter("r2_", {"window_days": 365}); writer.expr(tree); writer.binds

Allowed: the names given (indicators, values of the delivery date, the rule's parameters), literals (numbers, texts,
true/false, NULL, lists), comparisons, arithmetic, AND/OR/NOT, IS [NOT] NULL, IN (a list), BETWEEN, CASE WHEN and
the functions of ``FUNCTIONS``. Anything else (a table, a subquery, another function, a cast, ``;``, a comment, a
``$parameter``) is refused with a PolicyError naming the key and the offending token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from fangfanpin.config.values import PolicyError

DIALECT = "duckdb"
# sqlglot node → the name a policy writes
FUNCTIONS: Mapping[type, str] = {
    exp.Coalesce: "coalesce",
    exp.Least: "least",
    exp.Greatest: "greatest",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.ArrayContains: "list_contains",
    exp.Year: "year",
    exp.Month: "month",
}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg)
_LOGIC = (exp.And, exp.Or, exp.Not)
_STRUCTURE = (exp.Column, exp.Identifier, exp.Paren, exp.Case, exp.If, exp.Array)
_VALUES = (exp.Literal, exp.Boolean, exp.Null)
_ALLOWED = _COMPARISONS + _ARITHMETIC + _LOGIC + _STRUCTURE + _VALUES + tuple(FUNCTIONS)
# Evidence formats: {name:yuan} 12,345 (whole yuan, thousands separated); {name:day} 2026-11-20; {name:pct} 30%.
FORMATS: Mapping[str, str] = {
    "yuan": "format('{{:,}}', round({})::BIGINT)",
    "day": "strftime({}, '%Y-%m-%d')",
    "pct": "format('{{}}%', round(({}) * 100)::INT)",
}


def _token(node: exp.Expression) -> str:
    text = node.sql(DIALECT)
    return text if len(text) <= 60 else text[:57] + "…"


def _refuse(key: str, node: exp.Expression) -> PolicyError:
    what = {
        exp.Subquery: "a subquery",
        exp.Select: "a query",
        exp.Exists: "EXISTS (a query)",
        exp.Table: "a table",
        exp.Star: "'*'",
        exp.Placeholder: "a $parameter (name the rule's parameter instead)",
        exp.Cast: "a cast",
        exp.TryCast: "a cast",
        exp.Alias: "an alias",
    }.get(type(node))
    if what is None and isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()
        return PolicyError(
            f"{key}: function {name!r} is not allowed (allowed: {', '.join(sorted(FUNCTIONS.values()))})"
        )
    return PolicyError(f"{key}: {what or 'this'} is not allowed here: {_token(node)!r}")


def _tokens_ok(key: str, text: str) -> None:
    try:
        tokens = Dialect.get_or_raise(DIALECT).tokenize(text)
    except TokenError as error:
        raise PolicyError(f"{key}: cannot be read: {error}") from None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            raise PolicyError(f"{key}: ';' is not allowed (one expression, not statements)")
        if token.comments:
            raise PolicyError(f"{key}: a comment is not allowed: {token.comments[0].strip()!r}")


def parse_expression(text: Any, *, key: str, names: Mapping[str, str], boolean: bool = False) -> exp.Expression:
    """Read and check one expression. ``names``: every name it may use → its DuckDB type ('' when unknown)."""
    if isinstance(text, bool) or isinstance(text, (int, float)):
        text = str(text).lower()
    if not isinstance(text, str) or not text.strip():
        raise PolicyError(f"{key}: must be an expression, got {text!r}")
    _tokens_ok(key, text)
    try:
        trees = sqlglot.parse(text, read=DIALECT)
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        raise PolicyError(
            f"{key}: cannot be read near {first.get('highlight', '')!r}: {first.get('description', error)}"
        ) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise PolicyError(f"{key}: must be one expression, got {text!r}")
    tree = trees[0]
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise _refuse(key, node)
        if isinstance(node, exp.Column):
            if node.table or len(node.parts) != 1:
                raise PolicyError(f"{key}: {_token(node)!r}: name an indicator without a table")
            if node.name not in names:
                raise PolicyError(
                    f"{key}: unknown name {node.name!r} (not a household indicator of docs/indicators.md, a value of "
                    "the delivery date or a parameter of the rule)"
                )
        if isinstance(node, exp.In) and (node.args.get("query") or node.args.get("unnest") or node.args.get("field")):
            raise PolicyError(f"{key}: IN takes a list of values in brackets: {_token(node)!r}")
        if isinstance(node, exp.Array) and not all(isinstance(e, _VALUES) for e in node.expressions):
            raise PolicyError(f"{key}: a list holds literal values only: {_token(node)!r}")
    if boolean and not _is_boolean(tree, names):
        raise PolicyError(f"{key}: must be a condition (true or false), got {_token(tree)!r}")
    return tree


def _is_boolean(node: exp.Expression, names: Mapping[str, str]) -> bool:
    if isinstance(node, exp.Paren):
        return _is_boolean(node.this, names)
    if isinstance(node, exp.Column):
        return names.get(node.name) == "BOOLEAN"
    return isinstance(node, _COMPARISONS + _LOGIC + (exp.ArrayContains, exp.Boolean))


@dataclass(frozen=True)
class Template:
    """Chinese text with ``{expression}`` or ``{expression:format}`` holes; ``{{`` and ``}}`` are braces."""

    text: str
    pieces: tuple[str, ...]  # the text around the holes (one more than the holes)
    holes: tuple[tuple[exp.Expression, str | None], ...]

    def format_string(self) -> str:
        """The DuckDB format() string: the text with each hole as {} (braces of the text doubled)."""
        return "{}".join(p.replace("{", "{{").replace("}", "}}") for p in self.pieces)


def parse_template(text: Any, *, key: str, names: Mapping[str, str]) -> Template:
    if not isinstance(text, str) or not text.strip():
        raise PolicyError(f"{key}: must be a text, got {text!r}")
    pieces, holes, current, i = [], [], [], 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i : i + 2] == ch * 2:
            current.append(ch)
            i += 2
            continue
        if ch == "}":
            raise PolicyError(f"{key}: '}}' without '{{' at position {i} (write '}}}}' for a brace)")
        if ch != "{":
            current.append(ch)
            i += 1
            continue
        end, quoted = i + 1, False
        while end < len(text) and (quoted or text[end] != "}"):
            quoted ^= text[end] == "'"
            end += 1
        if end >= len(text):
            raise PolicyError(f"{key}: '{{' without '}}' at position {i} (write '{{{{' for a brace)")
        body, fmt = text[i + 1 : end], None
        head, sep, tail = body.rpartition(":")
        if sep and tail.strip().isidentifier():
            body, fmt = head, tail.strip()
            if fmt not in FORMATS:
                raise PolicyError(f"{key}: unknown format {fmt!r} in {{{text[i + 1 : end]}}} (formats: yuan, day, pct)")
        holes.append((parse_expression(body, key=f"{key} {{{body.strip()}}}", names=names), fmt))
        pieces.append("".join(current))
        current = []
        i = end + 1
    pieces.append("".join(current))
    return Template(text, tuple(pieces), tuple(holes))


def literal_value(node: exp.Literal) -> int | float | str:
    if node.is_string:
        return node.this
    number = node.this
    try:
        return int(number)
    except ValueError:
        return float(number)


class SqlWriter:
    """Writes checked expressions as DuckDB SQL; every value becomes a ``$<prefix>…`` parameter in ``binds``.

    ``values``: a rule parameter → its value; ``fixed``: a name → the SQL it stands for (a parameter the caller binds,
    such as ``$d::DATE``); ``defines``: a name → the checked expression it stands for; any other name is an indicator.
    """

    def __init__(self, prefix: str, values: Mapping[str, Any], fixed: Mapping[str, str], defines=None):
        self.prefix, self.values, self.fixed, self.defines = prefix, values, fixed, defines or {}
        self.binds: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.binds)}"
        self.binds[name] = list(value) if isinstance(value, tuple) else value
        return f"${name}"

    def expr(self, tree: exp.Expression) -> str:
        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                name = node.name
                if name in self.defines:
                    return exp.Paren(this=self.defines[name].copy().transform(swap))
                if name in self.values:
                    return exp.Placeholder(this=self.bind(self.values[name])[1:])
                if name in self.fixed:
                    return sqlglot.parse_one(self.fixed[name], read=DIALECT)
                return node  # an indicator: a column of household_indicators
            if isinstance(node, exp.Literal):
                return exp.Placeholder(this=self.bind(literal_value(node))[1:])
            if isinstance(node, exp.Boolean):
                return exp.Placeholder(this=self.bind(node.this)[1:])
            return node

        return tree.copy().transform(swap).sql(DIALECT)

    def template(self, template: Template) -> str:
        holes = []
        for tree, fmt in template.holes:
            sql = self.expr(tree)
            holes.append(FORMATS[fmt].format(sql) if fmt else sql)
        return f"format({', '.join([self.bind(template.format_string()), *holes])})"
