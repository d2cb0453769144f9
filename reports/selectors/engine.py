"""The scorecard engine: which version counts, what was achieved, and how each
objective stands. The one place a month's figures are added up.

Every function here runs a fixed number of queries, whatever the number of
agreements, objectives and submissions: one query per concern, grouped in the
database, then the words and arithmetic of ``reports.scoring``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Min, Q
from django.utils import timezone

from agreements import periods
from agreements.figures.kinds import BY_SOURCE, KINDS, FigureKind
from agreements.models import (
    Agreement,
    FrictionReport,
    Lead,
    Measurement,
    Objective,
    Terms,
    in_force_test,
)
from agreements.models.agreements import AgreementQuerySet

from ..bulk import built, collection_paused, instances
from ..scoring import (
    Outcome,
    Status,
    good_count,
    headline,
    judge_final,
    judge_live,
    weighted_attainment,
    worst_status,
)
from .pace import Pace, pace_calendars
from .records import Measured, RecordResult, record_results

Source = Objective.Source
# What a team's leads from a CRM count for (``records.models.Lead``).
LEAD_SOURCES = frozenset({Source.LEADS_DELIVERED, Source.QUALIFIED_LEADS})
MonthState = periods.MonthState
cache_agreement = Objective._meta.get_field("agreement").set_cached_value
COUNTED = frozenset(Objective.COUNTED_SOURCES)


class ObjectiveRow(NamedTuple):
    """An objective as the engine reads it: the values of its fields (every
    concrete field, by attname, in the model's order), no model instance. A
    month's thousands of objectives are judged on these; ``objective_of``
    builds the instance where a reader wants one."""

    id: int
    agreement_id: int
    name: str
    metric_source: str
    comparator: str
    target: Decimal
    unit: str
    weight: Decimal
    warning_threshold: Decimal | None
    period: str
    position: int

    @property
    def terms(self) -> Terms:
        """``Objective.terms``, from values the database gave (Decimals)."""
        return Terms(
            self.comparator,
            self.target,
            self.weight,
            self.warning_threshold,
            self.metric_source in COUNTED,
        )


def objective_of(row: ObjectiveRow, agreement: Agreement) -> Objective:
    """The model instance of ``row``, its ``agreement`` (the version it
    belongs to) in place: no query when a reader follows it."""
    db = agreement._state.db or DEFAULT_DB_ALIAS
    objective = built(Objective, ObjectiveRow._fields, row, db)
    cache_agreement(objective, agreement)
    return objective


@dataclass
class LineResult:
    row: ObjectiveRow  # the objective's values; ``objective`` is its instance
    agreement: Agreement  # the version the objective belongs to
    terms: Terms
    outcome: Outcome
    reported_on_time: bool
    entries: int = 0  # rows the figure comes from (1 for a measured value)
    records: RecordResult | None = None  # measured from records: how

    @cached_property
    def objective(self) -> Objective:
        """Built when first asked for: judging a month needs none."""
        return objective_of(self.row, self.agreement)

    @property
    def status(self) -> str:
        return self.outcome.status


@dataclass
class ScorecardResult:
    agreement: Agreement
    month: datetime.date
    state: str  # periods.MonthState: running, closing or locked
    lines: list[LineResult] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """Judged on its figures alone: the month has locked."""
        return self.state == MonthState.LOCKED

    @property
    def live(self) -> bool:
        return not self.final

    @property
    def status(self) -> str:
        return worst_status([line.status for line in self.lines], final=self.final)

    @property
    def score(self) -> Decimal | None:
        """Weighted attainment, for a finished month only: while figures are
        still coming in, a share of the target says nothing of the result."""
        if not self.final:
            return None
        return weighted_attainment((line.terms, line.outcome) for line in self.lines)

    @property
    def met_count(self) -> int:
        return good_count(line.status for line in self.lines)

    @property
    def headline(self) -> str:
        return headline([line.status for line in self.lines], final=self.final)

    @property
    def reported_on_time(self) -> bool:
        return all(line.reported_on_time for line in self.lines)


def versions_in_force(
    months: Iterable[datetime.date], agreements: AgreementQuerySet | None = None
) -> dict[datetime.date, list[Agreement]]:
    """For each month, the one version of each agreement that counts.

    A version counts for a month when it is in force then
    (``Agreement.is_in_force``: signed by both parties before the month
    locked, dated to cover it, not retired before it began). Where two
    versions of one agreement are in force in a month, the later version
    wins: it superseded the earlier one from its own start date. Two queries
    in all.
    """
    months = sorted({periods.month_of(m) for m in months})
    if not months:
        return {}
    first, last = months[0], months[-1]
    qs = agreements if agreements is not None else Agreement.objects.all()
    qs = (
        qs.signed()
        .filter(effective_from__lt=periods.next_month(last))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=first))
        .order_by("lineage", "-version")
    )
    versions = instances(qs, "provider", "consumer")
    if not versions:
        return {month: [] for month in months}
    # Objectives in one query, as plain values (``ObjectiveRow``), attached
    # by hand: prefetch_related clones a queryset per agreement, which costs
    # more than the query at 1,000 rows. Put in order here, agreement by
    # agreement: sorting all of them by position in the database cost more
    # than the rest of the statement.
    by_agreement: dict[int, list[ObjectiveRow]] = defaultdict(list)
    rows = (
        Objective.objects.filter(agreement__in=qs.order_by().values("pk"))
        .order_by()
        .values_list(*ObjectiveRow._fields)
    )
    for row in map(ObjectiveRow._make, rows):
        by_agreement[row.agreement_id].append(row)
    in_order = itemgetter(ObjectiveRow._fields.index("position"), 0)
    for version in versions:
        version.objective_rows = sorted(by_agreement[version.id], key=in_order)
    result: dict[datetime.date, list[Agreement]] = {}
    for month in months:
        chosen: dict = {}
        in_force = in_force_test(month)
        for version in versions:  # latest version of each lineage first
            if version.lineage not in chosen and in_force(version):
                chosen[version.lineage] = version
        result[month] = sorted(
            chosen.values(), key=lambda a: (a.provider.name, a.consumer.name, a.title)
        )
    return result


@dataclass
class Figure:
    """What was logged for one objective in one month."""

    value: Decimal | None = None  # a sum or count; None: not measured
    first_at: datetime.datetime | None = None  # when the first row came in
    entries: int = 0  # how many rows
    # Measured from records: nobody reports it, so it is never late.
    records: RecordResult | None = None


def _metric(source: str) -> str:
    """The name a source's total goes by in a grouped query (a name of its
    own: a source may share its name with a field of the rows)."""
    return f"total_{source}"


def _kind_totals(
    kind: FigureKind, months: list[datetime.date], teams: set[int]
) -> dict[tuple[datetime.date, int], dict[str, Any]]:
    """Each metric source's total of a kind's rows per (month, team)."""
    model: Any = kind.model  # a TeamFigure: its team is declared by the kind
    return {
        (row["month"], row["team_id"]): row
        for row in model.objects.filter(month__in=months, team_id__among=teams)
        .values("month", "team_id")
        .annotate(
            **{_metric(source): total for source, total in kind.metrics.items()},
            n=Count("pk"),
            first_at=Min("created_at"),
        )
    }


def collect_actuals(
    objectives_by_month: Mapping[datetime.date, Sequence[tuple[Agreement, Measured]]],
    *,
    now: datetime.datetime | None = None,
) -> dict[tuple[datetime.date, int], Figure]:
    """Actual values per (month, objective id): at most four grouped queries
    in all, one per kind of figure the objectives use, and those of
    ``record_results`` for objectives measured from records."""
    months = list(objectives_by_month)
    if not months:
        return {}
    teams: set[int] = set()
    manual: set[int] = set()
    sources: set[str] = set()
    for pairs in objectives_by_month.values():
        last: Agreement | None = None
        for agreement, objective in pairs:
            if agreement is not last:  # the pairs come agreement by agreement
                last = agreement
                teams.add(agreement.provider_id)
            source = objective.metric_source
            sources.add(source)
            if source == Source.MANUAL:
                manual.add(objective.id)

    # One grouped query per kind of figure the objectives use: each source's
    # sum (or count) per month and team, as the registry of kinds says.
    by_kind = {
        kind: _kind_totals(kind, months, teams)
        for kind in KINDS.values()
        if sources & kind.sources
    }
    friction = {}
    if Source.FRICTION_REPORTS in sources:
        friction = {
            (row["month"], row["reporting_team_id"], row["addressed_team_id"]): row
            for row in FrictionReport.objects.filter(
                month__in=months, reporting_team_id__among=teams
            )
            .values("month", "reporting_team_id", "addressed_team_id")
            .annotate(n=Count("pk"), first_at=Min("created_at"))
        }
    measured = {}
    if manual:
        # By the providing teams, not the objectives' ids: the same rows and
        # perhaps a few of other agreements of those teams, where a list of
        # every manual objective's id (1,683 at the benchmark's size) cost
        # more to build and send than the rows it left out.
        measured = {
            (row["month"], row["objective_id"]): row
            for row in Measurement.objects.filter(
                month__in=months,
                objective__metric_source=Source.MANUAL,
                objective__agreement__provider_id__among=teams,
            )
            # Not in the model's order: it joins both teams to sort by name.
            .order_by()
            .values("month", "objective_id", "value", "created_at")
        }

    # Leads from a CRM: counted per team and month where the team has any,
    # in place of the totals typed by hand (a month counts one or the other).
    leads = {}
    if sources & LEAD_SOURCES:
        leads = {
            (row["month"], row["team_id"]): row
            for row in Lead.objects.counted()
            .filter(month__in=months, team_id__among=teams)
            .values("month", "team_id")
            .annotate(
                **{
                    _metric(Source.LEADS_DELIVERED): Count("pk"),
                    _metric(Source.QUALIFIED_LEADS): Count(
                        "pk", filter=Q(qualified=True)
                    ),
                },
                n=Count("pk"),
                first_at=Min("first_received_at"),
            )
        }

    from_records = (
        record_results(objectives_by_month, now=now or timezone.now())
        if sources.intersection(Objective.RECORD_SOURCES)
        else {}
    )

    records = Objective.RECORD_SOURCES
    metric = {source: _metric(source) for source in sources}
    zero = Decimal(0)
    figures: dict[tuple[datetime.date, int], Figure] = {}
    for month, pairs in objectives_by_month.items():
        last = None
        for agreement, objective in pairs:
            if agreement is not last:  # the pairs come agreement by agreement
                last = agreement
                key = (month, agreement.provider_id)
            source = objective.metric_source
            if source in records:
                result = from_records.get((month, objective.id))
                figure = (
                    Figure(result.value, None, result.entries, result)
                    if result
                    else Figure()
                )
            elif source in BY_SOURCE:
                row = leads.get(key) if source in LEAD_SOURCES else None
                row = row or by_kind[BY_SOURCE[source]].get(key)
                if row:
                    total = row[metric[source]] or 0
                    figure = Figure(Decimal(total), row["first_at"], row["n"])
                else:
                    figure = Figure(zero)
            elif source == Source.FRICTION_REPORTS:
                # Reports count for the agreement whose consumer gets them.
                row = friction.get((*key, agreement.consumer_id))
                figure = (
                    Figure(Decimal(row["n"]), row["first_at"], row["n"])
                    if row
                    else Figure(zero)
                )
            else:
                row = measured.get((month, objective.id))
                figure = (
                    Figure(Decimal(row["value"]), row["created_at"], 1)
                    if row
                    else Figure()
                )
            figures[(month, objective.id)] = figure
    return figures


def terms_of(objective: Objective) -> Terms:
    return objective.terms


def judge(
    terms: Terms,
    value: Decimal | None,
    *,
    state: str,
    fraction: float,
) -> Outcome:
    """One objective's month, in the words of its state."""
    if state == MonthState.LOCKED:
        return judge_final(terms, value)
    return judge_live(
        terms, value, fraction=fraction, running=state != MonthState.CLOSING
    )


def score_versions(
    versions: dict[datetime.date, list[Agreement]], *, now: datetime.datetime
) -> dict[datetime.date, list[ScorecardResult]]:
    """Scorecards of the given versions, per month (as ``versions_in_force``
    returns them): the grouped reads of ``collect_actuals``, then the words
    of ``reports.scoring``."""
    pairs = {
        month: [(a, o) for a in agreements_ for o in a.objective_rows]
        for month, agreements_ in versions.items()
    }
    figures = collect_actuals(pairs, now=now)
    states = {}
    for month in versions:
        state = periods.month_state(month, now)
        # Not begun: nothing gone yet, so no data and too early to tell.
        states[month] = MonthState.RUNNING if state == MonthState.FUTURE else state
    # Pace matters while a month runs: only then are calendars read.
    calendars = pace_calendars(
        agreement.provider_id
        for month, agreements_ in versions.items()
        if states[month] == MonthState.RUNNING
        for agreement in agreements_
    )
    pace = Pace(now)
    records = Objective.RECORD_SOURCES
    results: dict[datetime.date, list[ScorecardResult]] = {}
    for month, agreements_ in versions.items():
        state = states[month]
        locked = state == MonthState.LOCKED
        deadline = periods.deadline(month)
        cards = []
        for agreement in agreements_:
            fraction = pace.fraction(month, calendars.get(agreement.provider_id))
            card = ScorecardResult(agreement=agreement, month=month, state=state)
            lines = card.lines
            for row in agreement.objective_rows:
                figure = figures[(month, row.id)]
                terms = row.terms
                outcome = judge(terms, figure.value, state=state, fraction=fraction)
                # Nothing is late before the deadline, nor measured from
                # records (nobody has to report it).
                on_time = (
                    not locked
                    or row.metric_source in records
                    or (figure.first_at is not None and figure.first_at <= deadline)
                )
                lines.append(
                    LineResult(
                        row,
                        agreement,
                        terms,
                        outcome,
                        on_time,
                        figure.entries,
                        figure.records,
                    )
                )
            cards.append(card)
        results[month] = cards
    return results


@collection_paused(promote=True)
def scorecards_for_months(
    months: Iterable[datetime.date],
    *,
    agreements: AgreementQuerySet | None = None,
    now: datetime.datetime | None = None,
) -> dict[datetime.date, list[ScorecardResult]]:
    """Compute scorecards for every agreement version in force in ``months``:
    a fixed number of queries, whatever the size of the organisation."""
    now = now or timezone.now()
    return score_versions(versions_in_force(months, agreements), now=now)


def scorecard_for(agreement: Agreement, month: datetime.date, *, now=None):
    """The computed scorecard of one agreement's lineage for one month, or
    ``None`` when no version of it was in force (a month before it started)."""
    lineage = Agreement.objects.filter(lineage=agreement.lineage)
    cards = scorecards_for_months([month], agreements=lineage, now=now)[month]
    return cards[0] if cards else None


__all__ = [
    "Figure",
    "LineResult",
    "ObjectiveRow",
    "ScorecardResult",
    "Status",
    "collect_actuals",
    "judge",
    "objective_of",
    "score_versions",
    "scorecard_for",
    "scorecards_for_months",
    "terms_of",
    "versions_in_force",
]
