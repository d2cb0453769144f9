"""The "my month" home page: what a person's teams owe this month, what is
late from last month, and what waits for them as a head. A fixed number of
queries, however many teams, objectives and reports there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from .. import periods
from ..models import (
    Agreement,
    ClosedCustomer,
    FrictionReport,
    Membership,
    Objective,
    Team,
)
from ..rules import leads_team
from .progress import ObjectiveProgress, month_progress

WAITING_LIMIT = 5


@dataclass(frozen=True)
class DueLine:
    """One objective a team owes in a month, with how far it has got."""

    progress: ObjectiveProgress
    status: str  # reports.scoring.Status: met, at_risk, missed, no_data
    expected_so_far: Decimal | None  # pro-rated target, counted objectives
    may_submit: bool

    @property
    def objective(self) -> Objective:
        return self.progress.objective

    @property
    def team(self) -> Team:
        return self.progress.objective.agreement.provider

    @property
    def is_missing(self) -> bool:
        """Nothing logged at all: a measurement not entered, or no rows."""
        return self.progress.actual is None or self.progress.entries == 0

    @property
    def percent(self) -> int | None:
        """How much of the target is reached, 0–100, for a progress bar."""
        actual = self.progress.actual
        objective = self.objective
        if actual is None or objective.comparator != Objective.Comparator.AT_LEAST:
            return None
        return int(min(actual / objective.target * 100, Decimal(100)))


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
    deadline: dt.datetime
    last_day: dt.date  # the last day on which the month's figures can be entered
    elapsed: float
    due: list[DueLine]
    late_month: dt.date | None  # last month, while in its grace period
    late_deadline: dt.datetime | None
    late_last_day: dt.date | None
    late: list[DueLine]
    last_month: dt.date
    last_month_lines: list[DueLine]  # how last month ended (or stands, in grace)
    friction_to_acknowledge: Waiting | None  # None: the person heads no team
    handovers_to_acknowledge: Waiting | None  # None: receives no customers


def _lines(progress: list[ObjectiveProgress], user, *, elapsed: float | None):
    from reports.scoring import Terms, evaluate

    lines = []
    for item in progress:
        objective = item.objective
        counted = objective.metric_source in Objective.COUNTED_SOURCES
        outcome = evaluate(
            Terms(
                comparator=objective.comparator,
                target=objective.target,
                weight=objective.weight,
                warning_threshold=objective.warning_threshold,
                cumulative=counted,
            ),
            item.actual,
            elapsed=elapsed,
        )
        lines.append(
            DueLine(
                progress=item,
                status=outcome.status,
                expected_so_far=outcome.expected_so_far,
                may_submit=leads_team(user, objective.agreement.provider),
            )
        )
    return lines


def _last_day(month: dt.date) -> dt.date:
    return (periods.deadline(month) - dt.timedelta(days=1)).date()


def my_month(
    user,
    *,
    memberships: list[tuple[int, str]] | None = None,
    now: dt.datetime | None = None,
) -> MyMonth:
    """The home page's figures for ``user``. Queries: memberships (none when
    the caller passes them as ``(team_id, role)`` pairs), objectives and
    figures for this month (one plus one per metric source), the same for
    last month while it is in grace, and one or two for each waiting list
    the person has."""
    month = periods.current_month(now)
    if memberships is None:
        memberships = list(
            Membership.objects.filter(user=user).values_list("team_id", "role")
        )
    team_ids = {team_id for team_id, _ in memberships}
    teams = [Team(pk=pk) for pk in team_ids]
    elapsed = periods.elapsed_fraction(month, now)

    due: list[DueLine] = []
    late: list[DueLine] = []
    last: list[DueLine] = []
    late_month = None
    previous = periods.previous_month(month)
    if teams:
        due = _lines(month_progress(month=month, teams=teams), user, elapsed=elapsed)
        last = _lines(month_progress(month=previous, teams=teams), user, elapsed=None)
        if periods.in_grace(previous, now):
            late_month = previous
            late = [line for line in last if line.is_missing]

    heads = [pk for pk, role in memberships if role == Membership.Role.HEAD]
    friction = None
    if heads:
        waiting = (
            FrictionReport.objects.filter(
                addressed_team__in=heads, status=FrictionReport.Status.NEW
            )
            .select_related("reporting_team")
            .order_by("created_at", "pk")
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
                agreement__status__in=(
                    Agreement.Status.ACTIVE,
                    Agreement.Status.RETIRED,
                ),
            ).values_list("agreement__provider", flat=True)
        )
        if senders:
            waiting = (
                ClosedCustomer.objects.filter(
                    team__in=senders, acknowledged_at__isnull=True
                )
                .select_related("team")
                .order_by("closed_on", "pk")
            )
            first = list(waiting[: WAITING_LIMIT + 1])
            total = len(first) if len(first) <= WAITING_LIMIT else waiting.count()
            handovers = Waiting(first[:WAITING_LIMIT], total)

    return MyMonth(
        month=month,
        deadline=periods.deadline(month),
        last_day=_last_day(month),
        elapsed=elapsed,
        due=due,
        late_month=late_month,
        late_deadline=periods.deadline(late_month) if late_month else None,
        late_last_day=_last_day(late_month) if late_month else None,
        late=late,
        last_month=previous,
        last_month_lines=last,
        friction_to_acknowledge=friction,
        handovers_to_acknowledge=handovers,
    )
