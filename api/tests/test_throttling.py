"""Request rates per person and per anonymous client: 429 with Retry-After.

Each test has its own cache namespace (the autouse fixture in conftest.py),
so counts start at zero. The database cache is cleared as well; Redis is not,
as that would also flush the Celery broker's keys.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

ME = reverse("api:v1:me")
SCHEMA = reverse("api:schema")


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute"},
    }
    if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
        cache.clear()


def test_a_person_over_the_rate_gets_429_with_retry_after(
    low_rates, api_client, sales_lead, marketing_lead
):
    api_client.force_login(sales_lead)
    for _ in range(3):
        assert api_client.get(ME).status_code == 200
    response = api_client.get(ME)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["status"] == 429
    assert "Expected available in" in error["message"]

    # The count is per person: someone else is not held back.
    api_client.force_login(marketing_lead)
    assert api_client.get(ME).status_code == 200


def test_an_anonymous_client_over_the_rate_gets_429(low_rates, client):
    for _ in range(2):
        assert client.get(SCHEMA).status_code == 200
    response = client.get(SCHEMA)
    assert response.status_code == 429
    assert response["Retry-After"]


def test_a_forged_forwarded_for_does_not_reset_the_count(low_rates, client):
    for n in range(2):
        client.get(SCHEMA, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = client.get(SCHEMA, HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert response.status_code == 429
