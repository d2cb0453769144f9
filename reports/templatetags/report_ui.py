"""Small pieces of the scorecard pages' look: status badges, values with
their unit, month parameters."""

from __future__ import annotations

import datetime
from decimal import Decimal
from html import escape as escape_html

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from agreements import periods
from reports.charts import format_value, trend_chart
from reports.scoring import Status
from reports.selectors.records import duration_text, minutes_text

register = template.Library()


@register.simple_tag
def score_status(status: str | None, extra: str = "") -> SafeString:
    """A status as a badge: its colour, its icon and its words, never the
    colour alone (``reports.scoring.Status``)."""
    status = status if status in Status.LABELS else Status.NO_DATA
    return format_html(
        '<span class="badge sp-score sp-score-{} {}" data-status="{}" title="{}">'
        '<span class="sp-icon" aria-hidden="true">{}</span> {}</span>',
        status,
        extra,
        status,
        Status.MEANINGS[status],
        Status.ICONS[status],
        Status.LABELS[status],
    )


@register.filter
def status_label(status: str | None) -> str:
    return Status.LABELS.get(status or Status.NO_DATA, "")


@register.simple_tag
def status_legend(live: bool = False, final: bool = True) -> SafeString:
    """Swatches for the words a page shows: a finished month's (``final``)
    and a running or closing month's (``live``), each with its meaning."""
    keys = [*(Status.FINAL if final else ()), *(Status.LIVE if live else ())]
    return format_html_join(
        "",
        '<span title="{}"><span class="sp-swatch sp-swatch-{}">'
        '<span aria-hidden="true">{}</span></span>{}</span>',
        ((Status.MEANINGS[k], k, Status.ICONS[k], Status.LABELS[k]) for k in keys),
    )


@register.simple_tag
def status_css() -> SafeString:
    """The status colours as CSS rules, for the printable scorecard and the
    PDF, which carry their own stylesheet."""
    return format_html_join(
        "\n",
        ".sp-score-{0}, .sp-swatch-{0} {{ background: {1}; color: {2}; }}",
        ((k, Status.COLOURS[k], Status.INK[k]) for k in Status.ALL),
    )


@register.filter
def due_text(month: datetime.date | None) -> str:
    """“Sun 3 Jan 2027, end of day”: the deadline, one wording everywhere."""
    return periods.due_text(month) if month else ""


@register.filter
def month_param(month: datetime.date | None) -> str:
    """The ``?month=`` form of a month: 2026-01."""
    return periods.format_month(month) if month else ""


@register.filter
def month_name(month: datetime.date | None) -> str:
    return periods.month_label(month) if month else ""


@register.filter
def value(amount: Decimal | None, unit: str = "") -> str:
    """220, 99.5 %, 2.5 h; a dash for no figure."""
    return format_value(amount, unit)


@register.filter
def percent(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    return f"{format_value(amount)} %"


@register.filter
def business_time(value: datetime.timedelta | None) -> str:
    """“2 h 05 min”: a request's business time, to the minute."""
    return duration_text(value)


@register.filter
def minutes(value: Decimal | None) -> str:
    return "—" if value is None else minutes_text(value)


@register.simple_tag
def trend_svg(trend, selected: datetime.date | None = None) -> SafeString:
    """The 12-month chart of one objective (``selectors.Trend``)."""
    return trend_chart(
        trend.points,
        unit=trend.objective.unit,
        label=f"{trend.name}: actual against target by month",
        selected=selected,
    )


@register.simple_tag
def heat_cells(row) -> SafeString:
    """The cells of one heat-map row: per month, a square in the status colour
    with its icon, linking to that month's scorecard, or a blank when not in
    force. Built here rather than in the template, and escaped with the
    standard library's ``html.escape`` (what Django's ``escape`` calls)
    rather than ``format_html``: a page has hundreds of cells."""
    title = escape_html(row.agreement.title)
    urls: dict[int, str] = {}
    cells = []
    for cell in row.cells:
        if cell is None:
            cells.append(
                '<td class="sp-cell sp-cell-none" data-status="none" '
                f'title="{title}: not in force">'
                '<span aria-hidden="true">–</span>'
                '<span class="visually-hidden">not in force</span></td>'
            )
            continue
        pk = cell.agreement.pk
        if pk not in urls:
            urls[pk] = escape_html(reverse("reports:scorecard", args=[pk]))
        month = escape_html(periods.month_label(cell.month))
        status = escape_html(cell.status)
        label = escape_html(Status.LABELS[cell.status])
        state = escape_html(cell.state_label.lower())
        # Striped, and said: a running or closing month is not final.
        live, so_far = (
            (" sp-cell-live", f", so far ({state})") if cell.live else ("", "")
        )
        cells.append(
            f'<td class="sp-cell sp-cell-{status}{live}" data-status="{status}">'
            f'<a href="{urls[pk]}?month={periods.format_month(cell.month)}" '
            f'title="{title}, {month}: {label} · {escape_html(cell.headline)} '
            f'({state})">'
            f'<span class="sp-icon" aria-hidden="true">'
            f"{escape_html(Status.ICONS[cell.status])}</span>"
            f'<span class="visually-hidden">{month}: {label}{so_far}</span></a></td>'
        )
    return mark_safe("".join(cells))  # noqa: S308 - each part is escaped above


@register.filter
def get(mapping: dict, key):
    """``{{ urls|get:objective.pk }}``: a value of a dict built by the view."""
    return mapping.get(key, "") if mapping else ""
