"""Reads across many agreements: the latest status of each (chain, team
page), the team page, and the VP dashboard. One query per concern, whatever
the number of agreements."""

from __future__ import annotations

import copy
import datetime
import hashlib
import operator
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import Lower, RowNumber
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Membership, Team, in_force_q
from agreements.models.agreements import AgreementQuerySet
from agreements.rules import can
from slaportal.freshness import PAGE_SECONDS, month_stamp, month_stamps

from ..models import Breach, MonthTotals, Scorecard, ScorecardLine
from ..scoring import Status
from .cards import Cards, CardView, cards_for, finalised_months

OPEN_BREACH_STATUSES = (Breach.Status.OPEN, Breach.Status.ACKNOWLEDGED)
BREACH_LIST_LIMIT = 50
HEAT_MAP_PAGE_SIZE = 50  # agreements per page of the heat map
LATE_ITEMS_SHOWN = 5  # objectives listed per late team; the rest are counted
LATE_TEAMS_SHOWN = 10  # the teams with the most late objectives
LATE_TEAMS_KEPT = 50  # late teams a month's stored totals list; the rest counted
# The heat map's filter: agreements by their status in the reported month,
# in the words of a finished month or, while it closes, of a running one.
STATUS_FILTERS = {
    "missed": {Status.MISSED, Status.OFF_TRACK},
    "attention": {Status.MISSED, Status.OFF_TRACK, Status.CLOSE_CALL, Status.AT_RISK},
    "close_call": {Status.CLOSE_CALL, Status.AT_RISK},
    "no_data": {Status.NO_DATA, Status.NO_DATA_YET},
    "met": {Status.MET, Status.ALREADY_MET, Status.ON_TRACK},
}
STATUS_FILTER_LABELS = {
    "missed": "Missed (off track while closing)",
    "attention": "Missed or a close call",
    "close_call": "Close call (at risk while closing)",
    "no_data": "No data",
    "met": "Met (on track while closing)",
}


def report_cards(
    agreements: AgreementQuerySet, *, now: datetime.datetime | None = None
) -> dict[uuid.UUID, CardView]:
    """Each lineage's card for the month being reported on
    (``periods.reporting_month``): the month closing during its grace period
    (computed, marked closing), then the last locked month (its finalised
    scorecard). The chain and the team page colour each link by it.

    Not the running month: early in a month nearly everything is "too early
    to tell", which says little about how an agreement is kept."""
    now = now or timezone.now()
    month = periods.reporting_month(now)
    cards = cards_for([month], agreements=agreements, now=now, lines_for=[])
    return {lineage: card for (lineage, _month), card in cards.items()}


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
    last_month: datetime.date  # the month reported on: closing, then locked
    current_month: datetime.date
    provides: list[TeamRow]
    consumes: list[TeamRow]
    breaches: list[Breach]

    @property
    def last_month_state(self) -> str:
        return periods.month_state(self.last_month)

    @property
    def last_month_closing(self) -> bool:
        return self.last_month_state == periods.MonthState.CLOSING


def team_overview(
    team: Team,
    *,
    agreements: AgreementQuerySet,
    now: datetime.datetime | None = None,
) -> TeamOverview:
    """The active agreements of ``agreements`` that ``team`` provides or
    consumes, with the reported month's and this month's status, and their
    open breaches. Nine queries."""
    now = now or timezone.now()
    current = periods.current_month(now)
    last = periods.reporting_month(now)
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
    provides: list[TeamRow] = []
    consumes: list[TeamRow] = []
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


def dashboard_scope(user) -> AgreementQuerySet:
    """Executives see every agreement; a head sees the agreements of the
    teams they head. Subqueries, no query of its own."""
    if can(user, "view_organisation"):
        return Agreement.objects.all()
    headed = Team.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.HEAD
    ).values("pk")
    return Agreement.objects.filter(Q(provider__in=headed) | Q(consumer__in=headed))


def dashboard_teams(agreements: AgreementQuerySet) -> QuerySet[Team]:
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
    """An objective whose figures for the reported month are not in: not yet
    (the month is closing), or not by the deadline (it has locked)."""

    agreement_id: int
    title: str
    name: str
    actual: Decimal | None
    objective_id: int | None = None


@dataclass
class LateReporter:
    team: Team
    count: int = 0  # late objectives in all
    items: list[LateItem] = field(default_factory=list)  # the first few

    @property
    def more(self) -> int:
        return self.count - len(self.items)


@dataclass(frozen=True)
class BreachRow:
    """A breach as the dashboard lists it: who owes the remedy, since when."""

    breach: Breach
    owner: str  # the provider's head (names, or the team when it has none)
    age_days: int


@dataclass
class Dashboard:
    months: list[datetime.date]
    rows: list[HeatRow]  # the page shown, or every row for an export
    page: Page | None  # None: every row
    breaches: list[BreachRow]  # the most recent BREACH_LIST_LIMIT shown
    breach_total: int  # breaches matching the breach filters
    breach_counts: dict[str, int]  # open / acknowledged / resolved, unfiltered
    report_month: datetime.date  # closing during grace, then the last locked
    report_state: str  # periods.MonthState of report_month
    late: list[LateReporter]  # most late objectives first; at least those shown
    late_count: int  # late teams in all
    summary: dict[str, int]  # statuses in report_month
    current_month: datetime.date
    current_summary: dict[str, int]  # the running month so far, on the page shown
    status: str = ""  # the STATUS_FILTERS key the rows are narrowed to

    @property
    def status_label(self) -> str:
        return STATUS_FILTER_LABELS.get(self.status, "")

    @property
    def late_shown(self) -> list[LateReporter]:
        return self.late[:LATE_TEAMS_SHOWN]

    @property
    def late_more(self) -> int:
        return self.late_count - len(self.late_shown)

    @property
    def closing(self) -> bool:
        return self.report_state == periods.MonthState.CLOSING

    @property
    def due_text(self) -> str:
        return periods.due_text(self.report_month)

    @property
    def report_statuses(self) -> list[tuple[str, int]]:
        """The reported month's counts in the order of its vocabulary."""
        keys = Status.LIVE if self.closing else Status.FINAL
        return [(key, self.summary.get(key, 0)) for key in keys]

    @property
    def current_statuses(self) -> list[tuple[str, int]]:
        return [(key, self.current_summary.get(key, 0)) for key in Status.LIVE]

    @property
    def report_total(self) -> int:
        return sum(self.summary.values())

    @property
    def missed_total(self) -> int:
        """Missed in a finished month; off track in a closing one."""
        key = Status.OFF_TRACK if self.closing else Status.MISSED
        return self.summary.get(key, 0)

    @property
    def agreement_total(self) -> int:
        return self.page.paginator.count if self.page else len(self.rows)


def heat_map_agreements(
    agreements: AgreementQuerySet, months: list[datetime.date]
) -> AgreementQuerySet:
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


def is_everything(agreements: AgreementQuerySet) -> bool:
    """Whether ``agreements`` is every agreement: an executive's view, which
    the organisation's stored totals answer."""
    return not agreements.query.where


def of_agreements(queryset: QuerySet, agreements: AgreementQuerySet) -> QuerySet:
    """``queryset`` narrowed to rows of ``agreements``; left whole when
    ``agreements`` is every agreement (an executive's view), which spares the
    database a semi-join over the whole table on every read."""
    if is_everything(agreements):
        return queryset
    return queryset.filter(agreement__in=agreements)


def _late_from_store(
    agreements: AgreementQuerySet, month: datetime.date
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
            "objective_id",
        )
    )
    for (
        team_id,
        team_name,
        slug,
        count,
        agreement_id,
        title,
        name,
        actual,
        objective_id,
    ) in rows:
        reporter = late.get(team_id)
        if reporter is None:
            # Only the name and link are shown: no query for the rest.
            team = Team(pk=team_id, name=team_name, slug=slug)
            reporter = late[team_id] = LateReporter(team=team, count=count)
        reporter.items.append(LateItem(agreement_id, title, name, actual, objective_id))
    return summary, list(late.values())


def _late_from_cards(cards: Cards) -> tuple[Counter[str], list[LateReporter]]:
    """The same from computed cards: in a closing month the objectives with
    nothing in yet, in a locked month not finalised yet those not in by the
    deadline."""
    summary: Counter[str] = Counter()
    late: dict[int, LateReporter] = {}
    ordered = sorted(
        cards.values(), key=lambda c: (c.agreement.title.lower(), c.agreement.pk)
    )
    for card in ordered:
        summary[card.status] += 1
        for line in card.lines:
            if (card.live and not line.missing) or (
                not card.live and line.reported_on_time
            ):
                continue
            provider = card.agreement.provider
            reporter = late.setdefault(provider.pk, LateReporter(team=provider))
            reporter.count += 1
            if len(reporter.items) < LATE_ITEMS_SHOWN:
                reporter.items.append(
                    LateItem(
                        card.agreement.pk,
                        card.agreement.title,
                        line.name,
                        line.actual,
                        line.objective.pk,
                    )
                )
    return summary, list(late.values())


def _report_month_computed(
    agreements: AgreementQuerySet,
    month: datetime.date,
    state: str,
    *,
    now: datetime.datetime,
) -> tuple[Counter[str], list[LateReporter], dict[str, str]]:
    """A month not finalised yet (closing, or locked and not closed): its
    statuses, late reporters and each lineage's status, computed from its
    figures. For the whole organisation (an executive's view) the result is
    kept in the cache while the month's figures stand
    (``freshness.month_stamp``): the figures arriving for the running month
    do not make every agreement be judged again."""
    if not is_everything(agreements):
        return _report_month_build(agreements, month, now)
    key = "report-month:{:%Y-%m}:{}:{}:{}".format(month, state, *month_stamp(month))
    kept = cache.get(key)
    if kept is not None:
        summary, late, statuses = kept
        return Counter(summary), late, statuses
    summary, late, statuses = _report_month_build(agreements, month, now)
    cache.set(key, (dict(summary), late, statuses), timeout=PAGE_SECONDS)
    return summary, late, statuses


def _report_month_build(
    agreements: AgreementQuerySet, month: datetime.date, now: datetime.datetime
) -> tuple[Counter[str], list[LateReporter], dict[str, str]]:
    cards = cards_for([month], agreements=agreements, now=now)
    summary, late = _late_from_cards(cards)
    # Kept small: the late reporters' teams carry their name and link only.
    for reporter in late:
        team = reporter.team
        reporter.team = Team(pk=team.pk, name=team.name, slug=team.slug)
    # Keyed by the lineage's hex: a thousand UUIDs cost more to unpickle.
    statuses = {lineage.hex: card.status for (lineage, _month), card in cards.items()}
    return summary, late, statuses


def _settled_cards(
    versions: list[Agreement],
    shown: AgreementQuerySet,
    months: list[datetime.date],
    *,
    finalised: set[datetime.date],
    now: datetime.datetime,
) -> Cards:
    """The heat map's cards of one page in ``months`` (the running month not
    among them), kept in the cache while those months' judgements stand
    (``freshness.month_stamps``; finalising moves its month's stamp too):
    figures logged for the running month, which move the data stamp all day,
    do not make the page read eleven months again. Kept as plain values,
    each cell's version standing in for the one that was in force."""
    if not months or not versions:
        return cards_for(
            months, agreements=shown, now=now, lines_for=[], finalised=finalised
        )
    parts = (
        tuple(v.pk for v in versions),
        tuple(months),
        tuple(sorted(finalised.intersection(months))),
        tuple(periods.month_state(month, now) for month in months),
        month_stamps(months),
    )
    key = "heat-cells:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    kept = cache.get(key)
    if kept is None:
        cards = cards_for(
            months, agreements=shown, now=now, lines_for=[], finalised=finalised
        )
        values = [
            (
                card.agreement.pk,
                lineage.hex,
                month,
                card.state,
                card.status,
                card.score,
                card.reported_on_time,
                card.met_count,
                card.objective_count,
            )
            for (lineage, month), card in cards.items()
        ]
        cache.set(key, values, timeout=PAGE_SECONDS)
        return cards
    rows = {v.lineage.hex: v for v in versions}
    cards = {}
    for pk, lineage, month, state, status, score, on_time, met, count in kept:
        agreement = rows[lineage]
        if agreement.pk != pk:  # an earlier version: the row's, under its id
            agreement = copy.copy(agreement)
            agreement.pk = pk
        cards[(agreement.lineage, month)] = CardView(
            agreement=agreement,
            month=month,
            state=state,
            status=status,
            score=score,
            reported_on_time=on_time,
            met_count=met,
            objective_count=count,
        )
    return cards


def _late_order(reporter: LateReporter) -> tuple[int, str]:
    return (-reporter.count, reporter.team.name.lower())


def month_totals_values(month: datetime.date) -> dict[str, Any]:
    """The fields of a finalised ``month``'s ``MonthTotals``, from its stored
    scorecards and breaches: the organisation's statuses, breaches by status,
    and the first LATE_TEAMS_KEPT late reporters with the number of them.
    Three queries."""
    summary, late = _late_from_store(Agreement.objects.all(), month)
    late.sort(key=_late_order)
    breaches = dict(
        Breach.objects.filter(month=month)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        **{key: summary.get(key, 0) for key in Scorecard.Status.values},
        **{f"breaches_{key}": breaches.get(key, 0) for key in Breach.Status.values},
        "late_teams": len(late),
        "late": [
            {
                "team": reporter.team.pk,
                "count": reporter.count,
                "items": [
                    {
                        "agreement": item.agreement_id,
                        "title": item.title,
                        "name": item.name,
                        "actual": None if item.actual is None else str(item.actual),
                        "objective": item.objective_id,
                    }
                    for item in reporter.items
                ],
            }
            for reporter in late[:LATE_TEAMS_KEPT]
        ],
    }


def _late_from_totals(
    totals: MonthTotals,
) -> tuple[Counter[str], list[LateReporter], int]:
    """The month's statuses, late reporters and how many teams were late,
    from its stored totals: one query, for the teams' names and links (a
    team renamed since is shown by its new name)."""
    teams = Team.objects.only("name", "slug").in_bulk(
        [entry["team"] for entry in totals.late]
    )
    late = [
        LateReporter(
            team=teams[entry["team"]],
            count=entry["count"],
            items=[
                LateItem(
                    item["agreement"],
                    item["title"],
                    item["name"],
                    None if item["actual"] is None else Decimal(item["actual"]),
                    item["objective"],
                )
                for item in entry["items"][:LATE_ITEMS_SHOWN]
            ],
        )
        for entry in totals.late
        if entry["team"] in teams
    ]
    return Counter(totals.statuses), late, totals.late_teams


def _breach_rows(breaches: list[Breach], *, now: datetime.datetime) -> list[BreachRow]:
    """Each breach with who owes its remedy: the provider's head, or its
    leads and managers when the team has no head. One query."""
    providers = {b.agreement.provider_id for b in breaches}
    people: dict[int, dict[str, list[str]]] = {}
    for team_id, role, first, last, username in (
        Membership.objects.filter(team__in=providers, role__in=Membership.LEADING_ROLES)
        .order_by("user__last_name", "user__username")
        .values_list(
            "team_id", "role", "user__first_name", "user__last_name", "user__username"
        )
    ):
        name = f"{first} {last}".strip() or username
        people.setdefault(team_id, {}).setdefault(role, []).append(name)

    def owner(team_id: int) -> str:
        roles = people.get(team_id, {})
        if roles.get(Membership.Role.HEAD):
            return ", ".join(roles[Membership.Role.HEAD])
        leading = [
            f"{name} ({role})"
            for role in (Membership.Role.LEAD, Membership.Role.MANAGER)
            for name in roles.get(role, [])
        ]
        return ", ".join(leading)

    return [
        BreachRow(
            breach=b,
            owner=owner(b.agreement.provider_id) or "nobody leads the team",
            age_days=max((now - b.opened_at).days, 0),
        )
        for b in breaches
    ]


def _heat_map_order(
    listed: AgreementQuerySet, months: list[datetime.date], *, now: datetime.datetime
) -> list[int]:
    """The ids of the heat map's rows in their order, kept while no
    agreement, team or membership changes (the every-month stamp: their
    history moves it) and the months' states stand. Sorting every agreement
    of a large organisation by its parties' names grows with it; figures
    arriving all day change none of it."""
    every_month = month_stamps([])[0]
    shown = ",".join(
        f"{month:%Y-%m}:{periods.month_state(month, now)}" for month in months
    )
    query = hashlib.sha256(f"{listed.query}|{shown}".encode()).hexdigest()
    key = f"heat-map-order:{every_month}:{query}"
    ids = cache.get(key)
    if ids is None:
        ids = list(listed.values_list("pk", flat=True))
        cache.set(key, ids, timeout=PAGE_SECONDS)
    return ids


def _in_order(ids: list[int]) -> list[Agreement]:
    """The agreements of ``ids`` with their parties, in that order (one
    query)."""
    found = Agreement.objects.select_related("provider", "consumer").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def _first_by_title(breaches: QuerySet[Breach], months: list) -> QuerySet[Breach]:
    """Those of ``breaches`` in ``months`` (newest first) that can be among
    the list's first BREACH_LIST_LIMIT, newest month first and then by
    agreement title: every one of the months but the last, which the list
    needs whole, and of the last those of its first BREACH_LIST_LIMIT titles.
    The titles come from the title index, a few rows read: a month of
    thousands of breaches is not sorted whole to show fifty."""
    *whole, last = months or [None]
    if last is None:
        return breaches.none()
    titles = list(
        Agreement.objects.filter(
            Exists(breaches.filter(month=last, agreement=OuterRef("pk")))
        )
        .order_by("title")
        .values_list("title", flat=True)
        .distinct()[:BREACH_LIST_LIMIT]
    )
    of_last = Q(month=last)
    if len(titles) == BREACH_LIST_LIMIT:
        of_last &= Q(agreement__title__lte=titles[-1])
    return breaches.filter(Q(month__in=whole) | of_last)


def dashboard(
    *,
    agreements: AgreementQuerySet,
    months: list[datetime.date],
    now: datetime.datetime | None = None,
    page: int | str | None = 1,
    every_row: bool = False,
    status: str = "",
    breach_status: str = "",
    breach_team: Team | None = None,
    breach_month: datetime.date | None = None,
) -> Dashboard:
    """The heat map of ``agreements`` × ``months`` (finalised snapshots for
    finalised months, computed for the rest), the month being reported on
    (closing, then locked) with its late reporters, the running month so far,
    and the breaches.

    The heat map shows one page of HEAT_MAP_PAGE_SIZE agreements (``page``
    as in ``Paginator.get_page``), or with ``every_row`` all of them, as the
    CSV export wants. ``status`` (a key of STATUS_FILTERS) keeps the rows
    whose status in the reported month is among those it names. The totals
    cover every agreement, from the stored scorecards once the month is
    finalised. Breaches are the unresolved ones unless ``breach_status``
    says otherwise, narrowed by ``breach_team`` and ``breach_month``.
    A fixed number of queries, whatever the size."""
    now = now or timezone.now()
    months = sorted(months)
    report_month = periods.reporting_month(now)
    report_state = periods.month_state(report_month, now)
    current = periods.current_month(now)

    finalised = finalised_months([*months, report_month], now=now)

    # The organisation's finalised months, one row each, for an executive:
    # what every scorecard and breach would otherwise be read for.
    totals: dict[datetime.date, MonthTotals] | None = None
    if is_everything(agreements):
        totals = {row.month: row for row in MonthTotals.objects.defer("late")}

    report_statuses: dict[str, str] = {}
    if totals is not None and report_month in finalised and report_month in totals:
        summary, late, late_count = _late_from_totals(totals[report_month])
    elif report_month in finalised:
        summary, late = _late_from_store(agreements, report_month)
        late_count = len(late)
    else:
        summary, late, report_statuses = _report_month_computed(
            agreements, report_month, report_state, now=now
        )
        late_count = len(late)
    late.sort(key=_late_order)

    listed = heat_map_agreements(agreements, months)
    wanted = STATUS_FILTERS.get(status)
    if wanted:
        if report_month in finalised:
            listed = listed.filter(
                Exists(
                    Scorecard.objects.filter(
                        month=report_month,
                        status__in=wanted,
                        agreement__lineage=OuterRef("lineage"),
                    )
                )
            )
        else:
            listed = listed.filter(
                lineage__in=[
                    lineage
                    for lineage, status in report_statuses.items()
                    if status in wanted
                ]
            )
    if every_row:
        page_obj, versions = None, list(listed)
        shown = agreements.filter(lineage__in=listed.values("lineage"))
        cards = cards_for(
            months, agreements=shown, now=now, lines_for=[], finalised=finalised
        )
    else:
        if wanted:
            page_obj = Paginator(listed, HEAT_MAP_PAGE_SIZE).get_page(page)
            versions = list(page_obj.object_list)
        else:
            row_ids = _heat_map_order(listed, months, now=now)
            page_obj = Paginator(row_ids, HEAT_MAP_PAGE_SIZE).get_page(page)
            versions = _in_order(list(page_obj.object_list))
        shown = agreements.filter(lineage__in=[v.lineage for v in versions])
        settled = [month for month in months if month != current]
        cards = _settled_cards(versions, shown, settled, finalised=finalised, now=now)
        if current in months:
            cards.update(
                cards_for(
                    [current], agreements=shown, now=now, lines_for=[], finalised=set()
                )
            )
    rows = [
        HeatRow(agreement=v, cells=[cards.get((v.lineage, m)) for m in months])
        for v in versions
    ]
    # The running month for the agreements on the page: computing it for
    # every agreement in force cost as much as the rest of the page, and its
    # words move with the business days gone, so no store keeps them.
    if current in months:
        on_page = [row.cells[months.index(current)] for row in rows]
    else:
        on_page = list(cards_for([current], agreements=shown, now=now).values())
    current_summary = Counter(card.status for card in on_page if card is not None)

    all_breaches = of_agreements(Breach.objects.all(), agreements)
    statuses = list(Breach.Status.values)
    chosen = all_breaches
    if breach_status in Breach.Status.values:
        statuses = [breach_status]
        chosen = chosen.filter(status=breach_status)
    elif breach_status != "all":
        statuses = list(OPEN_BREACH_STATUSES)
        chosen = chosen.filter(status__in=OPEN_BREACH_STATUSES)
    if breach_team is not None:
        chosen = chosen.filter(
            Q(agreement__provider=breach_team) | Q(agreement__consumer=breach_team)
        )
    if breach_month is not None:
        chosen = chosen.filter(month=breach_month)
    # The page lists the most recent ones with the total: a large organisation
    # can owe thousands, and each agreement's scorecard lists its own. Counts
    # per month give the total and the few latest months the list needs, so
    # the list sorts those months' breaches, not all of them. A breach is
    # opened only by finalising its month, so the months' totals count them
    # all.
    if totals is not None:
        breach_counts = {
            key: sum(row.breaches[key] for row in totals.values())
            for key in Breach.Status.values
        }
    else:
        breach_counts = dict(
            all_breaches.order_by().values_list("status").annotate(n=Count("pk"))
        )
    if totals is not None and breach_team is None:
        per_month = [
            (month, n)
            for month, row in sorted(totals.items(), reverse=True)
            if breach_month in (None, month)
            and (n := sum(row.breaches[key] for key in statuses))
        ]
    else:
        per_month = list(
            chosen.order_by("-month").values_list("month").annotate(n=Count("pk"))
        )
    breach_total = sum(n for _month, n in per_month)
    listed_months, running = [], 0
    for month, n in per_month:
        if running >= BREACH_LIST_LIMIT:
            break
        listed_months.append(month)
        running += n
    order = ("-month", "agreement__title", "line__objective__position", "pk")
    latest = _first_by_title(chosen, listed_months).order_by(*order)
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
        breaches=_breach_rows(breaches, now=now),
        breach_total=breach_total,
        breach_counts={key: breach_counts.get(key, 0) for key in Breach.Status.values},
        report_month=report_month,
        report_state=report_state,
        late=late,
        late_count=late_count,
        summary={
            key: summary.get(key, 0)
            for key in (
                Status.LIVE
                if report_state == periods.MonthState.CLOSING
                else Status.FINAL
            )
        },
        current_month=current,
        current_summary={key: current_summary.get(key, 0) for key in Status.LIVE},
        status=status if wanted else "",
    )
