"""One card of a village task pack (deliverables/task_packs.py), drawn straight onto the canvas.

A card is a grid of four columns and ten rows: labels in grey, values in black, a grey header row, and rows whose
value spans the three right-hand columns. It prints what a platypus Table of the same cells prints with reportlab's
default cell padding, the font, size and leading of the cells' ParagraphStyle, TEXTCOLOR of the labels, GRID 0.5
black, BACKGROUND of the header row, VALIGN MIDDLE and the SPANs: the same strings at the same baselines, the same
lines in the same order, the same fill, and the same height, so the same page breaks. A Table per card, laid out and
drawn cell by cell, cost most of a pack's time; the card's layout is fixed, so it is computed once, and a card's text
is written as one text object. A cell's operators follow from the card's row heights, the cell's lines and the colour
and font subset before it, so the labels and fixed texts every card repeats are made once a document, and the grid
once a set of row heights.

This module imports reportlab at the top: task_packs imports it only when a pack is written (reportlab is a slow
import, see deliverables/pdf.py).
"""

from __future__ import annotations

from functools import lru_cache

from reportlab.lib import colors
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable

from fangfanpin.deliverables.pdf import CELL_PADDING, cell_text

WIDTHS = (26 * mm, 52 * mm, 26 * mm, 70 * mm)
ROWS = 10
SPANNED = (3, 4, 6, 7, 8, 9)  # rows whose value spans the three right-hand columns
LABELS = {(r, 0) for r in range(ROWS)} | {(0, 2), (1, 2), (2, 2), (5, 2)}  # (row, column) of the grey labels
NOTES_HEIGHT = 16 * mm  # the last row, 情况说明, is room to write by hand
LABEL_COLOUR = colors.HexColor("#333333")
HEADER_FILL = colors.HexColor("#EEEEEE")
GRID = 0.5  # line width, black, round caps and joins (a Table's GRID)
V_PADDING = 3  # a table cell's default top and bottom padding

X = [0]  # column edges, summed as a Table sums them
for _w in WIDTHS:
    X.append(X[-1] + _w)
_X = [fp_str(edge) for edge in X]
_EMPTY = ("",)  # an empty cell's lines: a Table counts one line for its height and draws nothing
_LABEL_FILL, _VALUE_FILL = (f"{fp_str(*colour.rgb())} rg" for colour in (LABEL_COLOUR, colors.black))


def cell_width(row: int, column: int) -> float:
    """The width of the cell's value: the three right-hand columns for a spanned row's value."""
    return sum(WIDTHS[1:]) if row in SPANNED and column == 1 else WIDTHS[column]


# the cells drawn, in a Table's order (row by row; a spanned value hides the two cells it covers), each with its
# width, the operator of its text colour and where its lines start
_DRAWN = [
    (r, c, cell_width(r, c), _LABEL_FILL if (r, c) in LABELS else _VALUE_FILL, fp_str(X[c] + CELL_PADDING))
    for r in range(ROWS)
    for c in range(len(WIDTHS))
    if not (r in SPANNED and c > 1)
]


class TaskCard(Flowable):
    """A card of ``rows``, ten rows of four texts, printed by ``typeset`` (one for all the cards of a document), with
    ``space_below`` empty points under it that go to the next page with it: what a KeepTogether of the card and a
    Spacer of that height does, without the copy and the three flowables it costs the frame a card."""

    def __init__(self, rows: list[list[str | tuple[str, ...]]], typeset: Typesetter, space_below: float = 0) -> None:
        super().__init__()
        self.space_below = space_below
        self.hAlign = "CENTER"  # a Table's
        self.size, self.leading, self.typeset = typeset.style.fontSize, typeset.style.leading, typeset
        # each cell's lines, or a Paragraph
        self.cells = [(r, c, fill, at, typeset.fit(rows[r][c], width)) for r, c, width, fill, at in _DRAWN]
        heights = [0] * (ROWS - 1) + [NOTES_HEIGHT]
        for r, c, _, _, lines in self.cells:
            if r < ROWS - 1:
                h = self.leading * len(lines) if isinstance(lines, tuple) else self._wrap(lines, r, c, 72000)
                heights[r] = max(heights[r], h + V_PADDING + V_PADDING)
        self.y = _edges(heights)
        self.width, self.height = X[-1], self.y[0]

    def _wrap(self, paragraph, r: int, c: int, height: float) -> float:
        """The height of a Paragraph in the cell, wrapped in the width a Table gives it."""
        right = X[-1] if r in SPANNED and c == 1 else X[c + 1]
        return paragraph.wrap(right - X[c] - CELL_PADDING - CELL_PADDING, height - V_PADDING - V_PADDING)[1]

    def wrap(self, availWidth, availHeight):  # noqa: N803 (reportlab's names)
        return self.width, self.height + self.space_below

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802 (reportlab's names)
        super().drawOn(canvas, x, y + self.space_below, _sW)

    def draw(self) -> None:
        # the glyph codes are the document's (reportlab keeps no public handle on it but the canvas's)
        canv, y, typeset = self.canv, self.y, self.typeset.for_document(self.canv._doc)
        layout = typeset.layout(y)
        canv.setFillColor(HEADER_FILL)
        canv.rect(X[0], y[0], X[-1] - X[0], y[1] - y[0], stroke=0, fill=1)
        code, subset, colour = ["BT"], -1, None
        for r, c, fill, at, lines in self.cells:
            if not isinstance(lines, tuple):  # a Paragraph, drawn where a Table draws it, in its order of the cells
                canv.addLiteral(" ".join([*code, "ET"]))
                bottom, height = y[r + 1], y[r] - y[r + 1]
                h = self._wrap(lines, r, c, height)
                lines.drawOn(canv, X[c] + CELL_PADDING, bottom + (height + V_PADDING - V_PADDING + h) / 2.0 - h)
                code, subset, colour = ["BT"], -1, None
                continue
            if lines == _EMPTY:
                continue
            key = (layout, r, c, lines, colour, subset)  # a cell's operators follow from these alone
            drawn = typeset.drawn.get(key)
            if drawn is None:
                drawn = typeset.drawn[key] = self._cell(r, fill, at, lines, colour, subset)
            text, colour, subset = drawn
            code.append(text)
        canv.addLiteral(" ".join([*code, "ET"]))
        self._grid()

    def _cell(self, r: int, fill: str, at: str, lines: tuple, colour, subset: int) -> tuple[str, str, int]:
        """The text operators of a cell's ``lines`` in row ``r``, after text drawn in ``colour`` and ``subset``; and
        the colour and subset after it."""
        code, y = [], self.y
        if fill is not colour:
            code.append(fill)
            colour = fill
        bottom, height = y[r + 1], y[r] - y[r + 1]
        baseline = bottom + (V_PADDING + height - V_PADDING + len(lines) * self.leading) / 2.0 - self.size
        for line in lines:
            code.append(f"1 0 0 1 {at} {fp_str(baseline)} Tm")
            for s, show in self.typeset.runs(line):
                if s != subset:
                    code.append(self.typeset.font(s))
                    subset = s
                code.append(show)
            code.append("T*")
            baseline -= self.leading
        return " ".join(code), colour, subset

    def _grid(self) -> None:
        """The outer box, every row's line, and the column lines except through a spanned value, drawn as a Table's
        GRID draws them: one stroke a line, in its order (its operators made once a set of row heights)."""
        canv = self.canv
        canv.setLineCap(1)
        canv.setLineJoin(1)
        canv.setStrokeColor(colors.black)
        canv.setLineWidth(GRID)
        canv.addLiteral(_grid_lines(self.y))


@lru_cache(maxsize=256)  # cards of the same row heights are ruled alike
def _grid_lines(y: tuple[float, ...]) -> str:
    """The grid's strokes on a card whose row edges are ``y``."""
    x, y = _X, [fp_str(edge) for edge in y]  # the edges as the operators write them
    lines = [(x[0], edge, x[-1], edge) for edge in (y[0], y[ROWS])]
    lines += [(edge, y[ROWS], edge, y[0]) for edge in (x[0], x[-1])]
    lines += [(x[0], edge, x[-1], edge) for edge in y[1:ROWS]]
    for c in range(1, len(WIDTHS)):
        # the runs of rows the line crosses, from the bottom; a spanned value stops it in columns 2 and 3
        run_bottom = None
        for r in range(ROWS - 1, -2, -1):
            crossed = r >= 0 and not (c > 1 and r in SPANNED)
            if crossed and run_bottom is None:
                run_bottom = y[r + 1]
            elif not crossed and run_bottom is not None:
                lines.append((x[c], run_bottom, x[c], y[r + 1]))
                run_bottom = None
    return " ".join(f"n {x0} {y0} m {x1} {y1} l S" for x0, y0, x1, y1 in lines)


class Typesetter:
    """What the cards of one document share: the ParagraphStyle ``style`` whose font, size and leading every cell
    has; the texts fitted to their cells, and the PDF text operators of their lines, each worked out once (the labels
    and fixed texts recur on every card). The operators are what reportlab's text object writes for a TrueType font,
    without its work for every string; a line's glyph codes are in the font's subsets, which are the document's."""

    def __init__(self, style) -> None:
        self.style, self.face = style, pdfmetrics.getFont(style.fontName)  # a TrueType font (pdf.register_font)
        self.size_ops = f"{fp_str(style.fontSize)} Tf {fp_str(style.leading)} TL"
        self.doc, self._runs, self._fonts, self._fitted = None, {}, {}, {}
        # a cell's operators, colour and subset after it, by what they follow from (for the document's glyph codes)
        self.drawn: dict[tuple, tuple[str, str, int]] = {}
        self._layouts: dict[tuple[float, ...], int] = {}

    def fit(self, value, width: float):
        """The text as a cell ``width`` wide prints it: a tuple of its lines, or a Paragraph
        (deliverables.pdf.cell_text); a value already a Paragraph, or already its lines, as it is."""
        if not isinstance(value, str):
            return value
        fitted = self._fitted.get((value, width))
        if fitted is None:
            fitted = cell_text(value, self.style, width)
            fitted = self._fitted[value, width] = tuple(fitted.split("\n")) if isinstance(fitted, str) else fitted
        return fitted

    def for_document(self, doc) -> Typesetter:
        if doc is not self.doc:
            self.doc, self._runs, self._fonts, self.drawn = doc, {}, {}, {}
        return self

    def layout(self, y: tuple[float, ...]) -> int:
        """A number for the row edges ``y``: cards of the same row heights draw a cell's lines alike."""
        return self._layouts.setdefault(y, len(self._layouts))

    def runs(self, line: str) -> list[tuple[int, str]]:
        """The line's runs of glyphs of one subset each: (subset, the operator showing them)."""
        runs = self._runs.get(line)
        if runs is None:
            runs = self._runs[line] = [(s, f"({escapePDF(g)}) Tj") for s, g in self.face.splitString(line, self.doc)]
        return runs

    def font(self, subset: int) -> str:
        """The operators selecting the subset's font, the size and the leading."""
        ops = self._fonts.get(subset)
        if ops is None:
            ops = self._fonts[subset] = f"{self.face.getSubsetInternalName(subset, self.doc)} {self.size_ops}"
        return ops


def _edges(heights: list[float]) -> tuple[float, ...]:
    """Row edges from the top (the card's height) down to 0, summed from the bottom as a Table sums them."""
    edges, height, c = [], 0, 0
    for h in reversed(heights):
        edges.append(height)
        step = h - c
        t = height + step
        c = (t - height) - step
        height = t
    edges.append(height)
    return tuple(edges[::-1])
