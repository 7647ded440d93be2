"""The UI charts (charts/): PNG bytes, sane sizes, deterministic, empty inputs drawn as a note, Markdown embedding."""

from __future__ import annotations

import base64
import struct
from datetime import date, timedelta
from pathlib import Path

import pytest
from system_helpers import require_installed

from fangfanpin import charts
from fangfanpin.core.fonts import FONT_CANDIDATES

pytestmark = pytest.mark.unit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(20)]


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC
    return struct.unpack(">II", png[16:24])  # IHDR width, height


CASES = {
    "risk_levels": lambda: charts.risk_levels_by_township(
        [
            ("锡尼镇", "高", 12),
            ("锡尼镇", "中", 30),
            ("锡尼镇", "低", 900),
            ("伊和乌素苏木", "中", 5),
            ("伊和乌素苏木", "低", 300),
            (None, "高", 1),
        ]
    ),
    "rule_hits": lambda: charts.rule_hits_by_rule([("MED-BURDEN", 14, 40), ("INC-LOW", 3, 120), ("EDU-DROPOUT", 2, 0)]),
    "cases": lambda: charts.cases_by_state_over_time(
        [(d, s, i + k) for i, d in enumerate(DAYS) for k, s in enumerate(("待排查", "待公示", "已纳入"))],
        ("待排查", "待比对", "待公示"),
    ),
    "new_warnings": lambda: charts.new_warnings_by_township(
        [("锡尼镇", 3, 0), ("伊和乌素苏木", 0, 2), (None, 1, 1)], "上一交付日期（11-19）"
    ),
    "calibration": lambda: charts.calibration(
        [{"predicted": p, "observed": p * 0.9, "n": 100} for p in (0.01, 0.05, 0.1, 0.2, 0.4)]
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_is_a_deterministic_png_of_sane_size(name):
    png = CASES[name]()
    width, height = _size(png)
    assert 300 <= width <= 1200 and 200 <= height <= 1200
    assert 5_000 < len(png) < 200_000
    assert CASES[name]() == png  # same input, same bytes
    assert b"Software" not in png and b"matplotlib" not in png.lower()


EMPTY = {
    "risk_levels_empty": lambda: charts.risk_levels_by_township([]),
    "rule_hits_empty": lambda: charts.rule_hits_by_rule([]),
    "cases_one_day": lambda: charts.cases_by_state_over_time([(DAYS[0], "待排查", 3)], ("待排查",)),
    "calibration_empty": lambda: charts.calibration([]),
    "new_warnings_empty": lambda: charts.new_warnings_by_township([], "上一交付日期（无）"),
}


@pytest.mark.parametrize("name", sorted(CASES | EMPTY))
def test_chart_is_what_savefig_prints(name, monkeypatch):
    """Printed in one draw, a chart keeps the layout ``savefig`` gives it (its first draw only lays the figure out)."""
    import io

    draw = (CASES | EMPTY)[name]

    def saved(fig) -> bytes:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=charts.DPI, metadata={"Software": None})
        return buf.getvalue()

    printed = draw()
    monkeypatch.setattr(charts, "_png", saved)
    assert draw() == printed


@pytest.mark.parametrize(
    "draw,args",
    [
        (charts.risk_levels_by_township, ([],)),
        (charts.rule_hits_by_rule, ([],)),
        (charts.cases_by_state_over_time, ([], ("待排查",))),
        (charts.calibration, ([],)),
        (charts.new_warnings_by_township, ([], "上一交付日期（无）")),
        (charts.new_warnings_by_township, ([("锡尼镇", 0, 0)], "上一交付日期（无）")),
        (charts.cases_by_state_over_time, ([(DAYS[0], "待排查", 3)], ("待排查",))),  # one day: bars, not an area
    ],
)
def test_empty_or_single_day_inputs_still_draw(draw, args):
    _size(draw(*args))


def test_markdown_image_embeds_the_png():
    png = charts.rule_hits_by_rule([("INC-LOW", 1, 2)])
    md = charts.markdown_image(png, "各规则命中户数")
    assert md.startswith("![各规则命中户数](data:image/png;base64,")
    assert base64.b64decode(md.split(",", 1)[1].rstrip(")")) == png


def test_chart_md_reports_a_failed_chart_instead_of_raising():
    def broken(rows):
        raise ValueError("boom")

    assert "图表生成失败" in charts.chart_md(broken, [], alt="x")


def test_cjk_font_is_used_when_installed():
    require_installed(Path(FONT_CANDIDATES[0]), "fonts-wqy-microhei is not installed (make test installs it)")
    assert charts._font_family()[0] == "WenQuanYi Micro Hei"
