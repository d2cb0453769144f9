"""Pace counts the provider's working days: its own calendar, else the
organisation's office hours with their holidays, else Monday to Friday."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import periods
from agreements.calendars.models import OFFICE_HOURS_NAME, WorkingCalendar
from agreements.calendars.services import (
    calendar_create,
    calendar_holiday_add,
    calendar_interval_add,
)
from reports.selectors import scorecard_for
from reports.selectors.pace import pace_calendars

from .builders import JANUARY, leads_agreement, log_leads

pytestmark = pytest.mark.django_db


def expected_leads(agreement, moment: dt.datetime, clock) -> Decimal:
    with clock(moment.replace(tzinfo=periods.org_zone())):
        card = scorecard_for(agreement, JANUARY)
    return card.lines[0].outcome.expected_so_far.quantize(Decimal("0.1"))


def office_hours() -> WorkingCalendar:
    return WorkingCalendar.objects.get(team=None, name=OFFICE_HOURS_NAME)


def test_the_organisations_holidays_slow_the_pace(marketing, sales, clock):
    delivery = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 5), 60, 40)
    friday = dt.datetime(2026, 1, 16)
    # Monday to Friday: 11 of January's 22 business days gone, 100 of 200.
    assert expected_leads(delivery, friday, clock) == Decimal("100.0")

    office = office_hours()
    calendar_holiday_add(calendar=office, name="New Year", start=dt.date(2026, 1, 1))
    calendar_holiday_add(calendar=office, name="Epiphany", start=dt.date(2026, 1, 6))
    # 9 of 20 business days: 90 of 200.
    assert expected_leads(delivery, friday, clock) == Decimal("90.0")


def test_a_team_with_a_calendar_of_its_own_counts_its_days(marketing, sales, clock):
    delivery = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 5), 60, 40)
    four_days = calendar_create(
        name="Marketing, Monday to Thursday", time_zone="UTC", team=marketing
    )
    for weekday in range(4):
        calendar_interval_add(
            calendar=four_days, weekday=weekday, start=dt.time(8), end=dt.time(18)
        )
    # January 2026 has 17 Mondays to Thursdays; 9 are gone on Friday the 16th
    # (the office's holidays are not the team's).
    calendar_holiday_add(
        calendar=office_hours(), name="Epiphany", start=dt.date(2026, 1, 6)
    )
    friday = dt.datetime(2026, 1, 16, 12)
    assert expected_leads(delivery, friday, clock) == Decimal("105.9")
    # The consumer's calendar plays no part.
    other = calendar_create(name="Sales weekends", time_zone="UTC", team=sales)
    calendar_interval_add(calendar=other, weekday=5, start=dt.time(8), end=dt.time(18))
    assert expected_leads(delivery, friday, clock) == Decimal("105.9")


def test_too_early_to_tell_until_a_quarter_of_the_working_days_are_gone(
    marketing, sales, clock
):
    delivery = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 2), 30, 20)
    moment = dt.datetime(2026, 1, 9, 12, tzinfo=periods.org_zone())
    with clock(moment):
        # 5.5 of 22 days: exactly a quarter, so the pace counts.
        assert scorecard_for(delivery, JANUARY).lines[0].status != "too_early"
    office = office_hours()
    calendar_holiday_add(
        calendar=office,
        name="Winter break",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 1, 6),
    )
    with clock(moment):
        # 3.5 of 18 days: too early to tell.
        assert scorecard_for(delivery, JANUARY).lines[0].status == "too_early"


def test_without_an_office_calendar_monday_to_friday_counts(marketing, sales, clock):
    delivery = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 5), 60, 40)
    office_hours().delete()
    assert pace_calendars([marketing.pk]) == {marketing.pk: None}
    assert expected_leads(delivery, dt.datetime(2026, 1, 16), clock) == Decimal("100.0")


def calendar_reads(delivery, moment: dt.datetime, clock) -> int:
    with (
        clock(moment.replace(tzinfo=periods.org_zone())),
        CaptureQueriesContext(connection) as captured,
    ):
        scorecard_for(delivery, JANUARY)
    calendar_tables = ("workingcalendar", "workinginterval", "holiday")
    return sum(
        any(f"agreements_{table}" in q["sql"] for table in calendar_tables)
        for q in captured
    )


def test_calendars_are_read_only_while_the_month_runs(marketing, sales, clock):
    delivery = leads_agreement(marketing, sales)
    # The calendars, their hours, their holidays.
    assert calendar_reads(delivery, dt.datetime(2026, 1, 15), clock) == 3
    assert calendar_reads(delivery, dt.datetime(2026, 3, 15), clock) == 0
