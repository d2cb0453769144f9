"""One agreement's scorecard: the page, its printable form, CSV and PDF."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

from agreements import periods
from agreements.figures.links import fix_url
from agreements.rules import can

from ..exports import (
    SCORECARD_HEADER,
    PdfUnavailable,
    csv_response,
    render_pdf,
    scorecard_filename,
    scorecard_rows,
)
from ..selectors import AgreementScorecard, agreement_scorecard
from ._common import month_from, visible_agreements

logger = logging.getLogger(__name__)


def _scorecard(request: HttpRequest, pk: int) -> AgreementScorecard:
    agreement = get_object_or_404(visible_agreements(request), pk=pk)
    month = month_from(request, default=periods.current_month())
    return agreement_scorecard(
        agreement, month=month, versions=visible_agreements(request)
    )


def _context(request: HttpRequest, page: AgreementScorecard) -> dict[str, Any]:
    lines = page.card.lines if page.card else []
    breaches = [line.breach for line in lines]
    # Early in a month the month before is still closing: point to it.
    report = periods.reporting_month()
    closing = (
        report
        if page.month == periods.current_month()
        and periods.month_state(report) == periods.MonthState.CLOSING
        and report >= page.first_month
        else None
    )
    return {
        "closing_month": closing,
        "sc": page,
        "card": page.card,
        "agreement": page.agreement,
        # Breaches the reader may acknowledge or resolve from the page.
        "may_act": {
            b.pk for b in breaches if b and can(request.user, "act_on_breach", b)
        },
        # The forms that add what is missing, for the lines the reader may fix.
        "fix_urls": {
            line.objective.pk: url
            for line in lines
            if (line.missing or not line.reported_on_time)
            and (url := fix_url(request.user, line.objective, page.month))
        },
    }


@login_required
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    page = _scorecard(request, pk)
    return render(request, "reports/scorecard.html", _context(request, page))


@login_required
def scorecard_print(request: HttpRequest, pk: int) -> HttpResponse:
    page = _scorecard(request, pk)
    return render(request, "reports/scorecard_print.html", _context(request, page))


@login_required
def scorecard_csv(request: HttpRequest, pk: int) -> HttpResponse:
    page = _scorecard(request, pk)
    return csv_response(
        scorecard_filename(page, "csv"), SCORECARD_HEADER, scorecard_rows(page)
    )


@login_required
def scorecard_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    page = _scorecard(request, pk)
    html = render_to_string(
        "reports/scorecard_print.html",
        {**_context(request, page), "for_pdf": True},
        request=request,
    )
    try:
        pdf = render_pdf(html)
    except PdfUnavailable:
        logger.exception("PDF scorecards are unavailable")
        return render(
            request,
            "reports/pdf_unavailable.html",
            {"agreement": page.agreement, "sc": page},
            status=503,
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=scorecard_filename(page, "pdf")
    )
    return response
