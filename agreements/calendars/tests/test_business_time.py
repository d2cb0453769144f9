"""Business time, worked out by hand: weekends, holidays, a lunch break, and
the days the clocks change in Berlin and New York."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agreements.calendars.time import (
    CalendarSnapshot,
    add_business_time,
    business_days,
    business_time,
    month_bounds,
    snapshot,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)

# Monday to Friday 09:00–12:00 and 13:00–17:00 (seven hours), Labour Day 2026
# once, Christmas Day every year since 2020.
OFFICE = snapshot(
    time_zone="Europe/Berlin",
    intervals=[
        (day, start, end)
        for day in range(5)
        for start, end in ((time(9), time(12)), (time(13), time(17)))
    ],
    holidays=[
        (date(2026, 5, 1), date(2026, 5, 1), False),
        (date(2020, 12, 25), date(2020, 12, 25), True),
    ],
    name="office",
)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def always(zone: str) -> CalendarSnapshot:
    return snapshot(time_zone=zone, always=True)


def sunday_early_hours(zone: str) -> CalendarSnapshot:
    """Only Sunday 01:00–04:00, across the hour the clocks change."""
    return snapshot(time_zone=zone, intervals=[(6, time(1), time(4))])


# --- Weekends, holidays, breaks --------------------------------------------


def test_a_weekend_counts_nothing():
    # Friday 16:00 → Monday 10:00: Friday's last hour and Monday's first.
    assert (
        business_time(OFFICE, berlin(2026, 6, 5, 16), berlin(2026, 6, 8, 10)) == 2 * H
    )


def test_a_one_off_holiday_counts_nothing():
    # Thursday 16:00 → Monday 10:00 over Friday 1 May 2026.
    assert (
        business_time(OFFICE, berlin(2026, 4, 30, 16), berlin(2026, 5, 4, 10)) == 2 * H
    )


def test_a_one_off_holiday_is_a_working_day_in_other_years():
    # 1 May 2025 is a Thursday: a full working day.
    assert business_time(OFFICE, berlin(2025, 5, 1), berlin(2025, 5, 2)) == 7 * H


def test_a_yearly_holiday_falls_every_year():
    # 25 December is a Friday in 2026 and a Wednesday in 2030.
    assert (
        business_time(OFFICE, berlin(2026, 12, 24, 16), berlin(2026, 12, 28, 10))
        == 2 * H
    )
    assert (
        business_time(OFFICE, berlin(2030, 12, 24, 16), berlin(2030, 12, 26, 10))
        == 2 * H
    )


def test_the_lunch_break_counts_nothing():
    assert (
        business_time(OFFICE, berlin(2026, 6, 1, 11), berlin(2026, 6, 1, 14)) == 2 * H
    )
    assert business_time(OFFICE, berlin(2026, 6, 1, 12), berlin(2026, 6, 1, 13)) == (
        timedelta(0)
    )


def test_a_whole_week_is_five_working_days():
    assert business_time(OFFICE, berlin(2026, 6, 1), berlin(2026, 6, 8)) == 35 * H


def test_the_start_and_end_may_be_in_any_zone():
    start = berlin(2026, 6, 1, 11).astimezone(UTC)
    end = berlin(2026, 6, 1, 14).astimezone(NEW_YORK)
    assert business_time(OFFICE, start, end) == 2 * H


def test_an_empty_range_is_zero_and_a_reversed_one_an_error():
    moment = berlin(2026, 6, 1, 10)
    assert business_time(OFFICE, moment, moment) == timedelta(0)
    with pytest.raises(ValueError, match="before the start"):
        business_time(OFFICE, moment, moment - H)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        business_time(OFFICE, datetime(2026, 6, 1), berlin(2026, 6, 2))


def test_an_end_of_midnight_is_the_end_of_the_day():
    evenings = snapshot(time_zone="Europe/Berlin", intervals=[(5, time(16), time(0))])
    assert business_time(evenings, berlin(2026, 6, 6), berlin(2026, 6, 7)) == 8 * H
    assert business_time(evenings, berlin(2026, 6, 7), berlin(2026, 6, 8)) == (
        timedelta(0)
    )


# --- The days the clocks change ---------------------------------------------


@pytest.mark.parametrize(
    ("local", "day", "hours"),
    [
        (berlin, (2026, 3, 29), 23),  # clocks forward 02:00 → 03:00
        (berlin, (2026, 10, 25), 25),  # clocks back 03:00 → 02:00
        (new_york, (2026, 3, 8), 23),  # clocks forward 02:00 → 03:00
        (new_york, (2026, 11, 1), 25),  # clocks back 02:00 → 01:00
    ],
)
def test_a_24_7_calendar_counts_the_real_length_of_the_day(local, day, hours):
    zone = local(*day).tzinfo.key
    start = local(*day)
    end = local(*day).replace(day=day[2] + 1)
    assert business_time(always(zone), start, end) == hours * H


@pytest.mark.parametrize(
    ("local", "day", "hours"),
    [
        # 01:00 … the jump … 04:00: an hour of the interval never happens.
        (berlin, (2026, 3, 29), 2),
        (new_york, (2026, 3, 8), 2),
        # An hour of the interval happens twice.
        (berlin, (2026, 10, 25), 4),
        (new_york, (2026, 11, 1), 4),
    ],
)
def test_hours_across_the_change_count_real_time(local, day, hours):
    zone = local(*day).tzinfo.key
    start = local(*day)
    end = start.replace(day=day[2] + 1)
    assert business_time(sunday_early_hours(zone), start, end) == hours * H


def test_hours_wholly_inside_the_skipped_hour_count_nothing():
    skipped = snapshot(
        time_zone="Europe/Berlin", intervals=[(6, time(2, 15), time(2, 45))]
    )
    assert business_time(skipped, berlin(2026, 3, 29), berlin(2026, 3, 30)) == (
        timedelta(0)
    )


def test_hours_ending_in_the_skipped_hour_end_when_the_clocks_jump():
    # 01:00 CET until the clocks jump at 02:00 CET: one hour.
    early = snapshot(time_zone="Europe/Berlin", intervals=[(6, time(1), time(2, 30))])
    assert business_time(early, berlin(2026, 3, 29), berlin(2026, 3, 30)) == H


def test_office_hours_are_eight_hours_either_side_of_the_change():
    nine_to_five = snapshot(
        time_zone="Europe/Berlin",
        intervals=[(day, time(9), time(17)) for day in range(5)],
    )
    # Friday 27 March (winter time) and Monday 30 March (summer time).
    assert (
        business_time(nine_to_five, berlin(2026, 3, 27), berlin(2026, 3, 31)) == 16 * H
    )


# --- Pauses -------------------------------------------------------------------


def test_pauses_take_away_their_working_time():
    start, end = berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 17)
    pauses = [
        (berlin(2026, 6, 1, 10), berlin(2026, 6, 1, 11)),
        # Half of it in the lunch break: only 13:00–13:30 is working time.
        (berlin(2026, 6, 1, 12, 30), berlin(2026, 6, 1, 13, 30)),
    ]
    assert business_time(OFFICE, start, end, pauses=pauses) == timedelta(hours=5.5)


def test_a_pause_counts_only_inside_the_range():
    start, end = berlin(2026, 6, 1, 10), berlin(2026, 6, 1, 12)
    pauses = [(berlin(2026, 6, 1, 8), berlin(2026, 6, 1, 11))]
    assert business_time(OFFICE, start, end, pauses=pauses) == H


def test_an_open_pause_runs_to_the_end():
    start, end = berlin(2026, 6, 1, 9), berlin(2026, 6, 2, 17)
    pauses = [(berlin(2026, 6, 1, 16), None)]
    assert business_time(OFFICE, start, end, pauses=pauses) == 6 * H


def test_pauses_may_touch():
    start, end = berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 12)
    pauses = [
        (berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 10)),
        (berlin(2026, 6, 1, 10), berlin(2026, 6, 1, 11)),
    ]
    assert business_time(OFFICE, start, end, pauses=pauses) == H


def test_overlapping_pauses_are_refused():
    start, end = berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 17)
    pauses = [
        (berlin(2026, 6, 1, 10), berlin(2026, 6, 1, 11)),
        (berlin(2026, 6, 1, 10, 30), berlin(2026, 6, 1, 12)),
    ]
    with pytest.raises(ValueError, match="Pauses overlap"):
        business_time(OFFICE, start, end, pauses=pauses)
    with pytest.raises(ValueError, match="Pauses overlap"):
        business_time(
            OFFICE, start, end, pauses=[(berlin(2026, 6, 1, 10), None), pauses[1]]
        )


def test_a_pause_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        business_time(
            OFFICE,
            berlin(2026, 6, 1, 9),
            berlin(2026, 6, 1, 17),
            pauses=[(berlin(2026, 6, 1, 11), berlin(2026, 6, 1, 10))],
        )


# --- Due instants ---------------------------------------------------------------


def test_the_due_instant_skips_the_weekend():
    assert add_business_time(OFFICE, berlin(2026, 6, 5, 16), 2 * H) == berlin(
        2026, 6, 8, 10
    )


def test_the_due_instant_skips_the_lunch_break():
    assert add_business_time(OFFICE, berlin(2026, 6, 1, 11, 30), H) == berlin(
        2026, 6, 1, 13, 30
    )


def test_the_due_instant_is_the_earliest_one():
    # Three hours from 09:00 are done at noon, not when work resumes at 13:00.
    assert add_business_time(OFFICE, berlin(2026, 6, 1, 9), 3 * H) == berlin(
        2026, 6, 1, 12
    )


def test_the_due_instant_from_outside_working_hours():
    # Saturday evening + 1 h: Monday 10:00.
    due = add_business_time(OFFICE, berlin(2026, 6, 6, 20), H)
    assert due == berlin(2026, 6, 8, 10)
    assert due.tzinfo == BERLIN


def test_no_time_is_due_at_once_and_negative_time_is_refused():
    start = berlin(2026, 6, 6, 20)
    assert add_business_time(OFFICE, start, timedelta(0)) == start
    with pytest.raises(ValueError, match="negative"):
        add_business_time(OFFICE, start, -H)


def test_a_24_7_due_instant_is_real_time_across_the_change():
    due = add_business_time(always("Europe/Berlin"), berlin(2026, 3, 29), 24 * H)
    assert due == berlin(2026, 3, 30, 1)


def test_a_calendar_without_hours_has_no_due_instant():
    with pytest.raises(ValueError, match="no working hours"):
        add_business_time(snapshot(time_zone="UTC"), berlin(2026, 6, 1), H)


def test_a_calendar_with_no_working_day_left_has_no_due_instant():
    closed = snapshot(
        time_zone="UTC",
        intervals=[(0, time(9), time(17))],
        holidays=[(date(2026, 1, 1), date(2040, 12, 31), False)],
    )
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(closed, berlin(2026, 6, 1), H)


# --- Business days and months -------------------------------------------------


def test_business_days_leave_out_weekends_and_holidays():
    days = business_days(OFFICE, date(2026, 5, 1))
    assert len(days) == 20  # 21 weekdays, less Labour Day
    assert date(2026, 5, 1) not in days
    assert days[0] == date(2026, 5, 4)
    assert date(2026, 12, 25) not in business_days(OFFICE, date(2026, 12, 1))


def test_every_day_is_a_business_day_around_the_clock():
    assert len(business_days(always("UTC"), date(2026, 2, 1))) == 28


def test_march_in_berlin_lasts_743_hours():
    start, end = month_bounds(always("Europe/Berlin"), date(2026, 3, 1))
    assert (start, end) == (berlin(2026, 3, 1), berlin(2026, 4, 1))
    assert business_time(always("Europe/Berlin"), start, end) == 743 * H


# --- Building a calendar --------------------------------------------------------


def test_overlapping_hours_are_refused():
    with pytest.raises(ValueError, match="Monday 09:00–12:00 and 11:00–14:00 overlap"):
        snapshot(
            time_zone="UTC",
            intervals=[(0, time(9), time(12)), (0, time(11), time(14))],
        )


def test_hours_across_midnight_are_refused():
    with pytest.raises(ValueError, match="cannot cross midnight"):
        snapshot(time_zone="UTC", intervals=[(4, time(22), time(6))])


def test_touching_hours_are_fine():
    calendar = snapshot(
        time_zone="UTC", intervals=[(0, time(9), time(12)), (0, time(12), time(17))]
    )
    monday = datetime(2026, 6, 1, tzinfo=UTC)
    assert business_time(calendar, monday, monday + 24 * H) == 8 * H


def test_holidays_ending_before_they_start_or_yearly_for_a_year_are_refused():
    with pytest.raises(ValueError, match="cannot end"):
        snapshot(
            time_zone="UTC", holidays=[(date(2026, 5, 2), date(2026, 5, 1), False)]
        )
    with pytest.raises(ValueError, match="less than a year"):
        snapshot(time_zone="UTC", holidays=[(date(2026, 1, 1), date(2027, 1, 1), True)])


def test_a_yearly_holiday_across_new_year():
    calendar = snapshot(
        time_zone="UTC",
        intervals=[(day, time(9), time(17)) for day in range(7)],
        holidays=[(date(2020, 12, 31), date(2021, 1, 1), True)],
    )
    assert business_days(calendar, date(2027, 1, 1))[0] == date(2027, 1, 2)
    assert business_days(calendar, date(2027, 12, 1))[-1] == date(2027, 12, 30)
