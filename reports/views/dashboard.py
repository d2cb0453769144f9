"""The VP dashboard: heat map, open breaches, late reporters; and its CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string

from agreements import periods
from agreements.figures.links import fix_url
from agreements.models import Objective, Team
from agreements.rules import can
from agreements.views.common import query_without_page
from slaportal import freshness

from ..exports import DASHBOARD_HEADER, csv_response, dashboard_rows
from ..forms import DashboardFilterForm
from ..selectors import Dashboard, dashboard_scope, dashboard_teams
from ..selectors import dashboard as dashboard_data
from ..selectors.scorecard import TREND_MONTHS

# Stands in for the CSRF token in a kept page: each reader's own token is
# put in its place when the page is served.
TOKEN_SLOT = "csrf0token0slot0for0a0kept0page"  # noqa: S105 (not a secret)


# The addresses the page's own links and forms make.
KEPT_PARAMETERS = (*DashboardFilterForm.base_fields, "page")


def _check_may_view(request: HttpRequest) -> None:
    if not can(request.user, "view_dashboard"):
        raise PermissionDenied("The dashboard is for executives and team heads.")


def _dashboard(
    request: HttpRequest, **paging
) -> tuple[Dashboard, DashboardFilterForm, Team | None]:
    _check_may_view(request)
    scope = dashboard_scope(request.user)
    form = DashboardFilterForm(request.GET or None, teams=dashboard_teams(scope))
    # An unknown team or status in the filter shows the form's error over
    # everything.
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    team = data.get("team")
    agreements = scope.involving(team) if team else scope
    board = dashboard_data(
        agreements=agreements,
        months=periods.recent_months(TREND_MONTHS),
        status=data.get("status", ""),
        breach_status=data.get("breach_status", ""),
        breach_team=data.get("breach_team"),
        breach_month=data.get("breach_month"),
        **paging,
    )
    return board, form, team


def _late_fix_urls(user, board: Dashboard) -> dict[int, str]:
    """For each late objective listed, the form the reader may use to add its
    figures (one query for the objectives)."""
    ids = {
        item.objective_id
        for reporter in board.late_shown
        for item in reporter.items
        if item.objective_id
    }
    objectives = Objective.objects.filter(pk__in=ids).select_related(
        "agreement__provider", "agreement__consumer"
    )
    return {
        o.pk: url for o in objectives if (url := fix_url(user, o, board.report_month))
    }


def _context(request: HttpRequest) -> dict:
    board, form, team = _dashboard(request, page=request.GET.get("page"))
    return {
        "board": board,
        "form": form,
        "team": team,
        "everyone": can(request.user, "view_organisation"),
        "filter_query": query_without_page(request),
        "may_act": {
            row.breach.pk
            for row in board.breaches
            if can(request.user, "act_on_breach", row.breach)
        },
        "fix_urls": _late_fix_urls(request.user, board),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The page, kept per reader and address until the data moves on
    (``slaportal.freshness``): a few hundred agreements' heat map costs far
    more to build than to send, and executives read it far more often than
    figures arrive. A page with a message to show once is never kept."""
    _check_may_view(request)
    if len(messages.get_messages(request)):
        return render(request, "reports/dashboard.html", _context(request))

    def build() -> str:
        context = {**_context(request), "csrf_token": TOKEN_SLOT}
        return render_to_string("reports/dashboard.html", context, request)

    page = freshness.kept(
        ("dashboard", request.user.pk, request.get_full_path()),
        build,
        keep=freshness.known_parameters(request, KEPT_PARAMETERS),
    )
    return HttpResponse(page.replace(TOKEN_SLOT, get_token(request)))


@login_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    board, _form, team = _dashboard(request, every_row=True)
    name = f"dashboard-{team.slug}" if team else "dashboard"
    filename = f"{name}-{periods.format_month(board.months[-1])}.csv"
    return csv_response(filename, DASHBOARD_HEADER, dashboard_rows(board))
