"""The "my month" home page: what a person's teams owe this month, how the
month they are reporting on stands (closing, or just locked), and what waits
for them as a head. The lines come from the scorecard engine, the same cards
every other page shows. A fixed number of queries, however many teams,
objectives and reports there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from agreements import periods
from agreements.figures.links import fix_url
from agreements.models import (
    SIGNED,
    Agreement,
    ClosedCustomer,
    FrictionReport,
    Membership,
    Objective,
    Team,
)

from .cards import CardView, LineView, cards_for

WAITING_LIMIT = 5


@dataclass(frozen=True)
class DueLine:
    """One objective a team owes in a month, as the engine judges it."""

    card: CardView
    line: LineView
    fix_url: str  # the form that adds to its figures, if the person may

    @property
    def objective(self) -> Objective:
        return self.line.objective

    @property
    def team(self) -> Team:
        return self.card.agreement.provider

    @property
    def agreement(self) -> Agreement:
        return self.card.agreement

    @property
    def status(self) -> str:
        return self.line.status

    @property
    def actual(self) -> Decimal | None:
        return self.line.actual

    @property
    def expected_so_far(self) -> Decimal | None:
        return self.line.expected_so_far

    @property
    def may_submit(self) -> bool:
        return bool(self.fix_url)

    @property
    def is_missing(self) -> bool:
        """Nothing logged at all: a measurement not entered, or no rows."""
        return self.line.missing

    @property
    def percent(self) -> int | None:
        """How much of an "at least" target is reached, 0–100, for a bar."""
        actual = self.line.actual
        if actual is None or self.objective.comparator != "at_least":
            return None
        return int(min(actual / self.line.target * 100, Decimal(100)))


@dataclass
class Waiting:
    """Items waiting for the person, the first few and how many in all."""

    items: list = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class MyMonth:
    month: dt.date
    due: list[DueLine]
    last_month: dt.date  # the month being reported on: closing, or locked
    last_month_state: str  # periods.MonthState (closing or locked)
    last_month_lines: list[DueLine]
    late: list[DueLine]  # nothing logged yet for the closing month
    friction_to_acknowledge: Waiting | None  # None: the person heads no team
    handovers_to_acknowledge: Waiting | None  # None: receives no customers

    @property
    def due_text(self) -> str:
        return periods.due_text(self.month)

    @property
    def closing(self) -> bool:
        return self.last_month_state == periods.MonthState.CLOSING

    @property
    def late_month(self) -> dt.date | None:
        return self.last_month if self.closing else None

    @property
    def last_month_due_text(self) -> str:
        return periods.due_text(self.last_month)


def _lines(cards: list[CardView], user, month: dt.date) -> list[DueLine]:
    cards = sorted(
        cards,
        key=lambda c: (
            c.agreement.provider.name.lower(),
            c.agreement.title.lower(),
            c.agreement.pk,
        ),
    )
    return [
        DueLine(card, line, fix_url(user, line.objective, month))
        for card in cards
        for line in card.lines
    ]


def my_month(
    user,
    *,
    memberships: list[tuple[int, str]] | None = None,
    now: dt.datetime | None = None,
) -> MyMonth:
    """The home page's figures for ``user``. Queries: memberships (none when
    the caller passes them as ``(team_id, role)`` pairs), the engine's reads
    for this month and the reporting month, and one or two for each waiting
    list the person has."""
    now = now or timezone.now()
    month = periods.current_month(now)
    previous = periods.reporting_month(now)
    if memberships is None:
        memberships = list(
            Membership.objects.filter(user=user).values_list("team_id", "role")
        )
    team_ids = {team_id for team_id, _ in memberships}

    due: list[DueLine] = []
    last: list[DueLine] = []
    if team_ids:
        cards = cards_for(
            [month, previous],
            agreements=Agreement.objects.filter(provider__in=team_ids),
            now=now,
        )
        by_month: dict[dt.date, list[CardView]] = {month: [], previous: []}
        for (_lineage, card_month), card in cards.items():
            by_month[card_month].append(card)
        due = _lines(by_month[month], user, month)
        last = _lines(by_month[previous], user, previous)
    state = periods.month_state(previous, now)
    late = (
        [line for line in last if line.is_missing]
        if state == periods.MonthState.CLOSING
        else []
    )

    heads = [pk for pk, role in memberships if role == Membership.Role.HEAD]
    friction = None
    if heads:
        waiting = (
            FrictionReport.objects.filter(
                addressed_team__in=heads, status=FrictionReport.Status.NEW
            )
            .select_related("reporting_team")
            .by_urgency()  # the friction list's order: most severe, then oldest
        )
        first = list(waiting[: WAITING_LIMIT + 1])
        total = len(first) if len(first) <= WAITING_LIMIT else waiting.count()
        friction = Waiting(first[:WAITING_LIMIT], total)

    leading = [pk for pk, role in memberships if role in Membership.LEADING_ROLES]
    handovers = None
    if leading:
        # The teams that hand customers over to a team the person leads
        # (rules.consumes_customers_from, asked once for all of them).
        senders = set(
            Objective.objects.filter(
                metric_source=Objective.Source.CUSTOMERS_CLOSED,
                agreement__consumer__in=leading,
                agreement__status__in=SIGNED,
            ).values_list("agreement__provider", flat=True)
        )
        if senders:
            unacknowledged = (
                ClosedCustomer.objects.filter(
                    team__in=senders, acknowledged_at__isnull=True
                )
                .select_related("team")
                .order_by("closed_on", "pk")
            )
            first = list(unacknowledged[: WAITING_LIMIT + 1])
            total = (
                len(first) if len(first) <= WAITING_LIMIT else unacknowledged.count()
            )
            handovers = Waiting(first[:WAITING_LIMIT], total)

    return MyMonth(
        month=month,
        due=due,
        last_month=previous,
        last_month_state=state,
        last_month_lines=last,
        late=late,
        friction_to_acknowledge=friction,
        handovers_to_acknowledge=handovers,
    )
