"""When each email job is due, on the organisation's clock.

Beat fires the jobs (``CELERY_BEAT_SCHEDULE``); these functions say what was
due at a moment, so that a late run, a doubled run or the hourly reconcile all
reach the same conclusion. Times are local wall-clock times resolved with
``zoneinfo``: 08:00 stays 08:00 across daylight-saving changes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings

from agreements import periods


def email_hour() -> int:
    return int(settings.SLA_EMAIL_HOUR)


def _at_hour(day: date) -> datetime:
    return datetime.combine(day, time(email_hour()), tzinfo=periods.org_zone())


def close_due_at(month: date) -> datetime:
    """When ``month`` is finalised and emailed: the day after its grace period
    at 08:00 local (the 4th at 08:00 with three grace days)."""
    return _at_hour(periods.deadline(month).date())


def reminder_due_at(month: date) -> datetime:
    """When leads are reminded of missing figures: ``SLA_REMINDER_DAYS`` days
    before the deadline, at 08:00 local. Reminders stop at the deadline."""
    day = periods.deadline(month).date() - timedelta(days=settings.SLA_REMINDER_DAYS)
    return _at_hour(day)


def escalation_due_at(month: date) -> datetime:
    """Heads hear about figures still missing when the month is closed."""
    return close_due_at(month)


def at_risk_due_at(month: date) -> datetime:
    """At-risk alerts start on day ``SLA_AT_RISK_FROM_DAY`` at 08:00 local and
    run until the month ends."""
    return _at_hour(month.replace(day=settings.SLA_AT_RISK_FROM_DAY))


def months_due_for_close(first: date, now: datetime) -> list[date]:
    """Every month from ``first`` whose close was due by ``now``, oldest first."""
    last = periods.previous_month(periods.current_month(now))
    while last >= first and close_due_at(last) > now:
        last = periods.previous_month(last)
    return periods.months_between(first, last)


def reminder_months(now: datetime) -> list[date]:
    """Months whose reminder window (``reminder_due_at`` to the deadline)
    contains ``now``: at most the last month and the current one."""
    current = periods.current_month(now)
    return [
        month
        for month in (periods.previous_month(current), current)
        if reminder_due_at(month) <= now < periods.deadline(month)
    ]


def escalation_month(now: datetime) -> date | None:
    """The latest month whose escalation was due by ``now``. Only the latest:
    escalating a month that locked long ago would be noise."""
    month = periods.previous_month(periods.current_month(now))
    if escalation_due_at(month) > now:
        month = periods.previous_month(month)
    return month


def at_risk_month(now: datetime) -> date | None:
    """The current month, once its at-risk alerts are due."""
    month = periods.current_month(now)
    return month if at_risk_due_at(month) <= now else None
