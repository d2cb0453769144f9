"""Where the figures pages start: the person's teams, and each team's tabs
(lead log, closed customers, measurements) in the order that fits what the
team owes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ..models import SIGNED, Objective, Team
from ..rules import can, signed_partner_ids
from ..views.common import visible_team
from .kinds import KINDS

# Tab, the metric sources it feeds, its label: each kind of figure, then the
# measurements of manual objectives.
TABS = (
    *((kind.slug, kind.sources, kind.tab_label) for kind in KINDS.values()),
    ("measurements", frozenset({Objective.Source.MANUAL}), "Measurements"),
)


def owed_sources(team_ids: list[int]) -> dict[int, set[str]]:
    """The metric sources each team owes under signed agreements (one query)."""
    owed: dict[int, set[str]] = {pk: set() for pk in team_ids}
    rows = (
        Objective.objects.filter(
            agreement__provider__in=team_ids,
            agreement__status__in=SIGNED,
        )
        .values_list("agreement__provider", "metric_source")
        .distinct()
    )
    for team_id, source in rows:
        owed[team_id].add(source)
    return owed


def team_tabs(owed: set[str]) -> list[str]:
    """The tabs a team uses: those it owes figures for, or all three when it
    owes none yet (it can still look)."""
    used = [slug for slug, sources, _ in TABS if sources & owed]
    return used or [slug for slug, _, _ in TABS]


def figures_tabs(team: Team, *, active: str) -> list[dict]:
    used = team_tabs(owed_sources([team.pk])[team.pk])
    if active not in used:
        used.append(active)
    labels = {slug: label for slug, _, label in TABS}
    return [
        {
            "slug": slug,
            "label": labels[slug],
            "url": reverse(f"figures:{slug}_list", args=[team.slug]),
            "active": slug == active,
        }
        for slug in used
    ]


@login_required
def figures_index(request: HttpRequest) -> HttpResponse:
    """The teams whose figures the person logs or reads. Someone in one team
    goes straight to it."""
    user = request.user
    mine = list(Team.objects.of_user(user).order_by("name"))
    if len(mine) == 1 and not can(user, "view_organisation"):
        return redirect("figures:team", slug=mine[0].slug)
    if can(user, "view_organisation"):
        others = list(Team.objects.exclude(pk__in=[t.pk for t in mine]))
    else:
        partners = signed_partner_ids({t.pk for t in mine})
        others = list(
            Team.objects.filter(pk__in=partners).exclude(pk__in=[t.pk for t in mine])
        )
    owed = owed_sources([t.pk for t in mine + others])
    labels = {slug: label for slug, _, label in TABS}

    def card(team: Team) -> dict:
        return {
            "team": team,
            "may_submit": can(user, "submit_figures", team),
            "links": [
                (labels[slug], reverse(f"figures:{slug}_list", args=[team.slug]))
                for slug in team_tabs(owed[team.pk])
            ],
        }

    return render(
        request,
        "figures/index.html",
        {
            "mine": [card(t) for t in mine],
            "others": [card(t) for t in others],
        },
    )


@login_required
def team_figures(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's figures open on the first tab it uses."""
    team = visible_team(request, slug)
    first = team_tabs(owed_sources([team.pk])[team.pk])[0]
    return redirect(f"figures:{first}_list", slug=team.slug)
