"""A month of requests, worked out by hand: the office works Monday to Friday
09:00–12:00 and 13:00–17:00 in Berlin; June 2026 starts on a Monday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agreements.calendars.time import snapshot
from agreements.records.measure import (
    MIN_COUNTED,
    Outcome,
    RequestRecord,
    SegmentGoal,
    due_at,
    percentile,
    request_month,
    segment_goals,
)

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
JUNE = date(2026, 6, 1)
AFTER_JUNE = datetime(2026, 7, 3, 12, tzinfo=BERLIN)
OFFICE = snapshot(
    time_zone="Europe/Berlin",
    intervals=[
        (day, start, end)
        for day in range(5)
        for start, end in ((time(9), time(12)), (time(13), time(17)))
    ],
    name="office",
)
ROUND_THE_CLOCK = snapshot(time_zone="Europe/Berlin", always=True)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def june(requests, *, now=AFTER_JUNE, target=3 * H, goals=(), event="first_response"):
    return request_month(
        requests,
        calendar=OFFICE,
        event=event,
        target=target,
        goals=goals,
        month=JUNE,
        now=now,
    )


def only(figures):
    (row,) = figures.evidence
    return row


def test_an_answer_across_the_lunch_break_takes_two_business_hours_and_is_met():
    # Monday 11:00 → 14:00: 11–12 and 13–14.
    request = RequestRecord("R-1", berlin(2026, 6, 1, 11), berlin(2026, 6, 1, 14))
    figures = june([request])
    row = only(figures)
    assert row.business_time == 2 * H
    assert row.outcome == Outcome.MET
    assert row.due == berlin(2026, 6, 1, 15)
    assert row.target == 3 * H
    assert (figures.met, figures.breached, figures.pending) == (1, 0, 0)
    assert figures.attainment == 100


def test_an_answer_after_a_weekend_counts_no_weekend_time():
    # Friday 16:00 → Monday 10:00: Friday's last hour and Monday's first.
    met = RequestRecord("R-1", berlin(2026, 6, 5, 16), berlin(2026, 6, 8, 10))
    # Friday 16:00 → Monday 12:00: one hour and three.
    late = RequestRecord("R-2", berlin(2026, 6, 5, 16), berlin(2026, 6, 8, 12))
    figures = june([met, late])
    first, second = figures.evidence
    assert (first.business_time, first.outcome) == (2 * H, Outcome.MET)
    assert (second.business_time, second.outcome) == (4 * H, Outcome.BREACHED)
    assert first.due == berlin(2026, 6, 8, 11)
    assert figures.attainment == 50


def test_an_open_request_past_due_at_the_month_end_is_breached():
    # Tuesday 30 June 09:00, never answered: seven business hours by midnight.
    figures = june([RequestRecord("R-1", berlin(2026, 6, 30, 9))])
    row = only(figures)
    assert row.outcome == Outcome.BREACHED
    assert row.business_time == 7 * H
    assert row.stopped_at is None
    assert (figures.met, figures.breached, figures.pending) == (0, 1, 0)
    assert figures.attainment == 0


def test_an_open_request_past_due_before_the_month_ends_is_breached_already():
    figures = june(
        [RequestRecord("R-1", berlin(2026, 6, 10, 9))], now=berlin(2026, 6, 10, 13, 30)
    )
    assert only(figures).outcome == Outcome.BREACHED
    assert only(figures).business_time == 3.5 * H


def test_an_open_request_not_yet_due_is_pending_and_outside_the_denominator():
    answered = RequestRecord("R-1", berlin(2026, 6, 30, 9), berlin(2026, 6, 30, 10))
    # Tuesday 30 June 16:00: one business hour by midnight, due 1 July 11:00.
    waiting = RequestRecord("R-2", berlin(2026, 6, 30, 16))
    figures = june([answered, waiting])
    assert (figures.met, figures.breached, figures.pending) == (1, 0, 1)
    assert figures.counted == 1
    assert figures.attainment == 100
    row = figures.evidence[1]
    assert row.outcome == Outcome.PENDING
    assert row.business_time == H
    assert row.due == berlin(2026, 7, 1, 11)


def test_an_answer_after_the_month_end_counts_in_the_month_the_request_started():
    request = RequestRecord("R-1", berlin(2026, 6, 30, 16), berlin(2026, 7, 1, 10))
    assert only(june([request])).outcome == Outcome.MET


def test_a_request_due_before_a_weekend_is_still_pending_over_the_weekend():
    # Friday 26 June 14:00, due 17:00: an answer on Saturday takes no more
    # business time than the target, so on Saturday it can still be met.
    request = RequestRecord("R-1", berlin(2026, 6, 26, 14))
    figures = june([request], now=berlin(2026, 6, 27, 10))
    assert only(figures).outcome == Outcome.PENDING
    answered = RequestRecord("R-1", berlin(2026, 6, 26, 14), berlin(2026, 6, 27, 11))
    assert only(june([answered])).outcome == Outcome.MET


def test_a_pause_is_subtracted():
    # Tuesday 09:00 → 15:00 is five business hours; paused 10:00–14:00, three.
    request = RequestRecord(
        "R-1",
        berlin(2026, 6, 2, 9),
        berlin(2026, 6, 2, 15),
        pauses=((berlin(2026, 6, 2, 10), berlin(2026, 6, 2, 14)),),
    )
    row = only(june([request]))
    assert row.business_time == 2 * H
    assert row.outcome == Outcome.MET
    # One hour before the pause, two after it.
    assert row.due == berlin(2026, 6, 2, 16)


def test_an_open_pause_holds_the_clock():
    request = RequestRecord(
        "R-1",
        berlin(2026, 6, 30, 9),
        pauses=((berlin(2026, 6, 30, 10), None),),
    )
    row = only(june([request]))
    assert row.business_time == H
    assert row.outcome == Outcome.PENDING
    assert row.due is None


def test_the_first_matching_segment_goal_wins():
    goals = segment_goals(
        [
            {"segment": "P1", "target_minutes": 60},
            {"segment": "P*", "target_minutes": 240},
        ]
    )
    start = berlin(2026, 6, 3, 9)
    urgent = RequestRecord("R-1", start, start + 2 * H, segment="p1")
    normal = RequestRecord("R-2", start, start + 3.5 * H + H, segment="P2")
    other = RequestRecord("R-3", start, start + 3.5 * H + H, segment="Question")
    figures = june([urgent, normal, other], goals=goals)
    assert [(r.external_id, r.target, r.outcome) for r in figures.evidence] == [
        ("R-1", H, Outcome.BREACHED),
        ("R-2", 4 * H, Outcome.MET),
        ("R-3", 3 * H, Outcome.BREACHED),
    ]
    # 3.5 business hours: 09–12 and 13–13:30.
    assert figures.evidence[1].business_time == 3.5 * H


def test_resolution_is_measured_when_asked():
    request = RequestRecord(
        "R-1",
        berlin(2026, 6, 1, 9),
        first_response_at=berlin(2026, 6, 1, 10),
        resolved_at=berlin(2026, 6, 2, 9),
    )
    assert only(june([request])).outcome == Outcome.MET
    row = only(june([request], event="resolution", target=4 * H))
    assert (row.business_time, row.outcome) == (7 * H, Outcome.BREACHED)


def test_a_resolution_without_a_recorded_response_is_the_first_response():
    request = RequestRecord(
        "R-1", berlin(2026, 6, 1, 9), resolved_at=berlin(2026, 6, 1, 11)
    )
    row = only(june([request]))
    assert (row.business_time, row.outcome) == (2 * H, Outcome.MET)


def test_an_answer_after_now_has_not_happened_yet():
    request = RequestRecord("R-1", berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 11))
    row = only(june([request], now=berlin(2026, 6, 1, 10)))
    assert (row.outcome, row.business_time, row.stopped_at) == (
        Outcome.PENDING,
        H,
        None,
    )


def test_a_request_belongs_to_the_month_it_started_in_the_calendars_zone():
    # 00:30 on 1 June in Berlin is still 31 May in UTC.
    june_first = RequestRecord("R-1", berlin(2026, 6, 1, 0, 30), berlin(2026, 6, 1, 10))
    may = RequestRecord("R-2", berlin(2026, 5, 31, 23, 30), berlin(2026, 6, 1, 10))
    july = RequestRecord("R-3", berlin(2026, 7, 1, 9), berlin(2026, 7, 1, 10))
    figures = june([june_first, may, july])
    assert [row.external_id for row in figures.evidence] == ["R-1"]


def test_percentiles_are_nearest_rank_over_the_stopped_requests():
    start = berlin(2026, 6, 10, 0)
    requests = [
        RequestRecord(f"R-{hours}", start, start + hours * H) for hours in range(1, 11)
    ]
    requests.append(RequestRecord("open", start))
    figures = request_month(
        requests,
        calendar=ROUND_THE_CLOCK,
        event="first_response",
        target=4 * H,
        month=JUNE,
        now=start + 11 * H,
    )
    assert (figures.p50, figures.p90) == (5 * H, 9 * H)
    assert (figures.met, figures.breached) == (4, 7)  # the open one is 11 h in
    assert figures.attainment == Decimal(400) / Decimal(11)


def test_percentile_by_hand():
    assert percentile([], 50) is None
    assert percentile([3 * H], 90) == 3 * H
    assert percentile([4 * H, H, 2 * H, 3 * H], 50) == 2 * H
    assert percentile([4 * H, H, 2 * H, 3 * H], 90) == 4 * H


def test_fewer_than_ten_counted_is_insufficient():
    start = berlin(2026, 6, 1, 9)

    def month_of(count: int):
        requests = [RequestRecord(f"R-{n}", start, start + H) for n in range(count)]
        requests.append(RequestRecord("pending", berlin(2026, 6, 30, 16)))
        return june(requests)

    assert month_of(MIN_COUNTED - 1).insufficient
    assert not month_of(MIN_COUNTED).insufficient
    empty = june([])
    assert empty.insufficient
    assert (empty.attainment, empty.p50, empty.p90) == (None, None, None)


def test_due_at_skips_pauses_and_closed_hours():
    start = berlin(2026, 6, 5, 16)
    assert due_at(OFFICE, start, 3 * H) == berlin(2026, 6, 8, 11)
    pause = (berlin(2026, 6, 8, 9), berlin(2026, 6, 8, 10))
    assert due_at(OFFICE, start, 3 * H, [pause]) == berlin(2026, 6, 8, 12)


@pytest.mark.parametrize(
    "goals, message",
    [
        ({"segment": "P1"}, "a list"),
        ([{"segment": "P1"}], "exactly"),
        ([{"segment": " ", "target_minutes": 5}], "name a segment"),
        ([{"segment": "P1", "target_minutes": 0}], "above zero"),
        ([{"segment": "P1", "target_minutes": "60"}], "above zero"),
        ([{"segment": "P1", "target_minutes": True}], "above zero"),
    ],
)
def test_bad_segment_goals_are_refused(goals, message):
    with pytest.raises(ValueError, match=message):
        segment_goals(goals)


def test_segment_goals_read_their_stored_form():
    assert segment_goals([{"segment": " P1 ", "target_minutes": 90}]) == (
        SegmentGoal("P1", timedelta(minutes=90)),
    )
    assert segment_goals([]) == ()
    assert segment_goals(None) == ()
