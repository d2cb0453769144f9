"""The scorecard engine's figures from records: time to respond from
requests, availability from incidents (``agreements.records.measure``).

A fixed number of queries for any number of objectives and months: the
measures with their calendars (three), then the requests with their pauses
(two), the leads handed over (one: a lead is a request to follow it up),
the incidents and the maintenance windows (one each), for every source at
once; the arithmetic is done per objective and month in Python.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q

from agreements import periods
from agreements.calendars.time import CalendarSnapshot
from agreements.models import Agreement, Objective
from agreements.records import measure
from agreements.records.models import (
    Incident,
    Lead,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)

from ..csv_cells import csv_text

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


class Measured(Protocol):
    """An objective as the engine passes it: an ``Objective``, or the plain
    values it judges (``engine.ObjectiveRow``)."""

    @property
    def id(self) -> int: ...

    @property
    def metric_source(self) -> str: ...


def record_results(
    objectives_by_month: Mapping[datetime.date, Sequence[tuple[Agreement, Measured]]],
    *,
    now: datetime.datetime,
) -> dict[tuple[datetime.date, int], RecordResult]:
    """The figures of every objective measured from records, per (month,
    objective id). An objective without a measure has none (no data)."""
    wanted = {
        objective.id
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
    timed = [m for m in measures.values() if m.event and m.target is not None]
    request_sources = {
        m.source_id for m in timed if m.source.kind != RecordSource.Kind.LEADS
    }
    lead_sources = {
        m.source_id for m in timed if m.source.kind == RecordSource.Kind.LEADS
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
    if lead_sources:
        # A lead is a request to follow it up, from the team that handed it
        # over: handed over → first touch. A flagged duplicate is not counted.
        for lead in (
            Lead.objects.counted()
            .filter(source_id__in=lead_sources, started_at__gte=first)
            .filter(started_at__lt=last)
            .order_by("started_at", "pk")
        ):
            requests[lead.source_id].append((lead.team_id, lead.as_record()))
    incidents: dict[int, list[measure.IncidentRecord]] = defaultdict(list)
    maintenance: dict[int, list[measure.MaintenanceRecord]] = defaultdict(list)
    if incident_sources:
        overlapping = Q(source_id__in=incident_sources, started_at__lt=last) & (
            Q(ended_at__isnull=True) | Q(ended_at__gt=first)
        )
        for incident in Incident.objects.filter(overlapping).order_by(
            "started_at", "pk"
        ):
            incidents[incident.source_id].append(incident.as_record())
        for window in MaintenanceWindow.objects.filter(
            source_id__in=incident_sources, started_at__lt=last, ended_at__gt=first
        ).order_by("started_at", "pk"):
            maintenance[window.source_id].append(window.as_record())

    snapshots: dict[int, CalendarSnapshot] = {}
    results: dict[tuple[datetime.date, int], RecordResult] = {}
    for month, pairs in objectives_by_month.items():
        for agreement, objective in pairs:
            found = measures.get(objective.id)
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
            results[(month, objective.id)] = RecordResult(found, figures)
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


@dataclass(frozen=True)
class Evidence:
    """The records behind one objective's month, as the evidence page and
    its CSV show them; ``kept`` is the finalised scorecard's figure, when
    the month was finalised, to compare with what the records give now."""

    agreement: Agreement
    objective: Objective
    month: datetime.date
    result: RecordResult | None
    kept: Decimal | None = None
    finalised: bool = False

    @property
    def requests(self) -> measure.RequestFigures | None:
        figures = self.result.figures if self.result else None
        return figures if isinstance(figures, measure.RequestFigures) else None

    @property
    def availability(self) -> measure.AvailabilityFigures | None:
        figures = self.result.figures if self.result else None
        return figures if isinstance(figures, measure.AvailabilityFigures) else None

    @property
    def value(self) -> Decimal | None:
        return self.result.value if self.result else None

    @property
    def changed_since_finalised(self) -> bool:
        """The records now give another figure than the finalised card keeps
        (records arrived or changed after the month was finalised)."""
        if not self.finalised or self.value is None or self.kept is None:
            return False
        return self.value.quantize(Decimal("0.01")) != self.kept.quantize(
            Decimal("0.01")
        )

    def request_rows(self, outcome: str = "") -> list[measure.RequestEvidence]:
        """The month's requests, breached first, then not due yet, then met;
        in each, by start. ``outcome`` keeps only those."""
        if self.requests is None:
            return []
        order = {measure.Outcome.BREACHED: 0, measure.Outcome.PENDING: 1}
        rows = [
            r for r in self.requests.evidence if not outcome or r.outcome == outcome
        ]
        return sorted(rows, key=lambda r: (order.get(r.outcome, 2), r.started_at))


def objective_evidence(
    agreement: Agreement,
    objective: Objective,
    month: datetime.date,
    *,
    now: datetime.datetime,
    kept: Decimal | None = None,
    finalised: bool = False,
) -> Evidence:
    """The records behind ``objective``'s figure for ``month``, computed as
    the engine computes it."""
    results = record_results({month: [(agreement, objective)]}, now=now)
    return Evidence(
        agreement=agreement,
        objective=objective,
        month=month,
        result=results.get((month, objective.pk)),
        kept=kept,
        finalised=finalised,
    )


def evidence_rows(evidence: Evidence) -> tuple[list[str], list[list[str]]]:
    """The evidence as a CSV: a header and one row per record."""
    calendar = evidence.result.measure.calendar.name if evidence.result else ""
    zone = ZoneInfo(
        evidence.result.measure.calendar.time_zone if evidence.result else "UTC"
    )

    def when(value: datetime.datetime | None) -> str:
        """In the calendar's zone, as the page shows it."""
        return value.astimezone(zone).isoformat() if value else ""

    if evidence.requests is not None:
        header = [
            "request",
            "segment",
            "started_at",
            "stopped_at",
            "business_minutes",
            "target_minutes",
            "due_at",
            "outcome",
            "calendar",
        ]
        return header, [
            [
                csv_text(row.external_id),
                csv_text(row.segment),
                when(row.started_at),
                when(row.stopped_at),
                f"{row.business_time.total_seconds() / 60:.1f}",
                f"{row.target.total_seconds() / 60:.1f}",
                when(row.due),
                str(row.outcome),
                csv_text(calendar),
            ]
            for row in evidence.request_rows()
        ]
    header = ["record", "kind", "component", "started_at", "ended_at", "minutes"]
    figures = evidence.availability
    rows = [*figures.incidents, *figures.maintenance] if figures else []
    return header, [
        [
            csv_text(row.external_id),
            row.kind,
            csv_text(row.component),
            when(row.started_at),
            when(row.ended_at),
            f"{row.minutes:.1f}",
        ]
        for row in rows
    ]
