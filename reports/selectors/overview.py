"""Reads across many agreements: the latest status of each (chain, team
page), the team page, and the VP dashboard. One query per concern, whatever
the number of agreements."""

from __future__ import annotations

import datetime
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Membership, Team
from agreements.rules import is_executive

from ..models import Breach
from ..scoring import Status
from .cards import CardView, LineView, cards_for

OPEN_BREACH_STATUSES = (Breach.Status.OPEN, Breach.Status.ACKNOWLEDGED)
BREACH_LIST_LIMIT = 50


def latest_cards(
    agreements: QuerySet[Agreement], *, now: datetime.datetime | None = None
) -> dict[uuid.UUID, CardView]:
    """Each lineage's latest word: last month's card (finalised if stored),
    or this month's live card for an agreement that began this month.

    Last month rather than the live one: early in a month nearly everything
    is "at risk" on pace or has no measurement yet, which says little."""
    now = now or timezone.now()
    current = periods.current_month(now)
    last = periods.previous_month(current)
    cards = cards_for([last, current], agreements=agreements, now=now, lines_for=[])
    latest: dict[uuid.UUID, CardView] = {}
    for (lineage, month), card in cards.items():
        if month == last or lineage not in latest:
            latest[lineage] = card
    return latest


# --- Team page ------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    agreement: Agreement
    partner: Team
    last: CardView | None
    current: CardView | None
    open_breaches: int


@dataclass
class TeamOverview:
    team: Team
    last_month: datetime.date
    current_month: datetime.date
    provides: list[TeamRow]
    consumes: list[TeamRow]
    breaches: list[Breach]


def team_overview(
    team: Team,
    *,
    agreements: QuerySet[Agreement],
    now: datetime.datetime | None = None,
) -> TeamOverview:
    """The active agreements of ``agreements`` that ``team`` provides or
    consumes, with last month's and this month's status, and their open
    breaches. Nine queries."""
    now = now or timezone.now()
    current = periods.current_month(now)
    last = periods.previous_month(current)
    active = list(
        agreements.involving(team)
        .active()
        .select_related("provider", "consumer")
        .order_by("title", "pk")
    )
    lineages = Agreement.objects.filter(lineage__in=[a.lineage for a in active])
    cards = cards_for([last, current], agreements=lineages, now=now, lines_for=[])
    breaches = list(
        Breach.objects.filter(
            agreement__in=lineages, status__in=OPEN_BREACH_STATUSES
        ).select_related(
            "agreement__provider", "agreement__consumer", "line__objective"
        )
    )
    per_lineage = Counter(b.agreement.lineage for b in breaches)
    provides, consumes = [], []
    for agreement in active:
        provided = agreement.provider_id == team.pk
        row = TeamRow(
            agreement=agreement,
            partner=agreement.consumer if provided else agreement.provider,
            last=cards.get((agreement.lineage, last)),
            current=cards.get((agreement.lineage, current)),
            open_breaches=per_lineage[agreement.lineage],
        )
        (provides if provided else consumes).append(row)
    return TeamOverview(
        team=team,
        last_month=last,
        current_month=current,
        provides=provides,
        consumes=consumes,
        breaches=breaches,
    )


# --- Dashboard ------------------------------------------------------------


def dashboard_scope(user) -> QuerySet[Agreement]:
    """Executives see every agreement; a head sees the agreements of the
    teams they head. Subqueries, no query of its own."""
    if is_executive(user):
        return Agreement.objects.all()
    headed = Team.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.HEAD
    ).values("pk")
    return Agreement.objects.filter(Q(provider__in=headed) | Q(consumer__in=headed))


def dashboard_teams(agreements: QuerySet[Agreement]) -> QuerySet[Team]:
    """The teams the dashboard can be filtered by: parties of ``agreements``."""
    return Team.objects.filter(
        Q(pk__in=agreements.values("provider"))
        | Q(pk__in=agreements.values("consumer"))
    ).order_by("name")


@dataclass(frozen=True)
class HeatRow:
    agreement: Agreement  # the latest version with a card in the months shown
    cells: list[CardView | None]  # one per month; None: not in force


@dataclass(frozen=True)
class LateItem:
    card: CardView
    line: LineView


@dataclass
class LateReporter:
    team: Team
    items: list[LateItem] = field(default_factory=list)


@dataclass
class Dashboard:
    months: list[datetime.date]
    rows: list[HeatRow]
    breaches: list[Breach]  # the most recent BREACH_LIST_LIMIT
    breach_total: int
    late_month: datetime.date | None  # the latest locked month shown
    late: list[LateReporter]
    summary: dict[str, int]  # statuses in ``late_month``

    @property
    def deadline(self) -> datetime.datetime | None:
        return periods.deadline(self.late_month) if self.late_month else None


def dashboard(
    *,
    agreements: QuerySet[Agreement],
    months: list[datetime.date],
    now: datetime.datetime | None = None,
) -> Dashboard:
    """The heat map of ``agreements`` × ``months`` (finalised snapshots for
    locked months, computed for the rest), their open breaches, and the teams
    whose figures for the latest locked month were not in by the deadline.

    Ten queries: the engine's six, stored scorecards, the late month's
    stored lines, open breaches (a count and the most recent)."""
    now = now or timezone.now()
    months = sorted(months)
    locked = [m for m in months if periods.is_locked(m, now=now)]
    late_month = locked[-1] if locked else None
    cards = cards_for(
        months,
        agreements=agreements,
        now=now,
        lines_for=[late_month] if late_month else [],
    )

    latest: dict[uuid.UUID, CardView] = {}
    for (lineage, _month), card in sorted(cards.items(), key=lambda kv: kv[0][1]):
        latest[lineage] = card  # months ascend: the last one wins
    rows = [
        HeatRow(
            agreement=card.agreement,
            cells=[cards.get((lineage, m)) for m in months],
        )
        for lineage, card in latest.items()
    ]
    rows.sort(
        key=lambda r: (
            r.agreement.provider.name.lower(),
            r.agreement.consumer.name.lower(),
            r.agreement.title.lower(),
        )
    )

    open_breaches = Breach.objects.filter(
        agreement__in=agreements, status__in=OPEN_BREACH_STATUSES
    )
    # The page lists the most recent ones with the total: a large organisation
    # can owe thousands, and each agreement's scorecard lists its own.
    breach_total = open_breaches.count()
    breaches = list(
        open_breaches.select_related(
            "agreement__provider",
            "agreement__consumer",
            "line__objective",
            "acknowledged_by",
        ).order_by("-month", "agreement__title", "line__objective__position", "pk")[
            :BREACH_LIST_LIMIT
        ]
    )

    late: dict[int, LateReporter] = {}
    summary: Counter[str] = Counter()
    if late_month is not None:
        for (_lineage, month), card in cards.items():
            if month != late_month:
                continue
            summary[card.status] += 1
            for line in card.lines:
                if not line.reported_on_time:
                    provider = card.agreement.provider
                    reporter = late.setdefault(provider.pk, LateReporter(provider))
                    reporter.items.append(LateItem(card=card, line=line))
    late_list = sorted(late.values(), key=lambda r: r.team.name.lower())
    for reporter in late_list:
        reporter.items.sort(key=lambda i: (i.card.agreement.title, i.line.name))

    return Dashboard(
        months=months,
        rows=rows,
        breaches=breaches,
        breach_total=breach_total,
        late_month=late_month,
        late=late_list,
        summary={status: summary[status] for status in Status.LABELS},
    )
