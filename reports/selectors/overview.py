"""Reads across many agreements: the latest status of each (chain, team
page), the team page, and the VP dashboard. One query per concern, whatever
the number of agreements."""

from __future__ import annotations

import datetime
import operator
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import Lower, RowNumber
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Membership, Team
from agreements.rules import is_executive
from agreements.selectors import in_force_q

from ..models import Breach, Scorecard, ScorecardLine
from ..scoring import Status
from .cards import Cards, CardView, cards_for, finalised_months

OPEN_BREACH_STATUSES = (Breach.Status.OPEN, Breach.Status.ACKNOWLEDGED)
BREACH_LIST_LIMIT = 50
HEAT_MAP_PAGE_SIZE = 50  # agreements per page of the heat map
LATE_ITEMS_SHOWN = 5  # objectives listed per late team; the rest are counted
LATE_TEAMS_SHOWN = 10  # the teams with the most late objectives
# The heat map's filter: agreements by their status in the last locked month.
STATUS_FILTERS = {
    "missed": {Status.MISSED},
    "attention": {Status.MISSED, Status.AT_RISK},
    "at_risk": {Status.AT_RISK},
    "no_data": {Status.NO_DATA},
    "met": {Status.MET},
}
STATUS_FILTER_LABELS = {
    "missed": "Missed",
    "attention": "Missed or at risk",
    "at_risk": "At risk",
    "no_data": "No data",
    "met": "Met",
}


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
    agreement: Agreement  # the latest version in force in the months shown
    cells: list[CardView | None]  # one per month; None: not in force


@dataclass(frozen=True)
class LateItem:
    """An objective whose figures for the late month were not in on time."""

    agreement_id: int
    title: str
    name: str
    actual: Decimal | None


@dataclass
class LateReporter:
    team: Team
    count: int = 0  # late objectives in all
    items: list[LateItem] = field(default_factory=list)  # the first few

    @property
    def more(self) -> int:
        return self.count - len(self.items)


@dataclass
class Dashboard:
    months: list[datetime.date]
    rows: list[HeatRow]  # the page shown, or every row for an export
    page: Page | None  # None: every row
    breaches: list[Breach]  # the most recent BREACH_LIST_LIMIT
    breach_total: int
    late_month: datetime.date | None  # the latest locked month shown
    late: list[LateReporter]  # most late objectives first
    summary: dict[str, int]  # statuses in ``late_month``
    status: str = ""  # the STATUS_FILTERS key the rows are narrowed to

    @property
    def status_label(self) -> str:
        return STATUS_FILTER_LABELS.get(self.status, "")

    @property
    def late_shown(self) -> list[LateReporter]:
        return self.late[:LATE_TEAMS_SHOWN]

    @property
    def late_more(self) -> int:
        return len(self.late) - len(self.late_shown)

    @property
    def deadline(self) -> datetime.datetime | None:
        return periods.deadline(self.late_month) if self.late_month else None

    @property
    def agreement_total(self) -> int:
        return self.page.paginator.count if self.page else len(self.rows)


def heat_map_agreements(
    agreements: QuerySet[Agreement], months: list[datetime.date]
) -> QuerySet[Agreement]:
    """The rows of the heat map: for each agreement in force in some month of
    ``months``, its latest version in force then, in the order shown
    (provider, consumer, title). A queryset: the page reads one slice."""
    if not months:
        return agreements.none()
    shown = agreements.filter(reduce(operator.or_, (in_force_q(m) for m in months)))
    newer = shown.filter(lineage=OuterRef("lineage"), version__gt=OuterRef("version"))
    return (
        shown.filter(~Exists(newer))
        .select_related("provider", "consumer")
        .order_by(
            Lower("provider__name"), Lower("consumer__name"), Lower("title"), "pk"
        )
    )


def of_agreements(queryset: QuerySet, agreements: QuerySet[Agreement]) -> QuerySet:
    """``queryset`` narrowed to rows of ``agreements``; left whole when
    ``agreements`` is every agreement (an executive's view), which spares the
    database a semi-join over the whole table on every read."""
    if not agreements.query.where:
        return queryset
    return queryset.filter(agreement__in=agreements)


def _late_from_store(
    agreements: QuerySet[Agreement], month: datetime.date
) -> tuple[Counter[str], list[LateReporter]]:
    """The month's statuses and late reporters, from its stored scorecards:
    two queries, however many agreements there are."""
    stored = of_agreements(Scorecard.objects.filter(month=month), agreements)
    summary: Counter[str] = Counter(
        dict(stored.order_by().values_list("status").annotate(n=Count("pk")))
    )
    late: dict[int, LateReporter] = {}
    provider = F("scorecard__agreement__provider_id")
    rows = (
        ScorecardLine.objects.filter(scorecard__in=stored, reported_on_time=False)
        # Only the first few lines of each team, and each team's count: a
        # month where everyone was late is still a small read.
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[provider],
                order_by=[
                    Lower("scorecard__agreement__title"),
                    "scorecard__agreement_id",
                    "objective__position",
                    "objective_id",
                ],
            ),
            late_count=Window(Count("pk"), partition_by=[provider]),
        )
        .filter(rank__lte=LATE_ITEMS_SHOWN)
        .order_by("rank")
        .values_list(
            "scorecard__agreement__provider_id",
            "scorecard__agreement__provider__name",
            "scorecard__agreement__provider__slug",
            "late_count",
            "scorecard__agreement_id",
            "scorecard__agreement__title",
            "objective__name",
            "actual",
        )
    )
    for team_id, team_name, slug, count, agreement_id, title, name, actual in rows:
        reporter = late.get(team_id)
        if reporter is None:
            # Only the name and link are shown: no query for the rest.
            team = Team(pk=team_id, name=team_name, slug=slug)
            reporter = late[team_id] = LateReporter(team=team, count=count)
        reporter.items.append(LateItem(agreement_id, title, name, actual))
    return summary, list(late.values())


def _late_from_cards(cards: Cards) -> tuple[Counter[str], list[LateReporter]]:
    """The same, from computed cards: a month not finalised yet."""
    summary: Counter[str] = Counter()
    late: dict[int, LateReporter] = {}
    ordered = sorted(
        cards.values(), key=lambda c: (c.agreement.title.lower(), c.agreement.pk)
    )
    for card in ordered:
        summary[card.status] += 1
        for line in card.lines:
            if line.reported_on_time:
                continue
            provider = card.agreement.provider
            reporter = late.setdefault(provider.pk, LateReporter(team=provider))
            reporter.count += 1
            if len(reporter.items) < LATE_ITEMS_SHOWN:
                reporter.items.append(
                    LateItem(
                        card.agreement.pk, card.agreement.title, line.name, line.actual
                    )
                )
    return summary, list(late.values())


def dashboard(
    *,
    agreements: QuerySet[Agreement],
    months: list[datetime.date],
    now: datetime.datetime | None = None,
    page: int | str | None = 1,
    every_row: bool = False,
    status: str = "",
) -> Dashboard:
    """The heat map of ``agreements`` × ``months`` (finalised snapshots for
    finalised months, computed for the rest), their open breaches, and the
    teams whose figures for the latest locked month were not in by the
    deadline.

    The heat map shows one page of HEAT_MAP_PAGE_SIZE agreements (``page``
    as in ``Paginator.get_page``), or with ``every_row`` all of them, as the
    CSV export wants. ``status`` (a key of STATUS_FILTERS) keeps the rows
    whose status in the latest locked month is among those it names. The
    totals above the heat map (statuses, late reporters, open breaches) cover
    every agreement, from the stored scorecards once the month is finalised.
    A fixed number of queries, whatever the size."""
    now = now or timezone.now()
    months = sorted(months)
    locked = [m for m in months if periods.is_locked(m, now=now)]
    late_month = locked[-1] if locked else None

    finalised = finalised_months(months, now=now)

    summary: Counter[str] = Counter()
    late: list[LateReporter] = []
    late_cards: Cards = {}
    if late_month is not None:
        if late_month in finalised:
            summary, late = _late_from_store(agreements, late_month)
        else:
            late_cards = cards_for([late_month], agreements=agreements, now=now)
            summary, late = _late_from_cards(late_cards)
    late.sort(key=lambda r: (-r.count, r.team.name.lower()))

    listed = heat_map_agreements(agreements, months)
    wanted = STATUS_FILTERS.get(status)
    if wanted and late_month is not None:
        if late_month in finalised:
            listed = listed.filter(
                Exists(
                    Scorecard.objects.filter(
                        month=late_month,
                        status__in=wanted,
                        agreement__lineage=OuterRef("lineage"),
                    )
                )
            )
        else:
            listed = listed.filter(
                lineage__in=[
                    lineage
                    for (lineage, _month), card in late_cards.items()
                    if card.status in wanted
                ]
            )
    if every_row:
        page_obj, versions = None, list(listed)
        shown = agreements.filter(lineage__in=listed.values("lineage"))
    else:
        page_obj = Paginator(listed, HEAT_MAP_PAGE_SIZE).get_page(page)
        versions = list(page_obj.object_list)
        shown = agreements.filter(lineage__in=[v.lineage for v in versions])
    cards = cards_for(
        months, agreements=shown, now=now, lines_for=[], finalised=finalised
    )
    rows = [
        HeatRow(agreement=v, cells=[cards.get((v.lineage, m)) for m in months])
        for v in versions
    ]

    open_breaches = of_agreements(
        Breach.objects.filter(status__in=OPEN_BREACH_STATUSES), agreements
    )
    # The page lists the most recent ones with the total: a large organisation
    # can owe thousands, and each agreement's scorecard lists its own. Counts
    # per month give the total and the few latest months the list needs, so
    # the list sorts those months' breaches, not all of them.
    per_month = list(
        open_breaches.order_by("-month").values_list("month").annotate(n=Count("pk"))
    )
    breach_total = sum(n for _month, n in per_month)
    listed_months, running = [], 0
    for month, n in per_month:
        if running >= BREACH_LIST_LIMIT:
            break
        listed_months.append(month)
        running += n
    order = ("-month", "agreement__title", "line__objective__position", "pk")
    latest = open_breaches.filter(month__in=listed_months).order_by(*order)
    # The ids first, then the rows with what the list shows: sorting
    # thousands of bare ids is cheap, joining them all to six tables is not.
    breaches = list(
        Breach.objects.filter(
            pk__in=list(latest.values_list("pk", flat=True)[:BREACH_LIST_LIMIT])
        )
        .select_related(
            "agreement__provider",
            "agreement__consumer",
            "line__objective",
            "acknowledged_by",
        )
        .order_by(*order)
    )

    return Dashboard(
        months=months,
        rows=rows,
        page=page_obj,
        breaches=breaches,
        breach_total=breach_total,
        late_month=late_month,
        late=late,
        summary={key: summary[key] for key in Status.LABELS},
        status=status if wanted and late_month is not None else "",
    )
