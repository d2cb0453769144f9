"""A calendar as people read it: the week's hours in one line, each day's
total, and when a holiday next falls. Plain values in, text and dates out;
the pages format what these return."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, time, timedelta

from .time import WEEKDAY_NAMES, add_years, day_offset, format_hours

Hours = tuple[time, time]


def week_of(intervals: Iterable[tuple[int, time, time]]) -> list[list[Hours]]:
    """``(weekday, start, end)`` rows as seven lists of hours, Monday first,
    each in the order of the day."""
    days: list[list[Hours]] = [[] for _ in WEEKDAY_NAMES]
    for weekday, start, end in intervals:
        days[weekday].append((start, end))
    for hours in days:
        hours.sort(key=lambda pair: day_offset(pair[0]))
    return days


def day_length(hours: Iterable[Hours]) -> timedelta:
    """How long a day's working hours last (an end of 00:00 is midnight)."""
    return sum(
        (day_offset(end, is_end=True) - day_offset(start) for start, end in hours),
        timedelta(),
    )


def format_duration(length: timedelta) -> str:
    """``40 h``, ``37 h 30 min``, ``45 min``."""
    minutes = int(length.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    if not minutes:
        return f"{hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def week_summary(days: Sequence[Sequence[Hours]]) -> str:
    """The week in a line: runs of days with the same hours together, e.g.
    ``Mon–Fri 09:00–12:00, 13:00–17:00 · Sat 10:00–14:00``; days without
    hours are left out."""
    parts = []
    weekday = 0
    while weekday < len(days):
        last = weekday
        while last + 1 < len(days) and list(days[last + 1]) == list(days[weekday]):
            last += 1
        if days[weekday]:
            first_name = WEEKDAY_NAMES[weekday][:3]
            label = (
                first_name
                if last == weekday
                else f"{first_name}–{WEEKDAY_NAMES[last][:3]}"
            )
            hours = ", ".join(format_hours(start, end) for start, end in days[weekday])
            parts.append(f"{label} {hours}")
        weekday = last + 1
    return " · ".join(parts)


def next_occurrence(
    start: date, end: date, yearly: bool, today: date
) -> tuple[date, date] | None:
    """The first and last day of the holiday's next (or current) occurrence
    on or after ``today``; None for a one-off holiday that is over."""
    if not yearly:
        return (start, end) if end >= today else None
    length = end - start
    year = max(start.year, today.year - 1)
    while True:
        first = add_years(start, year - start.year)
        if first + length >= today:
            return first, first + length
        year += 1
