"""Personal API tokens: made and revoked on the API tokens page, shown once,
stored as a SHA-256 digest, and accepted as ``Authorization: Bearer``."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.models import ApiToken
from api.services import MAX_ACTIVE_TOKENS, api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

PAGE = reverse("api_tokens")
ME = reverse("api:v1:me")
TOKEN = re.compile(r"slp_[A-Za-z0-9_-]{43}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_user_menu_links_to_the_page(client, outsider):
    client.force_login(outsider)
    assert f'href="{PAGE}"'.encode() in client.get(reverse("home")).content


def test_a_new_token_is_shown_once_and_stored_hashed(client, sales_lead):
    client.force_login(sales_lead)
    response = client.post(PAGE, {"name": "weekly export"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    shown = TOKEN.findall(response.content.decode())
    assert len(set(shown)) == 1
    raw = shown[0]

    token = ApiToken.objects.get()
    assert token.user == sales_lead
    assert token.name == "weekly export"
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix)
    # The secret is nowhere in the row.
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(
        raw in value or raw[len(token.prefix) :] in value for value in stored
    )

    page = client.get(PAGE).content.decode()
    assert raw not in page
    assert f"{token.prefix}…" in page
    assert "weekly export" in page


def test_a_token_needs_a_name_and_nothing_is_made_without_one(client, sales_lead):
    client.force_login(sales_lead)
    response = client.post(PAGE, {"name": "   "})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not ApiToken.objects.exists()


def test_one_person_has_at_most_so_many_active_tokens(client, sales_lead):
    for n in range(MAX_ACTIVE_TOKENS):
        api_token_create(user=sales_lead, name=f"t{n}")
    client.force_login(sales_lead)
    response = client.post(PAGE, {"name": "one more"})
    assert b"Revoke one you no longer use first" in response.content
    assert ApiToken.objects.count() == MAX_ACTIVE_TOKENS


def test_the_token_authenticates_api_requests(api_client, sales_lead, api_token):
    raw = api_token(sales_lead)
    response = api_client.get(ME, headers=bearer(raw))
    assert response.status_code == 200
    assert response.json()["username"] == "sales-lead"
    assert ApiToken.objects.get().last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(api_client, sales_lead, api_token):
    raw = api_token(sales_lead)
    with time_machine.travel("2026-03-10 09:00:00+00:00", tick=False) as clock:
        api_client.get(ME, headers=bearer(raw))
        first = ApiToken.objects.get().last_used_at
        clock.shift(30)
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(ME, headers=bearer(raw)).status_code == 200
        assert not [
            q for q in queries if "api_apitoken" in q["sql"] and "UPDATE" in q["sql"]
        ]
        assert ApiToken.objects.get().last_used_at == first
        clock.shift(60)
        api_client.get(ME, headers=bearer(raw))
        assert ApiToken.objects.get().last_used_at == first + timedelta(seconds=90)


def test_a_token_needs_no_csrf_token(api_client, marketing_lead, marketing, sales):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    _, raw = api_token_create(user=marketing_lead, name="script")
    response = client.post(
        reverse("api:v1:agreement-list"),
        {
            "provider": marketing.pk,
            "consumer": sales.pk,
            "title": "Leads",
            "effective_from": "2026-01-01",
            "compensation_clause": "Make up.",
        },
        format="json",
        headers=bearer(raw),
    )
    assert response.status_code == 201


def test_a_session_needs_the_csrf_token_to_write(marketing_lead):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(marketing_lead)
    response = client.post(reverse("api:v1:agreement-list"), {}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    # Reading needs no CSRF token.
    assert client.get(ME).status_code == 200


def test_a_revoked_token_is_refused_with_401(client, api_client, sales_lead):
    token, raw = api_token_create(user=sales_lead, name="old script")
    client.force_login(sales_lead)
    response = client.post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None

    response = api_client.get(ME, headers=bearer(raw))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"] == {
        "status": 401,
        "code": "authentication_failed",
        "message": "This token is unknown or has been revoked.",
    }
    assert b"Revoked" in client.get(PAGE).content


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer slp_not-a-real-token", "bearer \xe9t\xe9"],
)
def test_a_malformed_or_unknown_token_is_401(api_client, header):
    response = api_client.get(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_no_credentials_is_401_not_403(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "Bearer" in response["WWW-Authenticate"]


def test_the_token_of_a_deactivated_person_is_refused(api_client, sales_lead):
    _, raw = api_token_create(user=sales_lead, name="script")
    sales_lead.is_active = False
    sales_lead.save()
    assert api_client.get(ME, headers=bearer(raw)).status_code == 401


def test_another_persons_token_is_a_404_on_the_page(client, sales_lead, outsider):
    # A name no person's name or the page's words contain.
    token, _ = api_token_create(user=sales_lead, name="Sales CRM sync 7f3a")
    client.force_login(outsider)
    response = client.post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert b"Sales CRM sync 7f3a" not in client.get(PAGE).content


def test_revoking_needs_a_post(client, sales_lead):
    token, _ = api_token_create(user=sales_lead, name="mine")
    client.force_login(sales_lead)
    assert client.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405


def test_revoking_twice_changes_nothing(sales_lead):
    token, _ = api_token_create(user=sales_lead, name="mine")
    first = api_token_revoke(token=token, user=sales_lead).revoked_at
    assert api_token_revoke(token=token, user=sales_lead).revoked_at == first
