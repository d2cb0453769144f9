"""Scorecards and the dashboard as CSV, and the printable scorecard as PDF."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from agreements import periods

from .csv_cells import csv_text
from .scoring import Status
from .selectors import AgreementScorecard, Dashboard, State

SCORECARD_HEADER = [
    "month",
    "agreement",
    "version",
    "provider",
    "consumer",
    "objective",
    "comparator",
    "target",
    "unit",
    "actual",
    "attainment_percent",
    "status",
    "reported_on_time",
    "breach",
    "agreement_status",
    "objectives_met",
    "weighted_attainment_percent",
    "state",
    "due",
    "measured_from_records",
]
DASHBOARD_HEADER = [
    "agreement",
    "provider",
    "consumer",
    "month",
    "status",
    "objectives_met",
    "weighted_attainment_percent",
    "reported_on_time",
    "state",
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime.date):
        return periods.format_month(value)
    return str(value)


def scorecard_rows(page: AgreementScorecard) -> list[list[str]]:
    """One row per objective of the month's card; none when the agreement
    was not in force."""
    card = page.card
    if card is None:
        return []
    agreement = card.agreement
    return [
        [
            _cell(card.month),
            csv_text(agreement.title),
            _cell(agreement.version),
            csv_text(agreement.provider.name),
            csv_text(agreement.consumer.name),
            csv_text(line.name),
            line.objective.get_comparator_display(),
            _cell(line.target),
            line.objective.get_unit_display(),
            _cell(line.actual),
            _cell(line.attainment),
            Status.LABELS[line.status],
            _cell(line.reported_on_time),
            line.breach.get_status_display() if line.breach else "",
            Status.LABELS[card.status],
            card.headline,
            _cell(card.score),
            State.LABELS[card.state],
            periods.due_text(card.month),
            line.records_text,
        ]
        for line in card.lines
    ]


def dashboard_rows(board: Dashboard) -> list[list[str]]:
    """One row per agreement and month of the heat map."""
    rows = []
    for row in board.rows:
        for month, card in zip(board.months, row.cells, strict=True):
            agreement = card.agreement if card else row.agreement
            rows.append(
                [
                    csv_text(agreement.title),
                    csv_text(agreement.provider.name),
                    csv_text(agreement.consumer.name),
                    _cell(month),
                    Status.LABELS[card.status] if card else "Not in force",
                    card.headline if card else "",
                    _cell(card.score) if card else "",
                    _cell(card.reported_on_time) if card else "",
                    State.LABELS[card.state] if card else "",
                ]
            )
    return rows


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[str]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def scorecard_filename(page: AgreementScorecard, extension: str) -> str:
    title = slugify(page.agreement.title) or "agreement"
    return f"scorecard-{title}-{periods.format_month(page.month)}.{extension}"


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it needs (Pango) are missing."""


def render_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango when imported, and a server
    # without it must still serve every other page.
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(str(exc)) from exc
    # The document is self-contained (inline CSS and SVG): refuse every
    # fetch but data: URLs, so no text in it can make the server read a file
    # or call a host.
    fetcher = URLFetcher(allowed_protocols=["data"])
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
