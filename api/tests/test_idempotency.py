"""``Idempotency-Key``: a retried write creates one record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Signature
from agreements.tests.builders import proposed
from api.idempotency import KEY_LIFETIME
from api.models import IdempotencyKey

pytestmark = pytest.mark.django_db

LIST = reverse("api:v1:agreement-list")


@pytest.fixture
def body(marketing, sales):
    return {
        "provider": marketing.pk,
        "consumer": sales.pk,
        "title": "Qualified leads for Sales",
        "effective_from": "2026-01-01",
        "compensation_clause": "Make up the shortfall next month.",
        "objectives": [
            {"name": "Leads", "metric_source": "qualified_leads", "target": "200"}
        ],
    }


@pytest.fixture
def client(api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    return api_client


def create(client, body, key: str | None = "retry-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(LIST, body, format="json", headers=headers)


def test_the_same_post_twice_creates_one_agreement_and_answers_the_same(client, body):
    first = create(client, body)
    second = create(client, body)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Agreement.objects.count() == 1


def test_the_same_body_with_other_spacing_or_key_order_is_the_same_request(
    client, body
):
    import json

    create(client, body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)
    response = client.post(
        LIST,
        reordered,
        content_type="application/json",
        headers={"Idempotency-Key": "retry-1"},
    )
    assert response.status_code == 201
    assert Agreement.objects.count() == 1


def test_the_same_key_with_another_body_is_422(client, body):
    create(client, body)
    response = create(client, {**body, "title": "Something else"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "already used for another request" in error["message"]
    assert Agreement.objects.count() == 1


def test_without_a_key_each_post_creates(client, body):
    create(client, body, key=None)
    create(client, body, key=None)
    assert Agreement.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_keys_are_per_person(client, body, api_client, sales_lead):
    create(client, body)
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_login(sales_lead)
    response = create(other, body)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Agreement.objects.count() == 2


def test_a_refused_request_stores_nothing_and_may_be_retried_fixed(client, body):
    response = create(client, {**body, "title": ""})
    assert response.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert create(client, body).status_code == 201
    assert Agreement.objects.count() == 1


def test_an_expired_key_is_a_new_request(client, body):
    create(client, body)
    IdempotencyKey.objects.update(
        created_at=timezone.now() - KEY_LIFETIME - timedelta(minutes=1)
    )
    response = create(client, body)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Agreement.objects.count() == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there"])
def test_a_key_that_is_not_valid_is_400(client, body, key):
    response = create(client, body, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Agreement.objects.exists()


def test_an_action_replays_too(client, marketing_lead, marketing, sales):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    url = reverse("api:v1:agreement-sign", args=[agreement.pk])
    headers = {"Idempotency-Key": "sign-once"}
    first = client.post(url, {"team": marketing.pk}, format="json", headers=headers)
    again = client.post(url, {"team": marketing.pk}, format="json", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Signature.objects.count() == 1
    # Without the key, the retry is told it already happened.
    assert client.post(url, {"team": marketing.pk}, format="json").status_code == 409
