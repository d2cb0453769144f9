"""Holidays from the ``holidays`` package and from iCalendar files: all of a
file's holidays or, on any bad event, none."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements.calendars.models import Holiday
from agreements.calendars.services import (
    ICS_MAX_BYTES,
    calendar_create,
    calendar_holidays_import_ics,
    calendar_holidays_seed,
    calendar_interval_add,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    calendar = calendar_create(name="Berlin office", time_zone="Europe/Berlin")
    calendar_interval_add(calendar=calendar, weekday=0, start=time(9), end=time(17))
    return calendar


def ics(*events: str) -> bytes:
    """A calendar file with the given VEVENT bodies (CRLF, as RFC 5545 says)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//slaportal tests//EN"]
    for number, body in enumerate(events, start=1):
        lines += ["BEGIN:VEVENT", f"UID:event-{number}@example.test"]
        lines += [line.strip() for line in body.strip().splitlines()]
        lines += ["DTSTAMP:20260101T000000Z", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


CHRISTMAS = """
    SUMMARY:Christmas Day
    DTSTART;VALUE=DATE:20201225
    DTEND;VALUE=DATE:20201226
    RRULE:FREQ=YEARLY
"""
CLOSURE = """
    SUMMARY:Company closure
    DTSTART;VALUE=DATE:20261228
    DTEND;VALUE=DATE:20270101
"""
ONE_DAY = """
    SUMMARY:Founders' day
    DTSTART;VALUE=DATE:20260612
"""


def rows(calendar):
    return list(
        calendar.holidays.order_by("start").values_list(
            "name", "start", "end", "yearly"
        )
    )


# --- iCalendar files ------------------------------------------------------------


def test_all_day_events_become_holidays(office):
    added = calendar_holidays_import_ics(
        calendar=office, file=ics(CHRISTMAS, CLOSURE, ONE_DAY)
    )
    assert len(added) == 3
    assert rows(office) == [
        ("Christmas Day", date(2020, 12, 25), date(2020, 12, 25), True),
        ("Founders' day", date(2026, 6, 12), date(2026, 6, 12), False),
        # DTEND is the day after the last one.
        ("Company closure", date(2026, 12, 28), date(2026, 12, 31), False),
    ]
    assert added[0].history.get().history_change_reason == "holidays imported"


def test_an_uploaded_file_is_read(office):
    upload = SimpleUploadedFile("holidays.ics", ics(CLOSURE), "text/calendar")
    calendar_holidays_import_ics(calendar=office, file=upload)
    assert office.holidays.count() == 1


def test_importing_the_same_file_twice_adds_nothing_the_second_time(office):
    calendar_holidays_import_ics(calendar=office, file=ics(CHRISTMAS, CLOSURE))
    assert calendar_holidays_import_ics(
        calendar=office, file=ics(CHRISTMAS, CLOSURE, ONE_DAY)
    ) == [Holiday.objects.get(calendar=office, name="Founders' day")]
    assert office.holidays.count() == 3


def test_a_duration_in_days_gives_the_last_day(office):
    event = """
        SUMMARY:Inventory
        DTSTART;VALUE=DATE:20260302
        DURATION:P3D
    """
    calendar_holidays_import_ics(calendar=office, file=ics(event))
    assert rows(office) == [("Inventory", date(2026, 3, 2), date(2026, 3, 4), False)]


def test_cancelled_events_are_skipped(office):
    cancelled = ONE_DAY + "STATUS:CANCELLED"
    calendar_holidays_import_ics(calendar=office, file=ics(CLOSURE, cancelled))
    assert [row[0] for row in rows(office)] == ["Company closure"]


def test_a_bad_event_writes_nothing_and_is_named(office):
    meeting = """
        SUMMARY:Team meeting
        DTSTART:20260612T100000Z
        DTEND:20260612T110000Z
    """
    weekly = """
        SUMMARY:Gym
        DTSTART;VALUE=DATE:20260612
        RRULE:FREQ=WEEKLY
    """
    backwards = """
        SUMMARY:Backwards
        DTSTART;VALUE=DATE:20260612
        DTEND;VALUE=DATE:20260612
    """
    with pytest.raises(ValidationError) as caught:
        calendar_holidays_import_ics(
            calendar=office, file=ics(CHRISTMAS, meeting, weekly, backwards)
        )
    assert caught.value.message_dict["file"] == [
        "Event 2 (“Team meeting”): its DTSTART has a time of day: only all-day "
        "events can be holidays.",
        "Event 3 (“Gym”): it repeats WEEKLY: only FREQ=YEARLY can be imported.",
        "Event 4 (“Backwards”): it ends (2026-06-12) no later than it starts "
        "(2026-06-12).",
    ]
    assert not office.holidays.exists()


def test_an_event_without_a_summary_is_named_by_its_uid(office):
    with pytest.raises(ValidationError) as caught:
        calendar_holidays_import_ics(
            calendar=office, file=ics("DTSTART;VALUE=DATE:20261301")
        )
    assert caught.value.message_dict["file"] == [
        "Event 1 (event-1@example.test): its DTSTART is not a date: “20261301”."
    ]
    assert not office.holidays.exists()


def test_a_yearly_rule_with_an_end_is_refused(office):
    with pytest.raises(ValidationError, match="COUNT"):
        calendar_holidays_import_ics(
            calendar=office, file=ics(CHRISTMAS.replace("YEARLY", "YEARLY;COUNT=3"))
        )
    assert not office.holidays.exists()


def test_a_file_too_large_is_refused_unread(office):
    upload = SimpleUploadedFile("huge.ics", b"X" * (ICS_MAX_BYTES + 10))
    with pytest.raises(ValidationError, match="larger than"):
        calendar_holidays_import_ics(calendar=office, file=upload)
    assert upload.tell() == ICS_MAX_BYTES + 1


def test_a_file_that_is_not_icalendar_writes_nothing(office):
    with pytest.raises(ValidationError, match="not an iCalendar"):
        calendar_holidays_import_ics(calendar=office, file=b"\x89PNG not a calendar")
    with pytest.raises(ValidationError, match="no events"):
        calendar_holidays_import_ics(calendar=office, file=ics())
    assert not office.holidays.exists()


# --- Public holidays by country -------------------------------------------------


def test_german_public_holidays_are_seeded(office):
    added = calendar_holidays_seed(calendar=office, country="DE", years=2026)
    days = {holiday.start for holiday in added}
    assert date(2026, 12, 25) in days
    assert date(2026, 4, 3) in days  # Good Friday moves: a one-off holiday
    assert not any(holiday.yearly for holiday in added)
    assert office.holidays.count() == len(added)


def test_a_subdivision_adds_its_own_holidays(office):
    added = calendar_holidays_seed(
        calendar=office, country="de", subdivision="by", years=[2026, 2027]
    )
    days = {holiday.start for holiday in added}
    assert {date(2026, 1, 6), date(2027, 1, 6)} <= days  # Epiphany in Bavaria


def test_seeding_twice_adds_nothing_the_second_time(office):
    first = calendar_holidays_seed(calendar=office, country="DE", years=2026)
    assert calendar_holidays_seed(calendar=office, country="DE", years=2026) == []
    assert office.holidays.count() == len(first)


def test_an_unknown_country_or_year_is_refused(office):
    with pytest.raises(ValidationError, match="No public holidays are known"):
        calendar_holidays_seed(calendar=office, country="XX", years=2026)
    with pytest.raises(ValidationError, match="No public holidays are known"):
        calendar_holidays_seed(
            calendar=office, country="DE", subdivision="ZZ", years=2026
        )
    with pytest.raises(ValidationError, match="years"):
        calendar_holidays_seed(calendar=office, country="DE", years=[1999])
    assert not office.holidays.exists()
