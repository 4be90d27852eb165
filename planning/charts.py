"""Small, self-contained SVG charts for the plan report (no JavaScript, no network, no matplotlib).

The report is read by the direction and by staff representatives, often printed: lines are
told apart by colour (Okabe–Ito, readable with colour-blindness) *and* dash pattern, every
chart has a title and a text description for screen readers, and numbers are French.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from html import escape

from core import french

PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES: tuple[str, ...] = ("", "6 3", "2 3", "8 3 2 3", "1 2", "4 4")
_W, _H = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 36, 64


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0]
    if high == low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _frame(title: str, description: str, body: list[str]) -> str:
    ident = "c" + hashlib.sha1((title + description).encode("utf-8")).hexdigest()[:10]  # stable across runs
    return (
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-labelledby="{ident}t {ident}d" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}t">{escape(title)}</title><desc id="{ident}d">{escape(description)}</desc>'
        f'<text x="{_LEFT}" y="20" class="chart-title">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    y_label: str,
    fmt: Callable[[float], str] = lambda v: french.number(v),
    zero_line: bool = False,
    y_range: tuple[float, float] | None = None,
) -> str:
    """One line per series over months; a description lists each series' first and last value."""
    values = [v for s in series.values() for v in _finite(s)]
    low, high = y_range if y_range else (min(values, default=0.0), max(values, default=1.0))
    if zero_line and not y_range:
        low, high = min(low, 0.0), max(high, 0.0)
    ticks = _nice_ticks(low, high)
    low, high = min(ticks[0], low), max(ticks[-1], high)
    span = (high - low) or 1.0
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    n = max(len(x_labels), 1)

    def x(i: int) -> float:
        return _LEFT + (width * i / (n - 1) if n > 1 else width / 2)

    def y(v: float) -> float:
        return _TOP + height * (1 - (v - low) / span)

    body = [
        f'<text x="12" y="{_TOP + height / 2}" class="axis-label" transform="rotate(-90 12 {_TOP + height / 2})">'
        f"{escape(y_label)}</text>"
    ]
    for tick in ticks:
        body.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>')
        body.append(
            f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">{escape(fmt(tick))}</text>'
        )
    if zero_line and low < 0 < high:
        body.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="zero"/>')
    step = max(1, math.ceil(n / 12))
    for i in range(0, n, step):
        body.append(
            f'<text x="{x(i):.1f}" y="{_TOP + height + 16}" class="tick" text-anchor="middle">'
            f"{escape(x_labels[i])}</text>"
        )
    described = []
    for k, (name, points) in enumerate(series.items()):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        path: list[str] = []
        for i, v in enumerate(points):
            if v is None or not math.isfinite(v):
                continue
            path.append(f"{'M' if not path else 'L'}{x(i):.1f},{y(v):.1f}")
        if path:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        legend_y = _H - 26 + 14 * (k // 3)
        legend_x = _LEFT + 190 * (k % 3)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{legend_x}" x2="{legend_x + 28}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        body.append(f'<text x="{legend_x + 34}" y="{legend_y}" class="legend">{escape(name)}</text>')
        finite = _finite(points)
        if finite:
            described.append(f"{name}{french.NNBSP}: de {fmt(finite[0])} à {fmt(finite[-1])}")
    return _frame(title, f"{y_label} par mois. " + f"{french.NNBSP}; ".join(described) + ".", body)


def bar_chart(
    title: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    y_label: str,
    caps: Sequence[float | None] | None = None,
    fmt: Callable[[float], str] = lambda v: french.number(v, 0),
) -> str:
    """Grouped bars (one group per modality or track, one bar per scenario), caps as dashed marks."""
    values = [v for s in series.values() for v in _finite(s)] + _finite([c for c in caps or [] if c is not None])
    ticks = _nice_ticks(0.0, max(values, default=1.0))
    high = max(ticks[-1], max(values, default=1.0))
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    n_groups, n_series = max(len(groups), 1), max(len(series), 1)
    group_w = width / n_groups
    bar_w = group_w * 0.8 / n_series

    def y(v: float) -> float:
        return _TOP + height * (1 - v / high)

    body = [
        f'<text x="12" y="{_TOP + height / 2}" class="axis-label" transform="rotate(-90 12 {_TOP + height / 2})">'
        f"{escape(y_label)}</text>"
    ]
    for tick in ticks:
        body.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>')
        body.append(
            f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">{escape(fmt(tick))}</text>'
        )
    described = []
    for g, group in enumerate(groups):
        x0 = _LEFT + g * group_w + group_w * 0.1
        body.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{_TOP + height + 16}" class="tick" text-anchor="middle">'
            f"{escape(group)}</text>"
        )
        parts = []
        for k, (name, points) in enumerate(series.items()):
            v = points[g]
            if v is None or not math.isfinite(v):
                continue
            bx = x0 + k * bar_w
            body.append(
                f'<rect x="{bx:.1f}" y="{y(v):.1f}" width="{bar_w * 0.92:.1f}" height="{_TOP + height - y(v):.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(f"{name}, {group}{french.NNBSP}: {fmt(v)}")}'
                "</title></rect>"
            )
            parts.append(f"{name} {fmt(v)}")
        cap = caps[g] if caps else None
        if cap is not None:
            body.append(
                f'<line x1="{x0 - 2:.1f}" x2="{x0 + group_w * 0.8 + 2:.1f}" y1="{y(cap):.1f}" y2="{y(cap):.1f}" '
                f'class="cap"><title>{escape(f"plafond {fmt(cap)}")}</title></line>'
            )
            parts.append(f"plafond {fmt(cap)}")
        if parts:
            described.append(f"{group}{french.NNBSP}: " + ", ".join(parts))
    for k, name in enumerate(series):
        legend_x = _LEFT + 190 * (k % 3)
        legend_y = _H - 26 + 14 * (k // 3)
        body.append(
            f'<rect x="{legend_x}" y="{legend_y - 10}" width="14" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
        )
        body.append(f'<text x="{legend_x + 20}" y="{legend_y}" class="legend">{escape(name)}</text>')
    return _frame(title, f"{y_label}. " + f"{french.NNBSP}; ".join(described) + ".", body)
