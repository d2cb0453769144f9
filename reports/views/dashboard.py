"""The VP dashboard: heat map, open breaches, late reporters; and its CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agreements import periods
from agreements.models import Team
from agreements.rules import can, is_executive
from agreements.views.common import query_without_page

from ..exports import DASHBOARD_HEADER, csv_response, dashboard_rows
from ..forms import DashboardFilterForm
from ..selectors import Dashboard, dashboard_scope, dashboard_teams
from ..selectors import dashboard as dashboard_data
from ..selectors.scorecard import TREND_MONTHS


def _dashboard(
    request: HttpRequest, **paging
) -> tuple[Dashboard, DashboardFilterForm, Team | None]:
    if not can(request.user, "view_dashboard"):
        raise PermissionDenied("The dashboard is for executives and team heads.")
    scope = dashboard_scope(request.user)
    form = DashboardFilterForm(request.GET or None, teams=dashboard_teams(scope))
    # An unknown team or status in the filter shows the form's error over
    # everything.
    valid = form.is_valid()
    team = form.cleaned_data["team"] if valid else None
    agreements = scope.involving(team) if team else scope
    board = dashboard_data(
        agreements=agreements,
        months=periods.recent_months(TREND_MONTHS),
        status=form.cleaned_data["status"] if valid else "",
        **paging,
    )
    return board, form, team


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    board, form, team = _dashboard(request, page=request.GET.get("page"))
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": board,
            "form": form,
            "team": team,
            "everyone": is_executive(request.user),
            "filter_query": query_without_page(request),
            "may_act": {
                b.pk for b in board.breaches if can(request.user, "act_on_breach", b)
            },
        },
    )


@login_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    board, _form, team = _dashboard(request, every_row=True)
    name = f"dashboard-{team.slug}" if team else "dashboard"
    filename = f"{name}-{periods.format_month(board.months[-1])}.csv"
    return csv_response(filename, DASHBOARD_HEADER, dashboard_rows(board))
