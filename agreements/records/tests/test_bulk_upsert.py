"""A large batch is written in bulk: the same records, history rows (with
their user and reason), pauses, duplicates, lock rule and import batch as
the same batch written one by one, in a fixed number of queries per chunk."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agreements.records import bulk
from agreements.records.models import (
    ImportBatch,
    Incident,
    Lead,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from agreements.records.rows import RecordsInvalid
from agreements.records.services import records_upsert

pytestmark = pytest.mark.django_db

# 10 July 2026: June is locked, July open.
JULY_10 = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
_SKIPPED = {"id", "received_at", "first_received_at", "duplicate_of_id"}


@pytest.fixture(autouse=True)
def _july():
    with time_machine.travel(JULY_10, tick=False):
        yield


def request(external_id: str, month: int = 7, minute: int = 0, **fields):
    return {
        "external_id": external_id,
        "started_at": f"2026-{month:02d}-08T10:00:00+02:00",
        "first_response_at": f"2026-{month:02d}-08T11:{minute:02d}:00+02:00",
        "updated_at": f"2026-{month:02d}-08T11:{minute:02d}:00+02:00",
        **fields,
    }


def pause(start: str, end: str) -> dict[str, str]:
    return {
        "started_at": f"2026-07-08T{start}:00+02:00",
        "ended_at": f"2026-07-08T{end}:00+02:00",
    }


def lead(external_id: str, day: int = 6, hour: int = 10, **fields):
    return {
        "external_id": external_id,
        "started_at": f"2026-07-{day:02d}T10:00:00+02:00",
        "updated_at": f"2026-07-{day:02d}T{hour:02d}:00:00+02:00",
        "email": f"{external_id.lower()}@example.com",
        **fields,
    }


def _batch(source: RecordSource) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=ImportBatch.Kind.RECORDS,
        team=source.team,
        source=source,
        token=uuid.uuid4().hex,
        file_name="export.csv",
        size=0,
        fingerprint="-",
    )


def snapshot(*models: Any) -> dict[str, Any]:
    """Every record and history row, by external id rather than by key
    (keys and the portal's own times differ from one write to the other)."""
    shot: dict[str, Any] = {}
    for model in models:
        names = [
            f.attname for f in model._meta.concrete_fields if f.attname not in _SKIPPED
        ]
        ids = dict(model._default_manager.values_list("pk", "external_id"))
        shot[model.__name__] = (
            sorted(
                (
                    *(repr(row[name]) for name in names),
                    ids.get(row.get("duplicate_of_id")),
                )
                for row in model._default_manager.values(*names, "duplicate_of_id")
            )
            if model is Lead
            else sorted(
                tuple(repr(row[n]) for n in names)
                for row in model._default_manager.values(*names)
            )
        )
        shot[f"{model.__name__} history"] = sorted(
            (
                row["external_id"],
                row["history_type"],
                row["history_change_reason"],
                row["history_user_id"],
                row["batch_id"],
            )
            for row in model.history.values(
                "external_id",
                "history_type",
                "history_change_reason",
                "history_user_id",
                "batch_id",
            )
        )
    requests = dict(ServiceRequest.history.values_list("id", "external_id").distinct())
    shot["pauses"] = sorted(
        (requests[request_id], repr(start), repr(end))
        for request_id, start, end in RequestPause.objects.values_list(
            "request_id", "started_at", "ended_at"
        )
    )
    shot["pause history"] = sorted(
        (
            requests[row["request_id"]],
            repr(row["started_at"]),
            row["history_type"],
            row["history_change_reason"],
            row["history_user_id"],
        )
        for row in RequestPause.history.values(
            "request_id",
            "started_at",
            "history_type",
            "history_change_reason",
            "history_user_id",
        )
    )
    return shot


class _RolledBack(Exception):
    pass


def both_ways(models: tuple[Any, ...], **upsert: Any) -> list[tuple[Any, Any]]:
    """The batch written one by one, then in bulk, each rolled back: what
    each returned and left in the database."""
    outcomes = []
    for way in (False, True):
        try:
            with transaction.atomic():
                report = records_upsert(bulk=way, **upsert)
                outcomes.append((report, snapshot(*models)))
                raise _RolledBack
        except _RolledBack:
            pass
    return outcomes


def test_a_batch_written_in_bulk_is_the_batch_written_one_by_one(
    helpdesk, service_head
):
    records_upsert(
        source=helpdesk,
        rows=[
            request("KEEP"),
            request("CHANGE", pauses=[pause("12:00", "12:30")]),
            request("REPAUSE", pauses=[pause("12:00", "12:30")]),
            request("OLD", minute=30),
            request("JUNE", month=6),
        ],
    )
    batch = _batch(helpdesk)
    rows = [
        request("KEEP"),
        request("CHANGE", minute=10, pauses=[pause("12:00", "12:30")]),
        request("REPAUSE", minute=5, pauses=[pause("13:00", "13:30")]),
        request("OLD", minute=20),
        # A late change of a locked month, with the head's reason.
        request("JUNE", month=6, minute=45),
        *(
            request(f"NEW-{n}", pauses=[pause("14:00", "14:15")] if n % 2 else [])
            for n in range(30)
        ),
    ]
    (slow, one_by_one), (fast, in_bulk) = both_ways(
        (ServiceRequest,),
        source=helpdesk,
        rows=rows,
        user=service_head,
        reason="the helpdesk was down",
        batch=batch,
    )
    assert (fast.created, fast.updated, fast.unchanged, fast.stale) == (30, 3, 1, 1)
    assert fast == slow
    assert in_bulk == one_by_one
    reasons = {row[2] for row in in_bulk["ServiceRequest history"]}
    assert any(
        reason.startswith("correction: the helpdesk was down") for reason in reasons
    )
    assert ("REPAUSE", "-") in {(r[0], r[2]) for r in in_bulk["pause history"]}


def test_leads_in_bulk_are_flagged_as_duplicates_as_one_by_one(
    marketing, sales, marketing_lead
):
    hubspot = RecordSource.objects.create(
        team=marketing, name="HubSpot", kind=RecordSource.Kind.LEADS
    )
    salesforce = RecordSource.objects.create(
        team=sales, name="Salesforce", kind=RecordSource.Kind.LEADS
    )
    records_upsert(source=salesforce, rows=[lead("SF-1", email="dup@example.com")])
    records_upsert(
        source=hubspot, rows=[lead("H-1"), lead("H-2"), lead("H-3", hour=12)]
    )
    rows = [
        lead("H-1"),
        lead("H-2", hour=11, name="Changed"),
        lead("H-3", hour=11, name="Older"),
        lead("H-4", email=" DUP@example.com "),
        *(lead(f"N-{n}", raw={"Record ID": f"N-{n}"}) for n in range(20)),
    ]
    (slow, one_by_one), (fast, in_bulk) = both_ways(
        (Lead,), source=hubspot, rows=rows, user=marketing_lead, batch=_batch(hubspot)
    )
    assert (fast.created, fast.updated, fast.unchanged, fast.stale) == (21, 1, 1, 1)
    assert fast == slow
    assert in_bulk == one_by_one
    assert any(row[-1] == "SF-1" for row in in_bulk["Lead"])


def test_a_bulk_batch_keeps_the_lock_rule_and_writes_nothing_when_refused(
    helpdesk, service_lead
):
    rows = [request(f"R-{n}") for n in range(5)] + [request("JUNE", month=6)]
    with pytest.raises(RecordsInvalid) as refused:
        records_upsert(source=helpdesk, rows=rows, user=service_lead, bulk=True)
    assert [(p.row, p.field) for p in refused.value.problems] == [(6, "started_at")]
    assert not ServiceRequest.objects.exists()
    assert not ServiceRequest.history.exists()


def test_a_bulk_write_takes_a_fixed_number_of_queries_per_chunk(
    status_page, monkeypatch
):
    monkeypatch.setattr(bulk, "WRITE_CHUNK", 20)

    def incidents(prefix: str, count: int) -> list[dict[str, Any]]:
        return [
            {
                "external_id": f"{prefix}-{n}",
                "impact": "major",
                "started_at": "2026-07-08T10:00:00+02:00",
                "ended_at": "2026-07-08T11:00:00+02:00",
                "updated_at": "2026-07-08T11:00:00+02:00",
            }
            for n in range(count)
        ]

    def queries(rows: list[dict[str, Any]]) -> int:
        with CaptureQueriesContext(connection) as captured:
            records_upsert(source=status_page, rows=rows, bulk=True)
        return len(captured)

    small, large = queries(incidents("A", 40)), queries(incidents("B", 80))
    # Two chunks more: a create and its history rows for each.
    assert large - small == 2 * 2
    assert small < 20
    assert Incident.objects.count() == 120
    assert Incident.history.count() == 120
