"""Plot primitives: pure functions from numbers to inline SVG text (no scripts, no external resources).

Every chart is a standalone ``<svg>`` element with a ``viewBox`` (it scales with the page), a ``<title>`` and an
``aria-label``, a legend when it draws more than one series, and axis ticks at "nice" numbers. Text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

from apigate.metrics import percentile

__all__ = [
    "BASELINE",
    "CURRENT",
    "FAILURE",
    "PASS",
    "Series",
    "cdf_chart",
    "grouped_bars",
    "histogram",
    "line_chart",
    "nice_ticks",
]

CURRENT: Final = "#2563eb"
BASELINE: Final = "#9ca3af"
FAILURE: Final = "#dc2626"
PASS: Final = "#16a34a"
_AXIS: Final = "#6b7280"
_GRID: Final = "#e5e7eb"
_FONT: Final = "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\""


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str = CURRENT


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` evenly spaced round numbers covering [low, high] (1, 2, 2.5 or 5 times a power of ten)."""
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValueError("ticks need finite bounds")
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _c(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str) -> list[str]:
    t = escape(title)
    return [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{t}" class="chart" {_FONT} font-size="11">',
        f"<title>{t}</title>",
        f'<text x="8" y="16" font-size="13" font-weight="600" fill="#111827">{t}</text>',
    ]


def _legend(series: Sequence[tuple[str, str]], width: int, y: float = 14) -> list[str]:
    if len(series) < 2:
        return []
    out = []
    x = float(width - 8)
    for name, color in reversed(series):
        text_w = 6.2 * len(name)
        x -= text_w
        out.append(f'<text x="{_c(x)}" y="{_c(y + 4)}" fill="#374151">{escape(name)}</text>')
        x -= 14
        out.append(f'<rect x="{_c(x)}" y="{_c(y - 5)}" width="10" height="10" rx="2" fill="{color}"/>')
        x -= 12
    return out


def _y_axis(ticks: Sequence[float], scale_y: float, y0: float, left: float, right: float, unit: str) -> list[str]:
    out = []
    lo = ticks[0]
    for tick in ticks:
        y = y0 - (tick - lo) * scale_y
        out.append(f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(y)}" y2="{_c(y)}" stroke="{_GRID}"/>')
        out.append(f'<text x="{_c(left - 4)}" y="{_c(y + 3.5)}" text-anchor="end" fill="{_AXIS}">{_fmt(tick)}</text>')
    if unit:
        out.append(f'<text x="{_c(left - 4)}" y="{_c(y0 - (ticks[-1] - lo) * scale_y - 8)}" text-anchor="end" '
                   f'fill="{_AXIS}">{escape(unit)}</text>')
    return out


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "ms",
    width: int = 360,
    height: int = 220,
) -> str:
    """Bars per category (e.g. p50/p90/p95/p99), one bar per series side by side, value on top of each bar."""
    left, right, top, bottom = 46.0, width - 10.0, 52.0, height - 24.0
    values = [v for s in series for v in s.values if math.isfinite(v)]
    ticks = nice_ticks(0.0, max(values, default=1.0) * 1.12 or 1.0, 4)
    scale = (bottom - top) / (ticks[-1] - ticks[0])
    out = _open(width, height, title) + _legend([(s.name, s.color) for s in series], width, y=32)
    out += _y_axis(ticks, scale, bottom, left, right, unit)
    group = (right - left) / max(len(categories), 1)
    bar = group * 0.72 / max(len(series), 1)
    for i, category in enumerate(categories):
        gx = left + i * group + group * 0.14
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else math.nan
            x = gx + j * bar
            if not math.isfinite(value):
                continue
            h = max(value * scale, 0.5)
            out.append(f'<rect x="{_c(x)}" y="{_c(bottom - h)}" width="{_c(bar - 2)}" height="{_c(h)}" rx="1.5" '
                       f'fill="{s.color}"><title>{escape(s.name)} {escape(category)}: {_fmt(value)} {escape(unit)}'
                       "</title></rect>")
            out.append(f'<text x="{_c(x + (bar - 2) / 2)}" y="{_c(bottom - h - 3)}" text-anchor="middle" '
                       f'font-size="10" fill="#111827">{_fmt(value)}</text>')
        out.append(f'<text x="{_c(left + (i + 0.5) * group)}" y="{_c(bottom + 15)}" text-anchor="middle" '
                   f'fill="#374151">{escape(category)}</text>')
    out.append(f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(bottom)}" y2="{_c(bottom)}" stroke="{_AXIS}"/>')
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    title: str,
    bars: Series | None = None,
    x_label: str = "",
    unit: str = "",
    x_tick_labels: Sequence[str] | None = None,
    point_colors: Sequence[str] | None = None,
    marks: Sequence[tuple[float, str]] = (),
    limits: Sequence[tuple[float, str]] = (),
    mark_color: str = "#6b7280",
    width: int = 720,
    height: int = 240,
) -> str:
    """Lines over ``xs`` (optionally with dots coloured by ``point_colors``) and optional bars (e.g. failures/s).

    ``marks``: dashed vertical lines at x with a label (phase boundaries, the capacity); ``limits``: dashed
    horizontal lines at y with a label (an SLO's limit), drawn in red.
    """
    left, right, top, bottom = 52.0, width - 12.0, 40.0, height - (40.0 if x_label else 26.0)
    all_y = [v for s in [*series, *([bars] if bars else [])] for v in s.values if math.isfinite(v)]
    all_y += [y for y, _ in limits if math.isfinite(y)]
    ticks = nice_ticks(0.0, max(all_y, default=1.0) * 1.08 or 1.0, 4)
    scale_y = (bottom - top) / (ticks[-1] - ticks[0])
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    scale_x = (right - left) / (x_hi - x_lo)

    def px(x: float) -> float:
        return left + (x - x_lo) * scale_x

    def py(y: float) -> float:
        return bottom - (y - ticks[0]) * scale_y

    legend = [(s.name, s.color) for s in series] + ([(bars.name, bars.color)] if bars else [])
    out = _open(width, height, title) + _legend(legend, width)
    out += _y_axis(ticks, scale_y, bottom, left, right, unit)
    for k, (x, label) in enumerate(marks):
        if x_lo <= x <= x_hi:
            out.append(f'<line x1="{_c(px(x))}" x2="{_c(px(x))}" y1="{_c(top - 4)}" y2="{_c(bottom)}" '
                       f'stroke="{mark_color}" stroke-width="1.2" stroke-dasharray="4 3"/>')
            if label:
                out.append(f'<text x="{_c(px(x) + 3)}" y="{_c(top + 8 + 11 * (k % 2))}" font-size="10" '
                           f'fill="{mark_color}">{escape(label)}</text>')
    for y, label in limits:
        if math.isfinite(y):
            out.append(f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(py(y))}" y2="{_c(py(y))}" stroke="{FAILURE}" '
                       'stroke-width="1.2" stroke-dasharray="6 3"/>')
            out.append(f'<text x="{_c(right - 4)}" y="{_c(py(y) - 4)}" text-anchor="end" font-size="10" '
                       f'fill="{FAILURE}">{escape(label)}</text>')
    if bars is not None:
        bar_w = max(min(scale_x * 0.8, 24.0), 1.5)
        for x, y in zip(xs, bars.values, strict=False):
            if y > 0:
                h = max(y * scale_y, 1.5)
                out.append(f'<rect x="{_c(px(x) - bar_w / 2)}" y="{_c(bottom - h)}" width="{_c(bar_w)}" '
                           f'height="{_c(h)}" fill="{bars.color}" opacity="0.85"><title>{escape(bars.name)}: '
                           f"{_fmt(y)}</title></rect>")
    for s in series:
        points = [(px(x), py(y)) for x, y in zip(xs, s.values, strict=False) if math.isfinite(y)]
        if len(points) > 1:
            path = " ".join(f"{_c(x)},{_c(y)}" for x, y in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2" '
                       'stroke-linejoin="round"/>')
        if point_colors is not None or len(points) <= 40:
            for k, (x, y) in enumerate(points):
                color = point_colors[k] if point_colors is not None and k < len(point_colors) else s.color
                out.append(f'<circle cx="{_c(x)}" cy="{_c(y)}" r="3.2" fill="{color}" stroke="white" '
                           'stroke-width="1"/>')
    # x axis: labelled ticks
    if x_tick_labels is not None:
        step = max(1, math.ceil(len(xs) / 10))
        for k in range(0, len(xs), step):
            label = x_tick_labels[k] if k < len(x_tick_labels) else ""
            out.append(f'<text x="{_c(px(xs[k]))}" y="{_c(bottom + 15)}" text-anchor="middle" '
                       f'fill="{_AXIS}">{escape(label)}</text>')
    else:
        for tick in nice_ticks(x_lo, x_hi, 8):
            if x_lo <= tick <= x_hi:
                out.append(f'<text x="{_c(px(tick))}" y="{_c(bottom + 15)}" text-anchor="middle" '
                           f'fill="{_AXIS}">{_fmt(tick)}</text>')
    out.append(f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(bottom)}" y2="{_c(bottom)}" stroke="{_AXIS}"/>')
    if x_label:
        out.append(f'<text x="{_c((left + right) / 2)}" y="{_c(height - 6)}" text-anchor="middle" '
                   f'fill="#374151">{escape(x_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def histogram(
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "ms",
    bins: int = 40,
    markers: Sequence[tuple[str, float, str]] = (),
    width: int = 720,
    height: int = 260,
) -> str:
    """Overlaid histograms (share of samples per bin) over [min, p99.5] of all series; outliers are counted in a note."""
    left, right, top, bottom = 52.0, width - 12.0, 40.0, height - 40.0
    data = [sorted(v for v in s.values if math.isfinite(v)) for s in series]
    everything = sorted(v for d in data for v in d)
    out = _open(width, height, title) + _legend([(s.name, s.color) for s in series], width)
    if not everything:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{_AXIS}">no samples</text>')
        return "\n".join([*out, "</svg>"])
    lo = everything[0]
    hi = max(percentile(d, 0.995) for d in data if d)
    if hi <= lo:
        hi = lo + 1.0
    x_ticks = [t for t in nice_ticks(lo, hi, 8)]
    lo, hi = min(lo, x_ticks[0]), max(hi, x_ticks[-1])
    width_bin = (hi - lo) / bins
    shares: list[list[float]] = []
    hidden = 0
    for d in data:
        counts = [0] * bins
        for v in d:
            if v > hi:
                hidden += 1
                continue
            counts[min(int((v - lo) / width_bin), bins - 1)] += 1
        shares.append([c / len(d) * 100 if d else 0.0 for c in counts])
    ticks = nice_ticks(0.0, max(max(s) for s in shares) * 1.1 or 1.0, 4)
    scale_y = (bottom - top) / (ticks[-1] - ticks[0])
    scale_x = (right - left) / (hi - lo)
    out += _y_axis(ticks, scale_y, bottom, left, right, "%")
    for s, share in zip(series, shares, strict=True):
        opacity = "0.55" if len(series) > 1 else "0.85"
        for b, value in enumerate(share):
            if value <= 0:
                continue
            x = left + b * width_bin * scale_x
            h = max(value * scale_y, 0.8)
            out.append(f'<rect x="{_c(x)}" y="{_c(bottom - h)}" width="{_c(max(width_bin * scale_x - 1, 1))}" '
                       f'height="{_c(h)}" fill="{s.color}" opacity="{opacity}"/>')
    for k, (label, value, color) in enumerate(markers):
        if lo <= value <= hi:
            x = left + (value - lo) * scale_x
            out.append(f'<line x1="{_c(x)}" x2="{_c(x)}" y1="{_c(top)}" y2="{_c(bottom)}" stroke="{color}" '
                       'stroke-width="1.5" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{_c(x + 3)}" y="{_c(top + 10 + 12 * k)}" fill="{color}" font-size="10">'
                       f"{escape(label)}</text>")
    for tick in x_ticks:
        x = left + (tick - lo) * scale_x
        out.append(f'<text x="{_c(x)}" y="{_c(bottom + 15)}" text-anchor="middle" fill="{_AXIS}">{_fmt(tick)}</text>')
    out.append(f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(bottom)}" y2="{_c(bottom)}" stroke="{_AXIS}"/>')
    note = f" ({hidden} samples above {_fmt(hi)} {unit} not drawn)" if hidden else ""
    out.append(f'<text x="{_c((left + right) / 2)}" y="{_c(height - 6)}" text-anchor="middle" fill="#374151">'
               f"{escape(unit)}{escape(note)}</text>")
    out.append("</svg>")
    return "\n".join(out)


def cdf_chart(
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "ms",
    points: int = 300,
    width: int = 720,
    height: int = 240,
) -> str:
    """Empirical CDFs (share of samples at or below x), x up to the largest p99.5 of the series."""
    left, right, top, bottom = 52.0, width - 12.0, 40.0, height - 40.0
    data = [sorted(v for v in s.values if math.isfinite(v)) for s in series]
    out = _open(width, height, title) + _legend([(s.name, s.color) for s in series], width)
    nonempty = [d for d in data if d]
    if not nonempty:
        return "\n".join([*out, "</svg>"])
    lo = min(d[0] for d in nonempty)
    hi = max(percentile(d, 0.995) for d in nonempty)
    x_ticks = nice_ticks(lo, hi if hi > lo else lo + 1, 8)
    lo, hi = x_ticks[0], x_ticks[-1]
    scale_x = (right - left) / (hi - lo)
    scale_y = (bottom - top) / 100.0
    out += _y_axis([0, 25, 50, 75, 100], scale_y, bottom, left, right, "%")
    for s, d in zip(series, data, strict=True):
        if not d:
            continue
        coords = []
        for k in range(points + 1):
            q = k / points
            x = min(percentile(d, q), hi)
            coords.append(f"{_c(left + (x - lo) * scale_x)},{_c(bottom - q * 100 * scale_y)}")
        out.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{s.color}" stroke-width="2"/>')
    for tick in x_ticks:
        x = left + (tick - lo) * scale_x
        out.append(f'<text x="{_c(x)}" y="{_c(bottom + 15)}" text-anchor="middle" fill="{_AXIS}">{_fmt(tick)}</text>')
    out.append(f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(bottom)}" y2="{_c(bottom)}" stroke="{_AXIS}"/>')
    out.append(f'<text x="{_c((left + right) / 2)}" y="{_c(height - 6)}" text-anchor="middle" fill="#374151">'
               f"{escape(unit)}</text>")
    out.append("</svg>")
    return "\n".join(out)
