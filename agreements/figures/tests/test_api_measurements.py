"""Measurements through /api/v1/: the same services and rules as the
measurements pages. Who may call what is the permission matrix (api/tests)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import periods
from agreements.figures.measurements import measurement_create
from agreements.models import Measurement
from agreements.tests.builders import active, objective_row

pytestmark = pytest.mark.django_db

LIST = reverse("api:v1:measurement-list")


def _manual(marketing_lead, sales_lead, marketing, sales, name="Uptime"):
    agreement = active(
        user=marketing_lead,
        other_signer=sales_lead,
        provider=marketing,
        consumer=sales,
        title=name,
        objectives=[
            objective_row(name, metric_source="manual", unit="percent", target=99)
        ],
    )
    return agreement.objectives.get()


@pytest.fixture
def uptime(marketing_lead, sales_lead, marketing, sales):
    return _manual(marketing_lead, sales_lead, marketing, sales)


def test_entering_a_measurement_and_a_second_one_for_the_month(
    uptime, api_client, marketing_lead
):
    api_client.force_login(marketing_lead)
    body = {
        "objective": uptime.pk,
        "month": periods.format_month(periods.current_month()),
        "value": "99.5",
    }
    response = api_client.post(LIST, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["objective"]["name"] == "Uptime"
    again = api_client.post(LIST, json.dumps(body), content_type="application/json")
    assert again.status_code == 422
    assert "already has a measurement" in again.json()["error"]["fields"]["month"][0]
    assert Measurement.objects.count() == 1


def test_the_list_filters_by_objective_and_month(
    uptime, api_client, marketing_lead, sales_manager, service_head
):
    measurement_create(
        objective=uptime,
        user=marketing_lead,
        month=periods.current_month(),
        value="98",
    )
    api_client.force_login(sales_manager)
    this_month = periods.format_month(periods.current_month())
    assert api_client.get(LIST, {"objective": uptime.pk}).json()["count"] == 1
    assert api_client.get(LIST, {"month_after": this_month}).json()["count"] == 1
    assert api_client.get(LIST, {"month_before": "2000-01"}).json()["count"] == 0
    api_client.force_login(service_head)
    assert api_client.get(LIST).json()["count"] == 0


def test_measurement_list_queries_do_not_grow_with_rows(
    marketing_lead,
    sales_lead,
    marketing,
    sales,
    api_client,
    django_assert_num_queries,
):
    def add_one(n: int) -> None:
        objective = _manual(marketing_lead, sales_lead, marketing, sales, f"U{n}")
        measurement_create(
            objective=objective,
            user=marketing_lead,
            month=periods.current_month(),
            value="99",
        )

    add_one(0)
    api_client.force_login(sales_lead)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(LIST).status_code == 200
        return len(queries)

    count()
    one = count()
    for n in range(1, 6):
        add_one(n)
    with django_assert_num_queries(one):
        assert api_client.get(LIST).json()["count"] == 6


def test_me_lists_what_is_due_this_month_like_the_home_page(
    uptime, api_client, marketing_lead, sales_lead
):
    api_client.force_login(marketing_lead)
    body = api_client.get(reverse("api:v1:me")).json()
    assert body["month"] == periods.format_month(periods.current_month())
    assert [(d["name"], d["may_submit"], d["actual"]) for d in body["due"]] == [
        ("Uptime", True, None)
    ]
    api_client.force_login(sales_lead)
    assert api_client.get(reverse("api:v1:me")).json()["due"] == []
