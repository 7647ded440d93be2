"""Charts for the Dagster UI: small PNGs drawn with matplotlib (Agg), embedded in Markdown metadata.

Plain functions: each takes rows (tuples from the warehouse, no personal data) and returns PNG bytes;
``markdown_image`` wraps them as ``![..](data:image/png;base64,...)`` for ``MetadataValue.md``. Labels are Chinese,
drawn with Debian's WenQuanYi Micro Hei (fonts-wqy-microhei) when present. Output is deterministic: fixed size and
dpi, no timestamp or software tag in the PNG, rows sorted before drawing. matplotlib is imported inside the
functions only, so loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections import defaultdict
from contextlib import contextmanager
from datetime import date

from fangfanpin.core.fonts import FontMissing, find_font  # the font the village notices embed

FALLBACK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei")
DPI = 100
SIZE = (7.2, 3.6)  # inches: 720 × 360 px
LEVEL_COLOURS = {"高": "#c0392b", "中": "#e67e22", "低": "#27ae60"}
PALETTE = (
    "#2e86c1",
    "#e67e22",
    "#c0392b",
    "#8e44ad",
    "#16a085",
    "#7f8c8d",
    "#d4ac0d",
    "#1abc9c",
    "#34495e",
    "#e74c3c",
    "#5dade2",
    "#a569bd",
)
_family: list[str] | None = None


def _font_family() -> list[str]:
    """Register the CJK font once; fall back to any installed CJK family, then to matplotlib's default."""
    global _family
    if _family is None:
        from matplotlib import font_manager

        family: list[str] = []
        try:
            font = str(find_font())
            font_manager.fontManager.addfont(font)
            family.append(font_manager.FontProperties(fname=font).get_name())
        except (FontMissing, OSError, RuntimeError, ValueError):
            pass
        installed = {f.name for f in font_manager.fontManager.ttflist}
        family += [name for name in FALLBACK_FAMILIES if name in installed]
        _family = family + ["DejaVu Sans"]
    return _family


@contextmanager
def _figure(size: tuple[float, float] = SIZE):
    """A matplotlib Figure (no pyplot, no global state) with the CJK font; yields (figure, axes)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rc = {
        "font.family": _font_family(),
        "axes.unicode_minus": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")  # no CJK font at all: boxes, not a crash
        fig = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig, fig.add_subplot()


def _png(fig) -> bytes:
    """The figure as ``savefig`` prints it, byte for byte, drawn once: ``savefig`` draws a layout engine's figure a
    first time only to lay it out, which the one draw of printing does as well. The same bytes while no matplotlibrc
    sets ``savefig.*`` (which printing does not read)."""
    buf = io.BytesIO()
    fig.canvas.print_png(buf, metadata={"Software": None})
    return buf.getvalue()


def _empty(ax, title: str, note: str = "暂无数据") -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=12, color="#7f8c8d", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def _label_bars(ax, bars, totals: list[float]) -> None:
    for bar, total in zip(bars, totals):
        ax.text(
            bar.get_x() + bar.get_width() + max(totals) * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{total:,.0f}",
            va="center",
            fontsize=8,
        )


def risk_levels_by_township(rows: list[tuple], title: str = "各乡镇风险等级（户数）") -> bytes:
    """rows: (township, risk_level, households). Horizontal bars per township, stacked 高/中 (低 left out: it is
    nearly everyone, and is given as a count in the labels)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for township, level, n in rows:
        counts[township or "（未知乡镇）"][level] += int(n or 0)
    with _figure((SIZE[0], max(2.4, 0.9 + 0.32 * len(counts)))) as (fig, ax):
        towns = sorted(counts, key=lambda t: (counts[t]["高"] + counts[t]["中"], t))
        if not any(counts[t]["高"] + counts[t]["中"] for t in towns):
            _empty(ax, title, "今日无高、中风险户")
            return _png(fig)
        left = [0] * len(towns)
        for level in ("高", "中"):
            values = [counts[t][level] for t in towns]
            ax.barh(towns, values, left=left, color=LEVEL_COLOURS[level], label=f"{level}风险")
            left = [a + b for a, b in zip(left, values)]
        for i, t in enumerate(towns):
            ax.text(
                left[i] + max(left) * 0.01, i, f"{left[i]:,}（低风险 {counts[t]['低']:,}）", va="center", fontsize=8
            )
        ax.set_xlim(0, max(left) * 1.35)
        ax.set_xlabel("户数")
        ax.set_title(title)
        ax.legend(loc="lower right", frameon=False)
        return _png(fig)


def rule_hits_by_rule(rows: list[tuple], title: str = "各规则命中户数") -> bytes:
    """rows: (rule_code, new_candidates, monitored). Horizontal bars per rule, stacked 新增候选 / 已监测户."""
    data = sorted(((code, int(new or 0), int(mon or 0)) for code, new, mon in rows), key=lambda r: (r[1] + r[2], r[0]))
    with _figure((SIZE[0], max(2.4, 0.9 + 0.3 * len(data)))) as (fig, ax):
        if not data:
            _empty(ax, title, "今日无规则命中")
            return _png(fig)
        codes = [r[0] for r in data]
        ax.barh(codes, [r[1] for r in data], color=PALETTE[1], label="新增候选")
        bars = ax.barh(codes, [r[2] for r in data], left=[r[1] for r in data], color=PALETTE[0], label="已监测户")
        totals = [r[1] + r[2] for r in data]
        _label_bars(ax, bars, totals)
        ax.set_xlim(0, max(max(totals), 1) * 1.15)
        ax.set_xlabel("命中户数")
        ax.set_title(title)
        ax.legend(loc="lower right", frameon=False)
        return _png(fig)


def new_warnings_by_township(rows: list[tuple], previous: str, title: str = "各乡镇新增预警户数") -> bytes:
    """rows: (township, today, previous). Horizontal bars per township: today's new warnings, below them (grey) the
    previous delivery date's, named by ``previous`` (e.g. 上一交付日期（11-19）); each labelled with today's count and
    the change."""
    from matplotlib.ticker import MaxNLocator

    data = sorted(
        ((t or "（未知乡镇）", int(a or 0), int(b or 0)) for t, a, b in rows), key=lambda r: (r[1], r[2], r[0])
    )
    with _figure((SIZE[0], max(2.4, 0.9 + 0.36 * len(data)))) as (fig, ax):
        if not any(r[1] or r[2] for r in data):
            _empty(ax, title, "今日和上一交付日期均无新增预警")
            return _png(fig)
        y = list(range(len(data)))
        bars = ax.barh([i + 0.2 for i in y], [r[1] for r in data], height=0.4, color=PALETTE[1], label="今日")
        ax.barh([i - 0.2 for i in y], [r[2] for r in data], height=0.4, color="#bdc3c7", label=previous)
        top = max(max(max(r[1], r[2]) for r in data), 1)
        for bar, (_, today, before) in zip(bars, data):
            ax.text(
                max(today, before) + top * 0.01,
                bar.get_y() + bar.get_height() / 2,
                f"{today:,}（{today - before:+,}）",
                va="center",
                fontsize=8,
            )
        ax.set_yticks(y, [r[0] for r in data])
        ax.set_xlim(0, top * 1.2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # households
        ax.set_xlabel("新增预警户数")
        ax.set_title(title)
        ax.legend(loc="lower right", frameon=False)
        return _png(fig)


def cases_by_state_over_time(
    rows: list[tuple], states: list[str] | tuple[str, ...], title: str = "进行中的案件（按状态）"
) -> bytes:
    """rows: (as_of_date, case_status, cases). A stacked area per state in ``states`` (in that order) over the dates."""
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for day, state, n in rows:
        if state in states:
            by_day[day][state] = int(n or 0)
    days = sorted(by_day)
    with _figure() as (fig, ax):
        present = [s for s in states if any(by_day[d].get(s) for d in days)]
        if not days or not present:
            _empty(ax, title, "暂无进行中的案件")
            return _png(fig)
        series = [[by_day[d].get(s, 0) for d in days] for s in present]
        if len(days) == 1:
            ax.bar([s for s in present], [v[0] for v in series], color=PALETTE[: len(present)])
            ax.set_title(f"{title}（{days[0].isoformat()}）")
            ax.set_ylabel("案件数")
            return _png(fig)
        ax.stackplot(
            days, series, labels=present, colors=[PALETTE[i % len(PALETTE)] for i in range(len(present))], alpha=0.9
        )
        ax.set_ylabel("案件数")
        ax.set_title(title)
        ax.set_xlim(days[0], days[-1])
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
        return _png(fig)


def calibration(bins: list[dict], title: str = "校准图（验证窗口）") -> bytes:
    """bins: {"predicted", "observed", "n"}: mean predicted probability against the observed share, with the diagonal."""
    with _figure((4.4, 4.0)) as (fig, ax):
        if not bins:
            _empty(ax, title)
            return _png(fig)
        top = min(1.0, max([b["predicted"] for b in bins] + [b["observed"] for b in bins] + [0.05]) * 1.1)
        ax.plot([0, top], [0, top], linestyle="--", color="#999999", label="完全校准")
        ax.plot(
            [b["predicted"] for b in bins],
            [b["observed"] for b in bins],
            marker="o",
            color=LEVEL_COLOURS["高"],
            label="模型",
        )
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("预测概率（分组均值）")
        ax.set_ylabel("实际比例")
        ax.set_title(title)
        ax.legend(loc="upper left", frameon=False)
        return _png(fig)


def chart_md(draw, *args, alt: str) -> str:
    """Markdown with the chart drawn by ``draw(*args)``; a chart that fails to draw must not fail the asset."""
    try:
        return markdown_image(draw(*args), alt)
    except Exception as error:  # noqa: BLE001 - reported in the UI instead
        return f"（图表生成失败：{type(error).__name__}）"
