"""The closed customer pages (recording a customer, the service team
acknowledging the handover) and the measurement pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agreements.figures.tests.figure_pages import (
    body,
    customer_data,
    measurement_data,
    url,
    written,
)
from agreements.models import ClosedCustomer, Measurement
from agreements.tests.factories import ClosedCustomerFactory
from agreements.tests.moments import THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


# --- Closed customers ---------------------------------------------------------------


def test_a_closed_customer_is_recorded_once_however_often_posted(client, sales_manager):
    client.force_login(sales_manager)
    data = customer_data(deal_value="")
    for _ in range(2):
        assert client.post(url("customers_new", "sales"), data).status_code == 302
    customer = ClosedCustomer.objects.get()
    assert customer.deal_value == 0
    assert customer.created_by == sales_manager


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer", "", "This field is required."),
        ("customer", "   ", "This field is required."),
        ("deal_value", "-5", "The deal value cannot be negative."),
        ("deal_value", "12,000", "Enter an amount, like 12000.50."),
        ("closed_on", "2026-02-10", "February 2026 is locked"),
        ("closed_on", "2026-03-20", "20 March 2026 is in the future"),
    ],
)
def test_bad_closed_customer_input_writes_nothing(
    client, sales_lead, field, value, message
):
    client.force_login(sales_lead)
    before = written()
    response = client.post(
        url("customers_new", "sales"), customer_data(**{field: value})
    )
    assert response.status_code == 200
    assert message in body(response)
    assert written() == before


def test_the_service_team_acknowledges_a_handover_from_the_list(
    client, service_head, customer
):
    client.force_login(service_head)
    listed = body(client.get(url("customers_list", "sales")))
    assert "Acknowledge handover" in listed
    response = client.post(
        url("customers_acknowledge", customer.pk),
        {"next": url("customers_list", "sales") + "?month=2026-03"},
    )
    assert response.url == url("customers_list", "sales") + "?month=2026-03"
    customer.refresh_from_db()
    assert customer.acknowledged_by == service_head
    listed = body(client.get(response.url))
    assert "✓ Acknowledged" in listed
    assert "Acknowledge handover" not in listed


def test_the_acknowledge_button_is_for_the_receiving_team_only(
    client, sales_lead, customer
):
    client.force_login(sales_lead)
    page = body(client.get(url("customers_list", "sales")))
    assert "Waiting for acknowledgement" in page
    assert url("customers_acknowledge", customer.pk) not in page


def test_acknowledging_leads_only_to_this_site(client, service_head, customer):
    client.force_login(service_head)
    response = client.post(
        url("customers_acknowledge", customer.pk), {"next": "https://evil.example/"}
    )
    assert response.url == url("customers_list", "sales") + "?month=2026-03"


def test_acknowledge_is_post_only(client, service_head, customer):
    client.force_login(service_head)
    assert client.get(url("customers_acknowledge", customer.pk)).status_code == 405
    customer.refresh_from_db()
    assert customer.acknowledged_at is None


def test_pending_handovers_can_be_listed_alone(client, service_head, sales, customer):
    ClosedCustomerFactory(
        team=sales,
        customer="Done Ltd",
        acknowledged_by=service_head,
        acknowledged_at=dt.datetime(2026, 3, 12, tzinfo=dt.UTC),
    )
    client.force_login(service_head)
    page = client.get(url("customers_list", "sales") + "?pending=on")
    assert [c.customer for c in page.context["page"]] == ["Acme GmbH"]


# --- Measurements ----------------------------------------------------------------


def test_the_provider_enters_a_measurement(client, service_head, chain):
    client.force_login(service_head)
    response = client.post(
        url("measurements_new", "customer-service"), measurement_data(chain.uptime)
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    assert (measurement.objective, measurement.month, measurement.value) == (
        chain.uptime,
        THIS_MONTH,
        Decimal("99.5"),
    )


def test_the_measurement_form_is_prefilled_from_the_link(client, service_head, chain):
    client.force_login(service_head)
    form = client.get(
        url("measurements_new", "customer-service")
        + f"?objective={chain.response_hours.pk}&month=2026-03"
    ).context["form"]
    assert str(form["objective"].value()) == str(chain.response_hours.pk)
    assert form["month"].value() == "2026-03"
    # Only the team's manual objectives are offered.
    offered = {o.pk for o in form.fields["objective"].queryset}
    assert offered == {chain.uptime.pk, chain.response_hours.pk}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"value": "101"}, "value", "A percentage must be between 0 and 100."),
        ({"value": "-1"}, "value", "A percentage must be between 0 and 100."),
        ({"value": "high"}, "value", "Enter a number, like 99.5."),
        ({"month": "2026-04"}, "month", "April 2026 has not begun yet"),
        ({"month": "2026-02"}, "month", "February 2026 is locked"),
        ({"month": "March"}, "month", "is not a month: write it as YYYY-MM"),
        ({"objective": "999999"}, "objective", "Choose one of the objectives listed."),
    ],
)
def test_bad_measurements_write_nothing(
    client, service_head, chain, overrides, field, message
):
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("measurements_new", "customer-service"),
        measurement_data(chain.uptime, **overrides),
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in body(response)
    assert written() == before


def test_another_teams_objective_cannot_be_measured_here(client, service_head, chain):
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("measurements_new", "customer-service"),
        measurement_data(chain.leads_delivered),
    )
    assert "objective" in response.context["form"].errors
    assert written() == before


def test_a_second_measurement_offers_to_edit_the_first(
    client, service_head, chain, measurement
):
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("measurements_new", "customer-service"),
        measurement_data(chain.uptime, value="97"),
    )
    assert response.status_code == 200
    page = body(response)
    assert "“Uptime” already has a measurement for March 2026 (99.5)" in page
    assert 'data-testid="duplicate"' in page
    assert f'href="{url("measurements_edit", measurement.pk)}"' in page
    assert written() == before


def test_a_measurement_is_edited_while_its_month_is_open(
    client, service_head, measurement
):
    client.force_login(service_head)
    response = client.post(
        url("measurements_edit", measurement.pk), {"value": "99.9", "note": "Better"}
    )
    assert response.status_code == 302
    measurement.refresh_from_db()
    assert measurement.value == Decimal("99.9")


def test_the_measurements_page_shows_what_is_still_to_measure(
    client, service_head, chain, measurement
):
    client.force_login(service_head)
    page = client.get(url("measurements_list", "customer-service"))
    owed = {p.objective.name: p.actual for p in page.context["owed"]}
    assert owed == {"Uptime": Decimal("99.5"), "Response time": None}
    assert f"?objective={chain.response_hours.pk}&amp;month=2026-03" in body(page)
