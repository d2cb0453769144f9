"""When the jobs are due, on the organisation's clock, across month ends and
daylight-saving changes; and beat's timetable agreeing with it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery import Celery
from celery.schedules import crontab
from django.conf import settings as django_settings

from agreements import periods
from reports.notifications import schedule

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_the_close_is_due_the_day_after_the_grace_period_at_eight():
    assert schedule.close_due_at(dt.date(2026, 1, 1)) == utc(2026, 2, 4, 8)
    # December closes in the new year.
    assert schedule.close_due_at(dt.date(2025, 12, 1)) == utc(2026, 1, 4, 8)


def test_the_close_follows_the_grace_period_setting(settings):
    settings.SLA_GRACE_DAYS = 0
    assert schedule.close_due_at(dt.date(2026, 2, 1)) == utc(2026, 3, 1, 8)
    settings.SLA_GRACE_DAYS = 5
    assert schedule.close_due_at(dt.date(2026, 2, 1)) == utc(2026, 3, 6, 8)


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    ("month", "due_utc"),
    [
        # Winter (CET, UTC+1): 08:00 local is 07:00 UTC.
        (dt.date(2026, 2, 1), utc(2026, 3, 4, 7)),
        # Clocks went forward on 29 March: April 4 is summer time (UTC+2).
        (dt.date(2026, 3, 1), utc(2026, 4, 4, 6)),
        (dt.date(2026, 9, 1), utc(2026, 10, 4, 6)),
        # Clocks went back on 25 October: November 4 is winter time again.
        (dt.date(2026, 10, 1), utc(2026, 11, 4, 7)),
    ],
)
def test_the_close_is_at_eight_local_on_both_sides_of_a_dst_change(month, due_utc):
    due = schedule.close_due_at(month)
    assert due == due_utc
    assert due.astimezone(BERLIN).hour == 8


@pytest.mark.usefixtures("berlin")
def test_a_grace_period_across_a_dst_change_still_ends_at_local_midnight(settings):
    settings.SLA_GRACE_DAYS = 29  # not allowed in settings; the arithmetic holds
    # February's grace spans 29 March; the close is still 08:00 local.
    due = schedule.close_due_at(dt.date(2026, 2, 1))
    assert due.astimezone(BERLIN) == dt.datetime(2026, 3, 30, 8, tzinfo=BERLIN)


def test_months_due_for_close_stop_before_the_grace_period_ends():
    first = dt.date(2025, 11, 1)
    assert schedule.months_due_for_close(first, utc(2026, 2, 4, 7, 59)) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
    ]
    assert schedule.months_due_for_close(first, utc(2026, 2, 4, 8, 0))[-1] == (
        dt.date(2026, 1, 1)
    )
    # Nothing is due before the first agreement's first month closes.
    assert schedule.months_due_for_close(dt.date(2026, 2, 1), utc(2026, 2, 20)) == []


def test_reminders_are_due_three_days_before_the_deadline_until_it():
    january = dt.date(2026, 1, 1)
    # Deadline: 4 February 00:00; three days before it: 1 February, at 08:00.
    assert schedule.reminder_due_at(january) == utc(2026, 2, 1, 8)
    assert schedule.reminder_months(utc(2026, 2, 1, 7, 59)) == []
    assert schedule.reminder_months(utc(2026, 2, 1, 8)) == [january]
    assert schedule.reminder_months(utc(2026, 2, 3, 23, 59)) == [january]
    assert schedule.reminder_months(utc(2026, 2, 4, 0)) == []


def test_more_reminder_days_start_inside_the_month(settings):
    settings.SLA_REMINDER_DAYS = 6
    assert schedule.reminder_due_at(dt.date(2026, 1, 1)) == utc(2026, 1, 29, 8)
    assert schedule.reminder_months(utc(2026, 1, 30)) == [dt.date(2026, 1, 1)]


def test_escalation_and_alerts_due():
    assert schedule.escalation_month(utc(2026, 2, 4, 7, 59)) == dt.date(2025, 12, 1)
    assert schedule.escalation_month(utc(2026, 2, 4, 8)) == dt.date(2026, 1, 1)
    assert schedule.at_risk_month(utc(2026, 1, 15, 7, 59)) is None
    assert schedule.at_risk_month(utc(2026, 1, 15, 8)) == dt.date(2026, 1, 1)
    assert schedule.at_risk_month(utc(2026, 1, 31, 23)) == dt.date(2026, 1, 1)


# --- Beat's timetable -------------------------------------------------------


def berlin_entry(name: str) -> crontab:
    """The settings' crontab for ``name``, on an app whose clock is Berlin's
    (CELERY_TIMEZONE = TIME_ZONE)."""
    app = Celery(set_as_current=False)
    app.conf.timezone = "Europe/Berlin"
    app.conf.enable_utc = True
    entry = django_settings.CELERY_BEAT_SCHEDULE[name]["schedule"]
    return crontab(
        minute=entry._orig_minute,
        hour=entry._orig_hour,
        day_of_month=entry._orig_day_of_month,
        app=app,
    )


def first_due(entry: crontab, last_run: dt.datetime, start: dt.datetime):
    """The first minute from ``start`` at which beat would run ``entry``."""
    moment = start
    for _ in range(24 * 60):
        with time_machine.travel(moment, tick=False):
            if entry.is_due(last_run).is_due:
                return moment
        moment += dt.timedelta(minutes=1)
    return None


def test_beat_runs_in_the_organisations_time_zone():
    # The settings module as the environment made it (these tests pin UTC).
    from slaportal import settings as loaded

    assert loaded.CELERY_TIMEZONE == loaded.TIME_ZONE


@pytest.mark.parametrize(
    ("last_run", "expected_utc"),
    [
        # From a winter run to a summer one: 08:00 CEST is 06:00 UTC.
        (dt.datetime(2026, 3, 4, 8, tzinfo=BERLIN), utc(2026, 4, 4, 6)),
        # From a summer run to a winter one: 08:00 CET is 07:00 UTC.
        (dt.datetime(2026, 10, 4, 8, tzinfo=BERLIN), utc(2026, 11, 4, 7)),
        (dt.datetime(2026, 1, 4, 8, tzinfo=BERLIN), utc(2026, 2, 4, 7)),
    ],
)
def test_beat_fires_the_month_close_at_eight_local_across_dst(
    berlin, last_run, expected_utc
):
    entry = berlin_entry("month-close")
    start = expected_utc - dt.timedelta(hours=3)
    assert first_due(entry, last_run, start) == expected_utc
    # The moment the close service considers the month due, to the minute.
    closed = periods.previous_month(periods.month_of(expected_utc))
    assert schedule.close_due_at(closed) == expected_utc


def test_beat_fires_the_daily_reminders_at_eight_local_on_the_night_clocks_change():
    entry = berlin_entry("reminders")
    # 29 March 2026: clocks go forward at 02:00.
    last = dt.datetime(2026, 3, 28, 8, 5, tzinfo=BERLIN)  # 07:05 UTC
    assert first_due(entry, last, utc(2026, 3, 29, 3)) == utc(2026, 3, 29, 6, 5)
    # 25 October 2026: clocks go back at 03:00.
    last = dt.datetime(2026, 10, 24, 8, 5, tzinfo=BERLIN)  # 06:05 UTC
    assert first_due(entry, last, utc(2026, 10, 25, 4)) == utc(2026, 10, 25, 7, 5)


def test_beat_fires_at_risk_alerts_only_from_mid_month():
    entry = berlin_entry("at-risk-alerts")
    last = dt.datetime(2026, 5, 31, 8, 10, tzinfo=BERLIN)
    # Not on 1 June: next on 15 June at 08:10 CEST.
    assert first_due(entry, last, utc(2026, 6, 15, 3)) == utc(2026, 6, 15, 6, 10)
    with time_machine.travel(utc(2026, 6, 1, 6, 30), tick=False):
        assert not entry.is_due(last).is_due


def test_every_scheduled_task_exists():
    from slaportal.celery import app

    app.loader.import_default_modules()
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
