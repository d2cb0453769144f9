"""Trend charts drawn server-side as SVG: they work in pages, in print and in
the PDF (WeasyPrint renders inline SVG) without JavaScript.

Every piece of user text goes through ``format_html``/``format_html_join``;
the result is safe to put in a template as is.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agreements.models import Objective

from .scoring import Status

# SVG attributes and the PDF need the status colours as values.
STATUS_COLOURS = Status.COLOURS
ACTUAL_LINE = "#1f5f8b"
TARGET_LINE = "#495057"
GRID = "#e3e7ed"
LABEL = "#6c757d"
HIGHLIGHT = "#eef4f9"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif"

WIDTH = 560
HEIGHT = 190
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 12, 34


def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, STATUS_COLOURS[Status.NO_DATA])


@dataclass(frozen=True)
class TrendPoint:
    """One month of an objective. ``status`` is None when no version of the
    agreement was in force that month (nothing to draw)."""

    month: datetime.date
    target: Decimal | None = None
    actual: Decimal | None = None
    status: str | None = None
    live: bool = False
    projected: Decimal | None = None


def format_value(value: Decimal | float | None, unit: str = "") -> str:
    """220 → "220", 99.50 → "99.5", 2.25 hours → "2.3 hours"."""
    if value is None:
        return "—"
    number = Decimal(str(value)).quantize(Decimal("0.1"))
    text = f"{number.normalize():f}" if number else "0"
    if unit == Objective.Unit.PERCENT:
        return f"{text} %"
    if unit == Objective.Unit.HOURS:
        return f"{text} h"
    return text


def _nice_step(span: float, count: int) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def scale(values: Sequence[float]) -> tuple[float, float, list[float]]:
    """The y range and its gridlines. Counts start at zero, which is honest
    for them; values bunched far from zero (uptime 98–99.5 %) get a zoomed
    range, or every point would sit on one line."""
    lo, hi = min(values), max(values)
    if lo >= 0 and lo <= hi / 2:
        lo = 0.0
    elif hi > lo:
        lo -= (hi - lo) * 0.4
    if hi == lo:  # one value, or all equal: give it room, never divide by zero
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = (max(lo - pad, 0.0) if lo >= 0 else lo - pad), hi + pad
    step = _nice_step(hi - lo, 4)
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step
    ticks = [lo + i * step for i in range(round((hi - lo) / step) + 1)]
    return lo, hi, ticks


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _tick_label(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _month_label(month: datetime.date, first: bool) -> tuple[str, str]:
    return f"{month:%b}", (f"{month:%Y}" if first or month.month == 1 else "")


def _describe(point: TrendPoint, unit: str) -> str:
    label = Status.LABELS.get(point.status or "", "")
    if point.actual is None:
        return f"{point.month:%B %Y}: no figures yet ({label})"
    text = (
        f"{point.month:%B %Y}: {format_value(point.actual, unit)} "
        f"(target {format_value(point.target, unit)}), {label}"
    )
    if point.live:
        text += ", so far"
        if point.projected is not None:
            text += f"; at current pace {format_value(point.projected, unit)}"
    return text


def _segments(coords: list[tuple[float, float] | None]) -> list[str]:
    """Polyline point lists, broken where a month has no value."""
    runs, current = [], []
    for coord in coords:
        if coord is None:
            if len(current) > 1:
                runs.append(" ".join(f"{_n(x)},{_n(y)}" for x, y in current))
            current = []
        else:
            current.append(coord)
    if len(current) > 1:
        runs.append(" ".join(f"{_n(x)},{_n(y)}" for x, y in current))
    return runs


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    unit: str = "",
    label: str = "",
    selected: datetime.date | None = None,
) -> SafeString:
    """Actual against target over the months of ``points``, oldest first:
    the target as a dashed step line, the actuals as a line with a dot per
    month coloured by its status (hollow while the month is live)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    values = [
        float(v)
        for p in points
        for v in (p.actual, p.target)
        if v is not None and p.status is not None
    ]
    if not values:
        return format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} 60" '
            'width="{w}" height="60" role="img" aria-label="{label}" '
            'class="sp-trend" font-family="{font}" style="max-width:100%;'
            'height:auto"><rect x="0.5" y="0.5" width="{rw}" height="59" '
            'fill="#fafbfc" stroke="{grid}"/><text x="{cx}" y="35" '
            'text-anchor="middle" font-size="13" fill="{muted}">'
            "No figures in these months</text></svg>",
            w=WIDTH,
            rw=WIDTH - 1,
            cx=WIDTH // 2,
            label=f"{label}: no figures in these months",
            font=FONT,
            grid=GRID,
            muted=LABEL,
        )
    lo, hi, ticks = scale(values)

    def x(i: int) -> float:
        return LEFT + (i + 0.5) * slot

    def y(value: Decimal | float) -> float:
        return TOP + plot_h - (float(value) - lo) / (hi - lo) * plot_h

    parts: list[SafeString] = []
    for i, point in enumerate(points):
        if selected is not None and point.month == selected:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    _n(LEFT + i * slot),
                    TOP,
                    _n(slot),
                    plot_h,
                    HIGHLIGHT,
                )
            )
    parts.append(
        format_html_join(
            "",
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
            '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="{}">{}'
            "</text>",
            (
                (
                    LEFT,
                    _n(y(t)),
                    WIDTH - RIGHT,
                    _n(y(t)),
                    GRID,
                    LEFT - 6,
                    _n(y(t) + 3.5),
                    LABEL,
                    _tick_label(t),
                )
                for t in ticks
            ),
        )
    )
    parts.append(
        format_html_join(
            "",
            '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">'
            '{}</text><text x="{}" y="{}" text-anchor="middle" font-size="9" '
            'fill="{}">{}</text>',
            (
                (
                    _n(x(i)),
                    HEIGHT - BOTTOM + 14,
                    LABEL,
                    _month_label(p.month, i == 0)[0],
                    _n(x(i)),
                    HEIGHT - BOTTOM + 26,
                    LABEL,
                    _month_label(p.month, i == 0)[1],
                )
                for i, p in enumerate(points)
            ),
        )
    )

    # Target: a step line, flat across each month, so a revision that changed
    # the target shows as a step where it took effect.
    steps, path = [], []
    for i, point in enumerate(points):
        if point.target is None or point.status is None:
            if path:
                steps.append(" ".join(path))
            path = []
            continue
        ty = _n(y(point.target))
        left, right = _n(LEFT + i * slot + 2), _n(LEFT + (i + 1) * slot - 2)
        path.append(f"{'M' if not path else 'L'}{left},{ty} L{right},{ty}")
    if path:
        steps.append(" ".join(path))
    parts.append(
        format_html_join(
            "",
            '<path d="{}" fill="none" stroke="{}" stroke-width="1.5" '
            'stroke-dasharray="5 4" class="sp-trend-target"/>',
            ((d, TARGET_LINE) for d in steps),
        )
    )

    # A running or closing month is "so far": drawn as a hollow dot, not
    # joined to the finished months, or a month just begun would look like a
    # collapse.
    coords = [
        (x(i), y(p.actual))
        if p.actual is not None and p.status and not p.live
        else None
        for i, p in enumerate(points)
    ]
    parts.append(
        format_html_join(
            "",
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
            'stroke-linejoin="round"/>',
            ((run, ACTUAL_LINE) for run in _segments(coords)),
        )
    )

    dots = []
    for i, point in enumerate(points):
        if point.status is None:
            continue  # not in force: nothing to say
        colour = status_colour(point.status)
        title = _describe(point, unit)
        if point.actual is None:
            # No figure: a grey mark on the axis, so a gap is visibly a gap.
            dots.append(
                format_html(
                    '<g class="sp-trend-point" data-status="{}"><title>{}</title>'
                    '<circle cx="{}" cy="{}" r="4" fill="#ffffff" stroke="{}" '
                    'stroke-width="2" stroke-dasharray="2 2"/></g>',
                    point.status,
                    title,
                    _n(x(i)),
                    _n(TOP + plot_h),
                    colour,
                )
            )
            continue
        fill, stroke = ("#ffffff", colour) if point.live else (colour, "#ffffff")
        dots.append(
            format_html(
                '<g class="sp-trend-point" data-status="{}"><title>{}</title>'
                '<circle cx="{}" cy="{}" r="5.5" fill="{}" stroke="{}" '
                'stroke-width="{}"/></g>',
                point.status,
                title,
                _n(x(i)),
                _n(y(point.actual)),
                fill,
                stroke,
                "2.5" if point.live else "1.5",
            )
        )
    parts.extend(dots)

    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-label="{label}" '
        'class="sp-trend" font-family="{font}" style="max-width:100%;'
        'height:auto">{body}</svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        font=FONT,
        body=format_html_join("", "{}", ((part,) for part in parts)),
    )
