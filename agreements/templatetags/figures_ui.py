"""Small pieces of the figures, friction and knowledge base pages' look:
month states, status badges and the trend sparkline.

Everything here builds HTML with ``format_html``: values are escaped, and only
numbers the code computed go into the SVG's attributes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agreements import periods
from agreements.models import FrictionReport, Objective
from agreements.selectors import split_correction_reason

register = template.Library()

MONTH_STATE_CLASSES = {
    periods.MonthState.RUNNING: "text-bg-success",
    periods.MonthState.CLOSING: "text-bg-warning",
    periods.MonthState.LOCKED: "text-bg-secondary",
    periods.MonthState.FUTURE: "text-bg-light border",
}


@register.filter
def month_state(month: dt.date) -> str:
    """``periods.MonthState``: running, closing, locked or future."""
    return periods.month_state(month)


@register.simple_tag
def month_badge(month: dt.date) -> SafeString:
    """The month's state in the calendar's words; a closing month says when
    its figures are due."""
    state = periods.month_state(month)
    label = periods.MonthState.LABELS[state]
    if state == periods.MonthState.CLOSING:
        label = f"{label} · figures due by {periods.due_text(month)}"
    return format_html(
        '<span class="badge {} fw-normal" data-month-state="{}">{}</span>',
        MONTH_STATE_CLASSES[state],
        state,
        label,
    )


@register.filter
def month_label(month: dt.date) -> str:
    return periods.month_label(month)


@register.filter
def month_param(month: dt.date) -> str:
    return periods.format_month(month)


STATUS_CLASSES = {
    FrictionReport.Status.NEW: "text-bg-primary",
    FrictionReport.Status.ACKNOWLEDGED: "text-bg-info",
    FrictionReport.Status.IN_PROGRESS: "text-bg-warning",
    FrictionReport.Status.RESOLVED: "text-bg-success",
    FrictionReport.Status.WONT_FIX: "text-bg-secondary",
}
SEVERITY_CLASSES = {
    FrictionReport.Severity.LOW: "text-bg-light border",
    FrictionReport.Severity.MEDIUM: "text-bg-light border border-warning",
    FrictionReport.Severity.HIGH: "text-bg-warning",
    FrictionReport.Severity.CRITICAL: "text-bg-danger",
}


@register.simple_tag
def friction_status(report: FrictionReport) -> SafeString:
    return format_html(
        '<span class="badge {} sp-status" data-status="{}">{}</span>',
        STATUS_CLASSES.get(report.status, "text-bg-secondary"),
        report.status,
        report.get_status_display(),
    )


@register.simple_tag
def severity(report: FrictionReport) -> SafeString:
    return format_html(
        '<span class="badge fw-normal {}" data-severity="{}">{}</span>',
        SEVERITY_CLASSES.get(report.severity, "text-bg-light"),
        report.severity,
        report.get_severity_display(),
    )


@register.filter
def correction_reason(text: str) -> str:
    """The reason a person gave, without the stored "correction:" prefix and
    the "(what changed)" the page lists field by field."""
    return split_correction_reason(text or "")[0]


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key)


@register.filter
def field_value(value) -> str:
    """A stored value as a person reads it: dates spelled out, decimals
    without trailing zeros."""
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    return value


@register.filter
def with_unit(value, objective: Objective) -> str:
    """``99.5`` and an uptime objective → ``"99.5 %"``; ``—`` for no value."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        value = f"{value.normalize():f}"
    suffix = {Objective.Unit.PERCENT: " %", Objective.Unit.HOURS: " h"}.get(
        objective.unit, ""
    )
    return f"{value}{suffix}"


@register.simple_tag
def sparkline(
    trend: list[tuple[dt.date, int]],
    width: int = 120,
    height: int = 28,
    peak: int | None = None,
) -> SafeString:
    """A month-by-month count as a small bar chart, oldest month first, with
    the counts spelled out for screen readers and in a tooltip. ``peak``
    shares one scale between the rows of a table, so they compare."""
    if not trend:
        return format_html("")
    peak = max(peak or 0, *(count for _, count in trend), 1)
    gap = 2
    bar = max((width - gap * (len(trend) - 1)) / len(trend), 1)
    bars = []
    for index, (month, count) in enumerate(trend):
        h = round((height - 2) * count / peak, 1) if count else 0
        bars.append(
            (
                round(index * (bar + gap), 1),
                round(height - max(h, 1), 1),
                round(bar, 1),
                max(h, 1),
                "sp-spark-bar" if count else "sp-spark-empty",
                f"{month:%b %Y}: {count}",
            )
        )
    summary = ", ".join(f"{month:%b}: {count}" for month, count in trend)
    return format_html(
        '<svg class="sp-sparkline" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="Reports per month: {}">{}</svg>',
        width,
        height,
        width,
        height,
        summary,
        format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" rx="1" class="{}">'
            "<title>{}</title></rect>",
            bars,
        ),
    )


@register.filter
def figure_cells(row, kind) -> list[tuple[str, Any]]:
    """A row's label and value for each field its kind lists."""
    return kind.fields_of(row)
