"""Headers as forms write them: required marks and spacing do not change which column a header names."""

import pytest

from fangfanpin.ingest.headers import header_key

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "written",
    ["*姓名", "姓名*", "姓名（必填）", "＊姓名", "【必填】姓名", "姓名(选填)", "* 姓 名 （必填）", "**姓名(必填)*"],
)
def test_required_marks_are_not_part_of_the_header(written):
    assert header_key(written) == "姓名"


def test_a_star_inside_a_header_stays():
    assert header_key("A*B") == "A*B"
