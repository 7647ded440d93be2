"""Resident ID numbers (GB 11643-1999), vectorised."""

from __future__ import annotations

import numpy as np
import polars as pl

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = np.array(list("10X98765432"))


def check_index(addr: np.ndarray, ymd: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Index into ``10X98765432`` of the check character for the 17 leading digits."""
    addr = np.asarray(addr, dtype=np.int64)
    ymd = np.asarray(ymd, dtype=np.int64)
    order = np.asarray(order, dtype=np.int64)
    s = np.zeros(addr.shape, dtype=np.int64)
    for i in range(6):
        s += (addr // 10 ** (5 - i) % 10) * WEIGHTS[i]
    for i in range(8):
        s += (ymd // 10 ** (7 - i) % 10) * WEIGHTS[6 + i]
    for i in range(3):
        s += (order // 10 ** (2 - i) % 10) * WEIGHTS[14 + i]
    return s % 11


def check_char_of(id17: str) -> str:
    """Scalar helper (tests)."""
    s = sum(int(c) * int(w) for c, w in zip(id17, WEIGHTS))
    return "10X98765432"[s % 11]


def build_ids(addr: np.ndarray, ymd: np.ndarray, order: np.ndarray) -> pl.Series:
    chk = pl.Series(list("10X98765432")).gather(check_index(addr, ymd, order))
    df = pl.DataFrame(
        {
            "a": np.asarray(addr, dtype=np.int64),
            "b": np.asarray(ymd, dtype=np.int64),
            "o": np.asarray(order, dtype=np.int64),
            "c": chk,
        }
    )
    return df.select(
        pl.concat_str(
            [
                pl.col("a").cast(pl.String),
                pl.col("b").cast(pl.String),
                pl.col("o").cast(pl.String).str.zfill(3),
                pl.col("c"),
            ]
        ).alias("id")
    )["id"]


def ymd_of_days(days: np.ndarray) -> np.ndarray:
    """int days since 1970-01-01 -> yyyymmdd ints."""
    d = np.asarray(days).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + dd


def unique_orders(
    rng: np.random.Generator, addr: np.ndarray, ymd: np.ndarray, male: np.ndarray, taken: np.ndarray | None = None
) -> np.ndarray:
    """3-digit order codes (odd = male), unique per address code + birth date by construction.

    Within each (address, birth date) group the k-th member takes slot (base + 37 k) mod 500, base random per group;
    order = 2 * slot + (1 if male). Distinct slots for distinct ranks (gcd(37, 500) = 1), and the sexes differ by parity.
    """
    key = np.asarray(addr, np.int64) * 10**8 + np.asarray(ymd, np.int64)
    salt = int(rng.integers(0, 2**31))
    df = pl.DataFrame({"key": key}).with_columns(
        pl.int_range(pl.len()).over("key").alias("rank"),
        (pl.col("key").hash(seed=salt) % 500).cast(pl.Int64).alias("base"),
    )
    slot = (df["base"].to_numpy() + 37 * df["rank"].to_numpy()) % 500
    return slot * 2 + np.asarray(male, np.int64)
