"""Data contracts: one YAML file per feed, the single source of truth for headers, types, keys and kinds.

The ingest code maps and normalises columns from these contracts, the generator writes headers from them, and the
Great Expectations suites (``data_contracts.gx_suites``) are built from them.

    >>> contract = load_contract("roster")
    >>> contract.kind, contract.key
    ('snapshot', ('id_number',))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

FEEDS_DIR = Path(__file__).parent / "feeds"
COLUMN_TYPES = frozenset({"text", "code", "date", "amount", "int", "yesno", "id", "division"})
FEED_KINDS = frozenset({"snapshot", "increment"})
PLACEMENTS = frozenset({"village_code", "village_code_or_id", "id", "household_id"})
# A date column's value after the delivery date: "report" loads it and reports it (the department's event happened
# after its extract was cut: the windows ignore it until its date), "allow" loads it silently (a planned date, such as
# an end of assistance), "refuse" makes it a problem (a date that cannot lie ahead: a birth, the workflow's returns).
AFTER_DELIVERY = frozenset({"report", "allow", "refuse"})


class ContractError(ValueError):
    """A contract file is malformed."""


@dataclass(frozen=True)
class Column:
    header: str
    name: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    multi: bool = False  # several codes in one cell, e.g. 健康状况 "长期慢性病,残疾"
    signed: bool = False  # amounts that may be negative
    personal: bool = False  # personal data: never shown unmasked outside the warehouse
    min: int | None = None
    max: int | None = None
    after_delivery: str = "report"  # date columns: a value after the delivery date (AFTER_DELIVERY)


@dataclass(frozen=True)
class Contract:
    feed: str
    title: str
    department: str
    kind: str
    key: tuple[str, ...]
    placement: str
    columns: tuple[Column, ...]
    row_checks: tuple[str, ...] = field(default=())
    cadence_days: int = 1  # how often the department delivers: the freshness check's yardstick
    # a return feed's Chinese file name, as its template is named (走访结果_150625_20261120.xlsx): a file whose name
    # starts with it belongs to the feed as much as one named by the feed
    file_title: str | None = None
    # headers a return template shows for orientation (户主姓名, 核实内容 …): read and left out, never reported
    context_headers: tuple[str, ...] = field(default=())
    # the columns a return template fills in itself: a row with nothing else filled was not answered, and is left out
    prefilled: tuple[str, ...] = field(default=())

    @property
    def headers(self) -> dict[str, Column]:
        return {c.header: c for c in self.columns}

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.feed} has no column {name!r}")

    @property
    def id_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.type == "id"]

    @property
    def placement_columns(self) -> list[str]:
        """The columns that place a row in a county, by ``placement`` (ingest.warehouse places rows with them)."""
        by_id = self.id_columns[:1]
        return {
            "village_code": ["village_code"],
            "household_id": ["household_id"],
            "id": by_id,
            "village_code_or_id": ["village_code"] + by_id,
        }[self.placement]


def _parse(path: Path) -> Contract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    try:
        columns = tuple(Column(**{**c, "values": tuple(str(v) for v in c.get("values", ()))}) for c in raw["columns"])
        contract = Contract(
            feed=raw["feed"],
            title=raw["title"],
            department=raw["department"],
            kind=raw["kind"],
            key=tuple(raw["key"]),
            placement=raw["placement"],
            columns=columns,
            row_checks=tuple(raw.get("row_checks", ())),
            cadence_days=raw["cadence_days"],
            file_title=raw.get("file_title"),
            context_headers=tuple(raw.get("context_headers", ())),
            prefilled=tuple(raw.get("prefilled", ())),
        )
    except (KeyError, TypeError) as exc:
        raise ContractError(f"{where}: malformed contract ({exc})") from exc
    if contract.feed != path.stem:
        raise ContractError(f"{where}: feed name {contract.feed!r} differs from the file name")
    if not isinstance(contract.cadence_days, int) or contract.cadence_days < 1:
        raise ContractError(f"{where}: cadence_days must be a whole number of days ≥ 1")
    if contract.kind not in FEED_KINDS:
        raise ContractError(f"{where}: kind must be one of {sorted(FEED_KINDS)}")
    if contract.placement not in PLACEMENTS:
        raise ContractError(f"{where}: placement must be one of {sorted(PLACEMENTS)}")
    names = contract.names
    if len(set(names)) != len(names) or len({c.header for c in columns}) != len(columns):
        raise ContractError(f"{where}: duplicate column name or header")
    if set(contract.context_headers) & {c.header for c in columns}:
        raise ContractError(f"{where}: a context header is also a column's header")
    if not set(contract.prefilled) <= set(names):
        raise ContractError(f"{where}: prefilled names a column the contract does not have")
    for c in columns:
        if c.type not in COLUMN_TYPES:
            raise ContractError(f"{where}: column {c.name} has unknown type {c.type!r}")
        if c.type == "code" and not c.values:
            raise ContractError(f"{where}: code column {c.name} lists no values")
        if c.after_delivery not in AFTER_DELIVERY:
            raise ContractError(f"{where}: column {c.name} after_delivery must be one of {sorted(AFTER_DELIVERY)}")
    for c in raw["columns"]:
        if "after_delivery" in c and c.get("type") != "date":
            raise ContractError(f"{where}: column {c.get('name')} sets after_delivery but is not a date column")
    for k in contract.key:
        if k not in names:
            raise ContractError(f"{where}: key column {k} is not a column")
        if not contract.column(k).required:
            raise ContractError(f"{where}: key column {k} must be required")
    return contract


@cache
def load_contract(feed: str) -> Contract:
    path = FEEDS_DIR / f"{feed}.yaml"
    if not path.exists():
        raise ContractError(f"no contract for feed {feed!r}; known feeds: {', '.join(FEED_NAMES)}")
    return _parse(path)


FEED_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in FEEDS_DIR.glob("*.yaml")))


def all_contracts() -> list[Contract]:
    return [load_contract(f) for f in FEED_NAMES]
