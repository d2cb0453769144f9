"""A source's webhook: a batch of records signed with the source's secret,
within five minutes of now; refused (and logged) otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from agreements.records.hooks import signature
from agreements.records.models import RecordSource, ServiceRequest
from agreements.records.sources import source_webhook_secret_rotate

pytestmark = pytest.mark.django_db

# 10 July 2026, 09:00 UTC: July is running, June locked on 3 July.
JULY_10 = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
NOW = int(JULY_10.timestamp())
ROWS = [
    {
        "external_id": "R-1",
        "started_at": "2026-07-08T10:00:00+02:00",
        "first_response_at": "2026-07-08T11:00:00+02:00",
        "updated_at": "2026-07-08T11:00:00+02:00",
    }
]


@pytest.fixture(autouse=True)
def _july():
    with time_machine.travel(JULY_10, tick=False):
        yield


@pytest.fixture
def secret(helpdesk, service_head) -> str:
    return source_webhook_secret_rotate(
        source=helpdesk, user=service_head
    ).webhook_secret


def hook(source_or_id) -> str:
    pk = getattr(source_or_id, "pk", source_or_id)
    return reverse("hooks:records", args=[pk])


def post(client, source, body, *, secret=None, timestamp=NOW, sign=None):
    """POST ``body`` (JSON of it, or bytes as they are), signed with
    ``secret`` at ``timestamp`` unless ``sign`` gives the signature."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if timestamp is not None:
        headers["X-Slaportal-Timestamp"] = str(timestamp)
    if sign is None and secret is not None:
        sign = signature(secret, str(timestamp), raw)
    if sign is not None:
        headers["X-Slaportal-Signature"] = sign
    return client.generic(
        "POST", hook(source), raw, content_type="application/json", headers=headers
    )


def refusals(caplog) -> list[tuple]:
    return [
        (r.name, r.source_id, r.reason, r.remote_addr)
        for r in caplog.records
        if getattr(r, "event", "") == "webhook_refused"
    ]


def test_a_signed_batch_is_upserted_without_a_user(client, helpdesk, secret):
    response = post(client, helpdesk, {"records": ROWS}, secret=secret)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "recomputed": [],
    }
    created = ServiceRequest.objects.get().history.get()
    assert created.history_user is None
    assert created.history_change_reason == "received from Helpdesk"


def test_a_replay_within_the_window_changes_nothing(client, helpdesk, secret):
    first = post(client, helpdesk, {"records": ROWS}, secret=secret)
    history = ServiceRequest.history.count()
    with time_machine.travel(NOW + 240, tick=False):
        again = post(client, helpdesk, {"records": ROWS}, secret=secret)
    assert first.status_code == again.status_code == 200
    assert again.json()["unchanged"] == 1
    assert ServiceRequest.history.count() == history


def test_a_wrong_signature_is_refused_and_logged(client, helpdesk, secret, caplog):
    body = {"records": ROWS}
    wrong = signature("not-the-secret", str(NOW), json.dumps(body).encode())

    response = post(client, helpdesk, body, sign=wrong)

    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (401, "authentication_failed")
    assert "does not match" in error["message"]
    assert refusals(caplog) == [
        ("slaportal.security", helpdesk.pk, "bad_signature", "127.0.0.1")
    ]
    assert not ServiceRequest.objects.exists()
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert secret not in text and wrong not in text


def test_a_body_changed_after_signing_is_refused(client, helpdesk, secret, caplog):
    sent = json.dumps({"records": ROWS}).encode()
    sign = signature(secret, str(NOW), sent)
    tampered = sent.replace(b"R-1", b"R-9")
    response = post(client, helpdesk, tampered, sign=sign)
    assert response.status_code == 401
    assert refusals(caplog)[0][2] == "bad_signature"
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"timestamp": None, "sign": "sha256=00"}, "no_timestamp"),
        ({"timestamp": "yesterday", "sign": "sha256=00"}, "no_timestamp"),
        ({"sign": ""}, "bad_signature"),
        ({"sign": "sha256=zz"}, "bad_signature"),
    ],
)
def test_a_missing_or_malformed_header_is_refused(
    client, helpdesk, secret, caplog, headers, reason
):
    response = post(client, helpdesk, {"records": ROWS}, **headers)
    assert response.status_code == 401
    assert [r[2] for r in refusals(caplog)] == [reason]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("skew", [-301, 301, -3600, 10**9])
def test_a_timestamp_more_than_five_minutes_off_is_refused(
    client, helpdesk, secret, caplog, skew
):
    """Too old (a replay later on) or too far ahead, even correctly signed."""
    response = post(
        client, helpdesk, {"records": ROWS}, secret=secret, timestamp=NOW + skew
    )
    assert response.status_code == 401
    assert "more than 5 minutes" in response.json()["error"]["message"]
    assert [r[2] for r in refusals(caplog)] == ["stale_timestamp"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("skew", [-300, 299])
def test_a_timestamp_within_five_minutes_is_taken(client, helpdesk, secret, skew):
    response = post(
        client, helpdesk, {"records": ROWS}, secret=secret, timestamp=NOW + skew
    )
    assert response.status_code == 200


def test_a_source_without_a_secret_takes_no_webhook(client, helpdesk, caplog):
    response = post(
        client, helpdesk, {"records": ROWS}, sign=signature("", str(NOW), b"")
    )
    assert response.status_code == 401
    unknown = post(client, 999999, {"records": ROWS}, sign="sha256=00")
    assert unknown.status_code == 401
    # The same answer: ids cannot be probed.
    assert unknown.json() == response.json()
    assert [r[1:3] for r in refusals(caplog)] == [
        (helpdesk.pk, "no_secret"),
        (999999, "unknown_source"),
    ]
    assert not ServiceRequest.objects.exists()


def test_a_rotated_secret_stops_the_old_one(client, helpdesk, secret, service_head):
    source_webhook_secret_rotate(source=helpdesk, user=service_head)
    response = post(client, helpdesk, {"records": ROWS}, secret=secret)
    assert response.status_code == 401


def test_a_signature_for_another_source_is_refused(client, helpdesk, secret, service):
    other = RecordSource.objects.create(team=service, name="CRM", kind="requests")
    response = post(client, other, {"records": ROWS}, secret=secret)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "Expected a dictionary"),
        (b'{"records": "many"}', "records"),
        (b'{"records": ["R-1"]}', "records.0"),
        (json.dumps({"records": [{}] * 1001}).encode(), "no more than 1000"),
    ],
)
def test_a_signed_body_that_is_not_a_batch_is_a_400(
    client, helpdesk, secret, body, fragment
):
    response = post(client, helpdesk, body, secret=secret)
    assert response.status_code == 400
    error = response.json()["error"]
    said = [error["message"], *error.get("fields", {})]
    said += [m for messages in error.get("fields", {}).values() for m in messages]
    assert any(fragment in text for text in said), error
    assert not ServiceRequest.objects.exists()


def test_bad_records_are_a_422_listing_every_row(client, helpdesk, secret):
    rows = [*ROWS, {"external_id": "R-2"}, {**ROWS[0], "external_id": ""}]
    response = post(client, helpdesk, {"records": rows}, secret=secret)
    assert response.status_code == 422
    errors = response.json()["error"]["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "started_at"),
        (2, "updated_at"),
        (3, "external_id"),
    ]
    assert not ServiceRequest.objects.exists()


def test_records_of_a_locked_month_are_refused_even_with_a_reason(
    client, helpdesk, secret
):
    june = {
        **ROWS[0],
        "external_id": "R-J",
        "started_at": "2026-06-10T10:00:00+02:00",
        "first_response_at": "2026-06-10T11:00:00+02:00",
        "updated_at": "2026-06-10T11:00:00+02:00",
    }
    response = post(
        client,
        helpdesk,
        {"records": [*ROWS, june], "reason": "The export missed it"},
        secret=secret,
    )
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


def test_only_post_is_served(client, helpdesk, secret):
    assert client.get(hook(helpdesk)).status_code == 405
