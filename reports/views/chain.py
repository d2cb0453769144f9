"""The chain diagram: each signed agreement as an arrow from the provider to
the consumer, coloured by one rule: the reported month's scorecard
(``selectors.report_cards``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from agreements import periods
from agreements.models import Agreement, Team
from agreements.rules import can

from ..chain import NEUTRAL, ChainLink, chain_svg, ordered_teams
from ..scoring import Status
from ..selectors import report_cards
from ._common import visible_agreements


def _link(agreement: Agreement, card) -> ChainLink:
    common = {
        "provider": agreement.provider,
        "consumer": agreement.consumer,
        "title": agreement.title,
        "url": agreement.get_absolute_url(),
    }
    if agreement.phase() == Agreement.Phase.SIGNED:
        return ChainLink(**common, note=agreement.phase_text.lower(), dashed=True)
    if card is None:
        return ChainLink(**common, note="not scored yet")
    month = periods.month_label(card.month)
    if card.closing:
        note = (
            f"{card.status_label} in {month}, closing: figures due by {card.due_text}"
        )
    else:
        note = f"{card.status_label} in {month}"
    return ChainLink(
        **common,
        colour=Status.COLOURS[card.status],
        note=note,
        dashed=card.closing,
    )


@login_required
def chain(request: HttpRequest) -> HttpResponse:
    user = request.user
    agreements = list(visible_agreements(request).active().order_by("title", "pk"))
    teams = {a.provider for a in agreements} | {a.consumer for a in agreements}
    # Executives see every team, gaps included; others see their own teams
    # even before those have an active agreement.
    extra = (
        Team.objects.all()
        if can(user, "view_organisation")
        else Team.objects.of_user(user)
    )
    teams |= set(extra)
    # The table under the diagram follows the diagram's left-to-right order.
    position = {team.pk: i for i, team in enumerate(ordered_teams(teams))}
    agreements.sort(key=lambda a: (position[a.provider_id], position[a.consumer_id]))
    lineages = [a.lineage for a in agreements]
    cards = (
        report_cards(Agreement.objects.filter(lineage__in=lineages)) if lineages else {}
    )
    links = []
    for agreement in agreements:
        agreement.report_card = cards.get(agreement.lineage)
        links.append(_link(agreement, agreement.report_card))
    list_url = reverse("agreements:list")
    svg = chain_svg(
        teams,
        links,
        team_url={t.pk: f"{list_url}?team={t.pk}&status=active" for t in teams},
    )
    month = periods.reporting_month()
    return render(
        request,
        "reports/chain.html",
        {
            "svg": svg,
            "agreements": agreements,
            "report_month": month,
            "closing": periods.month_state(month) == periods.MonthState.CLOSING,
            "due_text": periods.due_text(month),
            "neutral": NEUTRAL,
        },
    )
