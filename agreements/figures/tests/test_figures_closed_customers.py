"""Closed customers through the services: Sales records them, Customer
Service acknowledges the handover, and what each refuses."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements.figures.kinds import CUSTOMERS
from agreements.figures.services import (
    closed_customer_acknowledge,
    figure_correct,
    figure_create,
    figure_delete,
    figure_update,
)
from agreements.figures.tests.figure_services import TODAY, _written
from agreements.models import ClosedCustomer, Membership
from agreements.tests.factories import (
    ClosedCustomerFactory,
    MembershipFactory,
    UserFactory,
)
from agreements.tests.moments import THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


def _close(team, user, **overrides):
    fields = {
        "customer": "Acme GmbH",
        "closed_on": TODAY,
        "deal_value": Decimal("25000"),
        "handover_notes": "Needs SSO on day one.",
    }
    fields.update(overrides)
    return figure_create(CUSTOMERS, team=team, user=user, **fields)


def test_sales_records_a_closed_customer(sales, sales_manager):
    customer = _close(sales, sales_manager, customer="  Acme GmbH ")
    customer.refresh_from_db()
    assert customer.customer == "Acme GmbH"
    assert customer.month == THIS_MONTH
    assert customer.history.get().history_user == sales_manager
    assert not customer.is_acknowledged


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("-1"), "The deal value cannot be negative."),
        ("lots", "must be a decimal number"),
    ],
)
def test_a_bad_deal_value_is_refused(sales, sales_lead, value, message):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        _close(sales, sales_lead, deal_value=value)
    assert message in caught.value.message_dict["deal_value"][0]
    assert _written() == before


def test_a_closed_customer_needs_a_name_and_an_open_date(sales, sales_lead):
    with pytest.raises(ValidationError) as caught:
        _close(sales, sales_lead, customer="", closed_on=dt.date(2026, 1, 5))
    assert set(caught.value.message_dict) == {"customer", "closed_on"}
    assert not ClosedCustomer.objects.exists()


def test_marketing_cannot_record_sales_customers(sales, marketing_lead):
    with pytest.raises(PermissionDenied):
        _close(sales, marketing_lead)
    assert not ClosedCustomer.objects.exists()


def test_a_repeated_closed_customer_post_records_once(sales, sales_lead):
    token = uuid.uuid4()
    first = _close(sales, sales_lead, client_token=token)
    assert _close(sales, sales_lead, client_token=token).pk == first.pk
    assert ClosedCustomer.history.count() == 1


def test_closed_customer_edit_delete_and_correction(sales, sales_lead, sales_head):
    customer = _close(sales, sales_lead)
    figure_update(row=customer, user=sales_lead, deal_value=Decimal("26000"))
    assert customer.history.first().history_change_reason == (
        "edited: deal value 25000 → 26000"
    )
    old = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 2, 3))
    with pytest.raises(ValidationError):
        figure_update(row=old, user=sales_lead, customer="X")
    figure_correct(
        CUSTOMERS,
        row=old,
        user=sales_head,
        reason="wrong customer",
        customer="Initech",
    )
    old.refresh_from_db()
    assert old.customer == "Initech"
    figure_delete(row=customer, user=sales_lead)
    assert list(ClosedCustomer.objects.all()) == [old]


def test_the_receiving_team_acknowledges_the_handover(sales, sales_lead, service_head):
    customer = _close(sales, sales_lead)
    closed_customer_acknowledge(closed_customer=customer, user=service_head)
    customer.refresh_from_db()
    assert customer.acknowledged_by == service_head
    assert customer.acknowledged_at is not None
    assert customer.history.first().history_change_reason == "handover acknowledged"


def test_acknowledging_twice_keeps_the_first(sales, sales_lead, service_head, service):
    customer = _close(sales, sales_lead)
    closed_customer_acknowledge(closed_customer=customer, user=service_head)
    other = UserFactory()
    MembershipFactory(user=other, team=service, role=Membership.Role.MANAGER)
    closed_customer_acknowledge(closed_customer=customer, user=other)
    customer.refresh_from_db()
    assert customer.acknowledged_by == service_head
    assert customer.history.count() == 2


def test_only_a_team_receiving_the_customers_acknowledges(
    sales, sales_lead, marketing_lead, outsider, executive
):
    customer = _close(sales, sales_lead)
    for user in (sales_lead, marketing_lead, outsider, executive):
        with pytest.raises(PermissionDenied):
            closed_customer_acknowledge(closed_customer=customer, user=user)
    customer.refresh_from_db()
    assert not customer.is_acknowledged


def test_a_service_member_cannot_acknowledge(sales, sales_lead, service):
    member = UserFactory()
    MembershipFactory(user=member, team=service, role=Membership.Role.MEMBER)
    customer = _close(sales, sales_lead)
    with pytest.raises(PermissionDenied):
        closed_customer_acknowledge(closed_customer=customer, user=member)


def test_a_handover_can_be_acknowledged_after_the_month_locked(sales, service_head):
    customer = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 1, 30))
    closed_customer_acknowledge(closed_customer=customer, user=service_head)
    customer.refresh_from_db()
    assert customer.is_acknowledged


def test_the_database_requires_who_and_when_of_an_acknowledgement(sales, service_head):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClosedCustomerFactory(team=sales, acknowledged_by=service_head)
