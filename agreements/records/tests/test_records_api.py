"""Record sources and batches of records through /api/v1/: who sees a
source, who sends its records, and what a batch answers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.records.models import RecordSource, RequestPause, ServiceRequest
from agreements.records.sources import source_webhook_secret_rotate
from conftest import make_member

pytestmark = pytest.mark.django_db

# 10 July 2026: July is running, June locked on 3 July.
JULY_10 = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
SOURCES = reverse("api:v1:record-source-list")


@pytest.fixture(autouse=True)
def _july():
    with time_machine.travel(JULY_10, tick=False):
        yield


def records_url(source: RecordSource) -> str:
    return reverse("api:v1:record-source-records", args=[source.pk])


def request_row(external_id: str, day: int = 8, **fields):
    return {
        "external_id": external_id,
        "started_at": f"2026-07-{day:02d}T10:00:00+02:00",
        "first_response_at": f"2026-07-{day:02d}T11:00:00+02:00",
        "updated_at": f"2026-07-{day:02d}T11:00:00+02:00",
        "segment": "P2",
        **fields,
    }


BATCH = [
    request_row("R-1"),
    request_row(
        "R-2",
        first_response_at=None,
        pauses=[
            {
                "started_at": "2026-07-08T10:30:00+02:00",
                "ended_at": "2026-07-08T11:00:00+02:00",
            }
        ],
    ),
    request_row("R-3", day=9, consumer="sales", segment="P1"),
]
JUNE_ROW = request_row(
    "R-J",
    started_at="2026-06-10T10:00:00+02:00",
    first_response_at="2026-06-10T11:00:00+02:00",
    updated_at="2026-06-10T11:00:00+02:00",
)


def send(client, source, records, **body):
    return client.post(
        records_url(source),
        {"records": copy.deepcopy(records), **body},
        format="json",
    )


def counts(response) -> tuple[int, int, int, int]:
    body = response.json()
    return (body["created"], body["updated"], body["unchanged"], body["stale"])


def written() -> tuple[int, ...]:
    return (
        ServiceRequest.objects.count(),
        ServiceRequest.history.count(),
        RequestPause.objects.count(),
        RequestPause.history.count(),
    )


# --- The list -----------------------------------------------------------------


@pytest.fixture
def crm(sales) -> RecordSource:
    return RecordSource.objects.create(
        team=sales, name="CRM", kind=RecordSource.Kind.REQUESTS
    )


def listed(client, user) -> list[str]:
    client.force_login(user)
    response = client.get(SOURCES)
    assert response.status_code == 200
    return [source["name"] for source in response.json()["results"]]


def test_members_of_the_team_and_executives_see_its_sources(
    api_client,
    helpdesk,
    status_page,
    crm,
    service_lead,
    sales_member,
    executive,
    outsider,
):
    assert listed(api_client, service_lead) == ["Helpdesk", "Status page"]
    assert listed(api_client, sales_member) == ["CRM"]
    assert listed(api_client, executive) == ["Helpdesk", "Status page", "CRM"]
    assert listed(api_client, outsider) == []


def test_a_listed_source_says_what_the_person_may_do_with_it(
    api_client, helpdesk, service_lead, service_head
):
    secret = source_webhook_secret_rotate(source=helpdesk, user=service_head)
    api_client.force_login(service_lead)
    (row,) = api_client.get(SOURCES).json()["results"]
    assert row == {
        "id": helpdesk.pk,
        "team": {
            "id": helpdesk.team_id,
            "name": "Customer Service",
            "slug": "customer-service",
            "kind": "customer_service",
        },
        "name": "Helpdesk",
        "kind": "requests",
        "webhook": True,
        "actions": {"send": True, "send_late": False},
    }
    assert secret.webhook_secret not in api_client.get(SOURCES).content.decode()
    api_client.force_login(service_head)
    (row,) = api_client.get(SOURCES).json()["results"]
    assert row["actions"] == {"send": True, "send_late": True}


def test_the_list_reads_as_many_queries_for_any_number_of_sources(
    api_client, memory_cache, service, helpdesk, service_lead
):
    api_client.force_login(service_lead)
    api_client.get(SOURCES)
    with CaptureQueriesContext(connection) as one:
        api_client.get(SOURCES)
    for n in range(4):
        RecordSource.objects.create(team=service, name=f"Tool {n}", kind="requests")
    with CaptureQueriesContext(connection) as five:
        assert len(api_client.get(SOURCES).json()["results"]) == 5
    assert len(five) == len(one)


def test_the_list_needs_a_signed_in_person(api_client, helpdesk):
    assert api_client.get(SOURCES).status_code == 401


# --- Sending a batch ----------------------------------------------------------


def test_a_batch_is_upserted_and_counted(api_client, helpdesk, service_lead, sales):
    api_client.force_login(service_lead)
    response = send(api_client, helpdesk, BATCH)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "recomputed": [],
    }
    second = ServiceRequest.objects.get(external_id="R-2")
    assert second.pauses.count() == 1
    assert ServiceRequest.objects.get(external_id="R-3").consumer == sales
    assert second.history.get().history_user == service_lead


def test_the_same_batch_twice_changes_nothing(
    api_client, helpdesk, service_lead, sales
):
    api_client.force_login(service_lead)
    send(api_client, helpdesk, BATCH)
    before = written()
    response = send(api_client, helpdesk, BATCH)
    assert counts(response) == (0, 0, 3, 0)
    assert written() == before


def test_a_reordered_batch_changes_nothing(api_client, helpdesk, service_lead, sales):
    api_client.force_login(service_lead)
    send(api_client, helpdesk, BATCH)
    before = written()
    assert counts(send(api_client, helpdesk, BATCH[::-1])) == (0, 0, 3, 0)
    assert written() == before


def test_a_stale_update_is_ignored_and_a_later_one_applied(
    api_client, helpdesk, service_lead, sales
):
    api_client.force_login(service_lead)
    send(api_client, helpdesk, BATCH)
    before = written()
    older = request_row("R-1", segment="P1", updated_at="2026-07-08T10:30:00+02:00")
    assert counts(send(api_client, helpdesk, [older])) == (0, 0, 0, 1)
    assert written() == before
    assert ServiceRequest.objects.get(external_id="R-1").segment == "P2"
    later = request_row("R-1", segment="P1", updated_at="2026-07-09T09:00:00+02:00")
    assert counts(send(api_client, helpdesk, [later])) == (0, 1, 0, 0)
    assert ServiceRequest.objects.get(external_id="R-1").segment == "P1"


def test_a_bad_batch_is_a_422_listing_every_row_and_writes_nothing(
    api_client, helpdesk, service_lead
):
    api_client.force_login(service_lead)
    send(api_client, helpdesk, [request_row("R-0")])
    before = written()
    rows = [
        request_row("R-1"),
        request_row("R-2", started_at="2026-07-08T10:00:00"),
        request_row("R-3", resolved_at="2026-07-01T08:00:00+02:00"),
        request_row("R-4", priority="high"),
    ]

    response = send(api_client, helpdesk, rows)

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (422, "invalid")
    assert error["message"].startswith(
        "Nothing was saved: 3 problems in 3 records (see errors). Row 2, "
        "started_at: 2026-07-08T10:00:00 has no time zone"
    )
    assert [(e["row"], e["field"]) for e in error["errors"]] == [
        (2, "started_at"),
        (3, "resolved_at"),
        (4, "priority"),
    ]
    assert error["errors"][1]["message"].startswith("the request is resolved")
    assert set(error["fields"]) == {
        "records.1.started_at",
        "records.2.resolved_at",
        "records.3.priority",
    }
    assert written() == before


def test_a_record_that_is_not_an_object_is_a_400(api_client, helpdesk, service_lead):
    api_client.force_login(service_lead)
    response = send(api_client, helpdesk, [request_row("R-1"), "R-2"])
    assert response.status_code == 400
    assert "records.1" in response.json()["error"]["fields"]
    assert not ServiceRequest.objects.exists()


def test_a_batch_holds_at_most_a_thousand_records(api_client, helpdesk, service_lead):
    api_client.force_login(service_lead)
    many = [request_row(f"R-{n}") for n in range(1001)]
    response = send(api_client, helpdesk, many)
    assert response.status_code == 400
    assert "records" in response.json()["error"]["fields"]
    assert counts(send(api_client, helpdesk, many[:1000])) == (1000, 0, 0, 0)


def test_a_lead_cannot_send_a_locked_months_records(api_client, helpdesk, service_lead):
    api_client.force_login(service_lead)
    response = send(api_client, helpdesk, [request_row("R-1"), JUNE_ROW])
    assert response.status_code == 422
    assert response.json()["error"]["errors"] == [
        {
            "row": 2,
            "field": "started_at",
            "message": "June 2026 is locked: a head of Customer Service can send "
            "it, with a reason.",
        }
    ]
    assert not ServiceRequest.objects.exists()


def test_a_head_sends_a_locked_months_records_with_a_reason(
    api_client, helpdesk, service_head
):
    api_client.force_login(service_head)
    refused = send(api_client, helpdesk, [JUNE_ROW], reason="   ")
    assert refused.status_code == 422
    assert "say why" in refused.json()["error"]["errors"][0]["message"]
    response = send(api_client, helpdesk, [JUNE_ROW], reason="Export missed it")
    assert counts(response) == (1, 0, 0, 0)
    assert ServiceRequest.objects.get().history.get().history_change_reason == (
        "correction: Export missed it (sent late to Helpdesk)"
    )


@pytest.mark.parametrize("persona", ["sales_lead", "executive", "service_member"])
def test_who_may_not_send_the_sources_records_is_refused(
    api_client, helpdesk, service, persona, request
):
    if persona == "service_member":
        user = make_member("service-member", service, "member")
    else:
        user = request.getfixturevalue(persona)
    api_client.force_login(user)
    response = send(api_client, helpdesk, BATCH)
    # Sales cannot see Customer Service's sources: 404; the others see it.
    expected = 404 if persona == "sales_lead" else 403
    assert response.status_code == expected
    assert response.json()["error"]["status"] == expected
    assert not ServiceRequest.objects.exists()


def test_a_source_that_does_not_exist_is_a_404(api_client, service_lead):
    api_client.force_login(service_lead)
    response = api_client.post(
        reverse("api:v1:record-source-records", args=[999999]),
        {"records": []},
        format="json",
    )
    assert response.status_code == 404


def test_a_batch_with_a_bearer_token_and_an_idempotency_key(
    api_client, api_token, helpdesk, service_lead, sales
):
    token = api_token(service_lead)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "batch-1"}
    first = api_client.post(
        records_url(helpdesk), {"records": BATCH}, format="json", headers=headers
    )
    again = api_client.post(
        records_url(helpdesk), {"records": BATCH}, format="json", headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ServiceRequest.objects.count() == 3
