"""Reading a records CSV file: which column a field is guessed from, and how
its times are read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from agreements.figures.imports import CsvTable, read_table
from agreements.records.csv_import import (
    ColumnMapping,
    batch_from,
    csv_fields,
    guess_columns,
    read_upload,
)
from agreements.records.models import RecordSource

REQUESTS = csv_fields(RecordSource.Kind.REQUESTS)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Ticket ID", "external_id"),
        ("ticket_id", "external_id"),
        ("Created", "started_at"),
        ("created at", "started_at"),
        ("First reply", "first_response_at"),
        ("First Response", "first_response_at"),
        ("first_response_at", "first_response_at"),
        ("Solved", "resolved_at"),
        ("RESOLVED", "resolved_at"),
        ("Priority", "segment"),
        ("Updated", "updated_at"),
        ("Last-Updated", "updated_at"),
    ],
)
def test_a_field_is_guessed_from_the_column_name(header, field):
    assert guess_columns(REQUESTS, [header], {}) == {field: header}


def test_a_column_is_guessed_for_one_field_only():
    # "Resolved" is a request's resolution, not also its last update.
    guessed = guess_columns(REQUESTS, ["Id", "Resolved", "Closed"], {})
    assert guessed == {"external_id": "Id", "resolved_at": "Resolved"}


def test_the_fields_of_each_kind_of_source_and_the_ones_every_record_needs():
    incidents = csv_fields(RecordSource.Kind.INCIDENTS)
    assert [f.name for f in REQUESTS] == [
        "external_id",
        "started_at",
        "first_response_at",
        "resolved_at",
        "updated_at",
        "segment",
        "consumer",
    ]
    assert [f.name for f in incidents][:2] == ["type", "external_id"]
    assert {"impact", "ended_at", "reason", "component"} < {f.name for f in incidents}
    required = {f.name for f in incidents if f.required}
    assert required == {"external_id", "started_at", "updated_at"}


@pytest.mark.django_db
def test_times_are_read_in_the_chosen_zone_unless_they_carry_an_offset(helpdesk):
    table = read_table(
        "Id,Created,Updated,First reply\n"
        "A,2026-03-29 01:30,2026-03-29T03:30:00Z,2026-03-29\n"
        "B,29/03/2026 10:00,2026-03-29 10:00,\n"
    )
    mapping = ColumnMapping(
        {
            "external_id": "Id",
            "started_at": "Created",
            "updated_at": "Updated",
            "first_response_at": "First reply",
        },
        "Europe/Berlin",
    )
    a, b = batch_from(table, source=helpdesk, mapping=mapping).rows

    berlin = ZoneInfo("Europe/Berlin")
    assert a["started_at"] == datetime(2026, 3, 29, 1, 30, tzinfo=berlin)
    assert a["updated_at"].utcoffset().total_seconds() == 0  # Z, as written
    assert a["first_response_at"] == date(2026, 3, 29)  # a day: the service refuses
    assert b["started_at"] == "29/03/2026 10:00"  # not ISO: the service explains
    assert b["first_response_at"] == ""


@pytest.mark.django_db
def test_a_time_the_clocks_skip_is_moved_forward_by_the_gap(helpdesk):
    table = read_table("Id,Created,Updated\nA,2026-03-29 02:30,2026-03-29 02:30\n")
    mapping = ColumnMapping(
        {"external_id": "Id", "started_at": "Created", "updated_at": "Updated"},
        "Europe/Berlin",
    )
    (row,) = batch_from(table, source=helpdesk, mapping=mapping).rows
    assert row["started_at"] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (row["started_at"].hour, row["started_at"].minute) == (3, 30)


def test_an_unnamed_column_is_left_unmapped_and_a_report_footer_dropped():
    table = read_upload(
        "Id,,Created\nT-1,x,2026-03-02 10:00\n\n\n"
        '"Confidential Information - Do Not Distribute"\n'
    )
    assert isinstance(table, CsvTable)
    assert table.header == ["Id", "", "Created"]
    assert [number for number, _ in table.rows] == [2]
    assert table.footer_lines == 1
