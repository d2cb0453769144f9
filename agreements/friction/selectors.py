"""The friction knowledge base: pain points with how often, for whom and by
whom they are reported, and the friction report list. Fixed query counts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Lower

from .. import periods
from ..models import FrictionReport, PainPoint, Team
from .knowledge_models import PainPointQuerySet
from .models import split_tags, tag_q


def _report_q(
    prefix: str,
    *,
    tag: str = "",
    severity: str = "",
    status: str = "",
    customer: str = "",
) -> Q:
    q = Q()
    if tag:
        q &= tag_q(tag, f"{prefix}tags")
    if severity:
        q &= Q(**{f"{prefix}severity": severity})
    if status:
        q &= Q(**{f"{prefix}status": status})
    if customer:
        q &= Q(**{f"{prefix}customer__icontains": customer.strip()})
    return q


@dataclass(frozen=True)
class PainPointSummary:
    """A pain point with how often, for how many customers and by how many
    teams it was reported, and a count per month (oldest first)."""

    pain_point: PainPoint
    reports: int
    customers: int
    teams: int
    last_reported: dt.datetime | None
    trend: list[tuple[dt.date, int]]


def pain_points_counted(
    pain_points: PainPointQuerySet | None = None,
    *,
    search: str = "",
    category: str = "",
    tag: str = "",
    severity: str = "",
    status: str = "",
    customer: str = "",
) -> QuerySet[PainPoint]:
    """``pain_points`` (the current ones by default) as the knowledge base
    filters them, each annotated with ``report_count``, ``customer_count``,
    ``team_count`` and ``last_reported``; most reported first. ``tag``,
    ``severity``, ``status`` and ``customer`` filter the reports counted, and
    keep only pain points with at least one such report. One query."""
    filters = {"tag": tag, "severity": severity, "status": status, "customer": customer}
    base: PainPointQuerySet = (
        PainPoint.objects.current() if pain_points is None else pain_points
    )
    if category:
        base = base.filter(category=category)
    if search.strip():
        base = base.search(search)
    filtering_reports = any(filters.values())
    if filtering_reports:
        base = base.filter(
            pk__in=FrictionReport.objects.filter(_report_q("", **filters)).values(
                "pain_point"
            )
        )
    counted = _report_q("reports__", **filters) if filtering_reports else None
    return base.annotate(
        report_count=Count("reports", filter=counted, distinct=True),
        customer_count=Count(Lower("reports__customer"), filter=counted, distinct=True),
        team_count=Count("reports__reporting_team", filter=counted, distinct=True),
        last_reported=Max("reports__created_at", filter=counted),
    ).order_by("-report_count", Lower("title"), "pk")


def pain_point_trends(
    pain_points: QuerySet | list[int],
    *,
    months: int = 6,
    now: dt.datetime | None = None,
    tag: str = "",
    severity: str = "",
    status: str = "",
    customer: str = "",
) -> dict[int, list[tuple[dt.date, int]]]:
    """Reports per month over the last ``months`` months (oldest first) for
    each of ``pain_points`` (ids, or a queryset of them), counting only the
    reports that match the filters. One query."""
    window = periods.recent_months(months, now)
    per_month: dict[int, dict[dt.date, int]] = defaultdict(dict)
    rows = (
        FrictionReport.objects.filter(
            pain_point__in=pain_points,
            month__gte=window[0],
            month__lte=window[-1],
        )
        .filter(
            _report_q("", tag=tag, severity=severity, status=status, customer=customer)
        )
        .values("pain_point", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        per_month[row["pain_point"]][row["month"]] = row["n"]
    return defaultdict(
        lambda: [(m, 0) for m in window],
        {
            pk: [(m, counts.get(m, 0)) for m in window]
            for pk, counts in per_month.items()
        },
    )


def pain_point_summaries(
    *,
    search: str = "",
    category: str = "",
    tag: str = "",
    severity: str = "",
    status: str = "",
    customer: str = "",
    months: int = 6,
    now: dt.datetime | None = None,
) -> list[PainPointSummary]:
    """The knowledge base: current (unmerged) pain points, most reported
    first, with their counts and trend (see ``pain_points_counted``).

    Two queries however many pain points and reports there are.
    """
    filters = {"tag": tag, "severity": severity, "status": status, "customer": customer}
    # Annotated rows: report_count, customer_count, team_count, last_reported.
    listed: list[Any] = list(
        pain_points_counted(
            search=search,
            category=category,
            tag=tag,
            severity=severity,
            status=status,
            customer=customer,
        )
    )
    trends = pain_point_trends(
        [p.pk for p in listed], months=months, now=now, **filters
    )
    return [
        PainPointSummary(
            pain_point=p,
            reports=p.report_count,
            customers=p.customer_count,
            teams=p.team_count,
            last_reported=p.last_reported,
            trend=trends[p.pk],
        )
        for p in listed
    ]


def friction_report_list(
    *,
    user,
    search: str = "",
    category: str = "",
    tag: str = "",
    severity: str = "",
    status: str = "",
    customer: str = "",
    reporting_team: Team | None = None,
    addressed_team: Team | None = None,
    pain_point: PainPoint | None = None,
    month: dt.date | None = None,
) -> QuerySet[FrictionReport]:
    """Reports the user may read, filtered, ready to list: open before
    closed, the most severe first, then the oldest first (``by_urgency``)."""
    reports = FrictionReport.objects.visible_to(user).filter(
        _report_q("", tag=tag, severity=severity, status=status, customer=customer)
    )
    if category:
        reports = reports.filter(category=category)
    if reporting_team is not None:
        reports = reports.filter(reporting_team=reporting_team)
    if addressed_team is not None:
        reports = reports.filter(addressed_team=addressed_team)
    if pain_point is not None:
        reports = reports.filter(pain_point=pain_point)
    if month is not None:
        reports = reports.filter(month=periods.month_of(month))
    if search.strip():
        reports = reports.search(search)
    return reports.select_related(
        "reporting_team",
        "addressed_team",
        "addressed_to",
        "assigned_to",
        "pain_point",
        "created_by",
    ).by_urgency()


def friction_tag_counts(
    reports: QuerySet[FrictionReport] | None = None,
) -> list[tuple[str, int]]:
    """``[("billing", 12), ("onboarding", 5), ...]``, most used first, over
    ``reports`` (a queryset: one query) or every report."""
    if reports is None:
        reports = FrictionReport.objects.all()
    counts: dict[str, int] = defaultdict(int)
    for tags in reports.exclude(tags="").values_list("tags", flat=True):
        for tag in split_tags(tags):
            counts[tag] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def pain_point_summary(
    pain_point: PainPoint, *, months: int = 12, now: dt.datetime | None = None
) -> PainPointSummary:
    """One pain point's counts over all its reports, and a count per month
    for the last ``months`` months. Two queries."""
    totals = FrictionReport.objects.filter(pain_point=pain_point).aggregate(
        reports=Count("pk"),
        customers=Count(Lower("customer"), distinct=True),
        teams=Count("reporting_team", distinct=True),
        last_reported=Max("created_at"),
    )
    window = periods.recent_months(months, now)
    per_month = dict(
        FrictionReport.objects.filter(
            pain_point=pain_point, month__gte=window[0], month__lte=window[-1]
        )
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("month", "n")
    )
    return PainPointSummary(
        pain_point=pain_point,
        reports=totals["reports"],
        customers=totals["customers"],
        teams=totals["teams"],
        last_reported=totals["last_reported"],
        trend=[(m, per_month.get(m, 0)) for m in window],
    )
