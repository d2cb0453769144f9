"""Date formats: which read a column, and what a value read with one is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agreements.imports import CsvTable, date_formats_for, parse_moment, read_export
from agreements.imports.moments import (
    DATE_FORMATS,
    DAY_FIRST,
    GERMAN,
    ISO_DATE,
    ISO_DATETIME,
    US,
    US_SHORT_YEAR,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
FIXTURES = Path(__file__).parent / "fixtures"


def column(name: str, header: str) -> list[str]:
    table = read_export(
        (FIXTURES / name).read_bytes(), max_bytes=1024 * 1024, max_rows=100
    )
    assert isinstance(table, CsvTable)
    return table.column(header)


@pytest.mark.parametrize(
    ("values", "formats"),
    [
        (["2026-03-02", ""], [ISO_DATE]),
        (["2026-03-02 14:30", "2026-03-02T14:30:05Z"], [ISO_DATETIME]),
        (["2026-03-02T14:30:05.123+01:00", "2026-03-02 14:30:05+0100"], [ISO_DATETIME]),
        # Both orders read these: the person chooses, US first.
        (["01/02/2026", "10/1/2026"], [US, DAY_FIRST]),
        (["9/8/2026 11:22 AM", "12/8/2026 12:05 pm"], [US, DAY_FIRST]),
        (["9/13/2026"], [US]),
        (["13/9/2026 14:03"], [DAY_FIRST]),
        (["3/2/26 14:30", "12/31/26 9:05"], [US_SHORT_YEAR]),
        (["01.10.2026 14:03", "1.2.2026"], [GERMAN]),
        (["2026-03-02", "3/2/2026"], []),  # mixed: no one format reads both
        (["2/30/2026"], []),  # no such day either way
        (["yesterday"], []),
        (["", "  "], []),  # nothing to judge
    ],
)
def test_the_formats_offered_read_every_value_of_the_column(values, formats):
    assert date_formats_for(values) == formats


def test_the_fixture_exports_dates_are_offered_their_formats():
    assert date_formats_for(
        column("hubspot-crm-exports-all-contacts-2026-03-02.csv", "Create Date")
    ) == [ISO_DATETIME]
    assert date_formats_for(
        column("hubspot-contacts-excel-resaved.csv", "Last Activity Date")
    ) == [US_SHORT_YEAR]
    # 10/1 and 9/8 read either way; the person chooses.
    assert date_formats_for(
        column("salesforce-leads-lightning.csv", "Create Date")
    ) == [US, DAY_FIRST]
    assert date_formats_for(
        column("salesforce-leads-classic-de.csv", "Create Date")
    ) == [GERMAN]


def test_every_format_reads_its_own_example_the_way_its_label_says():
    for fmt in DATE_FORMATS:
        example = fmt.example.split(" or ")[0]
        assert fmt in date_formats_for([example]), fmt.key
        assert parse_moment(example, fmt, BERLIN).tzinfo is not None


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("2026-03-02", ISO_DATE, datetime(2026, 3, 2, tzinfo=BERLIN)),
        ("2026-03-02 14:30", ISO_DATETIME, datetime(2026, 3, 2, 14, 30, tzinfo=BERLIN)),
        (
            "2026-03-02T14:30:05",
            ISO_DATETIME,
            datetime(2026, 3, 2, 14, 30, 5, tzinfo=BERLIN),
        ),
        ("01/02/2026", US, datetime(2026, 1, 2, tzinfo=BERLIN)),
        ("01/02/2026", DAY_FIRST, datetime(2026, 2, 1, tzinfo=BERLIN)),
        ("9/8/2026 11:22 AM", US, datetime(2026, 9, 8, 11, 22, tzinfo=BERLIN)),
        ("9/8/2026 12:05 AM", US, datetime(2026, 9, 8, 0, 5, tzinfo=BERLIN)),
        ("9/8/2026 12:05 PM", US, datetime(2026, 9, 8, 12, 5, tzinfo=BERLIN)),
        ("9/8/2026 1:05 p.m.", US, datetime(2026, 9, 8, 13, 5, tzinfo=BERLIN)),
        ("3/2/26 14:30", US_SHORT_YEAR, datetime(2026, 3, 2, 14, 30, tzinfo=BERLIN)),
        ("3/2/29", US_SHORT_YEAR, datetime(2029, 3, 2, tzinfo=BERLIN)),
        ("3/2/30", US_SHORT_YEAR, datetime(1930, 3, 2, tzinfo=BERLIN)),
        ("01.10.2026 14:03", GERMAN, datetime(2026, 10, 1, 14, 3, tzinfo=BERLIN)),
        (" 1.10.2026 ", GERMAN, datetime(2026, 10, 1, tzinfo=BERLIN)),
    ],
)
def test_a_value_is_read_in_the_chosen_format_and_zone(value, fmt, expected):
    moment = parse_moment(value, fmt, BERLIN)
    assert moment == expected
    assert moment.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("2026-03-02T14:30:00Z", timedelta(0)),
        ("2026-03-02 14:30+05:30", timedelta(hours=5, minutes=30)),
        ("2026-03-02T14:30:00-0800", timedelta(hours=-8)),
        ("2026-03-02T14:30:00.250+01", timedelta(hours=1)),
    ],
)
def test_a_time_with_an_offset_keeps_it_whatever_the_zone(value, offset):
    moment = parse_moment(value, ISO_DATETIME, NEW_YORK)
    assert moment.utcoffset() == offset
    assert moment.replace(tzinfo=None) == datetime.fromisoformat(value).replace(
        tzinfo=None
    )


def test_the_hour_the_clocks_go_back_is_read_as_its_first_occurrence():
    moment = parse_moment("2026-10-25 02:30", ISO_DATETIME, BERLIN)
    assert moment.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(hours=2)  # still summer time
    us = parse_moment("11/1/2026 1:30 AM", US, NEW_YORK)
    assert us.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_moved_forward_by_the_gap():
    moment = parse_moment("29.03.2026 02:30", GERMAN, BERLIN)
    assert (moment.hour, moment.minute) == (3, 30)
    assert moment.utcoffset() == timedelta(hours=2)
    assert moment.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_date_alone_is_midnight_unless_the_zone_skips_midnight():
    # Chile moves its clocks at midnight: 6 September 2026 begins at 01:00.
    santiago = ZoneInfo("America/Santiago")
    moment = parse_moment("2026-09-06", ISO_DATE, santiago)
    assert (moment.date().isoformat(), moment.hour) == ("2026-09-06", 1)
    assert parse_moment("2026-09-07", ISO_DATE, santiago).hour == 0


@pytest.mark.parametrize(
    ("value", "fmt", "message"),
    [
        (
            "2026-03-02",
            GERMAN,
            "“2026-03-02” is not written as German (d.m.yyyy): write it like "
            "01.10.2026 14:03.",
        ),
        (
            "13/1/2026",
            US,
            "“13/1/2026” cannot be read as US, month first (m/d/yyyy): month must "
            "be in 1..12.",
        ),
        (
            "2/30/2026",
            US,
            "“2/30/2026” cannot be read as US, month first (m/d/yyyy): day is out "
            "of range for month.",
        ),
        (
            "9/8/2026 13:05 PM",
            US,
            "“9/8/2026 13:05 PM” cannot be read as US, month first (m/d/yyyy): "
            "with AM or PM the hour is 1 to 12.",
        ),
        (
            "2026-03-02 24:00",
            ISO_DATETIME,
            "“2026-03-02 24:00” cannot be read as ISO date and time (YYYY-MM-DD "
            "HH:MM, an offset if any): hour must be in 0..23.",
        ),
        (
            "2026-03-02T10:00+25:00",
            ISO_DATETIME,
            "“2026-03-02T10:00+25:00” cannot be read as ISO date and time "
            "(YYYY-MM-DD HH:MM, an offset if any): +25:00 is no offset from UTC.",
        ),
        (
            "",
            ISO_DATE,
            "“” is not written as ISO date (YYYY-MM-DD): write it like 2026-03-02.",
        ),
    ],
)
def test_a_value_its_format_cannot_read_is_named_with_the_format(value, fmt, message):
    with pytest.raises(ValueError) as refused:
        parse_moment(value, fmt, BERLIN)
    assert str(refused.value) == message


def test_a_moment_beyond_the_calendar_is_refused():
    with pytest.raises(ValueError, match="too far in the past or future"):
        parse_moment("0001-01-01 00:30", ISO_DATETIME, ZoneInfo("Asia/Tokyo"))


def test_an_offset_of_its_own_is_a_fixed_zone():
    moment = parse_moment("2026-03-02T14:30+01:00", ISO_DATETIME, NEW_YORK)
    assert moment.tzinfo == timezone(timedelta(hours=1))
