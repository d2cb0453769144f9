"""Teams: the list, and a team's page with the agreements it provides and
consumes and their status."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from agreements.models import Agreement, Team
from agreements.rules import can

from ..selectors import team_overview
from ._common import visible_agreements


@login_required
def team(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug)
    # A 404, not a 403: a team one has nothing to do with is not shown to exist.
    if not can(request.user, "view_team", team):
        raise Http404("No team found.")
    overview = team_overview(team, agreements=visible_agreements(request))
    return render(
        request,
        "reports/team.html",
        {
            "overview": overview,
            "team": team,
            "sections": [
                ("Provides", overview.provides, "To", "provides"),
                ("Consumes", overview.consumes, "From", "consumes"),
            ],
            "my_teams": Team.objects.of_user(request.user).exclude(pk=team.pk),
            "everyone": can(request.user, "view_organisation"),
        },
    )


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """The reader's teams, or every team for an executive, each with how many
    active agreements it provides and consumes."""
    user = request.user
    teams = (
        Team.objects.all()
        if can(user, "view_organisation")
        else Team.objects.of_user(user)
    )
    teams = teams.annotate(
        provides=Count(
            "agreements_provided",
            filter=Q(agreements_provided__status=Agreement.Status.ACTIVE),
            distinct=True,
        ),
        consumes=Count(
            "agreements_consumed",
            filter=Q(agreements_consumed__status=Agreement.Status.ACTIVE),
            distinct=True,
        ),
    ).order_by("name")
    return render(
        request,
        "reports/teams.html",
        {"teams": teams, "everyone": can(user, "view_organisation")},
    )
