"""Business time: how much of a span a working calendar counts as working time.

Pure functions over ``CalendarSnapshot``, a frozen copy of a calendar (its zone,
weekly hours and holidays) that the engine builds once and reuses in loops; no
database access here.

How wall-clock hours become instants. Working hours are wall-clock times in the
calendar's zone ("Monday 09:00–17:00 in Europe/Berlin"); each day's hours are
turned into aware instants with ``zoneinfo`` and every sum is taken in UTC, so
a day on which the clocks change is exactly as long as it really is:

- a wall time that happens twice (clocks go back) means the first time the
  clock shows it;
- a wall time that never happens (clocks go forward) means the moment the
  clocks jump over it, so hours lying wholly inside the skipped hour count
  nothing, and 01:00–04:00 on that day counts two hours;
- an end of 00:00 means the midnight that ends the day (hours such as
  16:00–24:00); hours never cross midnight, a night shift is two intervals.

A 24/7 calendar counts all elapsed time and has no holidays.

Every datetime given must be aware; results are instants (compare them, or
convert them with ``astimezone``). Two aware datetimes sharing a tzinfo
subtract as wall-clock times in Python, which is why everything is converted
to UTC before any arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

MIDNIGHT = time(0)
ONE_DAY = timedelta(days=1)
WEEKDAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
# add_business_time gives up when it has walked this many days without
# meeting any working time: the calendar has none left (every day a holiday).
MAX_IDLE_DAYS = 3 * 366

Span = tuple[datetime, datetime]


def day_offset(value: time, *, is_end: bool = False) -> timedelta:
    """A wall time as the time since midnight; an end of 00:00 is 24 hours."""
    offset = timedelta(
        hours=value.hour,
        minutes=value.minute,
        seconds=value.second,
        microseconds=value.microsecond,
    )
    return ONE_DAY if is_end and offset == timedelta(0) else offset


def format_hours(start: time, end: time) -> str:
    """``09:00–12:30``; an end of midnight reads 24:00."""
    end_text = "24:00" if end == MIDNIGHT else f"{end:%H:%M}"
    return f"{start:%H:%M}–{end_text}"


def first_overlap(
    hours: Iterable[tuple[time, time]],
) -> tuple[tuple[time, time], tuple[time, time]] | None:
    """Two of one day's working intervals that overlap, or None. Intervals
    that merely touch (09:00–12:00 and 12:00–17:00) do not overlap."""
    ordered = sorted(hours, key=lambda pair: day_offset(pair[0]))
    for before, after in pairwise(ordered):
        if day_offset(after[0]) < day_offset(before[1], is_end=True):
            return before, after
    return None


@dataclass(frozen=True, slots=True)
class CalendarSnapshot:
    """A working calendar as plain values. Build it with ``snapshot()``.

    ``hours[weekday]`` lists that weekday's working intervals (Monday is 0),
    sorted and not overlapping; ``holiday_dates`` are one-off holidays and
    ``yearly_days`` the (month, day) pairs of holidays repeating every year.
    """

    zone: ZoneInfo
    hours: tuple[tuple[tuple[time, time], ...], ...]
    always: bool = False
    holiday_dates: frozenset[date] = field(default_factory=frozenset)
    yearly_days: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    name: str = ""

    def is_holiday(self, day: date) -> bool:
        if self.always:
            return False
        return day in self.holiday_dates or (day.month, day.day) in self.yearly_days

    def is_business_day(self, day: date) -> bool:
        """Whether the day has working hours and is no holiday."""
        return self.always or (
            bool(self.hours[day.weekday()]) and not self.is_holiday(day)
        )


def snapshot(
    *,
    time_zone: str | ZoneInfo,
    intervals: Iterable[tuple[int, time, time]] = (),
    holidays: Iterable[tuple[date, date, bool]] = (),
    always: bool = False,
    name: str = "",
) -> CalendarSnapshot:
    """A calendar from its zone, its weekly ``(weekday, start, end)`` working
    intervals and its ``(first day, last day, yearly)`` holidays (both days
    included). Raises ValueError on intervals that cross midnight or overlap,
    and on holidays that end before they start or, yearly, last a year or more.
    A 24/7 calendar (``always``) ignores intervals and holidays."""
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    days: list[list[tuple[time, time]]] = [[] for _ in range(7)]
    one_off: set[date] = set()
    yearly: set[tuple[int, int]] = set()
    if not always:
        for weekday, start, end in intervals:
            if not 0 <= weekday <= 6:
                raise ValueError(f"Weekday {weekday} is not 0 (Monday) to 6 (Sunday).")
            if day_offset(start) >= day_offset(end, is_end=True):
                raise ValueError(
                    f"{WEEKDAY_NAMES[weekday]} {start:%H:%M}–{end:%H:%M} ends "
                    "before it starts: working hours cannot cross midnight."
                )
            days[weekday].append((start, end))
        for weekday, hours in enumerate(days):
            clash = first_overlap(hours)
            if clash:
                raise ValueError(
                    f"{WEEKDAY_NAMES[weekday]} {format_hours(*clash[0])} and "
                    f"{format_hours(*clash[1])} overlap."
                )
            hours.sort(key=lambda pair: day_offset(pair[0]))
        for first, last, repeats in holidays:
            _add_holiday(first, last, repeats, one_off, yearly)
    return CalendarSnapshot(
        zone=zone,
        hours=tuple(tuple(hours) for hours in days),
        always=always,
        holiday_dates=frozenset(one_off),
        yearly_days=frozenset(yearly),
        name=name,
    )


def holiday_problem(first: date, last: date, yearly: bool) -> str | None:
    """Why a holiday from ``first`` to ``last`` (included) cannot be, or None."""
    if last < first:
        return f"A holiday cannot end ({last}) before it starts ({first})."
    if yearly and add_years(first, 1) <= last:
        return f"A yearly holiday must last less than a year ({first} to {last})."
    return None


def _add_holiday(
    first: date,
    last: date,
    repeats: bool,
    one_off: set[date],
    yearly: set[tuple[int, int]],
) -> None:
    problem = holiday_problem(first, last, repeats)
    if problem:
        raise ValueError(problem)
    day = first
    while day <= last:
        if repeats:
            yearly.add((day.month, day.day))
        else:
            one_off.add(day)
        day += ONE_DAY


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- Wall-clock hours to instants -------------------------------------------


def _aware(value: datetime, label: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be an aware datetime, not {value!r}.")
    return value.astimezone(UTC)


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall time on a day (see the module's docstring)."""
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the first time
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return utc
    # Skipped by the clocks: fold=1 reads it with the offset in force after
    # the jump (an earlier instant), fold=0 with the one before (a later one);
    # the jump itself lies between.
    return _jump(zone, local.replace(fold=1).astimezone(UTC), utc)


def _jump(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant in (before, after] with the offset in force at
    ``after``: the moment the clocks jumped."""
    target = after.astimezone(zone).utcoffset()
    step = timedelta(microseconds=1)
    while after - before > step:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == target:
            after = middle
        else:
            before = middle
    return after


@lru_cache(maxsize=8192)
def _day_spans(calendar: CalendarSnapshot, day: date) -> tuple[Span, ...]:
    """The day's working time as UTC instants; nothing on a holiday."""
    if calendar.is_holiday(day):
        return ()
    spans = []
    for start, end in calendar.hours[day.weekday()]:
        first = _instant(day, start, calendar.zone)
        if end == MIDNIGHT:
            last = _instant(day + ONE_DAY, MIDNIGHT, calendar.zone)
        else:
            last = _instant(day, end, calendar.zone)
        if first < last:
            spans.append((first, last))
    return tuple(spans)


def _covered(calendar: CalendarSnapshot, start: datetime, end: datetime) -> timedelta:
    """Working time within [start, end], both UTC and start <= end."""
    if calendar.always:
        return end - start
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date()
    last_day = end.astimezone(calendar.zone).date()
    while day <= last_day:
        for first, last in _day_spans(calendar, day):
            clipped = min(last, end) - max(first, start)
            if clipped > timedelta(0):
                total += clipped
        day += ONE_DAY
    return total


# --- The public questions ----------------------------------------------------


def business_time(
    calendar: CalendarSnapshot,
    start: datetime,
    end: datetime,
    *,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> timedelta:
    """The working time between two aware instants, less the working time
    inside ``pauses`` (``(from, until)`` pairs; ``until`` None: still paused
    at ``end``). Pauses may touch but not overlap. ValueError when ``end`` is
    before ``start``, on a naive datetime, or on overlapping pauses."""
    start = _aware(start, "start")
    end = _aware(end, "end")
    if end < start:
        raise ValueError(
            f"The end ({end.isoformat()}) is before the start ({start.isoformat()})."
        )
    total = _covered(calendar, start, end)
    for pause_start, pause_end in _checked_pauses(pauses):
        first = max(pause_start, start)
        last = end if pause_end is None else min(pause_end, end)
        if first < last:
            total -= _covered(calendar, first, last)
    return total


def _checked_pauses(
    pauses: Sequence[tuple[datetime, datetime | None]],
) -> list[tuple[datetime, datetime | None]]:
    checked = []
    for pause_start, pause_end in pauses:
        first = _aware(pause_start, "A pause's start")
        last = None if pause_end is None else _aware(pause_end, "A pause's end")
        if last is not None and last < first:
            raise ValueError(
                f"The pause from {first.isoformat()} ends before it starts "
                f"({last.isoformat()})."
            )
        checked.append((first, last))
    checked.sort(key=lambda pause: pause[0])
    for (first, last), (next_first, _) in pairwise(checked):
        if last is None or next_first < last:
            until = "on" if last is None else f"to {last.isoformat()}"
            raise ValueError(
                f"Pauses overlap: the one from {first.isoformat()} {until} and "
                f"the one from {next_first.isoformat()}."
            )
    return checked


def add_business_time(
    calendar: CalendarSnapshot, start: datetime, duration: timedelta
) -> datetime:
    """The due instant: the earliest moment by which ``duration`` of working
    time has gone by since ``start`` (``start`` itself for a zero duration),
    in the calendar's zone. ValueError on a negative duration, or when the
    calendar has no working time left to give."""
    start = _aware(start, "start")
    if duration < timedelta(0):
        raise ValueError(f"A duration cannot be negative ({duration}).")
    if calendar.always or not duration:
        return (start + duration).astimezone(calendar.zone)
    if not any(calendar.hours):
        raise ValueError(f"The calendar {calendar.name!r} has no working hours.")
    remaining = duration
    day = start.astimezone(calendar.zone).date()
    idle = 0
    while idle <= MAX_IDLE_DAYS:
        idle += 1
        for first, last in _day_spans(calendar, day):
            first = max(first, start)
            if last <= first:
                continue
            idle = 0
            if remaining <= last - first:
                return (first + remaining).astimezone(calendar.zone)
            remaining -= last - first
        day += ONE_DAY
    raise ValueError(
        f"The calendar {calendar.name!r} has no working time in the "
        f"{MAX_IDLE_DAYS} days after {day - ONE_DAY * MAX_IDLE_DAYS}."
    )


def business_days(calendar: CalendarSnapshot, month: date) -> list[date]:
    """The month's days that have working hours and are no holiday (``month``:
    any day in it, usually the first)."""
    day = month.replace(day=1)
    days = []
    while day.month == month.month:
        if calendar.is_business_day(day):
            days.append(day)
        day += ONE_DAY
    return days


def month_bounds(calendar: CalendarSnapshot, month: date) -> tuple[datetime, datetime]:
    """The month in the calendar's zone: midnight on its first day to midnight
    on the next month's (exclusive), as aware datetimes in that zone."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        _instant(first, MIDNIGHT, calendar.zone).astimezone(calendar.zone),
        _instant(following, MIDNIGHT, calendar.zone).astimezone(calendar.zone),
    )
