"""The working calendar pages: who sees a calendar and who may change it,
each form's way in and its refusals (which write nothing), the history each
change leaves, and what the list costs in queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.calendars.models import Holiday, WorkingCalendar, WorkingInterval
from agreements.calendars.services import (
    calendar_create,
    calendar_holiday_add,
    calendar_holiday_remove,
    calendar_interval_add,
    calendar_interval_remove,
)
from agreements.models import Objective
from agreements.records.models import RecordMeasure, RecordSource
from agreements.tests.factories import AgreementFactory, ObjectiveFactory, UserFactory

pytestmark = pytest.mark.django_db
# A Thursday in June: Christmas 2026 is to come, New Year 2026 is past.
NOW = datetime(2026, 6, 11, 10, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def office(marketing) -> WorkingCalendar:
    """Marketing's office: Monday to Friday 09:00–12:00 and 13:00–17:00."""
    calendar = calendar_create(
        name="Marketing office", time_zone="Europe/Berlin", team=marketing
    )
    for weekday in range(5):
        for start, end in ((time(9), time(12)), (time(13), time(17))):
            calendar_interval_add(
                calendar=calendar, weekday=weekday, start=start, end=end
            )
    return calendar


@pytest.fixture
def org_calendar(db) -> WorkingCalendar:
    calendar = calendar_create(name="Head office", time_zone="Europe/London")
    calendar_interval_add(calendar=calendar, weekday=0, start=time(8), end=time(16))
    return calendar


@pytest.fixture
def service_desk(service) -> WorkingCalendar:
    return calendar_create(
        name="Service desk", time_zone="America/New_York", team=service
    )


def url(name: str, *args) -> str:
    return reverse(f"calendars:{name}", args=args)


def measured_with(calendar: WorkingCalendar, team, title: str = "Uptime") -> Objective:
    """An availability objective of ``team`` measured with ``calendar``."""
    source, _ = RecordSource.objects.get_or_create(
        team=team, name="Status page", kind=RecordSource.Kind.INCIDENTS
    )
    objective = ObjectiveFactory(
        agreement=AgreementFactory(provider=team, title=title),
        name=f"{title} objective",
        metric_source=Objective.Source.AVAILABILITY,
        unit=Objective.Unit.PERCENT,
        target=Decimal("99"),
    )
    RecordMeasure.objects.create(objective=objective, source=source, calendar=calendar)
    return objective


def post(client, route: str, calendar: WorkingCalendar, prefix: str, /, **fields):
    """Post one of the calendar page's forms, its fields named with its
    prefix: ``post(client, "interval_add", office, "hours", weekday=0)``."""
    data = {f"{prefix}-{field}": value for field, value in fields.items()}
    return client.post(url(route, calendar.pk), data)


def add_hours(client, calendar: WorkingCalendar, weekday, start: str, end: str):
    return post(
        client, "interval_add", calendar, "hours", weekday=weekday, start=start, end=end
    )


def add_holiday(client, calendar: WorkingCalendar, **fields):
    return post(client, "holiday_add", calendar, "holiday", **fields)


def rows_of(calendar: WorkingCalendar) -> tuple[int, int]:
    """(hours, holidays) of the calendar: what a refused post must not change."""
    return calendar.intervals.count(), calendar.holidays.count()


def ics(*events: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//slaportal tests//EN"]
    for number, body in enumerate(events, start=1):
        lines += ["BEGIN:VEVENT", f"UID:event-{number}@example.test", *body.split()]
        lines += ["DTSTAMP:20260101T000000Z", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# --- Who sees what ----------------------------------------------------------------


def test_the_list_needs_a_login(client):
    response = client.get(url("list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_member_sees_the_organisations_and_the_teams_calendars_only(
    client, marketing_member, office, org_calendar, service_desk
):
    client.force_login(marketing_member)
    response = client.get(url("list"))
    assert response.status_code == 200
    listed = {row["calendar"].name for row in response.context["rows"]}
    assert {"Marketing office", "Head office"} <= listed
    assert "Service desk" not in listed
    assert not response.context["may_add"]
    assert client.get(url("detail", service_desk.pk)).status_code == 404


def test_an_executive_sees_every_calendar(client, executive, office, service_desk):
    client.force_login(executive)
    listed = {row["calendar"].name for row in client.get(url("list")).context["rows"]}
    assert {"Marketing office", "Service desk"} <= listed
    assert client.get(url("detail", service_desk.pk)).status_code == 200


def test_an_outsider_sees_only_organisation_wide_calendars(
    client, outsider, office, org_calendar
):
    client.force_login(outsider)
    listed = {row["calendar"].name for row in client.get(url("list")).context["rows"]}
    assert "Head office" in listed
    assert "Marketing office" not in listed
    assert client.get(url("detail", office.pk)).status_code == 404
    assert client.get(url("detail", org_calendar.pk)).status_code == 200


def test_a_member_sees_a_calendar_but_cannot_change_it(
    client, marketing_member, office
):
    client.force_login(marketing_member)
    page = client.get(url("detail", office.pk))
    assert page.status_code == 200
    assert not page.context["may_manage"]
    assert b"Add hours" not in page.content
    before = rows_of(office)
    response = add_hours(client, office, 5, "10:00", "12:00")
    assert response.status_code == 403
    interval = office.intervals.first()
    response = client.post(url("interval_remove", office.pk, interval.pk))
    assert response.status_code == 403
    assert rows_of(office) == before


def test_a_partner_teams_head_sees_the_calendar_but_gets_403_on_changes(
    client, sales_head, marketing, sales, office
):
    AgreementFactory(provider=marketing, consumer=sales)
    client.force_login(sales_head)
    assert client.get(url("detail", office.pk)).status_code == 200
    before = rows_of(office)
    response = add_holiday(client, office, name="Away day", start="2026-07-01")
    assert response.status_code == 403
    assert rows_of(office) == before


def test_a_head_of_another_team_gets_403_on_the_organisations_calendar(
    client, service_head, org_calendar, office
):
    client.force_login(service_head)
    before = rows_of(org_calendar)
    response = add_hours(client, org_calendar, 1, "08:00", "16:00")
    assert response.status_code == 403
    assert rows_of(org_calendar) == before
    # Another team's calendar, without an agreement between the teams, is
    # not even there for them.
    response = add_hours(client, office, 5, "08:00", "16:00")
    assert response.status_code == 404


def test_an_administrator_manages_organisation_wide_calendars_not_teams(
    client, admin, org_calendar, office, marketing_head
):
    client.force_login(admin)
    response = add_hours(client, org_calendar, 1, "08:00", "16:00")
    assert response.status_code == 302
    assert org_calendar.intervals.filter(weekday=1).exists()
    # A team's calendar is its head's to change.
    response = add_hours(client, office, 5, "08:00", "16:00")
    assert response.status_code == 403
    # And an organisation-wide one is not a head's.
    client.force_login(marketing_head)
    response = add_hours(client, org_calendar, 2, "08:00", "16:00")
    assert response.status_code == 403
    assert not org_calendar.intervals.filter(weekday=2).exists()


def test_the_services_refuse_whoever_may_not_change_the_calendar(
    marketing, marketing_member, service_head, office, org_calendar
):
    holiday = calendar_holiday_add(
        calendar=office, name="Day off", start=date(2026, 8, 3)
    )
    refused = [
        lambda: calendar_interval_add(
            calendar=office, weekday=5, start=time(9), end=time(10), user=service_head
        ),
        lambda: calendar_interval_remove(
            interval=office.intervals.first(), user=marketing_member
        ),
        lambda: calendar_holiday_remove(holiday=holiday, user=marketing_member),
        lambda: calendar_create(
            name="Late", time_zone="UTC", team=marketing, user=service_head
        ),
        lambda: calendar_create(name="Late", time_zone="UTC", user=service_head),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDenied):
            attempt()
    assert rows_of(office) == (10, 1)
    assert not WorkingCalendar.objects.filter(name="Late").exists()


def test_the_forms_take_only_posts(client, marketing_head, office):
    client.force_login(marketing_head)
    assert client.get(url("interval_add", office.pk)).status_code == 405
    interval = office.intervals.first()
    assert client.get(url("interval_remove", office.pk, interval.pk)).status_code == 405


# --- The list and the calendar's page ---------------------------------------------


def test_the_list_says_team_zone_week_holidays_and_uses(
    client, marketing_member, marketing, office, org_calendar
):
    calendar_holiday_add(calendar=office, name="Summer party", start=date(2026, 7, 3))
    measured_with(office, marketing)
    measured_with(office, marketing, title="Status")
    client.force_login(marketing_member)
    response = client.get(url("list"))
    rows = {row["calendar"].name: row for row in response.context["rows"]}
    mine = rows["Marketing office"]
    assert mine["week"] == "Mon–Fri 09:00–12:00, 13:00–17:00 (35 h a week)"
    assert mine["calendar"].holiday_count == 1
    assert mine["calendar"].objective_count == 2
    assert [team.name for team in mine["pace_for"]] == ["Marketing"]
    assert rows["Head office"]["week"] == "Mon 08:00–16:00 (8 h a week)"
    text = response.content.decode()
    assert "Whole organisation" in text
    assert "Europe/Berlin" in text
    assert "2 objectives" in text
    assert "pace for Marketing" in text


def test_the_page_shows_the_week_holidays_and_where_it_is_used(
    client, frozen, marketing_member, marketing, office
):
    calendar_interval_add(calendar=office, weekday=5, start=time(22), end=time(0))
    calendar_holiday_add(calendar=office, name="New Year", start=date(2026, 1, 1))
    calendar_holiday_add(
        calendar=office, name="Christmas", start=date(2025, 12, 24), yearly=True
    )
    calendar_holiday_add(calendar=office, name="Summer party", start=date(2026, 7, 3))
    objective = measured_with(office, marketing)
    client.force_login(marketing_member)
    response = client.get(url("detail", office.pk))
    assert response.status_code == 200
    days = {day["name"]: day for day in response.context["days"]}
    assert [i.hours for i in days["Monday"]["intervals"]] == [
        "09:00–12:00",
        "13:00–17:00",
    ]
    assert days["Monday"]["total"] == "7 h"
    assert [i.hours for i in days["Saturday"]["intervals"]] == ["22:00–24:00"]
    assert days["Sunday"]["intervals"] == []
    holidays = response.context["holidays"]
    assert [(row["holiday"].name, row["start"]) for row in holidays["upcoming"]] == [
        ("Summer party", date(2026, 7, 3)),
        ("Christmas", date(2026, 12, 24)),
    ]
    assert [holiday.name for holiday in holidays["past"]] == ["New Year"]
    text = response.content.decode()
    assert "yearly" in text
    assert reverse("agreements:detail", args=[objective.agreement.pk]) in text
    assert "What changing it does" in text
    assert "Open months are recomputed" in text
    assert "Locked months keep" in text


def test_objectives_in_agreements_the_person_cannot_open_are_only_counted(
    client, service_head, service, marketing, org_calendar
):
    measured_with(org_calendar, marketing, title="Marketing uptime")
    own = measured_with(org_calendar, service, title="Service uptime")
    client.force_login(service_head)
    measures = client.get(url("detail", org_calendar.pk)).context["measures"]
    assert [m.objective for m in measures["shown"]] == [own]
    assert measures["others"] == 1


def test_the_list_costs_the_same_queries_for_one_calendar_and_five(
    client, marketing_member, marketing, django_assert_num_queries
):
    def add(number: int) -> None:
        calendar = calendar_create(
            name=f"Shift {number}", time_zone="Europe/Berlin", team=marketing
        )
        calendar_interval_add(calendar=calendar, weekday=0, start=time(9), end=time(17))
        calendar_holiday_add(calendar=calendar, name="Day off", start=date(2026, 8, 3))
        measured_with(calendar, marketing, title=f"Uptime {number}")

    add(1)
    client.force_login(marketing_member)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("list")).status_code == 200
    for number in range(2, 6):
        add(number)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url("list"))
    assert len([r for r in response.context["rows"] if r["calendar"].team]) == 5


# --- Creating a calendar ------------------------------------------------------------


def test_a_head_creates_a_calendar_for_their_team(client, marketing_head, marketing):
    client.force_login(marketing_head)
    page = client.get(url("new"))
    assert page.status_code == 200
    assert list(page.context["form"].fields["team"].queryset) == [marketing]
    response = client.post(
        url("new"),
        {
            "name": "Late shift",
            "time_zone": "Europe/Lisbon",
            "team": marketing.pk,
            "kind": "hours",
        },
    )
    calendar = WorkingCalendar.objects.get(name="Late shift")
    assert response.status_code == 302
    assert response["Location"].startswith(url("detail", calendar.pk))
    assert (calendar.team, calendar.time_zone, calendar.kind) == (
        marketing,
        "Europe/Lisbon",
        "hours",
    )
    assert calendar.history.get().history_user == marketing_head


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
        ({"team": "other"}, "team", "Choose one of the teams you head."),
        ({"team": ""}, "team", "Choose one of the teams you head."),
        ({"name": "  "}, "name", "required"),
    ],
)
def test_a_calendar_with_bad_input_is_not_created(
    client, marketing_head, marketing, service, change, field, message
):
    client.force_login(marketing_head)
    data = {
        "name": "Late shift",
        "time_zone": "Europe/Lisbon",
        "team": marketing.pk,
        "kind": "hours",
        **change,
    }
    if data["team"] == "other":
        data["team"] = service.pk
    before = WorkingCalendar.objects.count()
    response = client.post(url("new"), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert WorkingCalendar.objects.count() == before


def test_a_calendar_name_is_unique_in_its_team(client, marketing_head, office):
    client.force_login(marketing_head)
    data = {
        "name": office.name,
        "time_zone": "Europe/Berlin",
        "team": office.team_id,
        "kind": "always",
    }
    response = client.post(url("new"), data)
    assert response.status_code == 400
    assert "already has a calendar of this name" in response.content.decode()
    assert WorkingCalendar.objects.filter(name=office.name).count() == 1


def test_an_administrator_creates_an_organisation_wide_calendar(client, admin):
    client.force_login(admin)
    response = client.post(
        url("new"),
        {"name": "Nights", "time_zone": "UTC", "team": "", "kind": "always"},
    )
    assert response.status_code == 302
    calendar = WorkingCalendar.objects.get(name="Nights")
    assert calendar.team is None
    assert calendar.is_always


def test_only_heads_and_administrators_may_create(client, marketing_member):
    client.force_login(marketing_member)
    assert client.get(url("new")).status_code == 403
    response = client.post(
        url("new"), {"name": "Mine", "time_zone": "UTC", "team": "", "kind": "hours"}
    )
    assert response.status_code == 403
    assert not WorkingCalendar.objects.filter(name="Mine").exists()


# --- Working hours ------------------------------------------------------------------


def test_a_head_adds_working_hours_and_history_says_who(client, marketing_head, office):
    client.force_login(marketing_head)
    response = add_hours(client, office, 5, "10:00", "14:00")
    assert response.status_code == 302
    assert response["Location"].endswith("#hours")
    interval = office.intervals.get(weekday=5)
    assert (interval.start, interval.end) == (time(10), time(14))
    history = interval.history.get()
    assert (history.history_user, history.history_type) == (marketing_head, "+")
    page = client.get(url("detail", office.pk))
    assert page.context["changes"][0]["what"] == "Saturday 10:00–14:00"
    assert page.context["changes"][0]["who"] == marketing_head


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("11:00", "14:00", "overlaps Monday 09:00–12:00"),
        ("17:00", "09:00", "split hours across midnight"),
        ("15:00", "15:00", "end after they start"),
        ("", "12:00", "required"),
    ],
)
def test_hours_that_overlap_or_end_before_they_start_are_refused(
    client, marketing_head, office, start, end, message
):
    client.force_login(marketing_head)
    before = rows_of(office)
    response = add_hours(client, office, 0, start, end)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["forms"]["hours"].errors
    assert rows_of(office) == before


def test_a_head_removes_working_hours_and_history_keeps_them(
    client, marketing_head, office
):
    client.force_login(marketing_head)
    interval = office.intervals.get(weekday=4, start=time(13))
    response = client.post(url("interval_remove", office.pk, interval.pk))
    assert response.status_code == 302
    assert not WorkingInterval.objects.filter(pk=interval.pk).exists()
    removed = WorkingInterval.history.filter(id=interval.pk).latest("history_date")
    assert (removed.history_type, removed.history_user) == ("-", marketing_head)
    assert removed.history_change_reason == "hours removed: Friday 13:00–17:00"


def test_hours_of_another_calendar_are_not_removed_through_this_one(
    client, marketing_head, office, org_calendar
):
    client.force_login(marketing_head)
    theirs = org_calendar.intervals.get()
    response = client.post(url("interval_remove", office.pk, theirs.pk))
    assert response.status_code == 404
    assert WorkingInterval.objects.filter(pk=theirs.pk).exists()


# --- Holidays -----------------------------------------------------------------------


def test_a_head_adds_a_yearly_holiday(client, marketing_head, office):
    client.force_login(marketing_head)
    response = add_holiday(
        client,
        office,
        name="Founders' days",
        start="2026-09-01",
        end="2026-09-02",
        yearly="on",
    )
    assert response.status_code == 302
    holiday = office.holidays.get()
    assert (holiday.name, holiday.start, holiday.end, holiday.yearly) == (
        "Founders' days",
        date(2026, 9, 1),
        date(2026, 9, 2),
        True,
    )
    assert holiday.history.get().history_user == marketing_head


def test_a_holiday_ending_before_it_starts_is_refused(client, marketing_head, office):
    client.force_login(marketing_head)
    response = add_holiday(
        client,
        office,
        name="Backwards",
        start="2026-09-02",
        end="2026-09-01",
    )
    assert response.status_code == 400
    assert "cannot end before it starts" in response.content.decode()
    assert rows_of(office) == (10, 0)


def test_a_head_removes_a_holiday_and_history_keeps_it(client, marketing_head, office):
    holiday = calendar_holiday_add(
        calendar=office, name="Summer party", start=date(2026, 7, 3)
    )
    client.force_login(marketing_head)
    response = client.post(url("holiday_remove", office.pk, holiday.pk))
    assert response.status_code == 302
    assert response["Location"].endswith("#holidays")
    assert not office.holidays.exists()
    removed = Holiday.history.filter(id=holiday.pk).latest("history_date")
    assert (removed.history_type, removed.history_user) == ("-", marketing_head)


def test_a_head_seeds_a_countrys_public_holidays(client, marketing_head, office):
    client.force_login(marketing_head)
    response = post(
        client,
        "holidays_seed",
        office,
        "seed",
        country="de",
        subdivision="by",
        years="2026–2027",
    )
    assert response.status_code == 302
    days = set(office.holidays.values_list("start", flat=True))
    assert {date(2026, 1, 6), date(2027, 12, 25)} <= days  # Epiphany in Bavaria
    reasons = set(
        Holiday.history.filter(calendar_id=office.pk).values_list(
            "history_change_reason", "history_user"
        )
    )
    assert reasons == {("public holidays of DE-BY added", marketing_head.pk)}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"country": "XX", "years": "2026"}, "country", "No public"),
        ({"country": "DE", "years": "next year"}, "years", "Write years"),
        ({"country": "DE", "years": "1900"}, "years", "Give one or more"),
    ],
)
def test_seeding_an_unknown_country_or_bad_years_writes_nothing(
    client, marketing_head, office, data, field, message
):
    client.force_login(marketing_head)
    response = post(client, "holidays_seed", office, "seed", **data)
    assert response.status_code == 400
    assert message in " ".join(response.context["forms"]["seed"].errors[field])
    assert rows_of(office) == (10, 0)


def test_a_head_imports_holidays_from_an_ics_file(client, marketing_head, office):
    client.force_login(marketing_head)
    upload = SimpleUploadedFile(
        "days.ics",
        ics(
            "SUMMARY:Away-day DTSTART;VALUE=DATE:20260612 DTEND;VALUE=DATE:20260613",
            "SUMMARY:Anniversary DTSTART;VALUE=DATE:20260301 RRULE:FREQ=YEARLY",
        ),
        content_type="text/calendar",
    )
    response = client.post(url("holidays_import", office.pk), {"ics-file": upload})
    assert response.status_code == 302
    assert set(office.holidays.values_list("name", "yearly")) == {
        ("Away-day", False),
        ("Anniversary", True),
    }
    assert {h.history_user for h in Holiday.history.filter(calendar_id=office.pk)} == {
        marketing_head
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is no calendar", "not an iCalendar"),
        (
            ics(
                "SUMMARY:Fine DTSTART;VALUE=DATE:20260612",
                "SUMMARY:Meeting DTSTART:20260612T100000Z",
            ),
            "has a time of day",
        ),
    ],
)
def test_a_bad_ics_file_imports_nothing(
    client, marketing_head, office, content, message
):
    client.force_login(marketing_head)
    upload = SimpleUploadedFile("days.ics", content, content_type="text/calendar")
    response = client.post(url("holidays_import", office.pk), {"ics-file": upload})
    assert response.status_code == 400
    assert message in " ".join(response.context["forms"]["ics"].errors["file"])
    assert rows_of(office) == (10, 0)


def test_a_round_the_clock_calendar_takes_no_hours_or_holidays(
    client, admin, org_calendar
):
    always = calendar_create(name="Always", time_zone="UTC", always=True)
    client.force_login(admin)
    page = client.get(url("detail", always.pk))
    assert b"Counts every hour of every day" in page.content
    assert b"holiday-form" not in page.content
    response = add_holiday(client, always, name="Day off", start="2026-07-01")
    assert response.status_code == 400
    assert "counts every hour" in response.content.decode()
    assert rows_of(always) == (0, 0)
