"""Lead log entries and closed customers through /api/v1/: the same services
and rules as the figures pages. Who may call what is the permission matrix
(api/tests); this file covers what the endpoints do and refuse."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import periods
from agreements.figures import kinds
from agreements.figures.services import figure_create
from agreements.models import ClosedCustomer, LeadLogEntry
from agreements.tests.builders import active, objective_row

pytestmark = pytest.mark.django_db

LEADS = reverse("api:v1:lead-log-entry-list")
LEADS_BULK = reverse("api:v1:lead-log-entry-bulk")
CUSTOMERS = reverse("api:v1:closed-customer-list")


def post(client, url: str, body: Any, **kwargs: Any):
    return client.post(url, json.dumps(body), content_type="application/json", **kwargs)


def lead_row(team, **fields: Any) -> dict[str, Any]:
    return {
        "team": team.pk,
        "date": periods.today().isoformat(),
        "leads_delivered": 10,
        "qualified_leads": 4,
        **fields,
    }


@pytest.fixture
def partners(marketing, sales, marketing_lead, sales_lead):
    """Marketing → Sales, signed: each sees the other's figures."""
    return active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )


def test_logging_leads_calls_the_service_and_answers_the_entry(
    as_marketing, marketing, marketing_lead
):
    response = post(as_marketing, LEADS, lead_row(marketing, source="Webinar"))
    assert response.status_code == 201, response.content
    entry = LeadLogEntry.objects.get(pk=response.json()["id"])
    assert (entry.team, entry.created_by, entry.source) == (
        marketing,
        marketing_lead,
        "Webinar",
    )
    assert entry.history.latest().history_change_reason == "logged"
    assert response.json()["team"]["name"] == "Marketing"
    assert response.json()["month"] == periods.current_month().isoformat()


def test_the_same_client_token_logs_once(as_marketing, marketing):
    token = str(uuid.uuid4())
    first = post(as_marketing, LEADS, lead_row(marketing, client_token=token))
    again = post(as_marketing, LEADS, lead_row(marketing, client_token=token))
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert LeadLogEntry.objects.count() == 1


def test_logging_for_a_team_one_does_not_lead_is_403(api_client, sales_lead, marketing):
    api_client.force_login(sales_lead)
    response = post(api_client, LEADS, lead_row(marketing))
    assert response.status_code == 403
    assert (
        "Only a lead, manager or head of Marketing"
        in (response.json()["error"]["message"])
    )
    assert not LeadLogEntry.objects.exists()


def test_the_list_holds_what_the_person_may_see(
    partners, marketing, sales, service, marketing_lead, api_client, request
):
    figure_create(
        kinds.LEADS,
        team=marketing,
        user=marketing_lead,
        date=periods.today(),
        leads_delivered=3,
    )
    for persona, count in [
        ("sales_manager", 1),
        ("service_head", 0),
        ("executive", 1),
        ("outsider", 0),
    ]:
        api_client.force_login(request.getfixturevalue(persona))
        assert api_client.get(LEADS).json()["count"] == count, persona


def test_the_list_filters_by_team_and_month_range(
    as_marketing, marketing, sales, marketing_lead
):
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC), tick=False):
        # 2 March: February is still in its grace period.
        for day in (dt.date(2026, 2, 10), dt.date(2026, 3, 1)):
            figure_create(
                kinds.LEADS,
                team=marketing,
                user=marketing_lead,
                date=day,
                leads_delivered=1,
            )

        def dates(**params: Any) -> list[str]:
            response = as_marketing.get(LEADS, params)
            assert response.status_code == 200, response.content
            return [e["date"] for e in response.json()["results"]]

        assert dates() == ["2026-03-01", "2026-02-10"]
        assert dates(ordering="date") == ["2026-02-10", "2026-03-01"]
        assert dates(month_after="2026-03") == ["2026-03-01"]
        assert dates(month_before="2026-02") == ["2026-02-10"]
        assert dates(month_after="2026-02", month_before="2026-02") == ["2026-02-10"]
        assert dates(team=sales.pk) == []
        response = as_marketing.get(LEADS, {"month_after": "March"})
        assert response.status_code == 400
        assert "month_after" in response.json()["error"]["fields"]


def test_changing_an_entry_of_a_locked_month_is_409(
    as_marketing, marketing, marketing_lead
):
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC), tick=False):
        entry = figure_create(
            kinds.LEADS,
            team=marketing,
            user=marketing_lead,
            date=dt.date(2026, 2, 10),
            leads_delivered=5,
        )
    url = reverse("api:v1:lead-log-entry-detail", args=[entry.pk])
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        response = as_marketing.patch(
            url, {"leads_delivered": 6}, content_type="application/json"
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "locked"
        assert as_marketing.delete(url).status_code == 409
    entry.refresh_from_db()
    assert entry.leads_delivered == 5


def test_edit_and_delete_go_through_the_services(
    as_marketing, marketing, marketing_lead
):
    entry = figure_create(
        kinds.LEADS,
        team=marketing,
        user=marketing_lead,
        date=periods.today(),
        leads_delivered=5,
    )
    url = reverse("api:v1:lead-log-entry-detail", args=[entry.pk])
    response = as_marketing.patch(
        url, {"leads_delivered": 7}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["leads_delivered"] == 7
    assert as_marketing.delete(url).status_code == 204
    assert not LeadLogEntry.objects.exists()
    assert LeadLogEntry.history.latest().history_change_reason == "deleted"


# --- Bulk -------------------------------------------------------------------


def test_bulk_logs_every_row(as_marketing, marketing):
    rows = [lead_row(marketing, leads_delivered=n) for n in (5, 6, 7)]
    response = post(as_marketing, LEADS_BULK, rows)
    assert response.status_code == 201, response.content
    assert [e["leads_delivered"] for e in response.json()] == [5, 6, 7]
    assert LeadLogEntry.objects.count() == 3


def test_bulk_is_all_or_nothing_and_names_the_row_at_fault(as_marketing, marketing):
    rows = [lead_row(marketing) for _ in range(3)]
    rows.append(lead_row(marketing, leads_delivered=2, qualified_leads=3))
    response = post(as_marketing, LEADS_BULK, rows)
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["3.qualified_leads"]
    assert "cannot be more than the leads delivered" in fields["3.qualified_leads"][0]
    assert not LeadLogEntry.objects.exists()
    assert not LeadLogEntry.history.exists()


def test_bulk_with_a_team_one_does_not_lead_writes_nothing(
    as_marketing, marketing, sales
):
    response = post(as_marketing, LEADS_BULK, [lead_row(marketing), lead_row(sales)])
    assert response.status_code == 403
    assert not LeadLogEntry.objects.exists()


def test_bulk_replays_with_the_same_idempotency_key(as_marketing, marketing):
    rows = [lead_row(marketing)]
    first = post(as_marketing, LEADS_BULK, rows, headers={"Idempotency-Key": "k1"})
    again = post(as_marketing, LEADS_BULK, rows, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert LeadLogEntry.objects.count() == 1


# --- Closed customers -------------------------------------------------------


@pytest.fixture
def handover(sales, service, sales_lead, service_head):
    """Sales → Customer Service, signed, with a "customers closed" objective."""
    return active(
        user=sales_lead,
        other_signer=service_head,
        provider=sales,
        consumer=service,
        objectives=[objective_row("Customers", metric_source="customers_closed")],
    )


def test_the_receiving_team_acknowledges_a_handover_once(
    handover, api_client, sales, sales_lead, service_head
):
    customer = figure_create(
        kinds.CUSTOMERS,
        team=sales,
        user=sales_lead,
        customer="Acme",
        closed_on=periods.today(),
    )
    url = reverse("api:v1:closed-customer-acknowledge", args=[customer.pk])
    api_client.force_login(service_head)
    response = post(api_client, url, None)
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_by"]["username"] == service_head.username
    first = response.json()["acknowledged_at"]
    assert post(api_client, url, None).json()["acknowledged_at"] == first
    assert (
        ClosedCustomer.history.filter(
            history_change_reason="handover acknowledged"
        ).count()
        == 1
    )


def test_recording_a_closed_customer(handover, api_client, sales, sales_lead):
    api_client.force_login(sales_lead)
    body = {
        "team": sales.pk,
        "customer": " Acme ",
        "closed_on": periods.today().isoformat(),
        "deal_value": "1500.50",
    }
    response = post(api_client, CUSTOMERS, body)
    assert response.status_code == 201, response.content
    assert response.json()["customer"] == "Acme"
    assert response.json()["deal_value"] == "1500.50"
    assert response.json()["acknowledged_by"] is None


# --- Query counts -----------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [LEADS, CUSTOMERS])
def test_figure_lists_queries_do_not_grow_with_rows(
    url,
    handover,
    partners,
    marketing,
    sales,
    marketing_lead,
    sales_lead,
    api_client,
    django_assert_num_queries,
):
    def add_one() -> None:
        figure_create(
            kinds.LEADS,
            team=marketing,
            user=marketing_lead,
            date=periods.today(),
            leads_delivered=1,
        )
        figure_create(
            kinds.CUSTOMERS,
            team=sales,
            user=sales_lead,
            customer="Acme",
            closed_on=periods.today(),
        )

    api_client.force_login(sales_lead)
    add_one()
    _queries(api_client, url)  # the first request also starts the throttle count
    one = _queries(api_client, url)
    for _ in range(6):
        add_one()
    with django_assert_num_queries(one):
        assert api_client.get(url).json()["count"] == 7


def test_logging_into_a_locked_month_is_a_422_naming_the_date(as_marketing, marketing):
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        response = post(as_marketing, LEADS, lead_row(marketing, date="2026-02-10"))
    assert response.status_code == 422
    assert "is locked" in response.json()["error"]["fields"]["date"][0]
    assert not LeadLogEntry.objects.exists()
