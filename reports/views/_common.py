from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from agreements import periods
from agreements.models import Agreement


def month_from(request: HttpRequest, *, default: datetime.date) -> datetime.date:
    """``?month=YYYY-MM``, or ``default`` when absent; anything else, or a
    month outside 2000-01 … 2100-12 (``periods.parse_month``), is a 404."""
    text = request.GET.get("month", "").strip()
    if not text:
        return default
    try:
        return periods.parse_month(text)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc


def visible_agreements(request: HttpRequest) -> QuerySet[Agreement]:
    return Agreement.objects.visible_to(request.user).select_related(
        "provider", "consumer"
    )
