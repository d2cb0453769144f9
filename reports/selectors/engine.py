"""The scorecard engine's reads: which version counts, and what was achieved.

Every function here runs a fixed number of queries, whatever the number of
agreements, objectives and submissions: one query per concern, grouped in the
database, then plain arithmetic from ``reports.scoring``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from agreements import periods
from agreements.models import (
    Agreement,
    ClosedCustomer,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Objective,
)
from agreements.selectors import agreement_in_force

from ..scoring import Outcome, Status, Terms, agreement_score, evaluate, worst_status

Source = Objective.Source
cache_agreement = Objective._meta.get_field("agreement").set_cached_value


@dataclass
class LineResult:
    objective: Objective
    terms: Terms
    outcome: Outcome
    reported_on_time: bool

    @property
    def status(self) -> str:
        return self.outcome.status


@dataclass
class ScorecardResult:
    agreement: Agreement
    month: datetime.date
    live: bool
    lines: list[LineResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst_status([line.status for line in self.lines])

    @property
    def score(self) -> Decimal | None:
        return agreement_score([(line.terms, line.outcome) for line in self.lines])

    @property
    def reported_on_time(self) -> bool:
        return all(line.reported_on_time for line in self.lines)


def versions_in_force(
    months: Iterable[datetime.date], agreements=None
) -> dict[datetime.date, list[Agreement]]:
    """For each month, the one version of each agreement that counts.

    A version counts for a month when it is in force then (signed by both
    parties, its dates cover the month, not retired before the month began:
    ``agreements.selectors.agreement_in_force``). Where two versions of one
    agreement are in force in a month, the later version wins: it superseded
    the earlier one from its own start date. Two queries in all.
    """
    months = sorted({periods.month_of(m) for m in months})
    if not months:
        return {}
    first, last = months[0], months[-1]
    qs = agreements if agreements is not None else Agreement.objects.all()
    qs = (
        qs.filter(
            status__in=[Agreement.Status.ACTIVE, Agreement.Status.RETIRED],
            effective_from__lt=periods.next_month(last),
        )
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=first))
        .select_related("provider", "consumer")
        .order_by("lineage", "-version")
    )
    versions = list(qs)
    # Objectives in one query, attached by hand: prefetch_related clones a
    # queryset per agreement, which costs more than the query at 1,000 rows.
    by_agreement: dict[int, list[Objective]] = defaultdict(list)
    for objective in Objective.objects.filter(
        agreement__in=qs.order_by().values("pk")
    ).order_by("position", "pk"):
        by_agreement[objective.agreement_id].append(objective)
    for version in versions:
        version.objective_list = by_agreement[version.pk]
        for objective in version.objective_list:
            # No query when a page follows it; cheaper than the descriptor.
            cache_agreement(objective, version)
    result: dict[datetime.date, list[Agreement]] = {}
    for month in months:
        chosen: dict = {}
        for version in versions:  # latest version of each lineage first
            if version.lineage not in chosen and agreement_in_force(version, month):
                chosen[version.lineage] = version
        result[month] = sorted(
            chosen.values(), key=lambda a: (a.provider.name, a.consumer.name, a.title)
        )
    return result


@dataclass
class _Figure:
    value: Decimal | None = None
    first_at: datetime.datetime | None = None


def collect_actuals(
    objectives_by_month: dict[datetime.date, list[tuple[Agreement, Objective]]],
) -> dict[tuple[datetime.date, int], _Figure]:
    """Actual values per (month, objective id), four grouped queries in all."""
    months = list(objectives_by_month)
    if not months:
        return {}
    teams: set[int] = set()
    manual: set[int] = set()
    for pairs in objectives_by_month.values():
        for agreement, objective in pairs:
            teams.add(agreement.provider_id)
            if objective.metric_source == Source.MANUAL:
                manual.add(objective.pk)

    leads = {
        (row["month"], row["team_id"]): row
        for row in LeadLogEntry.objects.filter(month__in=months, team_id__in=teams)
        .values("month", "team_id")
        .annotate(
            delivered=Sum("leads_delivered"),
            qualified=Sum("qualified_leads"),
            first_at=Min("created_at"),
        )
    }
    customers = {
        (row["month"], row["team_id"]): row
        for row in ClosedCustomer.objects.filter(month__in=months, team_id__in=teams)
        .values("month", "team_id")
        .annotate(n=Count("pk"), first_at=Min("created_at"))
    }
    friction = {
        (row["month"], row["reporting_team_id"], row["addressed_team_id"]): row
        for row in FrictionReport.objects.filter(
            month__in=months, reporting_team_id__in=teams
        )
        .values("month", "reporting_team_id", "addressed_team_id")
        .annotate(n=Count("pk"), first_at=Min("created_at"))
    }
    measured = {
        (row["month"], row["objective_id"]): row
        for row in Measurement.objects.filter(
            month__in=months, objective_id__in=manual
        ).values("month", "objective_id", "value", "created_at")
    }

    figures: dict[tuple[datetime.date, int], _Figure] = {}
    for month, pairs in objectives_by_month.items():
        for agreement, objective in pairs:
            source = objective.metric_source
            key = (month, agreement.provider_id)
            if source in (Source.LEADS_DELIVERED, Source.QUALIFIED_LEADS):
                row = leads.get(key)
                column = (
                    "delivered" if source == Source.LEADS_DELIVERED else "qualified"
                )
                figure = _Figure(
                    Decimal(row[column] or 0) if row else Decimal(0),
                    row["first_at"] if row else None,
                )
            elif source == Source.CUSTOMERS_CLOSED:
                row = customers.get(key)
                figure = _Figure(
                    Decimal(row["n"]) if row else Decimal(0),
                    row["first_at"] if row else None,
                )
            elif source == Source.FRICTION_REPORTS:
                row = friction.get(
                    (month, agreement.provider_id, agreement.consumer_id)
                )
                figure = _Figure(
                    Decimal(row["n"]) if row else Decimal(0),
                    row["first_at"] if row else None,
                )
            else:
                row = measured.get((month, objective.pk))
                figure = _Figure(
                    Decimal(row["value"]) if row else None,
                    row["created_at"] if row else None,
                )
            figures[(month, objective.pk)] = figure
    return figures


def terms_of(objective: Objective) -> Terms:
    return Terms(
        comparator=objective.comparator,
        target=Decimal(objective.target),
        weight=Decimal(objective.weight),
        warning_threshold=objective.warning_threshold,
        cumulative=objective.metric_source != Source.MANUAL,
    )


def scorecards_for_months(
    months: Iterable[datetime.date], *, agreements=None, now=None
) -> dict[datetime.date, list[ScorecardResult]]:
    """Compute scorecards for every agreement version in force in ``months``.

    Six queries, whatever the size of the organisation. A month still open is
    live: cumulative objectives are judged by their pace.
    """
    now = now or timezone.now()
    return score_versions(versions_in_force(months, agreements), now=now)


def score_versions(
    versions: dict[datetime.date, list[Agreement]], *, now: datetime.datetime
) -> dict[datetime.date, list[ScorecardResult]]:
    """Scorecards of the given versions, per month (as ``versions_in_force``
    returns them): the four grouped reads of ``collect_actuals``, then
    arithmetic."""
    pairs = {
        month: [(a, o) for a in agreements_ for o in a.objective_list]
        for month, agreements_ in versions.items()
    }
    figures = collect_actuals(pairs)
    results: dict[datetime.date, list[ScorecardResult]] = {}
    for month, agreements_ in versions.items():
        live = not periods.has_ended(month, now=now)
        elapsed = periods.elapsed_fraction(month, now=now) if live else None
        deadline = periods.deadline(month)
        cards = []
        for agreement in agreements_:
            card = ScorecardResult(agreement=agreement, month=month, live=live)
            for objective in agreement.objective_list:
                figure = figures[(month, objective.pk)]
                terms = terms_of(objective)
                outcome = evaluate(terms, figure.value, elapsed=elapsed)
                on_time = figure.first_at is not None and figure.first_at <= deadline
                if live:
                    on_time = True  # nothing is late before the deadline
                card.lines.append(LineResult(objective, terms, outcome, on_time))
            cards.append(card)
        results[month] = cards
    return results


def scorecard_for(agreement: Agreement, month: datetime.date, *, now=None):
    """The computed scorecard of one agreement's lineage for one month, or
    ``None`` when no version of it was in force (a month before it started)."""
    lineage = Agreement.objects.filter(lineage=agreement.lineage)
    cards = scorecards_for_months([month], agreements=lineage, now=now)[month]
    return cards[0] if cards else None


__all__ = [
    "LineResult",
    "ScorecardResult",
    "Status",
    "collect_actuals",
    "score_versions",
    "scorecard_for",
    "scorecards_for_months",
    "versions_in_force",
]
