"""Rendering a feed's typed rows as a department would deliver them (messy values, Chinese headers) and writing
the CSV (UTF-8, with BOM, or GB18030) or XLSX file."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import polars as pl

from fangfanpin.data_contracts import load_contract

from . import messy as M
from .ids import build_ids, unique_orders, ymd_of_days
from .messy import MessyRates
from .population import load_counties
from .series import _S


def _fake_ids(rng, n, ref_day) -> pl.Series:
    allc = load_counties()["county_code"].cast(pl.Int64).to_numpy()
    addr = rng.choice(allc, n)
    birth = ref_day - rng.integers(365, 85 * 365, n)
    ymd = ymd_of_days(birth)
    male = rng.random(n) < 0.5
    return build_ids(addr, ymd, unique_orders(rng, addr, ymd, male))


def render(df: pl.DataFrame, feed: str, rng, r: MessyRates, ref_day: int, xlsx: bool):
    """Typed frame (contract names) -> (string frame with headers, raw typed frame aligned, sci mask per id col)."""
    c = load_contract(feed)
    disabled = df["_disabled"].to_numpy() if "_disabled" in df.columns else None
    df = df.select(c.names)
    n = df.height
    # rows whose ID matches nobody
    idcols = c.id_columns
    if idcols and feed != "roster" and r.unmatched_ids > 0 and n:
        m = rng.random(n) < r.unmatched_ids
        if m.any():
            fake = _fake_ids(rng, int(m.sum()), ref_day)
            col = df[idcols[0]].to_numpy().copy()
            col[m] = fake.to_numpy()
            df = df.with_columns(pl.Series(idcols[0], col))
    # duplicates
    if r.duplicate_rows > 0 and n:
        k = rng.binomial(n, r.duplicate_rows)
        if k:
            extra = rng.integers(0, n, k)
            idx = np.sort(np.concatenate([np.arange(n), extra]))
            df = df[idx]
            if disabled is not None:
                disabled = disabled[idx]
    raw = df
    n = df.height
    file_date = M.ISO if rng.random() >= r.date_file else M.DATE_FORMATS[rng.integers(0, 3)]
    yes_style = 0 if rng.random() >= r.yesno_file else int(rng.integers(1, 3))
    sci = {}
    cols = {}
    for col in c.columns:
        nm = col.name
        x = df[nm]
        if col.type == "id":
            x, sci[nm] = M.mess_ids(x, rng, r, disabled if feed == "civil_assistance" else None)
        elif col.type == "date":
            x = M.fmt_dates(x, rng, r, file_date)
        elif col.type == "amount":
            x = M.fmt_amounts(x, rng, r)
        elif col.type == "yesno":
            x = M.fmt_yesno(x, rng, r, yes_style)
        elif col.type == "code":
            x = M.fmt_codes(x, rng, r, col.multi)
        else:
            x = x.cast(pl.String)
        cols[nm] = x.alias(nm)
    out = pl.DataFrame(list(cols.values()))
    if rng.random() < r.extra_column:
        note = np.where(
            rng.random(n) < 0.1, np.array(["已核实", "待补充材料", "电话联系不上", "同上"])[rng.integers(0, 4, n)], None
        )
        out = out.with_columns(_S("备注", note, dtype=pl.String))
        raw = raw.with_columns(_S("备注", note, dtype=pl.String))
    ren = {col.name: col.header for col in c.columns}
    return out.rename(ren), raw.rename(ren), {ren[k]: v for k, v in sci.items()}, c


def write_csv(path: Path, df: pl.DataFrame, enc: str) -> None:
    buf = io.BytesIO()
    df.write_csv(buf)
    b = buf.getvalue()
    if enc == "gb18030":
        b = b.decode("utf-8").encode("gb18030")
    elif enc == "utf-8-sig":
        b = b"\xef\xbb\xbf" + b
    path.write_bytes(b)


def write_xlsx(path: Path, df: pl.DataFrame, raw: pl.DataFrame, sci: dict, contract, rng, created: dt.datetime) -> None:
    import xlsxwriter

    types = {col.header: col.type for col in contract.columns}
    date_style = int(rng.integers(0, 3))  # 0 text, 1 date cells, 2 serial numbers
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties({"created": created, "author": "", "company": ""})
    ws = wb.add_worksheet("Sheet1")
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, df.columns)
    for j, h in enumerate(df.columns):
        t = types.get(h, "text")
        vals = df[h].to_list()
        fmt = None
        if t == "date" and date_style:
            rv = raw[h].to_list()
            if date_style == 1:
                vals = [dt.datetime(x.year, x.month, x.day) if x is not None else None for x in rv]
                fmt = dfmt
            else:
                vals = [(x - dt.date(1899, 12, 30)).days if x is not None else None for x in rv]
        elif t in ("amount", "int"):
            vals = [float(v) if v is not None and v.replace(".", "", 1).lstrip("-").isdigit() else v for v in vals]
        elif t == "id" and h in sci and sci[h].any():
            rv = raw[h].to_list()
            for i in np.flatnonzero(sci[h]):
                try:
                    vals[i] = float(rv[i])
                except (TypeError, ValueError):
                    pass
        ws.write_column(1, j, vals, fmt)
    wb.close()
