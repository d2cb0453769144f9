"""Records sent in batches: upserted by (source, external id), ordered by the
source's own updated_at, checked whole before anything is written."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
import time_machine

from agreements.records.models import (
    Incident,
    MaintenanceWindow,
    RequestPause,
    ServiceRequest,
)
from agreements.records.rows import RecordsInvalid
from agreements.records.services import UpsertReport, records_upsert

T0 = "2026-06-01T09:00:00+02:00"
# Mid-June 2026: June is open, so the team's leads send its records.
IN_JUNE = datetime(2026, 6, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _june():
    with time_machine.travel(IN_JUNE, tick=False):
        yield


def request_row(external_id: str, **fields):
    row = {
        "external_id": external_id,
        "started_at": T0,
        "first_response_at": "2026-06-01T10:00:00+02:00",
        "updated_at": "2026-06-01T10:00:00+02:00",
        "segment": "P2",
    }
    row.update(fields)
    return row


BATCH = [
    request_row("R-1"),
    request_row(
        "R-2",
        first_response_at=None,
        pauses=[
            {"started_at": "2026-06-01T09:30:00+02:00", "ended_at": "2026-06-01T10:00Z"}
        ],
    ),
    request_row("R-3", consumer="sales", segment="P1"),
]


def counts(report: UpsertReport) -> tuple[int, int, int, int]:
    return (report.created, report.updated, report.unchanged, report.stale)


def history_rows() -> int:
    return (
        ServiceRequest.history.count()
        + RequestPause.history.count()
        + Incident.history.count()
        + MaintenanceWindow.history.count()
    )


def test_a_new_batch_is_created(helpdesk, sales, service_lead):
    report = records_upsert(
        source=helpdesk, rows=copy.deepcopy(BATCH), user=service_lead
    )
    assert counts(report) == (3, 0, 0, 0)
    first, second, third = ServiceRequest.objects.order_by("external_id")
    assert first.provider == helpdesk.team
    assert first.started_at == datetime(2026, 6, 1, 7, tzinfo=UTC)
    assert second.first_response_at is None
    assert [(p.started_at, p.ended_at) for p in second.pauses.all()] == [
        (datetime(2026, 6, 1, 7, 30, tzinfo=UTC), datetime(2026, 6, 1, 10, tzinfo=UTC))
    ]
    assert (third.consumer, third.segment) == (sales, "P1")
    created = first.history.get()
    assert created.history_user == service_lead
    assert created.history_change_reason == "received from Helpdesk"


def test_the_same_batch_twice_changes_nothing(helpdesk, sales):
    records_upsert(source=helpdesk, rows=copy.deepcopy(BATCH))
    written = history_rows()
    report = records_upsert(source=helpdesk, rows=copy.deepcopy(BATCH))
    assert counts(report) == (0, 0, 3, 0)
    assert history_rows() == written


def test_a_reordered_batch_changes_nothing(helpdesk, sales):
    records_upsert(source=helpdesk, rows=copy.deepcopy(BATCH))
    written = history_rows()
    report = records_upsert(source=helpdesk, rows=copy.deepcopy(BATCH[::-1]))
    assert counts(report) == (0, 0, 3, 0)
    assert history_rows() == written


def test_an_older_update_is_stale_and_changes_nothing(helpdesk, sales):
    records_upsert(source=helpdesk, rows=copy.deepcopy(BATCH))
    written = history_rows()
    old = request_row(
        "R-1",
        first_response_at="2026-06-01T09:30:00+02:00",
        updated_at="2026-06-01T09:30:00+02:00",
    )
    report = records_upsert(source=helpdesk, rows=[old])
    assert counts(report) == (0, 0, 0, 1)
    request = ServiceRequest.objects.get(external_id="R-1")
    assert request.first_response_at == datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert history_rows() == written


def test_a_different_record_with_the_same_updated_at_is_stale(helpdesk):
    records_upsert(source=helpdesk, rows=[request_row("R-1")])
    report = records_upsert(source=helpdesk, rows=[request_row("R-1", segment="P1")])
    assert counts(report) == (0, 0, 0, 1)
    assert ServiceRequest.objects.get().segment == "P2"


def test_a_later_update_is_written_and_replaces_the_pauses(helpdesk, sales):
    records_upsert(source=helpdesk, rows=copy.deepcopy(BATCH))
    later = request_row(
        "R-2",
        first_response_at="2026-06-01T12:00:00+02:00",
        resolved_at="2026-06-02T09:00:00+02:00",
        updated_at="2026-06-02T09:00:00+02:00",
        pauses=[
            ["2026-06-01T10:00:00+02:00", "2026-06-01T10:15:00+02:00"],
            ["2026-06-01T11:00:00+02:00", None],
        ],
    )
    report = records_upsert(source=helpdesk, rows=[later, request_row("R-1")])
    assert counts(report) == (0, 1, 1, 0)
    request = ServiceRequest.objects.get(external_id="R-2")
    assert request.resolved_at == datetime(2026, 6, 2, 7, tzinfo=UTC)
    assert request.updated_at == datetime(2026, 6, 2, 7, tzinfo=UTC)
    assert [(p.started_at.hour, p.ended_at) for p in request.pauses.all()] == [
        (8, datetime(2026, 6, 1, 8, 15, tzinfo=UTC)),
        (9, None),
    ]
    assert request.history.first().history_change_reason == "updated by Helpdesk"
    # The old pause's deletion is in its history.
    assert RequestPause.history.filter(history_type="-").count() == 1


def test_a_later_update_keeping_the_pauses_does_not_rewrite_them(helpdesk):
    row = request_row(
        "R-1", pauses=[{"started_at": "2026-06-01T09:10Z", "ended_at": None}]
    )
    records_upsert(source=helpdesk, rows=[row])
    pauses = RequestPause.history.count()
    later = dict(row, updated_at="2026-06-01T11:00:00+02:00", segment="P1")
    assert counts(records_upsert(source=helpdesk, rows=[later])) == (0, 1, 0, 0)
    assert RequestPause.history.count() == pauses


def test_a_record_resent_with_a_later_updated_at_only_moves_it_on(helpdesk):
    records_upsert(source=helpdesk, rows=[request_row("R-1")])
    later = request_row("R-1", updated_at="2026-06-01T12:00:00+02:00")
    assert counts(records_upsert(source=helpdesk, rows=[later])) == (0, 1, 0, 0)
    # The update between the two, arriving last, is older than what is kept.
    between = request_row("R-1", segment="P1", updated_at="2026-06-01T11:00:00+02:00")
    assert counts(records_upsert(source=helpdesk, rows=[between])) == (0, 0, 0, 1)


def test_a_bad_batch_names_every_problem_and_writes_nothing(helpdesk, sales):
    records_upsert(source=helpdesk, rows=[request_row("R-0")])
    written = (ServiceRequest.objects.count(), history_rows())
    rows = [
        request_row("R-1", started_at="2026-06-01T09:00:00"),
        request_row("R-2", resolved_at="2026-06-01T08:00:00+02:00"),
        request_row(
            "R-3",
            pauses=[
                {
                    "started_at": "2026-06-01T09:10+02:00",
                    "ended_at": "2026-06-01T09:40+02:00",
                },
                {"started_at": "2026-06-01T09:30+02:00", "ended_at": None},
            ],
        ),
        request_row("", consumer="nobody", updated_at="yesterday"),
        request_row("R-0", segment="P1", updated_at="2026-06-03T10:00+02:00"),
        "not a record",
        request_row("R-1", priority="high"),
    ]
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(source=helpdesk, rows=rows)
    problems = [(p.row, p.field) for p in caught.value.problems]
    assert problems == [
        (1, "started_at"),
        (2, "resolved_at"),
        (3, "pauses"),
        (4, "external_id"),
        (4, "updated_at"),
        (4, "consumer"),
        (6, "row"),
        (7, "priority"),
        (7, "external_id"),
    ]
    messages = caught.value.messages
    assert messages[0].startswith(
        "Row 1, started_at: 2026-06-01T09:00:00 has no time zone"
    )
    assert "before it starts" in messages[1]
    assert messages[2] == "Row 3, pauses: pauses 1 and 2 overlap."
    assert "“R-1” is row 1's too" in messages[-1]
    assert (ServiceRequest.objects.count(), history_rows()) == written
    assert ServiceRequest.objects.get().segment == "P2"


def test_a_row_naming_the_wrong_type_of_record_is_refused(helpdesk):
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(
            source=helpdesk, rows=[dict(request_row("R-1"), type="incident")]
        )
    assert caught.value.messages == [
        "Row 1, type: “incident” is not a record Helpdesk (Customer Service) "
        "sends: use request."
    ]


def test_incidents_and_maintenance_windows_from_a_status_page(status_page):
    rows = [
        {
            "external_id": "I-1",
            "impact": "Major",
            "component": "API",
            "started_at": "2026-03-10T10:00:00+01:00",
            "ended_at": "2026-03-10T11:00:00+01:00",
            "updated_at": "2026-03-10T11:00:00+01:00",
        },
        {
            "external_id": "I-2",
            "impact": "partial",
            "started_at": datetime(2026, 3, 11, 9, tzinfo=UTC),
            "updated_at": datetime(2026, 3, 11, 9, tzinfo=UTC),
        },
        {
            "type": "maintenance",
            "external_id": "I-1",
            "started_at": "2026-03-12T22:00Z",
            "ended_at": "2026-03-12T23:00Z",
            "reason": "Database upgrade",
            "updated_at": "2026-03-01T12:00Z",
        },
    ]
    assert counts(records_upsert(source=status_page, rows=copy.deepcopy(rows))) == (
        3,
        0,
        0,
        0,
    )
    assert counts(records_upsert(source=status_page, rows=rows[::-1])) == (0, 0, 3, 0)
    major = Incident.objects.get(external_id="I-1")
    assert (major.impact, major.component) == ("major", "API")
    assert Incident.objects.get(external_id="I-2").ended_at is None
    assert MaintenanceWindow.objects.get().reason == "Database upgrade"


def test_bad_incidents_and_maintenance_are_named(status_page):
    rows = [
        {
            "external_id": "I-1",
            "impact": "total",
            "started_at": "2026-03-10T10:00:00+01:00",
            "ended_at": "2026-03-10T09:00:00+01:00",
            "updated_at": "2026-03-10T11:00:00+01:00",
        },
        {
            "type": "maintenance",
            "external_id": "M-1",
            "started_at": "2026-03-12T22:00Z",
            "ended_at": "2026-03-12T21:00Z",
            "reason": " ",
            "updated_at": "2026-03-01T12:00Z",
        },
        {"type": "request", "external_id": "R-1"},
    ]
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(source=status_page, rows=rows)
    assert [(p.row, p.field) for p in caught.value.problems] == [
        (1, "impact"),
        (1, "ended_at"),
        (2, "reason"),
        (2, "ended_at"),
        (3, "type"),
    ]
    assert (
        "the incident ends (2026-03-10T09:00:00+01:00) before it starts"
        in (caught.value.messages[1])
    )
    assert not Incident.objects.exists()
    assert not MaintenanceWindow.objects.exists()


def test_model_rules_are_reported_by_row(helpdesk):
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(source=helpdesk, rows=[request_row("R-1", segment="P" * 51)])
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "segment")]


def test_an_empty_batch_writes_nothing(helpdesk):
    assert counts(records_upsert(source=helpdesk, rows=[])) == (0, 0, 0, 0)


def test_a_team_slug_with_control_characters_is_a_row_problem(helpdesk):
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(source=helpdesk, rows=[request_row("R-1", consumer="sa\x00les")])
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "consumer")]
    assert "control characters" in caught.value.messages[0]
    assert not ServiceRequest.objects.exists()
