"""A month's figures from records: time to respond and availability.

Pure functions over plain dataclasses, no database access, so that the
scorecard engine can read a month's records once and call these in loops.

Requests. A request belongs to the month it started in, in the calendar's
zone. Its clock is the calendar's business time from the start to the event
(the first response, or the resolution), less the business time it spent
paused. Each request is then

- *met*: the event came within its target (the first segment goal whose
  pattern matches its segment, else the objective's target);
- *breached*: the event came later, or the request is still open and more
  than its target has already gone by at the cut-off, the earlier of ``now``
  and the month's end — no answer could meet it any more;
- *pending*: still open and still able to meet its target at the cut-off.
  Pending requests are outside the denominator: a month is not marked down
  for requests that started on its last afternoon and are not due yet. They
  count once they stop (the month's figures are recomputed until it locks).

"Still able to meet its target" is judged in business time, not against the
due instant: a request due at 17:00 on a Friday and answered on Saturday
took no more business time than its target, so it is met, and on Saturday it
is therefore still pending although its due instant has passed.

Availability is ``agreements.calendars.availability`` over the month's real
length in a zone, with per-record evidence.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo

from ..calendars.availability import Outage, availability
from ..calendars.time import (
    CalendarSnapshot,
    add_business_time,
    business_time,
    month_bounds,
    snapshot,
)

# Fewer requests than this in a month say little about how a team answers:
# the figure is shown but marked as resting on too little.
MIN_COUNTED = 10
# No target of business time is longer than a year.
MAX_TARGET_MINUTES = 366 * 24 * 60
HUNDRED = Decimal(100)
ONE_MICROSECOND = timedelta(microseconds=1)

Pause = tuple[datetime, datetime | None]


class Event(enum.StrEnum):
    """What stops a request's clock."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class Outcome(enum.StrEnum):
    MET = "met"
    BREACHED = "breached"
    PENDING = "pending"


class Impact(enum.StrEnum):
    MAJOR = "major"
    PARTIAL = "partial"


# --- Requests -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A request as the computation needs it (aware datetimes). ``pauses``
    are ``(from, until)`` pairs, ``until`` None while still paused."""

    external_id: str
    started_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    segment: str = ""
    pauses: tuple[Pause, ...] = ()

    def stopped_at(self, event: Event | str) -> datetime | None:
        """When the event stopped the clock, or None while it runs. A request
        resolved without a recorded first response was answered when it was
        resolved: its first response is the earlier of the two."""
        if Event(event) == Event.RESOLUTION:
            return self.resolved_at
        moments = [m for m in (self.first_response_at, self.resolved_at) if m]
        return min(moments) if moments else None


@dataclass(frozen=True, slots=True)
class SegmentGoal:
    """A target of its own for the requests whose segment matches
    ``pattern`` (case-insensitive; ``*`` and ``?`` are wildcards, so ``P1``
    matches only P1 and ``P*`` every priority starting with P)."""

    pattern: str
    target: timedelta

    def matches(self, segment: str) -> bool:
        return fnmatchcase(segment.strip().casefold(), self.pattern.casefold())


def segment_goals(value: Any) -> tuple[SegmentGoal, ...]:
    """Goals from their stored form, a list of ``{"segment": "P1",
    "target_minutes": 60}``. ValueError naming each bad entry (by its
    position, from 1) otherwise."""
    if value in (None, ""):
        return ()
    if not isinstance(value, list):
        raise ValueError(
            'Segment goals are a list of {"segment": …, "target_minutes": …}.'
        )
    goals = []
    problems = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or set(entry) != {"segment", "target_minutes"}:
            problems.append(
                f'Goal {number} must have exactly "segment" and "target_minutes".'
            )
            continue
        pattern, minutes = entry["segment"], entry["target_minutes"]
        if not isinstance(pattern, str) or not pattern.strip():
            problems.append(f"Goal {number} must name a segment, e.g. P1.")
            continue
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int | float | Decimal)
            or not math.isfinite(minutes)
            or minutes <= 0
            or minutes > MAX_TARGET_MINUTES
        ):
            problems.append(
                f"Goal {number} ({pattern.strip()}) needs a target above zero, "
                f"in minutes, at most {MAX_TARGET_MINUTES:,} (a year)."
            )
            continue
        goals.append(SegmentGoal(pattern.strip(), timedelta(minutes=float(minutes))))
    if problems:
        raise ValueError(" ".join(problems))
    return tuple(goals)


def target_for(
    segment: str, goals: Sequence[SegmentGoal], default: timedelta
) -> timedelta:
    """The first matching goal's target, else ``default``."""
    for goal in goals:
        if goal.matches(segment):
            return goal.target
    return default


@dataclass(frozen=True, slots=True)
class RequestEvidence:
    """One request behind a month's figure. ``business_time`` is the clock
    at the event, or at the cut-off for a request still open; ``due`` is
    None while an open pause holds the clock."""

    external_id: str
    segment: str
    started_at: datetime
    stopped_at: datetime | None
    business_time: timedelta
    target: timedelta
    due: datetime | None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class RequestFigures:
    month: date
    met: int
    breached: int
    pending: int
    # met ÷ (met + breached) as a percentage; None when nothing counted.
    attainment: Decimal | None
    # Nearest-rank percentiles of the business time of the stopped requests.
    p50: timedelta | None
    p90: timedelta | None
    evidence: tuple[RequestEvidence, ...]

    @property
    def counted(self) -> int:
        return self.met + self.breached

    @property
    def insufficient(self) -> bool:
        return self.counted < MIN_COUNTED


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"An aware datetime is needed, not {value!r}.")
    return value.astimezone(UTC)


def percentile(values: Sequence[timedelta], share: int) -> timedelta | None:
    """The nearest-rank percentile: the smallest value with at least
    ``share`` % of the values at or below it (always an observed value)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered) / 100))
    return ordered[rank - 1]


def due_at(
    calendar: CalendarSnapshot,
    started: datetime,
    target: timedelta,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The instant by which ``target`` of business time, less the pauses,
    has gone by since ``started``; None when an open pause stops the clock
    before then. Pauses must not overlap (``business_time`` refuses them)."""
    cursor = _utc(started)
    remaining = target
    utc_pauses = [
        (_utc(first), None if last is None else _utc(last)) for first, last in pauses
    ]
    for pause_start, pause_end in sorted(utc_pauses, key=lambda pause: pause[0]):
        if pause_end is not None and pause_end <= cursor:
            continue
        if pause_start > cursor:
            working = business_time(calendar, cursor, pause_start)
            if remaining <= working:
                break
            remaining -= working
        if pause_end is None:
            return None
        cursor = max(cursor, pause_end)
    return add_business_time(calendar, cursor, remaining)


def request_month(
    requests: Iterable[RequestRecord],
    *,
    calendar: CalendarSnapshot,
    event: Event | str,
    target: timedelta,
    goals: Sequence[SegmentGoal] = (),
    month: date,
    now: datetime,
) -> RequestFigures:
    """The month's time-to-respond figures (see the module's docstring).
    Requests that did not start in ``month`` (in the calendar's zone) are
    left out, so a caller may pass a wider selection. An event recorded
    after ``now`` has not happened yet as far as the figures go."""
    event = Event(event)
    # Compared in UTC: Python compares two datetimes sharing a tzinfo by
    # their wall-clock times, which is wrong in the hour the clocks go back.
    month_start, month_end = (_utc(bound) for bound in month_bounds(calendar, month))
    now = _utc(now)
    cutoff = min(now, month_end)
    evidence = []
    stopped_times = []
    counts = dict.fromkeys(Outcome, 0)
    for request in requests:
        started = _utc(request.started_at)
        if not month_start <= started < month_end:
            continue
        goal = target_for(request.segment, goals, target)
        stopped = request.stopped_at(event)
        if stopped is not None and _utc(stopped) > now:
            stopped = None
        end = _utc(stopped) if stopped is not None else max(cutoff, started)
        clock = business_time(calendar, started, end, pauses=request.pauses)
        if stopped is not None:
            outcome = Outcome.MET if clock <= goal else Outcome.BREACHED
            stopped_times.append(clock)
        else:
            outcome = Outcome.BREACHED if clock > goal else Outcome.PENDING
        counts[outcome] += 1
        evidence.append(
            RequestEvidence(
                external_id=request.external_id,
                segment=request.segment,
                started_at=request.started_at,
                stopped_at=stopped,
                business_time=clock,
                target=goal,
                due=due_at(calendar, request.started_at, goal, request.pauses),
                outcome=outcome,
            )
        )
    met, breached = counts[Outcome.MET], counts[Outcome.BREACHED]
    evidence.sort(key=lambda row: (row.started_at, row.external_id))
    return RequestFigures(
        month=month.replace(day=1),
        met=met,
        breached=breached,
        pending=counts[Outcome.PENDING],
        attainment=(
            Decimal(met) * HUNDRED / Decimal(met + breached) if met + breached else None
        ),
        p50=percentile(stopped_times, 50),
        p90=percentile(stopped_times, 90),
        evidence=tuple(evidence),
    )


# --- Availability ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    external_id: str
    started_at: datetime
    ended_at: datetime | None = None
    impact: Impact | str = Impact.MAJOR
    component: str = ""


@dataclass(frozen=True, slots=True)
class MaintenanceRecord:
    external_id: str
    started_at: datetime
    ended_at: datetime
    component: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class IncidentEvidence:
    """An incident or maintenance window and its minutes inside the month
    (clipped to the month, an open incident to the cut-off; before overlaps
    are merged, so two evidence rows may share minutes)."""

    external_id: str
    started_at: datetime
    ended_at: datetime | None
    kind: str  # "major", "partial" or "maintenance"
    component: str
    minutes: Decimal
    reason: str = ""  # a maintenance window's


@dataclass(frozen=True, slots=True)
class AvailabilityFigures:
    month: date
    # (W − E − D) ÷ (W − E) as a percentage; None when maintenance took the
    # whole month (nothing was promised).
    percent: Decimal | None
    window_minutes: Decimal  # W
    maintenance_minutes: Decimal  # E, zero unless maintenance is excluded
    downtime_minutes: Decimal  # D, partial outages weighted
    incidents: tuple[IncidentEvidence, ...]
    # The month's maintenance windows, shown even when they are not excluded.
    maintenance: tuple[IncidentEvidence, ...]


def _minutes(value: timedelta) -> Decimal:
    return Decimal(value // ONE_MICROSECOND) / Decimal(60_000_000)


def _inside(start: datetime, end: datetime, first: datetime, last: datetime) -> Decimal:
    """Minutes of [start, end) inside [first, last), all in UTC."""
    return _minutes(max(min(end, last) - max(start, first), timedelta(0)))


def _concerns(record_component: str, component: str | None) -> bool:
    """A record without a component concerns the whole service, so every
    component; otherwise names are compared trimmed, ignoring case."""
    if not component or not record_component.strip():
        return True
    return record_component.strip().casefold() == component.strip().casefold()


def availability_month(
    incidents: Iterable[IncidentRecord],
    maintenance: Iterable[MaintenanceRecord],
    *,
    month: date,
    zone: str | ZoneInfo,
    partial_weight: Decimal | float | int,
    exclude_maintenance: bool,
    now: datetime,
    component: str | None = None,
) -> AvailabilityFigures:
    """The month's availability in ``zone`` (its real length, so March in
    Berlin has 743 hours). With ``exclude_maintenance`` the maintenance
    windows are neither promised nor downtime; without it they are ordinary
    time: the window itself is no outage, and incidents during it count.
    ``component``: only records of that component, and those without one."""
    first, last = (
        _utc(bound)
        for bound in month_bounds(snapshot(time_zone=zone, always=True), month)
    )
    cutoff = min(_utc(now), last)
    incidents = [i for i in incidents if _concerns(i.component, component)]
    planned = [m for m in maintenance if _concerns(m.component, component)]
    result = availability(
        first,
        last,
        [
            Outage(i.started_at, i.ended_at, partial=Impact(i.impact) == Impact.PARTIAL)
            for i in incidents
        ],
        [(m.started_at, m.ended_at) for m in planned] if exclude_maintenance else [],
        partial_weight=partial_weight,
        now=now,
    )
    incident_rows = [
        IncidentEvidence(
            external_id=i.external_id,
            started_at=i.started_at,
            ended_at=i.ended_at,
            kind=str(Impact(i.impact)),
            component=i.component,
            minutes=_inside(
                _utc(i.started_at),
                cutoff if i.ended_at is None else _utc(i.ended_at),
                first,
                last,
            ),
        )
        for i in incidents
    ]
    maintenance_rows = [
        IncidentEvidence(
            external_id=m.external_id,
            started_at=m.started_at,
            ended_at=m.ended_at,
            kind="maintenance",
            component=m.component,
            minutes=_inside(_utc(m.started_at), _utc(m.ended_at), first, last),
            reason=m.reason,
        )
        for m in planned
    ]
    return AvailabilityFigures(
        month=month.replace(day=1),
        percent=None if result.ratio is None else result.ratio * HUNDRED,
        window_minutes=result.window_minutes,
        maintenance_minutes=result.maintenance_minutes,
        downtime_minutes=result.downtime_minutes,
        incidents=tuple(row for row in incident_rows if row.minutes),
        maintenance=tuple(row for row in maintenance_rows if row.minutes),
    )
