from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from agreements import periods

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.SLA_GRACE_DAYS = 3


@pytest.fixture
def new_york(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.SLA_GRACE_DAYS = 3


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600


# --- Months as dates -------------------------------------------------------


def test_month_of_a_date_is_its_first_day():
    assert periods.month_of(dt.date(2026, 3, 17)) == dt.date(2026, 3, 1)
    assert periods.month_of(dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)


def test_month_of_a_moment_is_read_on_the_organisations_clock(berlin):
    # 22:30 UTC on 31 March is half past midnight on 1 April in Berlin.
    moment = dt.datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert periods.month_of(moment) == dt.date(2026, 4, 1)


def test_month_of_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        periods.month_of(dt.datetime(2026, 3, 31, 22, 30))


def test_add_months_crosses_years_both_ways():
    assert periods.add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)
    assert periods.add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert periods.next_month(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert periods.previous_month(dt.date(2026, 1, 1)) == dt.date(2025, 12, 1)


def test_months_between_includes_both_ends_oldest_first():
    assert periods.months_between(dt.date(2025, 11, 1), dt.date(2026, 2, 20)) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]
    assert periods.months_between(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == [
        dt.date(2026, 3, 1)
    ]


def test_months_between_is_empty_when_the_end_comes_first():
    assert periods.months_between(dt.date(2026, 3, 1), dt.date(2026, 1, 1)) == []


def test_recent_months_ends_with_the_current_month():
    now = dt.datetime(2026, 2, 10, tzinfo=UTC)
    assert periods.recent_months(3, now) == [
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-03", dt.date(2026, 3, 1)),
        ("2026-3", dt.date(2026, 3, 1)),
        (" 2025-12 ", dt.date(2025, 12, 1)),
    ],
)
def test_parse_month_reads_year_and_month(text, month):
    assert periods.parse_month(text) == month
    assert periods.format_month(month) == f"{month:%Y-%m}"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "March 2026", "", "2026/03"])
def test_parse_month_explains_the_expected_form(text):
    with pytest.raises(ValidationError) as caught:
        periods.parse_month(text)
    error = caught.value
    assert error.code == "invalid_month"
    assert "YYYY-MM" in error.messages[0]


def test_month_label_names_the_month():
    assert periods.month_label(dt.date(2026, 3, 1)) == "March 2026"


# --- Boundaries in the organisation's time zone ---------------------------


def test_current_month_changes_after_the_last_second_in_berlin(berlin):
    last_second = dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=BERLIN)
    with time_machine.travel(last_second, tick=False):
        assert periods.current_month() == dt.date(2026, 3, 1)
        assert not periods.has_ended(dt.date(2026, 3, 1))
    with time_machine.travel(last_second + SECOND, tick=False):
        assert periods.current_month() == dt.date(2026, 4, 1)
        assert periods.has_ended(dt.date(2026, 3, 1))
        assert periods.in_grace(dt.date(2026, 3, 1))


def test_current_month_changes_after_the_last_second_in_new_york(new_york):
    # 04:59:59 UTC on 1 March is still February in New York (UTC-5).
    last_second = dt.datetime(2026, 3, 1, 4, 59, 59, tzinfo=UTC)
    with time_machine.travel(last_second, tick=False):
        assert periods.current_month() == dt.date(2026, 2, 1)
    with time_machine.travel(last_second + SECOND, tick=False):
        assert periods.current_month() == dt.date(2026, 3, 1)


def test_month_boundaries_are_local_midnights_with_their_own_offsets(berlin):
    march = dt.date(2026, 3, 1)
    # Winter time at the start (UTC+1), summer time at the end (UTC+2).
    assert periods.month_start(march) == dt.datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert periods.month_end(march) == dt.datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert periods.month_start(march).tzinfo.key == "Europe/Berlin"


@pytest.mark.parametrize(
    ("zone_fixture", "month", "hours"),
    [
        ("berlin", dt.date(2026, 3, 1), 31 * 24 - 1),  # clocks go forward
        ("berlin", dt.date(2026, 10, 1), 31 * 24 + 1),  # clocks go back
        ("new_york", dt.date(2026, 3, 1), 31 * 24 - 1),
        ("new_york", dt.date(2026, 11, 1), 30 * 24 + 1),
        ("berlin", dt.date(2026, 2, 1), 28 * 24),
    ],
)
def test_a_month_with_a_daylight_saving_change_is_an_hour_shorter_or_longer(
    request, zone_fixture, month, hours
):
    request.getfixturevalue(zone_fixture)
    assert _hours(periods.month_start(month), periods.month_end(month)) == hours


def test_month_start_is_a_date_in_any_month(settings):
    settings.TIME_ZONE = "UTC"
    assert periods.month_start(dt.date(2026, 3, 17)) == dt.datetime(
        2026, 3, 1, tzinfo=ZoneInfo("UTC")
    )


# --- Grace period and lock ------------------------------------------------


def test_deadline_is_the_end_of_the_third_day_after_the_month(berlin):
    assert periods.deadline(dt.date(2026, 3, 1)) == dt.datetime(
        2026, 4, 4, 0, 0, tzinfo=BERLIN
    )


def test_month_locks_exactly_at_the_end_of_grace_in_berlin(berlin):
    march = dt.date(2026, 3, 1)
    end_of_grace = dt.datetime(2026, 4, 4, 0, 0, tzinfo=BERLIN)
    with time_machine.travel(end_of_grace - SECOND, tick=False):
        assert not periods.is_locked(march)
        assert periods.is_open(march)
        assert periods.in_grace(march)
    with time_machine.travel(end_of_grace, tick=False):
        assert periods.is_locked(march)
        assert not periods.is_open(march)
        assert not periods.in_grace(march)


def test_grace_over_a_daylight_saving_change_is_three_calendar_days(new_york):
    # New York leaves summer time at 02:00 on Sunday 1 November 2026, inside
    # October's grace period: it lasts 73 hours and ends at local midnight.
    october = dt.date(2026, 10, 1)
    end = periods.month_end(october)
    deadline = periods.deadline(october)
    assert end == dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert deadline == dt.datetime(2026, 11, 4, 5, 0, tzinfo=UTC)
    assert _hours(end, deadline) == 73
    with time_machine.travel(deadline - SECOND, tick=False):
        assert not periods.is_locked(october)
    # 72 real hours after the month's end is still inside the grace period
    # (adding hours to a zoned datetime would add wall-clock hours: go via UTC).
    with time_machine.travel(end.astimezone(UTC) + dt.timedelta(hours=72), tick=False):
        assert not periods.is_locked(october)
    with time_machine.travel(deadline, tick=False):
        assert periods.is_locked(october)


def test_grace_days_are_read_from_settings_on_each_call(settings):
    settings.TIME_ZONE = "UTC"
    settings.SLA_GRACE_DAYS = 1
    assert periods.deadline(dt.date(2026, 3, 1)) == dt.datetime(
        2026, 4, 2, tzinfo=ZoneInfo("UTC")
    )
    settings.SLA_GRACE_DAYS = 0
    assert periods.deadline(dt.date(2026, 3, 1)) == periods.month_end(
        dt.date(2026, 3, 1)
    )


def test_time_zone_is_read_from_settings_on_each_call(settings):
    settings.TIME_ZONE = "UTC"
    utc_start = periods.month_start(dt.date(2026, 3, 1))
    settings.TIME_ZONE = "Europe/Berlin"
    assert periods.month_start(dt.date(2026, 3, 1)) == utc_start - dt.timedelta(hours=1)


def test_future_month_is_one_that_has_not_begun(berlin):
    with time_machine.travel(dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=BERLIN)):
        assert periods.is_future(dt.date(2026, 4, 1))
        assert not periods.is_future(dt.date(2026, 3, 1))
        assert not periods.is_open(dt.date(2026, 4, 1))


def test_previous_month_is_open_in_grace_and_older_months_are_locked(berlin):
    now = dt.datetime(2026, 4, 2, 12, tzinfo=BERLIN)
    assert periods.is_open(dt.date(2026, 4, 1), now)
    assert periods.is_open(dt.date(2026, 3, 1), now)
    assert periods.is_locked(dt.date(2026, 2, 1), now)


# --- Elapsed fraction -----------------------------------------------------


def test_elapsed_fraction_runs_from_zero_to_one(berlin):
    march = dt.date(2026, 3, 1)
    assert periods.elapsed_fraction(march, periods.month_start(march) - SECOND) == 0
    assert periods.elapsed_fraction(march, periods.month_start(march)) == 0
    assert periods.elapsed_fraction(march, periods.month_end(march)) == 1
    assert periods.elapsed_fraction(march, periods.deadline(march)) == 1


def test_elapsed_fraction_counts_real_hours_across_a_daylight_saving_change(berlin):
    # Noon on 29 March, after the clocks went forward that night: 683 of
    # the month's 743 real hours have passed (wall clocks would say 684/744).
    march = dt.date(2026, 3, 1)
    noon = dt.datetime(2026, 3, 29, 12, tzinfo=BERLIN)
    assert periods.elapsed_fraction(march, noon) == pytest.approx(683 / 743)


def test_elapsed_fraction_uses_the_current_time_by_default(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(dt.datetime(2026, 4, 16, tzinfo=UTC), tick=False):
        assert periods.elapsed_fraction(dt.date(2026, 4, 1)) == 0.5


def test_today_is_the_local_date(new_york):
    with time_machine.travel(dt.datetime(2026, 3, 1, 3, 0, tzinfo=UTC), tick=False):
        assert periods.today() == dt.date(2026, 2, 28)


def test_the_first_open_month_at_a_moment(settings):
    settings.TIME_ZONE = "UTC"
    utc = dt.UTC
    # In December's first days November is closing: still open.
    assert periods.first_open_month(dt.datetime(2026, 12, 1, 10, tzinfo=utc)) == (
        dt.date(2026, 11, 1)
    )
    assert periods.first_open_month(dt.datetime(2026, 12, 3, 23, 59, tzinfo=utc)) == (
        dt.date(2026, 11, 1)
    )
    assert periods.first_open_month(dt.datetime(2026, 12, 4, 0, 0, tzinfo=utc)) == (
        dt.date(2026, 12, 1)
    )


def test_months_outside_the_kept_range_are_refused():
    for text in ("1999-12", "2101-01", "9999-12", "0001-01"):
        with pytest.raises(ValidationError):
            periods.parse_month(text)
    assert periods.parse_month("2000-01") == dt.date(2000, 1, 1)
    assert periods.parse_month("2100-12") == dt.date(2100, 12, 1)


def test_the_deadline_has_one_wording():
    assert periods.due_text(dt.date(2026, 12, 1)) == "Sun 3 Jan 2027, end of day"
    assert periods.last_entry_day(dt.date(2026, 12, 1)) == dt.date(2027, 1, 3)


def test_business_days_count_monday_to_friday(settings):
    settings.TIME_ZONE = "UTC"
    utc = dt.UTC
    march = dt.date(2026, 3, 1)
    assert len(periods.business_days(march)) == 22
    # Sunday 15 March, noon: ten business days gone, the same as Saturday.
    assert (
        periods.business_elapsed(march, dt.datetime(2026, 3, 15, 12, tzinfo=utc)) == 10
    )
    assert (
        periods.business_elapsed(march, dt.datetime(2026, 3, 14, 0, tzinfo=utc)) == 10
    )
    # Monday 16 March, 06:00: a quarter of that day too.
    assert periods.business_elapsed(
        march, dt.datetime(2026, 3, 16, 6, tzinfo=utc)
    ) == pytest.approx(10.25)
    assert periods.business_fraction(march, dt.datetime(2026, 4, 1, tzinfo=utc)) == 1.0
    assert periods.business_fraction(march, dt.datetime(2026, 2, 27, tzinfo=utc)) == 0.0
