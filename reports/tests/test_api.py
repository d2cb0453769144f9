"""Scorecards and breaches through /api/v1/: the page's reads and the
breach buttons' services. Who may call what is the permission matrix."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.tests.factories import TeamFactory
from reports.models import Breach
from reports.services import scorecards_finalise

from .builders import JANUARY, leads_agreement

pytestmark = pytest.mark.django_db

SCORECARD = reverse("api:v1:scorecard")
BREACHES = reverse("api:v1:breach-list")


def post(client, url: str, body: Any = None, **kwargs: Any):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_a_finalised_month_answers_the_stored_scorecard(api_client, scored, sales_lead):
    api_client.force_login(sales_lead)
    response = api_client.get(SCORECARD, {"agreement": scored.pk, "month": "2026-01"})
    assert response.status_code == 200, response.content
    card = response.json()["card"]
    assert (card["state"], card["status"], card["score"]) == (
        "finalised",
        "missed",
        "83.3",
    )
    lines = {line["objective"]["name"]: line for line in card["lines"]}
    assert lines["Leads delivered"]["actual"] == "220.00"
    assert lines["Leads delivered"]["breach"] is None
    breach = Breach.objects.get(agreement=scored)
    assert lines["Qualified leads"]["breach"] == breach.pk
    assert Decimal(lines["Qualified leads"]["attainment"]) == Decimal("75")


def test_the_running_month_is_computed_live(api_client, scored, marketing_lead):
    api_client.force_login(marketing_lead)
    response = api_client.get(SCORECARD, {"agreement": scored.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["month"] == "2026-02"
    assert body["card"]["state"] == "running"
    assert body["card"]["finalised_at"] is None
    leads = body["card"]["lines"][0]
    assert leads["actual"] == "40.00"
    assert leads["projected"] is not None


def test_a_month_not_begun_has_no_card(api_client, scored, marketing_lead):
    api_client.force_login(marketing_lead)
    body = api_client.get(
        SCORECARD, {"agreement": scored.pk, "month": "2026-05"}
    ).json()
    assert body["not_begun"] is True
    assert body["card"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "agreement"),
        ({"agreement": "x"}, "agreement"),
        ({"agreement": 1, "month": "2026-13"}, "month"),
        ({"agreement": 1, "month": "0001-01"}, "month"),
        ({"agreement": 1, "month": "9999-12"}, "month"),
        ({"agreement": 1, "month": "2101-01"}, "month"),
    ],
)
def test_a_bad_scorecard_query_is_a_400(params, field, api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    response = api_client.get(SCORECARD, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_scorecard_one_may_not_see_is_a_404(api_client, scored, outsider):
    api_client.force_login(outsider)
    response = api_client.get(SCORECARD, {"agreement": scored.pk})
    assert response.status_code == 404


# --- Breaches ---------------------------------------------------------------


def test_acknowledge_then_resolve_through_the_services(api_client, scored, sales_lead):
    breach = Breach.objects.get(agreement=scored)
    api_client.force_login(sales_lead)
    url = reverse("api:v1:breach-acknowledge", args=[breach.pk])
    response = post(api_client, url, {"note": "On it"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"]["username"] == sales_lead.username
    again = post(api_client, url)
    assert again.status_code == 409
    assert "already acknowledged" in again.json()["error"]["message"]
    response = post(
        api_client,
        reverse("api:v1:breach-resolve", args=[breach.pk]),
        {"note": "Made up in February"},
    )
    assert response.status_code == 200
    breach.refresh_from_db()
    assert breach.status == Breach.Status.RESOLVED
    assert breach.note == "On it\nMade up in February"
    assert breach.history.latest().history_change_reason == "resolved"


def test_the_breach_list_filters_and_hides_what_one_may_not_see(
    api_client, scored, sales_lead, outsider
):
    api_client.force_login(sales_lead)
    body = api_client.get(BREACHES, {"status": "open", "month_after": "2026-01"}).json()
    assert [b["objective"] for b in body["results"]] == ["Qualified leads"]
    assert api_client.get(BREACHES, {"status": "resolved"}).json()["count"] == 0
    assert api_client.get(BREACHES, {"month_before": "2025-12"}).json()["count"] == 0
    api_client.force_login(outsider)
    assert api_client.get(BREACHES).json()["count"] == 0


def _queries(client, url: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries)


def test_breach_list_queries_do_not_grow_with_rows(
    api_client, executive, frozen, django_assert_num_queries
):
    def add_agreement() -> None:
        leads_agreement(TeamFactory(), TeamFactory())

    add_agreement()
    scorecards_finalise(month=JANUARY)
    api_client.force_login(executive)
    _queries(api_client, BREACHES)
    one = _queries(api_client, BREACHES)
    for _ in range(4):
        add_agreement()
    scorecards_finalise(month=JANUARY)
    with django_assert_num_queries(one):
        assert api_client.get(BREACHES).json()["count"] == 10


def test_scorecard_queries_do_not_grow_with_lines(
    api_client, scored, sales_lead, django_assert_num_queries
):
    api_client.force_login(sales_lead)
    params = {"agreement": scored.pk, "month": "2026-01"}
    _queries(api_client, SCORECARD, params)
    few = _queries(api_client, SCORECARD, params)
    live = _queries(api_client, SCORECARD, {"agreement": scored.pk})
    for n in range(4):
        scored.objectives.create(
            name=f"Extra {n}", metric_source="leads_delivered", target=1, position=9 + n
        )
    scorecards_finalise(month=JANUARY)
    with django_assert_num_queries(few):
        assert len(api_client.get(SCORECARD, params).json()["card"]["lines"]) == 6
    with django_assert_num_queries(live):
        api_client.get(SCORECARD, {"agreement": scored.pk})
