"""Properties of business time over generated instants and calendars: it adds
up, never shrinks as the end moves on, and the due instant inverts it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from agreements.calendars.time import add_business_time, business_time, snapshot

CALENDARS = [
    # Office hours with a lunch break and holidays, across both clock changes.
    snapshot(
        time_zone="Europe/Berlin",
        intervals=[
            (day, start, end)
            for day in range(5)
            for start, end in ((time(9), time(12, 30)), (time(13, 15), time(17)))
        ],
        holidays=[
            (date(2026, 5, 1), date(2026, 5, 1), False),
            (date(2020, 12, 24), date(2020, 12, 26), True),
        ],
        name="Berlin office",
    ),
    # Hours inside and around the hour the clocks skip or repeat, a night
    # shift split at midnight, and odd seconds.
    snapshot(
        time_zone="America/New_York",
        intervals=[
            (5, time(22), time(0)),
            (6, time(0), time(1, 30)),
            (6, time(1, 45), time(2, 30)),
            (6, time(2, 40), time(4, 0, 7)),
            (2, time(8, 0, 1, 5), time(19, 59)),
        ],
        name="New York shifts",
    ),
    snapshot(time_zone="Europe/Berlin", always=True, name="24/7"),
]

calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 12, 31)
).map(lambda naive: naive.replace(tzinfo=UTC))
gaps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))


@settings(max_examples=150, deadline=None)
@given(calendars, instants, gaps, gaps)
def test_business_time_adds_up(calendar, start, first, second):
    middle = start + first
    end = middle + second
    assert business_time(calendar, start, end) == business_time(
        calendar, start, middle
    ) + business_time(calendar, middle, end)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, gaps, gaps)
def test_business_time_grows_with_the_end_and_never_passes_real_time(
    calendar, start, first, second
):
    nearer = business_time(calendar, start, start + first)
    farther = business_time(calendar, start, start + first + second)
    assert timedelta(0) <= nearer <= farther <= first + second


@settings(max_examples=150, deadline=None)
@given(calendars, instants, gaps)
def test_the_due_instant_is_the_first_at_which_the_time_has_passed(
    calendar, start, duration
):
    due = add_business_time(calendar, start, duration)
    assert business_time(calendar, start, due) == duration
    if duration:
        before = due - timedelta(microseconds=1)
        assert business_time(calendar, start, max(before, start)) < duration


@settings(max_examples=100, deadline=None)
@given(instants, gaps)
def test_around_the_clock_business_time_is_real_time(start, length):
    assert business_time(CALENDARS[2], start, start + length) == length


@settings(max_examples=150, deadline=None)
@given(calendars, instants, gaps, gaps, gaps)
def test_a_pause_takes_away_exactly_its_working_time(
    calendar, start, before, paused, after
):
    pause_start = start + before
    pause_end = pause_start + paused
    end = pause_end + after
    assert business_time(
        calendar, start, end, pauses=[(pause_start, pause_end)]
    ) == business_time(calendar, start, pause_start) + business_time(
        calendar, pause_end, end
    )
