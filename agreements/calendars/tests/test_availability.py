"""Availability over a month: W − E − D over W − E, every part a sweep over
merged intervals, clipped to the month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agreements.calendars.availability import Outage, availability, merge, subtract
from agreements.calendars.time import month_bounds, snapshot

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
MARCH = month_bounds(snapshot(time_zone="Europe/Berlin", always=True), date(2026, 3, 1))
APRIL = month_bounds(snapshot(time_zone="Europe/Berlin", always=True), date(2026, 4, 1))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def march(incidents=(), maintenance=(), *, weight=Decimal("0.5"), now=None):
    return availability(*MARCH, incidents, maintenance, partial_weight=weight, now=now)


def ratio(up: timedelta, promised: timedelta) -> Decimal:
    return Decimal(up // timedelta(microseconds=1)) / Decimal(
        promised // timedelta(microseconds=1)
    )


# --- merge and subtract ------------------------------------------------------


def test_merge_joins_overlapping_and_touching_intervals():
    assert merge([(5, 6), (2, 3), (0, 1), (1, 2), (2.5, 4), (7, 7)]) == [
        (0, 4),
        (5, 6),
    ]


def test_merge_keeps_an_interval_that_contains_the_next():
    assert merge([(0, 10), (2, 3), (4, 12)]) == [(0, 12)]


def test_merge_refuses_an_interval_ending_before_it_starts():
    with pytest.raises(ValueError, match="ends before"):
        merge([(3, 1)])


def test_subtract_cuts_holes():
    hours = [(berlin(2026, 3, 2, h), berlin(2026, 3, 2, h + 1)) for h in (0, 1)]
    assert subtract(
        merge(hours), [(berlin(2026, 3, 2, 0, 30), berlin(2026, 3, 2, 1))]
    ) == [
        (berlin(2026, 3, 2, 0), berlin(2026, 3, 2, 0, 30)),
        (berlin(2026, 3, 2, 1), berlin(2026, 3, 2, 2)),
    ]


# --- The formula ---------------------------------------------------------------


def test_march_in_berlin_is_743_hours_and_fully_available_without_incidents():
    result = march()
    assert result.window == 743 * H
    assert result.window_minutes == 743 * 60
    assert result.ratio == 1
    assert (result.maintenance, result.downtime) == (timedelta(0), timedelta(0))


def test_overlapping_incidents_count_once():
    result = march(
        [
            (berlin(2026, 3, 10, 10), berlin(2026, 3, 10, 11)),
            (berlin(2026, 3, 10, 10, 30), berlin(2026, 3, 10, 12)),
            (berlin(2026, 3, 10, 10, 45), berlin(2026, 3, 10, 11, 15)),
        ]
    )
    assert result.downtime == 2 * H
    assert result.downtime_minutes == 120
    assert result.ratio == ratio(741 * H, 743 * H)


def test_maintenance_is_not_downtime_and_is_not_promised():
    result = march(
        [(berlin(2026, 3, 10, 10, 30), berlin(2026, 3, 10, 12))],
        [
            (berlin(2026, 3, 10, 10), berlin(2026, 3, 10, 11)),
            (berlin(2026, 3, 10, 9), berlin(2026, 3, 10, 10, 30)),
        ],
    )
    assert result.maintenance == 2 * H  # 09:00–11:00, merged
    assert result.downtime == H  # 11:00–12:00
    assert result.ratio == ratio(740 * H, 741 * H)


def test_an_incident_across_the_month_boundary_counts_in_each_month():
    # From 23:00 on 31 March to 02:00 on 1 April, Berlin time.
    incident = [(berlin(2026, 3, 31, 23), berlin(2026, 4, 1, 2))]
    assert march(incident).downtime == H
    in_april = availability(*APRIL, incident, [], partial_weight=0)
    assert in_april.downtime == 2 * H
    assert in_april.window == 720 * H


def test_maintenance_across_the_month_boundary_counts_its_part():
    result = march(maintenance=[(berlin(2026, 2, 28, 22), berlin(2026, 3, 1, 1))])
    assert result.maintenance == H


def test_an_open_incident_runs_until_now():
    incident = [Outage(berlin(2026, 3, 31, 20))]
    assert march(incident, now=berlin(2026, 3, 31, 22)).downtime == 2 * H


def test_an_open_incident_runs_until_the_month_ends_at_the_latest():
    incident = [(berlin(2026, 3, 31, 20), None)]
    assert march(incident, now=berlin(2026, 4, 3)).downtime == 4 * H


def test_an_open_incident_starting_after_now_counts_nothing():
    incident = [Outage(berlin(2026, 3, 31, 20))]
    assert march(incident, now=berlin(2026, 3, 31, 19)).downtime == timedelta(0)


def test_an_open_incident_needs_now():
    with pytest.raises(ValueError, match="still open: pass now"):
        march([Outage(berlin(2026, 3, 31, 20))])


def test_a_partial_outage_counts_its_weight():
    degraded = [Outage(berlin(2026, 3, 10, 8), berlin(2026, 3, 10, 12), partial=True)]
    assert march(degraded, weight=Decimal("0.5")).downtime == 2 * H
    assert march(degraded, weight=0.25).downtime == H
    assert march(degraded, weight=0).downtime == timedelta(0)
    assert march(degraded, weight=1).downtime == 4 * H


def test_a_full_outage_inside_a_partial_one_counts_fully_once():
    result = march(
        [
            Outage(berlin(2026, 3, 10, 8), berlin(2026, 3, 10, 12), partial=True),
            Outage(berlin(2026, 3, 10, 9), berlin(2026, 3, 10, 10)),
        ],
        [(berlin(2026, 3, 10, 11), berlin(2026, 3, 10, 12))],
        weight=Decimal("0.5"),
    )
    # Full 09–10; partial 08–09 and 10–11 at half weight; 11–12 maintenance.
    assert result.downtime == 2 * H
    assert result.maintenance == H


def test_a_weight_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="0 to 1"):
        march(weight=Decimal("1.5"))


def test_a_month_of_maintenance_promises_nothing():
    result = march(maintenance=[(berlin(2026, 2, 1), berlin(2026, 4, 2))])
    assert result.ratio is None
    assert result.maintenance == result.window


def test_the_ratio_is_exact():
    april_utc = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    start = datetime(2026, 4, 7, 3, tzinfo=UTC)
    result = availability(
        *april_utc, [(start, start + timedelta(minutes=72))], [], partial_weight=0
    )
    assert result.ratio == Decimal(43128) / Decimal(43200)
    _, window, maintenance, downtime = result
    assert (window, maintenance, downtime) == (720 * H, timedelta(0), 72 * H / 60)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        march([(berlin(2026, 3, 10, 12), berlin(2026, 3, 10, 11))])
    with pytest.raises(ValueError, match="aware"):
        march([(datetime(2026, 3, 10, 12), berlin(2026, 3, 10, 13))])
    with pytest.raises(ValueError, match="end after it starts"):
        availability(MARCH[1], MARCH[0], [], [], partial_weight=0)
