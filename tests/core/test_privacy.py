"""The one masking function (fangfanpin.core.privacy) against one corpus: every form an ID number or a phone number
arrives in, and the identifiers that must stay readable. Deliverables, GX messages, ingest's issue texts, metadata
and the command's output all use these functions; their own tests check that they call them."""

from __future__ import annotations

import pytest

from fangfanpin.core.privacy import mask_id, mask_phone, mask_text

pytestmark = pytest.mark.unit

# (text as it arrives, what may be shown)
MASKED = [
    ("证件 15062519800101123X 电话 13812345678", "证件 150625********123X 电话 138****5678"),
    ("a 150625199001011234 b", "a 150625********1234 b"),
    ("15062519900101123x", "150625********123x"),
    ("150625 19900101 123X", "150625********123X"),  # typed with spaces between its parts
    ("150625\u300019900101\u3000123X", "150625********123X"),  # with ideographic spaces
    ("证件 １５０６２５１９８００１０１１２３Ｘ", "证件 １５０６２５********１２３Ｘ"),  # full-width digits and X
    ("残疾人证号 15062519800101123X42，", "残疾人证号 150625********3X42，"),  # 20 digits built on an ID ending in X
    ("未知列「150625198001011234」", "未知列「150625********1234」"),  # a header that is an ID
    ("工作簿 a.xlsx 只读取「150625198001011234」", "工作簿 a.xlsx 只读取「150625********1234」"),  # a sheet name
    ("visit_results_150625198001011234.csv", "visit_results_150625********1234.csv"),  # a file name
    ("电话13812345678、15900001111", "电话138****5678、159****1111"),
]
KEPT = [
    "户编号 150625000000001",  # the project's 15-digit household ids look like old-format IDs: never masked in text
    "150625900101123",
    "行政区划代码 150625000001",  # 12-digit division codes
    "金额 1,234.50 元，2026-11-20",
    "12345",
    "",
]


@pytest.mark.parametrize(("text", "shown"), MASKED)
def test_every_form_of_an_id_or_phone_is_masked(text, shown):
    assert mask_text(text) == shown


@pytest.mark.parametrize("text", KEPT)
def test_identifiers_and_plain_text_are_left_alone(text):
    assert mask_text(text) == text


def test_values_from_id_and_phone_columns_are_masked_whatever_their_shape():
    assert mask_id("15062519800101123X") == "150625********123X"
    assert mask_id("1.50625E+17") == "1.5062********E+17"
    assert mask_id("123") == "****" and mask_id("") == "" and mask_id(None) == ""
    assert mask_phone("13812345678") == "138****5678" and mask_phone("123") == "****" and mask_phone(None) == ""
    assert mask_text(None) == ""
