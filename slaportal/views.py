from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache

from agreements import periods
from agreements.models import Membership
from agreements.rules import can
from agreements.selectors import agreement_overview
from reports.models import WorkerHeartbeat
from reports.selectors import my_month

from .beat import beat_last_tick
from .middleware import database_unavailable


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links: the static icon."""
    response = redirect(static("img/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


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


# A worker is counted alive while its last heartbeat (every 5 minutes, and
# at its start) is at most this old; beat while its last tick (at least once
# a minute) is.
WORKER_LATE_AFTER = timedelta(minutes=11)
BEAT_LATE_AFTER = timedelta(minutes=3)


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Whether the stack is alive, for monitoring: the database and the
    cache answer, a worker ran a task lately (its heartbeat's age) and beat
    ticked lately (its last tick). A 503 when one of them is down. Without
    a broker (the demo) tasks run in the web process: there is no worker or
    beat to wait for."""
    return _health(stack=True)


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    """Whether this web process can serve, for a load balancer: the database
    and the cache answer (a worker or beat that stopped is no reason to take
    the pages out of service)."""
    return _health(stack=False)


def _health(*, stack: bool) -> JsonResponse:
    status: dict[str, Any] = {"database": "ok", "cache": "ok"}
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
    now = timezone.now()
    heartbeat = None
    if status["database"] == "ok":
        heartbeat = WorkerHeartbeat.objects.order_by("-beat_at").first()
    last = heartbeat.beat_at if heartbeat else None
    status["last_worker_heartbeat"] = last.isoformat() if last else None
    tick = beat_last_tick() if status["cache"] == "ok" else None
    status["last_beat_tick"] = tick.isoformat() if tick else None
    if not stack:
        return JsonResponse(status, status=code)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        status["worker"] = status["beat"] = "in-process"
        return JsonResponse(status, status=code)
    status["worker"] = _alive(last, now, WORKER_LATE_AFTER)
    status["beat"] = _alive(tick, now, BEAT_LATE_AFTER)
    if status["worker"] != "ok" or status["beat"] != "ok":
        code = 503
    return JsonResponse(status, status=code)


def _alive(last: datetime | None, now: datetime, late_after: timedelta) -> str:
    if last is None:
        return "down: never seen"
    if now - last > late_after:
        return f"down: last seen {round((now - last).total_seconds())} s ago"
    return "ok"


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database that stopped answering anywhere in the
    request (a middleware's query included) is a 503 with Retry-After; any
    other error the 500 page, which needs no database."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return database_unavailable(request, exception)
    return HttpResponseServerError(render_to_string("500.html"))
