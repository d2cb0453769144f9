"""Every write to working calendars, their hours and holidays.

A ``user`` must be allowed to make the change (``manage_calendar``: a head
of the calendar's team, an administrator for an organisation-wide one;
``add_calendar`` to create one), else ``PermissionDenied``; without a user
(the demo's seed, migrations) the system writes. Each service validates the
whole row (``full_clean``) and the rules a row cannot check alone (one day's
hours never overlap; a 24/7 calendar has no hours or holidays) before it
saves, and records who did it in the history, removals included. The
imports write all their holidays or, on any bad entry, none.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import IO, Any

import holidays as holiday_tables
import icalendar
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from .. import periods
from ..history import delete_with_history, save_with_history
from ..models.teams import Team
from ..rules import require
from ..services._common import validate
from .models import Holiday, WorkingCalendar, WorkingInterval
from .time import WEEKDAY_NAMES, first_overlap, format_hours

# An .ics of holidays is a few kilobytes; a file far larger is not one.
ICS_MAX_BYTES = 2 * 1024 * 1024
# What a yearly RRULE may say besides FREQ=YEARLY: nothing that changes which
# day it falls on (BYMONTH and BYMONTHDAY must name the start's own).
_YEARLY_PARTS = {"FREQ", "INTERVAL", "WKST", "BYMONTH", "BYMONTHDAY"}


def _locked(calendar: WorkingCalendar) -> WorkingCalendar:
    """The calendar's row, locked until the transaction ends: two writers
    adding hours at once see each other's (the overlap check stays true)."""
    return WorkingCalendar.objects.select_for_update().get(pk=calendar.pk)


def manage_refusal(calendar: WorkingCalendar) -> str:
    """What a person who may not change the calendar is told."""
    who = (
        "an administrator" if calendar.team_id is None else f"a head of {calendar.team}"
    )
    return f"Only {who} can change the calendar {calendar}."


def _may_manage(calendar: WorkingCalendar, user: User | None) -> None:
    if user is not None:
        require(user, "manage_calendar", calendar, manage_refusal(calendar))


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
    if user is not None:
        require(
            user,
            "add_calendar",
            team,
            f"Only a head of {team} can add its calendars."
            if team is not None
            else "Only an administrator can add organisation-wide calendars.",
        )
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
    _may_manage(calendar, user)
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
    _may_manage(calendar, user)
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


@transaction.atomic
def calendar_interval_remove(
    *, interval: WorkingInterval, user: User | None = None
) -> None:
    """Take working hours out of their calendar; the history keeps them,
    with who removed them and when."""
    calendar = interval.calendar
    _may_manage(calendar, user)
    _locked(calendar)
    delete_with_history(interval, user=user, reason=f"hours removed: {interval}")


@transaction.atomic
def calendar_holiday_remove(*, holiday: Holiday, user: User | None = None) -> None:
    """Take a holiday out of its calendar; the history keeps it, with who
    removed it and when."""
    calendar = holiday.calendar
    _may_manage(calendar, user)
    _locked(calendar)
    delete_with_history(holiday, user=user, reason=f"holiday removed: {holiday}")


def _save_new(
    calendar: WorkingCalendar,
    candidates: list[Holiday],
    *,
    user: User | None,
    reason: str,
) -> list[Holiday]:
    """Save the candidates the calendar lacks (same days, same repetition),
    all already validated; returns those saved."""
    known = set(calendar.holidays.values_list("start", "end", "yearly"))
    saved = []
    for holiday in candidates:
        key = (holiday.start, holiday.end, holiday.yearly)
        if key in known:
            continue
        known.add(key)
        save_with_history(holiday, user=user, reason=reason)
        saved.append(holiday)
    return saved


@transaction.atomic
def calendar_holidays_seed(
    *,
    calendar: WorkingCalendar,
    country: str,
    subdivision: str | None = None,
    years: int | Iterable[int],
    user: User | None = None,
) -> list[Holiday]:
    """The public holidays of a country (ISO 3166 code, e.g. ``"DE"``), or of
    one of its subdivisions (``"BY"``), for the given years, from the
    ``holidays`` package. Each is a one-off holiday (Easter moves); holidays
    the calendar already has are skipped. Returns those added."""
    _may_manage(calendar, user)
    calendar = _locked(calendar)
    _refuse_always(calendar, "holidays")
    wanted = sorted({years} if isinstance(years, int) else set(years))
    first, last = periods.FIRST_DAY.year, periods.LAST_DAY.year
    if not wanted or any(not first <= year <= last for year in wanted):
        raise ValidationError(
            {"years": f"Give one or more years from {first} to {last}."}
        )
    country = (country or "").strip().upper()
    subdivision = (subdivision or "").strip().upper() or None
    try:
        table = holiday_tables.country_holidays(
            country, subdiv=subdivision, years=wanted
        )
    except NotImplementedError:
        where = f"{country}-{subdivision}" if subdivision else country
        raise ValidationError(
            {
                "country": f"No public holidays are known for “{where}”: use an "
                "ISO 3166 country code (DE, US) and, optionally, one of its "
                "subdivisions (BY, NY)."
            }
        ) from None
    candidates = [
        Holiday(calendar=calendar, name=name, start=day, end=day)
        for day, name in sorted(table.items())
    ]
    for holiday in candidates:
        validate(holiday)
    where = f"{country}-{subdivision}" if subdivision else country
    return _save_new(
        calendar, candidates, user=user, reason=f"public holidays of {where} added"
    )


@transaction.atomic
def calendar_holidays_import_ics(
    *,
    calendar: WorkingCalendar,
    file: bytes | str | IO[Any],
    user: User | None = None,
) -> list[Holiday]:
    """The all-day events of an iCalendar file as holidays: DTSTART is the
    first day, DTEND the day after the last (or DURATION in days; one day
    without either), ``RRULE:FREQ=YEARLY`` makes it yearly. Cancelled events
    are skipped, holidays the calendar already has too. Any bad event, or a
    file that is not iCalendar, raises a ValidationError naming each bad
    event, and nothing is written. Returns the holidays added."""
    _may_manage(calendar, user)
    calendar = _locked(calendar)
    _refuse_always(calendar, "holidays")
    # One byte more than allowed is enough to know the file is too large.
    data = file.read(ICS_MAX_BYTES + 1) if hasattr(file, "read") else file
    if isinstance(data, str):
        data = data.encode()
    if len(data) > ICS_MAX_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {ICS_MAX_BYTES // 1024} KB."}
        )
    try:
        parsed = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ValidationError(
            {"file": f"This is not an iCalendar (.ics) file: {exc}"}
        ) from None
    problems: list[str] = []
    candidates: list[Holiday] = []
    for number, event in enumerate(parsed.walk("VEVENT"), start=1):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        label = _event_label(event, number)
        try:
            first, last, yearly = _event_days(event)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            continue
        holiday = Holiday(
            calendar=calendar,
            name=str(event.get("SUMMARY", "")).strip() or "Holiday",
            start=first,
            end=last,
            yearly=yearly,
        )
        try:
            validate(holiday)
        except ValidationError as exc:
            problems.append(f"{label}: {' '.join(exc.messages)}")
            continue
        candidates.append(holiday)
    if problems:
        raise ValidationError({"file": problems})
    if not candidates:
        raise ValidationError({"file": "The file has no events to import."})
    return _save_new(calendar, candidates, user=user, reason="holidays imported")


def _event_label(event: icalendar.cal.Component, number: int) -> str:
    summary = str(event.get("SUMMARY", "")).strip()
    if summary:
        return f"Event {number} (“{summary}”)"
    uid = str(event.get("UID", "")).strip()
    return f"Event {number} ({uid})" if uid else f"Event {number}"


def _value(prop: Any) -> Any:
    """A property's value, or None where icalendar kept text it could not
    read (it raises on ``.dt`` then)."""
    try:
        return prop.dt
    except (AttributeError, ValueError):
        return None


def _event_date(event: icalendar.cal.Component, name: str) -> date | None:
    prop = event.get(name)
    if prop is None:
        return None
    value = _value(prop)
    if isinstance(value, datetime):
        raise ValueError(
            f"its {name} has a time of day: only all-day events can be holidays."
        )
    if not isinstance(value, date):
        raise ValueError(f"its {name} is not a date: “{prop.to_ical().decode()}”.")
    return value


def _event_days(event: icalendar.cal.Component) -> tuple[date, date, bool]:
    """(first day, last day, yearly) of an all-day event; ValueError saying
    what is wrong otherwise."""
    first = _event_date(event, "DTSTART")
    if first is None:
        raise ValueError("it has no DTSTART.")
    end = _event_date(event, "DTEND")
    if end is None and event.get("DURATION") is not None:
        length = _value(event.get("DURATION"))
        if not isinstance(length, timedelta) or length % timedelta(days=1):
            raise ValueError("its DURATION is not a whole number of days.")
        end = first + length
    if end is None:
        end = first + timedelta(days=1)
    if end <= first:
        raise ValueError(f"it ends ({end}) no later than it starts ({first}).")
    return first, end - timedelta(days=1), _is_yearly(event, first)


def _is_yearly(event: icalendar.cal.Component, first: date) -> bool:
    rule = event.get("RRULE")
    if rule is None:
        return False
    if isinstance(rule, list):
        raise ValueError("it has several RRULEs; give one, FREQ=YEARLY.")
    if event.get("RDATE") is not None or event.get("EXDATE") is not None:
        raise ValueError("it adds or leaves out dates (RDATE, EXDATE).")
    parts = {key.upper(): values for key, values in rule.items()}
    frequency = [str(value).upper() for value in parts.get("FREQ", [])]
    if frequency != ["YEARLY"]:
        raise ValueError(
            f"it repeats {'/'.join(frequency) or 'without FREQ'}: only "
            "FREQ=YEARLY can be imported."
        )
    extra = set(parts) - _YEARLY_PARTS
    if extra:
        raise ValueError(
            f"its yearly rule has {', '.join(sorted(extra))}: a holiday repeats "
            "every year on the same day, without end."
        )
    same_day = (
        [int(v) for v in parts.get("INTERVAL", [1])] == [1]
        and all(int(v) == first.month for v in parts.get("BYMONTH", []))
        and all(int(v) == first.day for v in parts.get("BYMONTHDAY", []))
    )
    if not same_day:
        raise ValueError(
            "its yearly rule moves it to other days: a holiday repeats every "
            "year on its start's month and day."
        )
    return True
