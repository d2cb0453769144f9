from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from agreements import periods
from agreements.models import Membership, Objective
from agreements.rules import is_executive
from agreements.selectors import DueLine, agreement_overview, my_month
from reports.models import WorkerHeartbeat


def _log_url(line: DueLine, month: date) -> str:
    """The form that adds to ``line``'s figures, filled in for its month."""
    objective = line.objective
    team = line.team
    day = min(periods.today(), periods.month_end(month).date() - timedelta(days=1))
    S = Objective.Source
    if objective.metric_source in (S.LEADS_DELIVERED, S.QUALIFIED_LEADS):
        url = reverse("figures:leads_new", args=[team.slug])
        return f"{url}?{urlencode({'date': day.isoformat()})}"
    if objective.metric_source == S.CUSTOMERS_CLOSED:
        url = reverse("figures:customers_new", args=[team.slug])
        return f"{url}?{urlencode({'date': day.isoformat()})}"
    if objective.metric_source == S.FRICTION_REPORTS:
        query = {
            "team": team.pk,
            "addressed": objective.agreement.consumer_id,
            "month": periods.format_month(month),
        }
        return f"{reverse('friction:create')}?{urlencode(query)}"
    url = reverse("figures:measurements_new", args=[team.slug])
    query = {"objective": objective.pk, "month": periods.format_month(month)}
    return f"{url}?{urlencode(query)}"


def _with_urls(lines: list[DueLine], month: date) -> list[tuple[DueLine, str]]:
    return [(line, _log_url(line, month) if line.may_submit else "") for line in lines]


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
    return render(
        request,
        "home.html",
        {
            "memberships": memberships,
            "is_executive": is_executive(request.user),
            "agreements": agreement_overview(request.user),
            "my_month": month,
            "due": _with_urls(month.due, month.month),
            "late": _with_urls(month.late, month.late_month) if month.late else [],
            # Days left in the month, today included.
            "days_left": (periods.month_end(month.month).date() - periods.today()).days,
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
