"""ingest.idnumber against the ID test vectors of four libraries' test suites (tests/data/id_vectors/) and the rules
of docs/feeds.md.

Where this project's verdict differs from a suite's, docs/id_vectors.md says why.
"""

from __future__ import annotations

import csv
from datetime import date

import pytest
from paths import DATA
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from fangfanpin.ingest import idnumber as idn

pytestmark = pytest.mark.unit

VECTORS = DATA / "id_vectors" / "cn_id_test_vectors.csv"
DATA_DATE = date(2026, 11, 23)

# This project's verdict for every number in the vectors: the normalised 18-character number, or the problem.
VERDICTS: dict[str, str] = {
    "360426199101010071": "360426199101010071",
    "44011320141005001x": "44011320141005001X",
    "412723199010050012": "412723199010050012",
    "110102199101010078": "110102199101010078",
    "120110198012010073": "120110198012010073",
    "120110199212010072": "120110199212010072",
    "990426199112010074": "省级代码无效",
    "110111198012010078": "110111198012010078",  # county not yet registered in the birth year: still valid
    "110201199312010077": "110201199312010077",  # county deregistered: still valid
    "T60426199101010078": "含非数字字符",
    "360426199113010079": "出生日期无效",
    "36042619910102009X": "校验码错误",
    "120103198806018241": "120103198806018241",
    "12345678": "长度不是15或18位",
    "360426199101010072": "校验码错误",
    "321083197812162119": "321083197812162119",
    "150102880730303": "150102198807303035",
    "150102198807303035": "150102198807303035",
    "932682198501010017": "省级代码无效",  # foreign permanent resident ID (9x): not a 公民身份号码
    "360198910283844": "出生日期无效",
    "201511221897205960": "出生日期无效",
    "815727834224151": "出生日期无效",
    "330102200403064": "33010219200403064X",
    "321083200807112111": "321083200807112111",
    "321083200807312113": "321083200807312113",
    "3301022011022000D6": "含非数字字符",
    "33010219200403064x": "33010219200403064X",
    "33010219200403064X": "33010219200403064X",
    "81000019980902013X": "81000019980902013X",
    "820000200009100032": "820000200009100032",
    "830000200209060065": "830000200209060065",
    "111111111111111": "111111191111111113",
    "440308199901101512": "440308199901101512",
    "610104620927690": "610104196209276908",
    "810000199408230021": "810000199408230021",
    "830000199201300022": "830000199201300022",
    "500154199301135886": "500154199301135886",
    "411082198901010002": "411082198901010002",
    "500154199804106120": "500154199804106120",
    "440308199901101513": "校验码错误",
    "44030819990110": "长度不是15或18位",
    "111111199901101512": "校验码错误",
    "440308199902301512": "校验码错误",  # also Feb 30; the checksum is checked first, as in python-stdnum
    "610104620932690": "出生日期无效",
    "44040119580101000X": "44040119580101000X",
    "140120197901010008": "140120197901010008",
    "362324198001010014": "362324198001010014",
    "362324198101010011": "362324198101010011",
    "362324198201010019": "362324198201010019",
    "430302199312194239": "430302199312194239",
}


with VECTORS.open(encoding="utf-8") as f:
    ROWS: list[dict[str, str]] = list(csv.DictReader(f))


def verdict(number: str, data_date: date = DATA_DATE) -> str:
    try:
        return idn.validate(number, data_date)
    except ValidationError as exc:
        return str(exc)


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}-{r['number']}" for i, r in enumerate(ROWS)])
def test_vector_verdict(row):
    assert verdict(row["number"]) == VERDICTS[row["number"]]


def test_every_vector_has_a_verdict():
    assert len(ROWS) == 56  # the packaged copy is whole: 56 rows, 50 distinct numbers
    assert {r["number"] for r in ROWS} == set(VERDICTS)


def test_vector_check_digits_agree_with_the_suite():
    for r in ROWS:
        n = r["number"]
        if r["computed_check_digit"].startswith("expected "):
            assert idn._check_char(n[:17]) == r["computed_check_digit"].split()[1]
        elif r["computed_check_digit"] == "ok":
            assert idn._check_char(n[:17]) == n[17].upper()


def test_compact():
    assert idn.compact(" １５０１０２ 8807\u30003035 ") == "15010288073035"
    assert idn.compact("'44011320141005001x") == "44011320141005001X"
    assert idn.compact("150102880730303.0") == "150102880730303"


def test_to_18():
    assert idn.to_18("150102880730303") == "150102198807303035"
    assert idn.to_18("330102200403064") == "33010219200403064X"
    with pytest.raises(InvalidLength):
        idn.to_18("1501028807303")
    with pytest.raises(InvalidFormat):
        idn.to_18("15010288073030A")


@pytest.mark.parametrize(
    ("number", "exc", "message"),
    [
        ("1.50625E+17", InvalidFormat, "Excel科学计数法，号码已无法恢复"),
        ("1.50625199001011e+17", InvalidFormat, "Excel科学计数法，号码已无法恢复"),
        ("12345678", InvalidLength, "长度不是15或18位"),
        ("36042619910102009X", InvalidChecksum, "校验码错误"),
        ("360426199113010079", InvalidComponent, "出生日期无效"),
        ("990426199112010074", InvalidComponent, "省级代码无效"),
        ("T60426199101010078", InvalidFormat, "含非数字字符"),
    ],
)
def test_typed_errors(number, exc, message):
    with pytest.raises(exc, match=message):
        idn.validate(number, DATA_DATE)
    assert not idn.is_valid(number, DATA_DATE)


def test_birth_date_range():
    body = "150625" + "20261124" + "123"
    after = body + idn._check_char(body)
    assert not idn.is_valid(after, DATA_DATE)  # born after the data date
    assert idn.is_valid(after, date(2026, 11, 24))
    body = "150625" + "18991231" + "123"
    assert verdict(body + idn._check_char(body)) == "出生日期无效"


def test_notes():
    assert idn.validate_with_notes("150102880730303", DATA_DATE) == ("150102198807303035", ("15位旧号码已转换为18位",))
    assert idn.validate_with_notes("15010219880730303512", DATA_DATE) == (
        "150102198807303035",
        ("残疾人证号已取前18位身份证号",),
    )
    value, notes = idn.validate_with_notes("110201199312010077", DATA_DATE, frozenset({"150625"}))
    assert value == "110201199312010077"
    assert notes == ("县级代码110201未知或已撤销（仍视为有效）",)
    assert idn.validate_with_notes("150625199001011232", DATA_DATE, frozenset({"150625"}))[1] == ()


def test_the_leak_scan_finds_valid_numbers_and_not_float_fractions():
    """tests/privacy_helpers: a valid number in text or bytes is found (masked), a float's 18-digit fraction is not."""
    from privacy_helpers import full_id_numbers

    assert full_id_numbers('{"id": "150625199001011232"}') == ["150625…"]
    assert full_id_numbers(b"x 150625199001011232\x00") == ["150625…"]  # bytes, as read from an instance file
    assert full_id_numbers("150625199001011233") == []  # wrong check character
    assert full_id_numbers('"duration_ms": 0.012345678901234567, "n": 150625********1232') == []
