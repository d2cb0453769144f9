"""Reporting periods: calendar months in the organisation's time zone.

A month is identified by its first day, a ``date`` (``date(2026, 3, 1)`` is
March 2026). It runs from midnight on its first day to midnight on the first
day of the next month, both in ``settings.TIME_ZONE``; a moment ``t`` belongs
to it when ``month_start(m) <= t < month_end(m)``. Figures for a month can be
entered until its ``deadline``: the end of ``settings.SLA_GRACE_DAYS`` calendar
days (local midnight to local midnight, so a daylight-saving change inside the
grace period makes it an hour longer or shorter, never shifts it). After the
deadline the month is *locked*.

A month's state has one vocabulary (``MonthState``): *not begun*, *running*,
*closing* (over, figures still due) and *locked*; the deadline has one wording
(``due_text``: "Sun 3 Jan, end of day"). Every page, email and endpoint takes
them from here.

Every date and month the portal accepts lies in ``FIRST_DAY`` … ``LAST_DAY``
(2000-01-01 … 2100-12-31): nobody reports on other years, and date arithmetic
near year 1 or 9999 would overflow.

Pure functions: settings are read on each call, never at import, and every
"now" can be passed in (tests freeze time instead).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

DEFAULT_GRACE_DAYS = 3
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_MONTH = FIRST_DAY
LAST_MONTH = date(2100, 12, 1)
# The same bounds as patterns, for the API schema: a month ``YYYY-MM`` and a
# day ``YYYY-MM-DD`` in 2000 … 2100 (a day's own validity is its format's).
MONTH_PATTERN = r"^(?:20\d\d|2100)-(?:0[1-9]|1[0-2])$"
DAY_PATTERN = r"^(?:20\d\d|2100)-\d\d-\d\d$"
# Monday to Friday: the days pace is counted in until working calendars come.
BUSINESS_WEEKDAYS = frozenset(range(5))


class MonthState:
    """Where a month stands on the calendar, in the words every page uses."""

    FUTURE = "future"  # not begun
    RUNNING = "running"  # figures are being logged
    CLOSING = "closing"  # over; figures still accepted until the deadline
    LOCKED = "locked"  # the deadline has passed

    LABELS = {
        FUTURE: "Not begun",
        RUNNING: "Running",
        CLOSING: "Closing",
        LOCKED: "Locked",
    }


def org_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def grace_days() -> int:
    return int(getattr(settings, "SLA_GRACE_DAYS", DEFAULT_GRACE_DAYS))


def _now(now: datetime | None) -> datetime:
    now = timezone.now() if now is None else now
    if timezone.is_naive(now):
        raise ValueError("periods need an aware datetime for 'now'")
    return now


def local_now(now: datetime | None = None) -> datetime:
    """The current moment on the organisation's clock."""
    return _now(now).astimezone(org_zone())


def today(now: datetime | None = None) -> date:
    """Today's date in the organisation's time zone."""
    return local_now(now).date()


def month_of(value: date | datetime) -> date:
    """The month a date, or an aware moment, falls in.

    An aware datetime is first converted to the organisation's time zone:
    23:30 UTC on 31 March is already April in Berlin.
    """
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise ValueError("month_of needs a date or an aware datetime")
        value = value.astimezone(org_zone()).date()
    return value.replace(day=1)


def current_month(now: datetime | None = None) -> date:
    return month_of(local_now(now))


def add_months(month: date, count: int) -> date:
    """The month ``count`` months after (or before, if negative) ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def next_month(month: date) -> date:
    return add_months(month, 1)


def previous_month(month: date) -> date:
    return add_months(month, -1)


def _local_midnight(day: date) -> datetime:
    # zoneinfo resolves the wall-clock time to the right offset for that day,
    # so midnight in summer and in winter get their own UTC offsets.
    return datetime(day.year, day.month, day.day, tzinfo=org_zone())


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day``, in the organisation's zone."""
    return _local_midnight(day)


def month_start(month: date) -> datetime:
    """Midnight at the start of the month's first day, in the organisation's zone."""
    return _local_midnight(month_of(month))


def month_end(month: date) -> datetime:
    """The moment the month ends (exclusive): midnight starting the next month."""
    return _local_midnight(next_month(month_of(month)))


def deadline(month: date) -> datetime:
    """The end of the grace period: after it the month is locked."""
    return _local_midnight(next_month(month_of(month)) + timedelta(days=grace_days()))


def is_future(month: date, now: datetime | None = None) -> bool:
    """True for a month that has not begun yet."""
    return month_of(month) > current_month(now)


def has_ended(month: date, now: datetime | None = None) -> bool:
    """True once the month is over (it may still be in its grace period)."""
    return _now(now) >= month_end(month)


def is_locked(month: date, now: datetime | None = None) -> bool:
    """True once the grace period after the month is over."""
    return _now(now) >= deadline(month)


def is_open(month: date, now: datetime | None = None) -> bool:
    """True while figures for the month can be entered and changed."""
    return not is_future(month, now) and not is_locked(month, now)


def in_grace(month: date, now: datetime | None = None) -> bool:
    """True after the month's end and before its deadline."""
    return has_ended(month, now) and not is_locked(month, now)


def first_open_month(moment: datetime) -> date:
    """The earliest month still open (not locked) at ``moment``: the month
    before ``moment``'s while it is in its grace period, else ``moment``'s."""
    previous = previous_month(month_of(moment))
    return previous if not is_locked(previous, moment) else month_of(moment)


def month_state(month: date, now: datetime | None = None) -> str:
    """One of ``MonthState``: future, running, closing or locked."""
    if is_future(month, now):
        return MonthState.FUTURE
    if is_locked(month, now):
        return MonthState.LOCKED
    if has_ended(month, now):
        return MonthState.CLOSING
    return MonthState.RUNNING


def last_entry_day(month: date) -> date:
    """The last day on which the month's figures can be entered: the day
    before the deadline (the deadline is the midnight that ends it)."""
    return (deadline(month) - timedelta(days=1)).date()


def due_text(month: date) -> str:
    """The deadline in the one wording every page, email and message uses:
    ``"Sun 3 Jan 2027, end of day"``."""
    day = last_entry_day(month)
    return f"{day:%a} {day.day} {day:%b %Y}, end of day"


def reporting_month(now: datetime | None = None) -> date:
    """The month the organisation is reporting on: the one closing during its
    grace period, and once it locks the last locked month. Either way, the
    month before the current one."""
    return previous_month(current_month(now))


def business_days(month: date) -> list[date]:
    """The month's working days (Monday to Friday)."""
    first = month_of(month)
    days = (next_month(first) - first).days
    return [
        d
        for d in (first + timedelta(days=n) for n in range(days))
        if d.weekday() in BUSINESS_WEEKDAYS
    ]


def business_elapsed(
    month: date, now: datetime | None = None, *, days: list[date] | None = None
) -> float:
    """How many of the month's business days have gone by: whole days before
    today, plus the part of today gone if today is one (local wall-clock
    time, so a daylight-saving day is still one day). ``days``: the month's
    business days from a working calendar; by default Monday to Friday."""
    local = local_now(now)
    today_ = local.date()
    gone = 0.0
    for day in business_days(month) if days is None else days:
        if day < today_:
            gone += 1
        elif day == today_:
            midnight = datetime(day.year, day.month, day.day)
            gone += (local.replace(tzinfo=None) - midnight).total_seconds() / 86400
    return gone


def business_fraction(
    month: date, now: datetime | None = None, *, days: list[date] | None = None
) -> float:
    """The share of the month's business days gone by, 0.0 to 1.0 (``days``
    as for ``business_elapsed``)."""
    if has_ended(month, now):
        return 1.0
    total = len(business_days(month) if days is None else days)
    if not total:
        return 0.0
    return min(business_elapsed(month, now, days=days) / total, 1.0)


def elapsed_fraction(month: date, now: datetime | None = None) -> float:
    """How much of the month has passed, from 0.0 (not begun) to 1.0 (over).

    Measured in real time, so a month with a daylight-saving change is an hour
    longer or shorter than its days suggest.
    """
    # Subtracting two datetimes that share a tzinfo ignores their offsets (the
    # result would be wall-clock time); in UTC the difference is real time.
    now_utc = _now(now).astimezone(UTC)
    start = month_start(month).astimezone(UTC)
    end = month_end(month).astimezone(UTC)
    if now_utc <= start:
        return 0.0
    if now_utc >= end:
        return 1.0
    return (now_utc - start) / (end - start)


def parse_month(text: str) -> date:
    """``"2026-03"`` → ``date(2026, 3, 1)``; anything else, or a month outside
    2000-01 … 2100-12, is a ValidationError."""
    match = _MONTH_RE.match(text or "")
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and year >= 1:
            return check_month(date(year, month, 1))
    raise ValidationError(
        "“%(value)s” is not a month: write it as YYYY-MM, for example 2026-03.",
        code="invalid_month",
        params={"value": text},
    )


def check_month(month: date) -> date:
    """``month`` if it lies in 2000-01 … 2100-12, else a ValidationError."""
    if not FIRST_MONTH <= month_of(month) <= LAST_MONTH:
        raise ValidationError(
            "%(value)s is outside the months the portal keeps (2000-01 to 2100-12).",
            code="month_out_of_range",
            params={"value": format_month(month_of(month))},
        )
    return month_of(month)


def check_day(day: date) -> date:
    """``day`` if it lies in 2000-01-01 … 2100-12-31, else a ValidationError."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            "%(value)s is outside the dates the portal keeps "
            "(2000-01-01 to 2100-12-31).",
            code="date_out_of_range",
            params={"value": day.isoformat()},
        )
    return day


def format_month(month: date) -> str:
    """``date(2026, 3, 1)`` → ``"2026-03"``, the form ``parse_month`` reads."""
    return f"{month.year:04d}-{month.month:02d}"


def month_label(month: date) -> str:
    """``date(2026, 3, 1)`` → ``"March 2026"``."""
    return f"{month:%B %Y}"


def months_between(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last``, both included, oldest first.

    Empty when ``last`` is before ``first``.
    """
    first, last = month_of(first), month_of(last)
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [add_months(first, n) for n in range(max(count, 0))]


def recent_months(count: int, now: datetime | None = None) -> list[date]:
    """The last ``count`` months up to and including the current one."""
    last = current_month(now)
    return months_between(add_months(last, 1 - count), last)
