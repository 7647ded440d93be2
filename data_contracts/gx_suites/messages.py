"""The Chinese message of each failed expectation, naming the column by its Chinese header; sample values that
look like ID numbers are masked (``fangfanpin.core.privacy``)."""

from __future__ import annotations

import math
from typing import Any

from fangfanpin.core.privacy import mask_id, mask_text
from fangfanpin.data_contracts.gx_suites.results import COLUMN_SET, META_KEY, SAMPLE_COUNT, Failure


def _show(values: list[Any], *, id_values: bool) -> str:
    shown: list[str] = []
    for v in values:
        s = "空" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        s = mask_id(s) if id_values else mask_text(s)
        if s not in shown:
            shown.append(s)
    return "[" + ", ".join(f"'{s}'" for s in shown[:SAMPLE_COUNT]) + "]"


def failures_of(r: Any) -> list[Failure]:
    """The failures of one result: one per missing column for the column set, else one."""
    cfg = r.expectation_config
    if cfg.type == COLUMN_SET:
        missing = ((r.result or {}).get("details") or {}).get("mismatched", {}).get("missing") or []
        headers = (cfg.meta or {}).get(META_KEY, {}).get("headers", {})
        if missing:
            return [Failure(cfg.type, c, "missing", f"缺少列 {headers.get(c, c)}") for c in missing]
    return [_failure(r)]


def _raised(info: Any) -> dict | None:
    """What GX says was raised while it evaluated an expectation, or None. GX gives it flat when the expectation
    itself raised, and one entry per metric when a metric did (a text value in a number's range check)."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return info if info["raised_exception"] else None
    metrics = (v for v in info.values() if isinstance(v, dict))
    return next((v for v in metrics if v.get("exception_message") or v.get("raised_exception")), None)


def _failure(r: Any) -> Failure:
    cfg = r.expectation_config
    etype = cfg.type
    kwargs = dict(cfg.kwargs)
    meta = dict((cfg.meta or {}).get(META_KEY, {}))
    check = meta.get("check", "")
    res = dict(r.result or {})
    column = kwargs.get("column")
    if kwargs.get("column_list"):
        column = ",".join(kwargs["column_list"])
    header = meta.get("header") or column or ""
    n = res.get("unexpected_count")
    samples = list(res.get("partial_unexpected_list") or [])
    exc = _raised(r.exception_info)
    if exc is not None:
        msg = str(exc.get("exception_message") or "")[:200]
        return Failure(etype, column, "error", mask_text(f"检查 {etype}（列 {header}）未能执行：{msg}"))

    if check == "required":
        return Failure(etype, column, n, f"必填列 {header} 有 {n:,} 行为空")
    if check in ("code", "code_multi"):
        return Failure(etype, column, n, f"列 {header} 有 {n:,} 个值不在允许范围内：{_show(samples, id_values=False)}")
    if check == "id":
        return Failure(etype, column, n, f"列 {header} 有 {n:,} 个值不是18位证件号码：{_show(samples, id_values=True)}")
    if check == "division":
        return Failure(
            etype, column, n, f"列 {header} 有 {n:,} 个值不是12位行政区划代码：{_show(samples, id_values=False)}"
        )
    if check == "non_negative":
        return Failure(etype, column, n, f"金额列 {header} 有 {n:,} 个负值：{_show(samples, id_values=False)}")
    if check == "int_range":
        lo = "" if meta.get("min") is None else meta["min"]
        hi = "" if meta.get("max") is None else meta["max"]
        return Failure(
            etype, column, n, f"列 {header} 有 {n:,} 个值超出范围 [{lo}, {hi}]：{_show(samples, id_values=False)}"
        )
    if check == "key":
        headers = ", ".join(meta.get("headers") or [column or ""])
        if etype == "expect_compound_columns_to_be_unique":
            rows = [", ".join(map(str, s.values())) if isinstance(s, dict) else s for s in samples]
            shown = _show(rows, id_values=False)
        else:
            shown = _show(samples, id_values=bool(meta.get("id")))
        return Failure(etype, column, n, f"键 ({headers}) 有 {n:,} 行重复：{shown}")
    if check == "row_count":
        obs = res.get("observed_value")
        prev = meta.get("previous", 0)
        return Failure(
            etype,
            None,
            obs,
            f"行数 {obs:,} 与上次交付 {prev:,} 相比变化过大（允许 {meta.get('min', 0):,}–{meta.get('max', 0):,}）",
        )
    if check == "null_rate":
        pct = res.get("unexpected_percent")
        rate = round(float(pct) / 100.0, 4) if pct is not None else None
        prev = float(meta.get("previous", 0.0))
        tol = float(meta.get("tolerance", 0.0))
        shown = "?" if rate is None else f"{rate:.1%}"
        return Failure(etype, column, rate, f"列 {header} 空值比例 {shown}，上次交付为 {prev:.1%}，升幅超过 {tol:.0%}")
    # An expectation we did not build (a hand-made suite): a generic message.
    observed = n if n is not None else res.get("observed_value")
    if isinstance(observed, (list, dict, tuple)):
        observed = mask_text(str(observed))[:100]
    elif isinstance(observed, str):
        observed = mask_text(observed)[:100]
    where = f"列 {header} " if header else ""
    return Failure(etype, column, observed, mask_text(f"{where}未通过检查 {etype}（观测值 {observed}）"))
