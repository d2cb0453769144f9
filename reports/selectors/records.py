"""The scorecard engine's figures from records: time to respond from
requests, availability from incidents (``agreements.records.measure``).

A fixed number of queries for any number of objectives and months: the
measures with their calendars (three), then the requests with their pauses
(two), the incidents and the maintenance windows (one each), for every
source at once; the arithmetic is done per objective and month in Python.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q

from agreements import periods
from agreements.models import Agreement, Objective
from agreements.records import measure
from agreements.records.models import (
    Incident,
    MaintenanceWindow,
    RecordMeasure,
    RequestPause,
    ServiceRequest,
)

Source = Objective.Source
# Records are read a little beyond the months (in UTC), so that a month
# in any zone finds every record that starts or runs inside it.
SLACK = datetime.timedelta(days=2)

RecordFigures = measure.RequestFigures | measure.AvailabilityFigures


@dataclass(frozen=True)
class RecordResult:
    """One objective's month from records: its percentage and the figures
    (and evidence) behind it."""

    measure: RecordMeasure
    figures: RecordFigures

    @property
    def value(self) -> Decimal | None:
        if isinstance(self.figures, measure.RequestFigures):
            return self.figures.attainment
        return self.figures.percent

    @property
    def entries(self) -> int:
        if isinstance(self.figures, measure.RequestFigures):
            return self.figures.counted
        return len(self.figures.incidents)


def _bounds(months: list[datetime.date]) -> tuple[datetime.datetime, datetime.datetime]:
    first = datetime.datetime.combine(min(months), datetime.time(), tzinfo=datetime.UTC)
    last = datetime.datetime.combine(
        periods.next_month(max(months)), datetime.time(), tzinfo=datetime.UTC
    )
    return first - SLACK, last + SLACK


def measures_for(objective_ids: Iterable[int]) -> dict[int, RecordMeasure]:
    """Each objective's measure with its source and calendar (three queries)."""
    return {
        m.objective_id: m
        for m in RecordMeasure.objects.filter(objective_id__in=list(objective_ids))
        .select_related("objective", "source", "calendar")
        .prefetch_related("calendar__intervals", "calendar__holidays")
    }


def record_results(
    objectives_by_month: dict[datetime.date, list[tuple[Agreement, Objective]]],
    *,
    now: datetime.datetime,
) -> dict[tuple[datetime.date, int], RecordResult]:
    """The figures of every objective measured from records, per (month,
    objective id). An objective without a measure has none (no data)."""
    wanted = {
        objective.pk
        for pairs in objectives_by_month.values()
        for _, objective in pairs
        if objective.metric_source in Objective.RECORD_SOURCES
    }
    if not wanted:
        return {}
    measures = measures_for(wanted)
    if not measures:
        return {}
    first, last = _bounds(list(objectives_by_month))
    request_sources = {
        m.source_id for m in measures.values() if m.event and m.target is not None
    }
    incident_sources = {
        m.source_id
        for m in measures.values()
        if m.objective.metric_source == Source.AVAILABILITY
    }
    requests: dict[int, list[tuple[int | None, measure.RequestRecord]]] = defaultdict(
        list
    )
    if request_sources:
        for row in (
            ServiceRequest.objects.filter(
                source_id__in=request_sources,
                started_at__gte=first,
                started_at__lt=last,
            )
            .prefetch_related(
                Prefetch("pauses", RequestPause.objects.order_by("started_at"))
            )
            .order_by("started_at", "pk")
        ):
            requests[row.source_id].append((row.consumer_id, row.as_record()))
    incidents: dict[int, list[measure.IncidentRecord]] = defaultdict(list)
    maintenance: dict[int, list[measure.MaintenanceRecord]] = defaultdict(list)
    if incident_sources:
        overlapping = Q(source_id__in=incident_sources, started_at__lt=last) & (
            Q(ended_at__isnull=True) | Q(ended_at__gt=first)
        )
        for row in Incident.objects.filter(overlapping).order_by("started_at", "pk"):
            incidents[row.source_id].append(row.as_record())
        for window in MaintenanceWindow.objects.filter(
            source_id__in=incident_sources, started_at__lt=last, ended_at__gt=first
        ).order_by("started_at", "pk"):
            maintenance[window.source_id].append(window.as_record())

    snapshots = {}
    results: dict[tuple[datetime.date, int], RecordResult] = {}
    for month, pairs in objectives_by_month.items():
        for agreement, objective in pairs:
            found = measures.get(objective.pk)
            if found is None:
                continue
            calendar = snapshots.get(found.calendar_id)
            if calendar is None:
                calendar = snapshots[found.calendar_id] = found.calendar.snapshot()
            figures: RecordFigures
            if objective.metric_source == Source.REQUEST_TIMES:
                if not found.event or found.target is None:
                    continue
                figures = measure.request_month(
                    (
                        record
                        for consumer, record in requests[found.source_id]
                        # The consumer's requests, and those the source
                        # could not attribute to a team.
                        if consumer in (None, agreement.consumer_id)
                    ),
                    calendar=calendar,
                    event=found.event,
                    target=found.target,
                    goals=found.goals,
                    month=month,
                    now=now,
                )
            else:
                figures = measure.availability_month(
                    incidents[found.source_id],
                    maintenance[found.source_id],
                    month=month,
                    zone=calendar.zone,
                    partial_weight=found.partial_weight,
                    exclude_maintenance=found.exclude_maintenance,
                    now=now,
                    component=found.component or None,
                )
            results[(month, objective.pk)] = RecordResult(found, figures)
    return results


def duration_text(value: datetime.timedelta | None) -> str:
    """“2 h 05 min”, “45 min”, “3 d 4 h” (business time, to the minute)."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def minutes_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):,} min".replace(".0 min", " min")


def records_summary(figures: RecordFigures) -> str:
    """A month's figures from records in one line, for a scorecard."""
    if isinstance(figures, measure.RequestFigures):
        text = (
            f"{figures.met} met, {figures.breached} breached"
            + (f", {figures.pending} not due yet" if figures.pending else "")
            + f" · p50 {duration_text(figures.p50)} · p90 {duration_text(figures.p90)}"
        )
        if figures.insufficient:
            text += f" · insufficient data (fewer than {measure.MIN_COUNTED} requests)"
        return text
    down = minutes_text(figures.downtime_minutes)
    text = f"{down} down of {minutes_text(figures.window_minutes)}"
    if figures.maintenance_minutes:
        text += f", {minutes_text(figures.maintenance_minutes)} maintenance excluded"
    return text
