"""The synthetic data generator: layout, headers, IDs, determinism, truth separation, messy values, formats.
Longer than most files: every test reads the one generated county of the session, which a module shares."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
from stdnum.cn import ric

from fangfanpin.data_contracts import FEED_NAMES, load_contract
from fangfanpin.generator import GenerationSummary, MessyRates, generate
from fangfanpin.generator.ids import check_char_of

pytestmark = pytest.mark.unit

END = date(2026, 11, 20)
START = date(2026, 8, 1)
COUNTIES = ["150625", "152201"]


def _run(
    root: Path, messy: MessyRates, seed: int = 3, households: int = 400, daily_days: int = 6, counties=COUNTIES
) -> GenerationSummary:
    return generate(
        root / "landing",
        root / "truth",
        counties=counties,
        households=households,
        start=START,
        end=END,
        seed=seed,
        messy=messy,
        daily_days=daily_days,
    )


@pytest.fixture(scope="module")
def heavy(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen_heavy")
    return root, _run(root, MessyRates.heavy())


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen_clean")
    return root, _run(root, MessyRates.none().with_(xlsx=0.0), seed=5)


def read_any(path: Path) -> pl.DataFrame:
    """Every cell as text (XLSX via openpyxl, CSV decoded as UTF-8 with/without BOM or GB18030)."""
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        header = [str(h) for h in rows[0]]
        cols = list(zip(*rows[1:])) if len(rows) > 1 else [()] * len(header)
        return pl.DataFrame(
            {h: [None if v is None else str(v) for v in c] for h, c in zip(header, cols)},
            schema={h: pl.String for h in header},
        )
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def encoding_of(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def feed_of(path: Path) -> str:
    return path.stem.rsplit("_", 1)[0]


def feed_frames(landing: Path, feed: str) -> list[pl.DataFrame]:
    return [read_any(p) for p in sorted(landing.glob(f"*/{feed}_*.*"))]


# ------------------------------------------------------------------------------------------------ layout
def test_layout_and_all_feeds(heavy):
    root, summary = heavy
    landing = root / "landing"
    days = sorted(p.name for p in landing.iterdir())
    assert days == [d.isoformat() for d in summary.deliveries]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days)
    assert days[-1] == END.isoformat()
    assert "2026-08-31" in days and "2026-10-31" in days  # month-ends
    names = {p.name for p in landing.glob("*/*")}
    for name in names:
        assert re.fullmatch(r"[a-z_]+_(150625|152201)\.(csv|xlsx)", name), name
    feeds = {feed_of(Path(n)) for n in names}
    assert feeds == set(FEED_NAMES)
    # the last delivery carries the roster of every county
    for c in COUNTIES:
        assert list((landing / END.isoformat()).glob(f"roster_{c}.*"))
    assert summary.rows_per_feed["roster"] > 0 and summary.rows_per_feed["medical_claims"] > 0
    assert len(summary.files) == len(list(landing.glob("*/*")))


def test_headers_present_in_every_file(heavy):
    root, _ = heavy
    for path in (root / "landing").glob("*/*"):
        c = load_contract(feed_of(path))
        df = read_any(path)
        headers = [col.header for col in c.columns]
        assert [h for h in df.columns if h in headers] == headers, path
        assert set(df.columns) - set(headers) <= {"备注"}, path


def test_formats_and_encodings(heavy):
    root, _ = heavy
    files = list((root / "landing").glob("*/*"))
    encs = {encoding_of(p) for p in files if p.suffix == ".csv"}
    assert encs == {"utf-8", "utf-8-sig", "gb18030"}
    xlsx = [p for p in files if p.suffix == ".xlsx"]
    assert xlsx
    assert not any(feed_of(p) in ("roster", "medical_claims") for p in xlsx)


def test_determinism(tmp_path):
    a = _run(tmp_path / "a", MessyRates.heavy(), seed=11, households=150, daily_days=3)
    b = _run(tmp_path / "b", MessyRates.heavy(), seed=11, households=150, daily_days=3)
    fa = sorted(p.relative_to(tmp_path / "a") for p in a.files)
    fb = sorted(p.relative_to(tmp_path / "b") for p in b.files)
    assert fa == fb
    for rel in fa:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    for t in ("households.parquet", "events.parquet"):
        assert pl.read_parquet(tmp_path / "a/truth" / t).equals(pl.read_parquet(tmp_path / "b/truth" / t))
    c = _run(tmp_path / "c", MessyRates.heavy(), seed=12, households=150, daily_days=3)

    def roster(s):
        return next(p for p in s.files if p.name.startswith("roster_150625"))

    assert roster(a).read_bytes() != roster(c).read_bytes()


# ------------------------------------------------------------------------------------------------ content
def _valid_id(s: str, data_date: date) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    if check_char_of(s[:17]) != s[17]:
        return False
    try:
        b = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= b <= data_date and s[:2] in {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
    }


def test_clean_ids_valid_and_consistent(clean):
    root, summary = clean
    landing = root / "landing"
    last = landing / END.isoformat()
    roster = pl.concat([read_any(p) for p in sorted(last.glob("roster_*.csv"))])
    ids = roster["证件号码"].to_list()
    assert len(ids) == len(set(ids))
    assert all(_valid_id(s, END) for s in ids)
    # stdnum agrees wherever it knows the county code (its table lacks some codes, e.g. 150625)
    known = []
    for s in ids[:3000]:
        try:
            ric.get_birth_place(s)
        except Exception:  # noqa: BLE001 - stdnum does not know this address code
            continue
        known.append(s)
    assert known and all(ric.is_valid(s) for s in known)
    from fangfanpin.generator.ids import build_ids

    probe = build_ids(
        np.array([110101, 140431, 120101]), np.array([19800101, 20011231, 19991231]), np.array([1, 2, 999])
    )
    assert all(ric.is_valid(s) for s in probe.to_list())
    # sex and birth date agree with the number
    sex_ok = roster.select(
        ((pl.col("证件号码").str.slice(16, 1).cast(pl.Int32) % 2 == 1) == (pl.col("性别") == "男")).all()
    )[0, 0]
    assert sex_ok
    birth_ok = roster.select((pl.col("证件号码").str.slice(6, 8) == pl.col("出生日期").str.replace_all("-", "")).all())[
        0, 0
    ]
    assert birth_ok
    # mostly the county's own address code, some from elsewhere
    own = np.mean([s[:6] in COUNTIES for s in ids])
    assert 0.9 < own < 1.0
    # every increment and snapshot feed ID is valid in clean mode
    for feed in FEED_NAMES:
        c = load_contract(feed)
        for col in c.columns:
            if col.type == "id":
                for df in feed_frames(landing, feed):
                    assert all(_valid_id(s, END) for s in df[col.header].drop_nulls().to_list()), feed


def test_population_realism(clean):
    root, _ = clean
    last = root / "landing" / END.isoformat()
    roster = pl.concat([read_any(p) for p in sorted(last.glob("roster_*.csv"))])
    sizes = roster.group_by("户编号").len()["len"]
    assert 2.7 < sizes.mean() < 4.0 and sizes.max() <= 8
    assert (roster["与户主关系"] == "户主").sum() == roster["户编号"].n_unique()
    types = roster.unique("户编号")["户类型"].value_counts()
    share = {r["户类型"]: r["count"] / roster["户编号"].n_unique() for r in types.iter_rows(named=True)}
    assert 0.12 < share.get("脱贫户", 0) < 0.3
    assert 0.01 < share.get("监测户", 0) < 0.12
    mon = roster.filter(pl.col("户类型") == "监测户")
    assert mon["风险识别时间"].null_count() == 0 and mon["致贫/返贫风险1"].null_count() == 0
    assert set(roster["健康状况"].unique()) >= {"健康", "长期慢性病", "残疾"}
    assert (roster["户联系电话"].str.contains(r"^1[358]\d{9}$")).all()
    # 村民小组: one per household (一组, 二组, …), on record for most households
    groups = roster.group_by("户编号").agg(pl.col("村民小组").n_unique().alias("n"), pl.col("村民小组").first())
    assert (groups["n"] == 1).all() and groups["村民小组"].drop_nulls().str.contains(
        r"^[一二三四五六七八九十]+组$"
    ).all()
    assert 0.9 < groups["村民小组"].is_not_null().mean() < 1
    # household income: two latest survey years, some below the line
    inc = pl.concat([read_any(p) for p in sorted(last.glob("household_income_*.csv"))])
    assert set(inc["年度"].unique().to_list()) == {str(END.year - 2), str(END.year - 1)}
    pc = inc["家庭人均纯收入(元)"].cast(pl.Float64)
    assert 10000 < pc.median() < 30000 and (pc < 9000).sum() > 0


def test_medical_claims_arithmetic_and_reversals(clean):
    root, _ = clean
    claims = pl.concat(feed_frames(root / "landing", "medical_claims"))

    def amt(h):
        return pl.col(h).cast(pl.Float64).fill_null(0)

    diff = claims.select(
        (
            amt("医疗总费用(元)")
            - amt("基本医保支付(元)")
            - amt("大病保险支付(元)")
            - amt("医疗救助支付(元)")
            - amt("个人负担(元)")
        )
        .abs()
        .max()
    )[0, 0]
    assert diff < 0.011
    rev = claims.filter(pl.col("结算类型") == "冲销")
    assert rev.height > 0
    assert (rev["医疗总费用(元)"].cast(pl.Float64) <= 0).all()
    originals = set(claims["结算流水号"].to_list())
    assert set(rev["原结算流水号"].to_list()) <= originals
    assert (claims.filter(pl.col("就诊类型") == "住院")["医疗总费用(元)"].cast(pl.Float64) > 50000).any()


def test_truth_and_workflow(clean):
    root, summary = clean
    truth = pl.read_parquet(root / "truth" / "households.parquet")
    events = pl.read_parquet(root / "truth" / "events.parquet")
    for col in (
        "household_id",
        "county_code",
        "village_code",
        "latent_risk",
        "deteriorated",
        "deterioration_date",
        "risk_types",
        "confirmed",
        "confirmed_date",
        "recovered",
        "recovery_date",
    ):
        assert col in truth.columns
    assert set(events.columns) >= {"household_id", "date", "event"}
    assert truth["deteriorated"].sum() > 0
    confirmed = truth.filter(pl.col("confirmed"))
    assert confirmed.height > 0
    # the county decisions carry exactly the confirmed inclusions, and the roster shows them as monitored
    dec = pl.concat(feed_frames(root / "landing", "county_decisions"))
    incl = set(dec.filter(pl.col("决定类型") == "确认纳入")["户编号"].to_list())
    assert incl == set(confirmed["household_id"].to_list())
    last = root / "landing" / END.isoformat()
    roster = pl.concat([read_any(p) for p in sorted(last.glob("roster_*.csv"))])
    shown = roster.filter(pl.col("户编号").is_in(list(incl))).unique("户编号")
    assert (shown["户类型"] == "监测户").all()
    # truth columns never appear in landing files
    truth_only = {"latent_risk", "deteriorated", "deterioration_date", "confirmed", "recovered", "潜在风险"}
    for path in (root / "landing").glob("*/*"):
        cols = set(read_any(path).columns)
        assert not cols & truth_only, path
    assert not list((root / "landing").rglob("*.parquet"))


# ------------------------------------------------------------------------------------------------ messy values
def test_heavy_messy_values_present(heavy):
    root, _ = heavy
    landing = root / "landing"
    id_cells: list[str] = []
    date_cells: list[str] = []
    amount_cells: list[str] = []
    yesno_cells: set[str] = set()
    code_cells: list[str] = []
    dup_files = 0
    extra_col = 0
    civil_ids: list[str] = []
    for path in landing.glob("*/*.csv"):
        feed = feed_of(path)
        c = load_contract(feed)
        df = read_any(path)
        if df.height and df.is_duplicated().any():
            dup_files += 1
        extra_col += "备注" in df.columns
        for col in c.columns:
            vals = df[col.header].drop_nulls().to_list()
            if col.type == "id":
                id_cells += vals
                if feed == "civil_assistance":
                    civil_ids += vals
            elif col.type == "date":
                date_cells += vals
            elif col.type == "amount":
                amount_cells += vals
            elif col.type == "yesno":
                yesno_cells |= set(vals)
            elif col.type == "code":
                code_cells += vals
    ids = pl.Series(id_cells)
    assert ids.str.contains(" ").any()
    assert ids.str.contains("[０-９]").any()
    assert ids.str.ends_with("x").any()
    assert ids.str.starts_with("'").any()
    assert (ids.str.contains(r"^\d{15}$")).any()
    assert (pl.Series(civil_ids).str.contains(r"^\d{17}[\dX]\d{2}$")).any()
    assert ids.str.contains(r"E\+17$").any()
    clean18 = [s for s in id_cells if re.fullmatch(r"\d{17}[\dX]", s)]
    assert any(check_char_of(s[:17]) != s[17] for s in clean18)
    dates = pl.Series(date_cells)
    for pattern in (r"^\d{4}-\d{2}-\d{2}$", r"^\d{4}/\d{1,2}/\d{1,2}$", r"^\d{8}$", r"^\d{4}年\d{1,2}月\d{1,2}日$"):
        assert dates.str.contains(pattern).any(), pattern
    amounts = pl.Series(amount_cells)
    assert amounts.str.contains(r"^-?\d{1,3}(,\d{3})+\.\d{2}$").any()
    assert amounts.str.ends_with("元").any()
    assert yesno_cells >= {"是", "否", "Y", "N", "1", "0"}
    codes = pl.Series(code_cells)
    assert (codes != codes.str.strip_chars()).any()
    assert codes.str.contains("，").any()
    assert dup_files > 0 and extra_col > 0
    # rows whose ID matches nobody in any roster
    roster_ids = set()
    for df in feed_frames(landing, "roster"):
        roster_ids |= set(df["证件号码"].to_list())
    claims_ids = {s for df in feed_frames(landing, "medical_claims") for s in df["证件号码"].to_list()}
    unmatched = [s for s in claims_ids if re.fullmatch(r"\d{17}[\dX]", s) and s not in roster_ids]
    assert unmatched


def test_xlsx_cells(heavy):
    root, _ = heavy
    xlsx = list((root / "landing").glob("*/*.xlsx"))
    assert xlsx
    kinds = set()
    for p in xlsx:
        ws = openpyxl.load_workbook(p).worksheets[0]
        c = load_contract(feed_of(p))
        header = [cell.value for cell in ws[1]]
        assert [h for h in header if h != "备注"] == [col.header for col in c.columns]
        types = {col.header: col.type for col in c.columns}
        for row in ws.iter_rows(min_row=2):
            for h, cell in zip(header, row):
                if types.get(h) == "date" and cell.value is not None:
                    kinds.add(type(cell.value).__name__)
    assert kinds & {"datetime", "int", "float"}


def test_delivery_schedule_single_day(tmp_path):
    s = generate(
        tmp_path / "l",
        tmp_path / "t",
        counties=["150625"],
        households=120,
        start=END,
        end=END,
        seed=1,
        messy=MessyRates.none(),
        daily_days=0,
    )
    assert s.deliveries == [END]
    assert {feed_of(p) for p in s.files} == set(FEED_NAMES)


def test_unknown_county_synthetic_geography(tmp_path):
    s = generate(
        tmp_path / "l",
        tmp_path / "t",
        counties=["150626"],
        households=80,
        start=END,
        end=END,
        seed=1,
        messy=MessyRates.none(),
        daily_days=0,
    )
    roster = read_any(next(p for p in s.files if p.name.startswith("roster_")))
    assert roster["行政区划代码"].str.starts_with("150626").all()
    assert (roster["县(市、区、旗)"] == "乌审旗").all()
