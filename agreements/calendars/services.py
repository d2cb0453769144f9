"""Every write to working calendars, their hours and holidays.

Each service validates the whole row (``full_clean``) and the rules a row
cannot check alone (one day's hours never overlap; a 24/7 calendar has no
hours or holidays) before it saves, and records who did it in the history.
"""

from __future__ import annotations

from datetime import date, time

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from ..history import save_with_history
from ..models.teams import Team
from ..services._common import validate
from .models import Holiday, WorkingCalendar, WorkingInterval
from .time import WEEKDAY_NAMES, first_overlap, format_hours


def _locked(calendar: WorkingCalendar) -> WorkingCalendar:
    """The calendar's row, locked until the transaction ends: two writers
    adding hours at once see each other's (the overlap check stays true)."""
    return WorkingCalendar.objects.select_for_update().get(pk=calendar.pk)


def _refuse_always(calendar: WorkingCalendar, what: str) -> None:
    if calendar.is_always:
        raise ValidationError(
            {NON_FIELD_ERRORS: f"{calendar} counts every hour: it has no {what}."}
        )


@transaction.atomic
def calendar_create(
    *,
    name: str,
    time_zone: str,
    team: Team | None = None,
    always: bool = False,
    user: User | None = None,
) -> WorkingCalendar:
    """A calendar without hours yet (add them with ``calendar_interval_add``);
    ``team`` None makes it organisation-wide, ``always`` a 24/7 calendar."""
    calendar = WorkingCalendar(
        name=name,
        time_zone=time_zone,
        team=team,
        kind=WorkingCalendar.Kind.ALWAYS if always else WorkingCalendar.Kind.HOURS,
    )
    validate(calendar)
    save_with_history(calendar, user=user, reason="created")
    return calendar


@transaction.atomic
def calendar_interval_add(
    *,
    calendar: WorkingCalendar,
    weekday: int,
    start: time,
    end: time,
    user: User | None = None,
) -> WorkingInterval:
    """Working hours on a weekday (0 Monday … 6 Sunday). Refused when they
    overlap the day's other hours (touching is fine: 09:00–12:00 and
    12:00–17:00) or cross midnight (an end of 00:00 is the day's end)."""
    calendar = _locked(calendar)
    _refuse_always(calendar, "working hours")
    interval = WorkingInterval(calendar=calendar, weekday=weekday, start=start, end=end)

    validate(interval)
    for existing in calendar.intervals.filter(weekday=interval.weekday):
        if first_overlap(
            [(existing.start, existing.end), (interval.start, interval.end)]
        ):
            raise ValidationError(
                {
                    "start": ValidationError(
                        f"{format_hours(interval.start, interval.end)} overlaps "
                        f"{WEEKDAY_NAMES[interval.weekday]} "
                        f"{format_hours(existing.start, existing.end)} in "
                        f"{calendar}: a day's working hours may touch but not "
                        "overlap.",
                        code="overlap",
                    )
                }
            )
    save_with_history(interval, user=user, reason="hours added")
    return interval


@transaction.atomic
def calendar_holiday_add(
    *,
    calendar: WorkingCalendar,
    name: str,
    start: date,
    end: date | None = None,
    yearly: bool = False,
    user: User | None = None,
) -> Holiday:
    """A holiday from ``start`` to ``end`` (included; one day if None)."""
    calendar = _locked(calendar)
    _refuse_always(calendar, "holidays")
    holiday = Holiday(
        calendar=calendar,
        name=name,
        start=start,
        end=start if end is None else end,
        yearly=yearly,
    )
    validate(holiday)
    save_with_history(holiday, user=user, reason="holiday added")
    return holiday
