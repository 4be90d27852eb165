"""Small inline SVG charts for the oversight report: horizontal bars with their 95 % intervals.

Hand-written on purpose: the report is one self-contained file that prints well and opens
anywhere, and the runtime (the command line that writes it) carries no plotting library.
Labels are escaped; every bar also appears in a table next to the chart, for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from core import french

WIDTH = 640
LABEL_WIDTH = 230
BAR_AREA = WIDTH - LABEL_WIDTH - 70
ROW = 26
COLOURS = {"bar": "#2f6db3", "low_count": "#9db6d6", "whisker": "#1b1b1b", "grid": "#d0d0d0"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    faint: bool = False  # « effectif faible »


def bar_chart(title: str, bars: list[Bar], *, maximum: float | None = None, percent: bool = True) -> Markup:
    """A horizontal bar chart (values in [0, 1] as percentages, else counts), with interval whiskers."""
    shown = [b for b in bars if b.value is not None]
    top = maximum or max([1e-9, *(b.high or b.value or 0 for b in shown)])
    height = ROW * max(1, len(bars)) + 30
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = LABEL_WIDTH + tick * BAR_AREA
        text = french.percent(tick * top) if percent else french.number(round(tick * top))
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 24}" stroke="{COLOURS["grid"]}"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">{escape(text)}</text>')
    for i, bar in enumerate(bars):
        y = i * ROW + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" font-size="12" text-anchor="end">{escape(bar.label)}</text>'
        )
        if bar.value is None:
            parts.append(f'<text x="{LABEL_WIDTH + 4}" y="{y + 15}" font-size="11">aucune décision</text>')
            continue
        width = bar.value / top * BAR_AREA
        colour = COLOURS["low_count"] if bar.faint else COLOURS["bar"]
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{ROW - 10}" fill="{colour}"/>')
        if bar.low is not None and bar.high is not None:
            x1, x2 = LABEL_WIDTH + bar.low / top * BAR_AREA, LABEL_WIDTH + bar.high / top * BAR_AREA
            mid = y + ROW / 2 - 1
            parts.append(f'<line x1="{x1:.1f}" y1="{mid}" x2="{x2:.1f}" y2="{mid}" stroke="{COLOURS["whisker"]}"/>')
            for x in (x1, x2):
                parts.append(
                    f'<line x1="{x:.1f}" y1="{mid - 5}" x2="{x:.1f}" y2="{mid + 5}" stroke="{COLOURS["whisker"]}"/>'
                )
        text = french.percent(bar.value, 1) if percent else french.number(bar.value)
        end = LABEL_WIDTH + max(width, (bar.high or 0) / top * BAR_AREA) + 6
        parts.append(f'<text x="{end:.1f}" y="{y + 15}" font-size="11">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
