"""What a validation returns (``SuiteResult`` with its ``Failure``s, JSON-friendly) and a delivery's profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

META_KEY = "fangfanpin"  # our own annotations in each expectation's meta: what is checked, Chinese headers, ...
SAMPLE_COUNT = 5  # how many unexpected values GX reports (and we show) per failed expectation
COLUMN_SET = "expect_table_columns_to_match_set"  # the structure suite's one presence check


@dataclass(frozen=True)
class Failure:
    expectation: str  # GX expectation type, e.g. "expect_column_values_to_not_be_null"
    column: str | None  # English column name (comma-joined for compound keys), None for table-level checks
    observed: str | int | float | None  # short observed value: unexpected count, row count, null rate, ...
    message_zh: str  # short Chinese explanation naming the column by its Chinese header

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "observed": self.observed,
            "message_zh": self.message_zh,
        }


@dataclass(frozen=True)
class SuiteResult:
    success: bool
    evaluated: int  # number of expectations evaluated
    failures: list[Failure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "evaluated": self.evaluated,
            "failures": [f.to_dict() for f in self.failures],
        }

    @property
    def messages_zh(self) -> list[str]:
        return [f.message_zh for f in self.failures]


@dataclass(frozen=True)
class DeliveryProfile:
    """Row count and per-column null rates of one delivery (contract columns only)."""

    row_count: int
    null_rates: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"row_count": int(self.row_count), "null_rates": {k: float(v) for k, v in self.null_rates.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryProfile:
        return cls(
            row_count=int(data["row_count"]),
            null_rates={str(k): float(v) for k, v in dict(data.get("null_rates", {})).items()},
        )
