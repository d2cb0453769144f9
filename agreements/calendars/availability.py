"""Availability of a service over a month, from its incidents and maintenance.

Pure functions. With the month as the window W (its real length: pass aware
bounds, e.g. from ``time.month_bounds``, so a month with a daylight-saving
change has 743 or 745 hours), E the maintenance inside W and D the downtime
inside W outside maintenance::

    availability = (W − E − D) / (W − E)

Overlapping incidents and overlapping maintenance windows are merged (a sweep,
never a sum), so an hour two incidents share counts once. A partial outage
(the service degraded, not down) counts ``partial_weight`` of its time, and
only where no full outage covers it. Everything is clipped to the month: an
incident across a month boundary counts in each month for its part.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple, TypeVar

T = TypeVar("T", datetime, timedelta, int, float, Decimal)
Span = tuple[datetime, datetime]
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Outage:
    """An incident: from ``start`` to ``end`` (None while it is still open).
    A ``partial`` outage degraded the service rather than stopping it."""

    start: datetime
    end: datetime | None = None
    partial: bool = False


class Availability(NamedTuple):
    """The result, with the parts of the formula so evidence can show them.
    ``ratio`` is None when the whole window was maintenance (nothing was
    promised, so nothing was met or missed)."""

    ratio: Decimal | None
    window: timedelta  # W
    maintenance: timedelta  # E
    downtime: timedelta  # D, partial outages already weighted

    @property
    def window_minutes(self) -> Decimal:
        return _minutes(self.window)

    @property
    def maintenance_minutes(self) -> Decimal:
        return _minutes(self.maintenance)

    @property
    def downtime_minutes(self) -> Decimal:
        return _minutes(self.downtime)


def _minutes(value: timedelta) -> Decimal:
    return Decimal(value // ONE_MICROSECOND) / Decimal(60_000_000)


def merge(intervals: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Sorted, non-overlapping intervals covering the same points: overlapping
    and touching ones become one, empty ones go. ValueError on an interval
    that ends before it starts.

    Aware datetimes should share one zone, best UTC: Python compares two
    datetimes with the same tzinfo by their wall-clock times."""
    ordered = []
    for start, end in intervals:
        if end < start:
            raise ValueError(f"An interval from {start} ends before it, at {end}.")
        if start < end:
            ordered.append((start, end))
    ordered.sort(key=lambda interval: interval[0])
    merged: list[tuple[T, T]] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: Sequence[Span], cuts: Sequence[Span]) -> list[Span]:
    """The parts of ``intervals`` outside ``cuts``; both merged (``merge``)."""
    result = []
    index = 0
    for start, end in intervals:
        # Cuts ending before this interval cannot touch the later ones either.
        while index < len(cuts) and cuts[index][1] <= start:
            index += 1
        cursor = start
        position = index
        while position < len(cuts) and cuts[position][0] < end:
            cut_start, cut_end = cuts[position]
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            position += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def total(intervals: Iterable[Span]) -> timedelta:
    return sum((end - start for start, end in intervals), timedelta(0))


def _utc(value: datetime, label: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be an aware datetime, not {value!r}.")
    return value.astimezone(UTC)


def _clipped(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    """The parts of ``spans`` inside [start, end), merged."""
    inside = ((max(first, start), min(last, end)) for first, last in spans)
    return merge((first, last) for first, last in inside if first < last)


def _weight(value: Decimal | float | int) -> Decimal:
    weight = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not Decimal(0) <= weight <= Decimal(1):
        raise ValueError(f"A partial outage's weight is 0 to 1, not {value}.")
    return weight


def availability(
    month_start: datetime,
    month_end: datetime,
    incidents: Iterable[Outage | tuple[datetime, datetime | None]],
    maintenance: Iterable[tuple[datetime, datetime]],
    *,
    partial_weight: Decimal | float | int,
    now: datetime | None = None,
) -> Availability:
    """Availability over [month_start, month_end) (aware bounds).

    ``incidents`` are ``Outage`` rows, or ``(start, end)`` pairs for full
    outages. An open incident (end None) runs until the earlier of ``now``
    and the month's end; ``now`` is then required. ``partial_weight`` (0 to
    1) is how much a minute of partial outage counts: 0.5 counts it half.
    """
    window_start = _utc(month_start, "The month's start")
    window_end = _utc(month_end, "The month's end")
    if window_end <= window_start:
        raise ValueError("The month must end after it starts.")
    weight = _weight(partial_weight)
    moment = None if now is None else _utc(now, "now")

    full: list[Span] = []
    partial: list[Span] = []
    for incident in incidents:
        outage = incident if isinstance(incident, Outage) else Outage(*incident)
        start = _utc(outage.start, "An incident's start")
        if outage.end is not None:
            end = _utc(outage.end, "An incident's end")
            if end < start:
                raise ValueError(
                    f"The incident from {start.isoformat()} ends before it "
                    f"starts ({end.isoformat()})."
                )
        elif moment is None:
            raise ValueError(
                f"The incident from {start.isoformat()} is still open: pass now."
            )
        else:
            end = max(start, min(moment, window_end))
        (partial if outage.partial else full).append((start, end))

    planned = []
    for start, end in maintenance:
        first = _utc(start, "A maintenance window's start")
        last = _utc(end, "A maintenance window's end")
        if last < first:
            raise ValueError(
                f"The maintenance window from {first.isoformat()} ends before "
                f"it starts ({last.isoformat()})."
            )
        planned.append((first, last))

    maintained = _clipped(planned, window_start, window_end)
    down = subtract(_clipped(full, window_start, window_end), maintained)
    degraded = subtract(
        subtract(_clipped(partial, window_start, window_end), maintained), down
    )

    window = window_end - window_start
    maintenance_time = total(maintained)
    degraded_us = Decimal(total(degraded) // ONE_MICROSECOND) * weight
    downtime = total(down) + timedelta(
        microseconds=int(degraded_us.to_integral_value(ROUND_HALF_EVEN))
    )
    promised = window - maintenance_time
    ratio = (
        None
        if not promised
        else Decimal((promised - downtime) // ONE_MICROSECOND)
        / Decimal(promised // ONE_MICROSECOND)
    )
    return Availability(ratio, window, maintenance_time, downtime)
