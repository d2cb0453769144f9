from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from agreements import periods
from agreements.models import Membership
from agreements.rules import can
from agreements.selectors import agreement_overview
from reports.models import WorkerHeartbeat
from reports.selectors import my_month

from .middleware import database_unavailable


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("team")
        .order_by("team__name")
    )
    month = my_month(
        request.user, memberships=[(m.team_id, m.role) for m in memberships]
    )
    today = periods.today()
    return render(
        request,
        "home.html",
        {
            "memberships": memberships,
            "is_executive": can(request.user, "view_organisation"),
            "agreements": agreement_overview(request.user),
            "my_month": month,
            # Days left in the month, today included.
            "days_left": (periods.month_end(month.month).date() - today).days,
        },
    )


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: database and cache answer; last worker beat."""
    status = {"database": "ok", "cache": "ok"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means the database is down
        status["database"] = "error"
        code = 503
    try:
        cache.set("health-check", "1", 5)
        if cache.get("health-check") != "1":
            raise RuntimeError("cache did not keep a value")
    except Exception:  # noqa: BLE001
        status["cache"] = "error"
        code = 503
    if status["database"] == "ok":
        beat = WorkerHeartbeat.objects.order_by("-beat_at").first()
        status["last_worker_heartbeat"] = beat.beat_at.isoformat() if beat else None
    return JsonResponse(status, status=code)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database that stopped answering anywhere in the
    request (a middleware's query included) is a 503 with Retry-After; any
    other error the 500 page, which needs no database."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return database_unavailable(request, exception)
    return HttpResponseServerError(render_to_string("500.html"))
