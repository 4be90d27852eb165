"""Small inline SVG charts for the oversight report: horizontal bars with their 95 % intervals.

Hand-written on purpose: the report is one self-contained file that prints well and opens
anywhere, and the runtime (the command line that writes it) carries no plotting library.
Labels are escaped; every bar also appears in a table next to the chart, for screen readers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from core import french

BAR_AREA = 340
ROW = 26
#: Labels longer than this are shortened in the chart (the table beside it has them whole).
LABEL_CHARS = 48
_CHAR_PX = 6.6  # about the width of a 12 px sans-serif character
BAR, LOW_COUNT, WHISKER, GRID = "#2f6db3", "#9db6d6", "#1b1b1b", "#d0d0d0"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    faint: bool = False  # « effectif faible »


def _nice_top(value: float, percent: bool) -> float:
    """The axis end: the next tenth for a share (at most 100 %), else the next 1, 2 or 5 times a power of ten."""
    if percent:
        return min(1.0, max(0.1, math.ceil(value * 10 - 1e-9) / 10))
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(title: str, bars: list[Bar], *, maximum: float | None = None, percent: bool = True) -> Markup:
    """A horizontal bar chart (values in [0, 1] as percentages, else counts), with interval whiskers."""
    shown = [b for b in bars if b.value is not None]
    top = maximum or _nice_top(max([0.0, *(b.high or b.value or 0 for b in shown)]), percent)
    labels = [_short(b.label) for b in bars]
    left = int(max([10, *map(len, labels)]) * _CHAR_PX) + 12  # where the bars start
    svg_width = left + BAR_AREA + 70
    height = ROW * max(1, len(bars)) + 30

    def x(value: float) -> float:
        return left + value / top * BAR_AREA

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {svg_width} {height}" width="{svg_width}" height="{height}" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    step = (0.1 if top <= 0.5 else 0.2) if percent else top / 5
    for k in range(round(top / step) + 1):
        tick = k * step
        text = french.percent(tick) if percent else french.number(round(tick, 6))
        parts.append(f'<line x1="{x(tick):.1f}" y1="0" x2="{x(tick):.1f}" y2="{height - 24}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{x(tick):.1f}" y="{height - 8}" font-size="11" text-anchor="middle">{escape(text)}</text>'
        )
    for i, (bar, label) in enumerate(zip(bars, labels, strict=True)):
        y = i * ROW + 4
        parts.append(f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>')
        if bar.value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 15}" font-size="11">aucune décision</text>')
            continue
        colour = LOW_COUNT if bar.faint else BAR
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{x(bar.value) - left:.1f}" height="{ROW - 10}" fill="{colour}"/>'
        )
        if bar.low is not None and bar.high is not None:
            mid = y + ROW / 2 - 1
            parts.append(
                f'<line x1="{x(bar.low):.1f}" y1="{mid}" x2="{x(bar.high):.1f}" y2="{mid}" stroke="{WHISKER}"/>'
            )
            for end in (x(bar.low), x(bar.high)):
                parts.append(f'<line x1="{end:.1f}" y1="{mid - 5}" x2="{end:.1f}" y2="{mid + 5}" stroke="{WHISKER}"/>')
        text = french.percent(bar.value, 1) if percent else french.number(bar.value)
        after = max(x(bar.value), x(bar.high) if bar.high is not None else 0) + 6
        parts.append(f'<text x="{after:.1f}" y="{y + 15}" font-size="11">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
