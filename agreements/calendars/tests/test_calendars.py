"""Calendars, their hours and holidays as rows: the services' rules, the
database's constraints, history, and the two calendars every organisation
starts with."""

from __future__ import annotations

import importlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements.calendars.models import (
    OFFICE_HOURS_NAME,
    ROUND_THE_CLOCK_NAME,
    Holiday,
    WorkingCalendar,
    WorkingInterval,
)
from agreements.calendars.services import (
    calendar_create,
    calendar_holiday_add,
    calendar_interval_add,
)
from agreements.calendars.time import business_time

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def office(marketing):
    calendar = calendar_create(
        name="Marketing office", time_zone="Europe/Berlin", team=marketing
    )
    for weekday in range(5):
        calendar_interval_add(
            calendar=calendar, weekday=weekday, start=time(9), end=time(12)
        )
        calendar_interval_add(
            calendar=calendar, weekday=weekday, start=time(13), end=time(17)
        )
    return calendar


def test_every_organisation_starts_with_office_hours_and_24_7():
    # Run the migration's step again (a test that flushed the database may
    # have run before this one): it finds or makes the two calendars.
    migration = importlib.import_module("agreements.migrations.0007_working_calendars")
    migration.add_standard_calendars(apps, None)
    migration.add_standard_calendars(apps, None)
    office = WorkingCalendar.objects.get(name=OFFICE_HOURS_NAME, team=None)
    assert office.time_zone == settings.TIME_ZONE
    assert office.kind == WorkingCalendar.Kind.HOURS
    assert list(office.intervals.values_list("weekday", "start", "end")) == [
        (weekday, time(9), time(17)) for weekday in range(5)
    ]
    always = WorkingCalendar.objects.get(name=ROUND_THE_CLOCK_NAME, team=None)
    assert (always.time_zone, always.kind) == ("UTC", WorkingCalendar.Kind.ALWAYS)
    assert not always.intervals.exists()


def test_a_calendar_from_the_database_counts_its_hours_and_holidays(office):
    calendar_holiday_add(calendar=office, name="Labour Day", start=date(2026, 5, 1))
    calendar_holiday_add(
        calendar=office, name="Christmas", start=date(2020, 12, 25), yearly=True
    )
    calendar = WorkingCalendar.objects.prefetch_related("intervals", "holidays").get(
        pk=office.pk
    )
    hours = calendar.snapshot()
    week = business_time(
        hours, datetime(2026, 4, 27, tzinfo=BERLIN), datetime(2026, 5, 4, tzinfo=BERLIN)
    )
    assert week == timedelta(hours=28)  # four days of seven hours
    christmas = business_time(
        hours,
        datetime(2026, 12, 25, tzinfo=BERLIN),
        datetime(2026, 12, 26, tzinfo=BERLIN),
    )
    assert christmas == timedelta(0)


def test_calendars_are_for_a_team_or_the_whole_organisation(office, marketing, sales):
    everyone = calendar_create(name="Everyone", time_zone="UTC")
    mine = WorkingCalendar.objects.for_team(marketing)
    assert {office, everyone} <= set(mine)
    assert everyone in WorkingCalendar.objects.for_team(sales)
    assert office not in WorkingCalendar.objects.for_team(sales)
    assert office not in WorkingCalendar.objects.for_team(None)


def test_writes_are_kept_in_history(office):
    interval = office.intervals.first()
    assert office.history.get().history_change_reason == "created"
    assert interval.history.get().history_change_reason == "hours added"


# --- Calendars ----------------------------------------------------------------


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError) as caught:
        calendar_create(name="Mars base", time_zone="Mars/Olympus_Mons")
    assert "is not a time zone" in caught.value.message_dict["time_zone"][0]
    assert not WorkingCalendar.objects.filter(name="Mars base").exists()


def test_names_are_unique_per_team_and_organisation_wide(marketing, sales):
    calendar_create(name="Support", time_zone="UTC", team=marketing)
    calendar_create(name="Support", time_zone="UTC", team=sales)
    calendar_create(name="Support", time_zone="UTC")
    with pytest.raises(ValidationError):
        calendar_create(name="Support", time_zone="UTC", team=marketing)
    with pytest.raises(ValidationError):
        calendar_create(name="Support", time_zone="UTC")
    assert WorkingCalendar.objects.filter(name="Support").count() == 3


def test_a_24_7_calendar_takes_no_hours_or_holidays():
    always = calendar_create(name="Pager", time_zone="UTC", always=True)
    with pytest.raises(ValidationError, match="counts every hour"):
        calendar_interval_add(calendar=always, weekday=0, start=time(9), end=time(17))
    with pytest.raises(ValidationError, match="counts every hour"):
        calendar_holiday_add(calendar=always, name="Day off", start=date(2026, 1, 1))
    assert not always.intervals.exists()
    assert not always.holidays.exists()


# --- Working hours --------------------------------------------------------------


def test_overlapping_hours_on_one_day_are_refused(office):
    with pytest.raises(ValidationError) as caught:
        calendar_interval_add(calendar=office, weekday=0, start=time(11), end=time(14))
    assert caught.value.message_dict["start"] == [
        "11:00–14:00 overlaps Monday 09:00–12:00 in Marketing office: a day's "
        "working hours may touch but not overlap."
    ]
    assert office.intervals.filter(weekday=0).count() == 2


def test_hours_touching_others_and_on_other_days_are_fine(office):
    calendar_interval_add(calendar=office, weekday=0, start=time(12), end=time(13))
    calendar_interval_add(calendar=office, weekday=5, start=time(11), end=time(14))
    assert office.intervals.count() == 12


def test_hours_crossing_midnight_are_refused(office):
    with pytest.raises(ValidationError) as caught:
        calendar_interval_add(calendar=office, weekday=5, start=time(22), end=time(6))
    assert "split hours across midnight" in str(caught.value)
    assert not office.intervals.filter(weekday=5).exists()


def test_the_database_refuses_hours_crossing_midnight(office):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingInterval.objects.create(
            calendar=office, weekday=5, start=time(22), end=time(6)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingInterval.objects.create(
            calendar=office, weekday=5, start=time(9), end=time(9)
        )


def test_hours_may_end_at_midnight(office):
    evening = calendar_interval_add(
        calendar=office, weekday=5, start=time(18), end=time(0)
    )
    assert str(evening) == "Saturday 18:00–24:00"


def test_a_weekday_outside_the_week_is_refused(office):
    with pytest.raises(ValidationError):
        calendar_interval_add(calendar=office, weekday=7, start=time(9), end=time(17))


# --- Holidays ---------------------------------------------------------------------


def test_a_holiday_ending_before_it_starts_is_refused(office):
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        calendar_holiday_add(
            calendar=office,
            name="Backwards",
            start=date(2026, 5, 2),
            end=date(2026, 5, 1),
        )
    assert not office.holidays.exists()


def test_the_database_refuses_a_holiday_ending_before_it_starts(office):
    with pytest.raises(IntegrityError), transaction.atomic():
        Holiday.objects.create(
            calendar=office,
            name="Backwards",
            start=date(2026, 5, 2),
            end=date(2026, 5, 1),
        )


def test_a_yearly_holiday_lasts_less_than_a_year(office):
    with pytest.raises(ValidationError, match="less than a year"):
        calendar_holiday_add(
            calendar=office,
            name="Sabbatical",
            start=date(2026, 1, 1),
            end=date(2027, 1, 1),
            yearly=True,
        )
    assert not office.holidays.exists()


def test_a_holiday_without_an_end_is_one_day(office):
    holiday = calendar_holiday_add(
        calendar=office, name=" Labour Day ", start=date(2026, 5, 1)
    )
    holiday.refresh_from_db()
    assert (holiday.name, holiday.start, holiday.end) == (
        "Labour Day",
        date(2026, 5, 1),
        date(2026, 5, 1),
    )


# --- The admin ----------------------------------------------------------------------


def _calendar_form(**rows: dict[str, str]) -> dict[str, str]:
    data = {
        "name": "Night desk",
        "time_zone": "Europe/Berlin",
        "kind": "hours",
        "team": "",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        "intervals-TOTAL_FORMS": str(len(rows)),
        "intervals-INITIAL_FORMS": "0",
    }
    for index, row in enumerate(rows.values()):
        data |= {f"intervals-{index}-{key}": value for key, value in row.items()}
    return data


def test_the_admin_refuses_overlapping_hours_under_a_calendar(admin_client):
    response = admin_client.post(
        "/admin/agreements/workingcalendar/add/",
        _calendar_form(
            morning={"weekday": "0", "start": "09:00", "end": "12:00"},
            late_morning={"weekday": "0", "start": "11:00", "end": "14:00"},
        ),
    )
    assert response.status_code == 200
    assert "Monday 09:00–12:00 and 11:00–14:00 overlap" in response.content.decode()
    assert not WorkingCalendar.objects.filter(name="Night desk").exists()


def test_the_admin_saves_a_calendar_with_its_hours(admin_client):
    response = admin_client.post(
        "/admin/agreements/workingcalendar/add/",
        _calendar_form(
            morning={"weekday": "0", "start": "09:00", "end": "12:00"},
            afternoon={"weekday": "0", "start": "12:00", "end": "17:00"},
        ),
    )
    assert response.status_code == 302
    calendar = WorkingCalendar.objects.get(name="Night desk")
    assert calendar.intervals.count() == 2
    page = admin_client.get(f"/admin/agreements/workingcalendar/{calendar.pk}/change/")
    assert page.status_code == 200
