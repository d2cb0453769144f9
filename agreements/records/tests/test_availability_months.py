"""Availability months by hand. March 2026 in Berlin has 743 hours (the
clocks go forward on the 29th): 44,580 minutes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agreements.records.measure import (
    IncidentRecord,
    MaintenanceRecord,
    availability_month,
)

BERLIN = ZoneInfo("Europe/Berlin")
MARCH_MINUTES = 743 * 60
AFTER_MARCH = datetime(2026, 4, 5, tzinfo=BERLIN)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def month(
    incidents=(),
    maintenance=(),
    *,
    of=date(2026, 3, 1),
    weight=0,
    exclude=True,
    now=AFTER_MARCH,
    component=None,
):
    return availability_month(
        incidents,
        maintenance,
        month=of,
        zone="Europe/Berlin",
        partial_weight=weight,
        exclude_maintenance=exclude,
        now=now,
        component=component,
    )


def percent(up: int, promised: int) -> Decimal:
    return Decimal(up) / Decimal(promised) * 100


def test_march_in_berlin_without_incidents_is_fully_available():
    figures = month()
    assert figures.window_minutes == MARCH_MINUTES
    assert figures.percent == 100
    assert (figures.maintenance_minutes, figures.downtime_minutes) == (0, 0)
    assert figures.month == date(2026, 3, 1)


def test_overlapping_incidents_are_merged_and_each_keeps_its_own_minutes():
    figures = month(
        [
            IncidentRecord("I-1", berlin(2026, 3, 10, 10), berlin(2026, 3, 10, 11)),
            IncidentRecord("I-2", berlin(2026, 3, 10, 10, 30), berlin(2026, 3, 10, 12)),
        ]
    )
    assert figures.downtime_minutes == 120
    assert figures.percent == percent(MARCH_MINUTES - 120, MARCH_MINUTES)
    assert [(row.external_id, row.minutes) for row in figures.incidents] == [
        ("I-1", 60),
        ("I-2", 90),
    ]


INCIDENT = IncidentRecord("I-1", berlin(2026, 3, 10, 10, 30), berlin(2026, 3, 10, 12))
WORK = MaintenanceRecord(
    "M-1", berlin(2026, 3, 10, 9), berlin(2026, 3, 10, 11), reason="Upgrade"
)


def test_excluded_maintenance_is_neither_promised_nor_down():
    figures = month([INCIDENT], [WORK])
    assert figures.maintenance_minutes == 120
    assert figures.downtime_minutes == 60  # 11:00–12:00
    promised = MARCH_MINUTES - 120
    assert figures.percent == percent(promised - 60, promised)
    assert [
        (row.external_id, row.kind, row.minutes) for row in figures.maintenance
    ] == [("M-1", "maintenance", 120)]


def test_maintenance_not_excluded_is_ordinary_time():
    figures = month([INCIDENT], [WORK], exclude=False)
    assert figures.maintenance_minutes == 0
    assert figures.downtime_minutes == 90
    assert figures.percent == percent(MARCH_MINUTES - 90, MARCH_MINUTES)


def test_an_incident_across_the_month_boundary_counts_in_each_month_for_its_part():
    incident = IncidentRecord("I-1", berlin(2026, 3, 31, 23), berlin(2026, 4, 1, 2))
    march = month([incident])
    april = month(
        [incident], of=date(2026, 4, 1), now=datetime(2026, 5, 5, tzinfo=BERLIN)
    )
    assert (march.downtime_minutes, march.incidents[0].minutes) == (60, 60)
    assert (april.downtime_minutes, april.incidents[0].minutes) == (120, 120)
    assert april.window_minutes == 720 * 60


def test_an_incident_outside_the_month_leaves_no_evidence():
    figures = month(
        [IncidentRecord("I-1", berlin(2026, 2, 10, 10), berlin(2026, 2, 10, 11))]
    )
    assert figures.incidents == ()
    assert figures.percent == 100


def test_an_open_incident_runs_until_now_or_the_month_end():
    incident = IncidentRecord("I-1", berlin(2026, 3, 31, 20))
    so_far = month([incident], now=berlin(2026, 3, 31, 22))
    assert (so_far.downtime_minutes, so_far.incidents[0].minutes) == (120, 120)
    assert so_far.incidents[0].ended_at is None
    after = month([incident])
    assert (after.downtime_minutes, after.incidents[0].minutes) == (240, 240)


@pytest.mark.parametrize(
    "weight, down",
    [(0, 0), (Decimal("0.5"), 120), (Decimal("0.25"), 60), (1, 240)],
)
def test_a_partial_outage_counts_its_weight(weight, down):
    degraded = IncidentRecord(
        "I-1", berlin(2026, 3, 10, 8), berlin(2026, 3, 10, 12), impact="partial"
    )
    figures = month([degraded], weight=weight)
    assert figures.downtime_minutes == down
    assert figures.incidents[0].kind == "partial"
    assert figures.incidents[0].minutes == 240


def test_a_component_filter_keeps_that_component_and_the_whole_service():
    records = [
        IncidentRecord(
            "api", berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 11), component="API"
        ),
        IncidentRecord(
            "web", berlin(2026, 3, 3, 10), berlin(2026, 3, 3, 11), component="Web"
        ),
        IncidentRecord("all", berlin(2026, 3, 4, 10), berlin(2026, 3, 4, 11)),
    ]
    figures = month(records, component=" api ")
    assert [row.external_id for row in figures.incidents] == ["api", "all"]
    assert figures.downtime_minutes == 120
    assert month(records).downtime_minutes == 180


def test_a_month_of_maintenance_promises_nothing():
    whole = MaintenanceRecord(
        "M-1", berlin(2026, 2, 20), berlin(2026, 4, 2), reason="Migration"
    )
    figures = month([], [whole])
    assert figures.percent is None
    assert figures.maintenance[0].minutes == MARCH_MINUTES
