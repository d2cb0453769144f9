from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from agreements import periods
from agreements.models import Agreement

# Months outside this range are not months anyone reports on; refusing them
# keeps date arithmetic (a year 0 or 10000) from ever raising.
EARLIEST_MONTH = datetime.date(1970, 1, 1)
FUTURE_MONTHS = 120


def month_from(request: HttpRequest, *, default: datetime.date) -> datetime.date:
    """``?month=YYYY-MM``, or ``default`` when absent; anything else is a 404."""
    text = request.GET.get("month", "").strip()
    if not text:
        return default
    try:
        month = periods.parse_month(text)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    latest = periods.add_months(periods.current_month(), FUTURE_MONTHS)
    if not EARLIEST_MONTH <= month <= latest:
        raise Http404(f"No scorecards for {periods.format_month(month)}.")
    return month


def visible_agreements(request: HttpRequest) -> QuerySet[Agreement]:
    return Agreement.objects.visible_to(request.user).select_related(
        "provider", "consumer"
    )
