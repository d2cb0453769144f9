"""Fixtures for the agreements app's tests: the marketing → sales → service
chain of agreements, a frozen clock, agreements in each state, and the rows
the figures pages work on. The personas are in the root conftest.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine

from agreements.models import Agreement, Objective
from agreements.tests.builders import active, draft, proposed
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
    ObjectiveFactory,
)

# Mid-March 2026 in UTC (the default TIME_ZONE): March is open, February is
# locked (its grace period ended on 3 March), April is in the future.
NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
THIS_MONTH = dt.date(2026, 3, 1)
LOCKED_MONTH = dt.date(2026, 2, 1)
NEXT_MONTH = dt.date(2026, 4, 1)
IN_LOCKED_MONTH = dt.date(2026, 2, 20)


def local(*args: int) -> dt.datetime:
    """A moment on the organisation's clock (``TIME_ZONE``): month and grace
    boundaries are local midnights, whatever zone the suite runs in."""
    from agreements import periods

    return dt.datetime(*args, tzinfo=periods.org_zone())


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class Chain:
    leads: Agreement  # marketing → sales
    handover: Agreement  # sales → service
    care: Agreement  # service → sales
    leads_delivered: Objective
    qualified_leads: Objective
    customers_closed: Objective
    friction_reports: Objective
    uptime: Objective  # manual, percent
    response_hours: Objective  # manual, hours


@pytest.fixture
def chain(marketing, sales, service) -> Chain:
    """The three signed agreements of the design: marketing delivers leads to
    sales, sales closes and hands over customers (and reports friction) to
    service, service keeps the customers happy."""
    leads = AgreementFactory(
        provider=marketing,
        consumer=sales,
        title="Leads for sales",
        effective_from=dt.date(2025, 1, 1),
    )
    handover = AgreementFactory(
        provider=sales,
        consumer=service,
        title="Customers for service",
        effective_from=dt.date(2025, 1, 1),
    )
    care = AgreementFactory(
        provider=service,
        consumer=sales,
        title="Care for customers",
        effective_from=dt.date(2025, 1, 1),
    )
    S, U = Objective.Source, Objective.Unit
    return Chain(
        leads=leads,
        handover=handover,
        care=care,
        leads_delivered=ObjectiveFactory(
            agreement=leads, name="Leads", metric_source=S.LEADS_DELIVERED
        ),
        qualified_leads=ObjectiveFactory(
            agreement=leads,
            name="Qualified leads",
            metric_source=S.QUALIFIED_LEADS,
            target=Decimal("40"),
        ),
        customers_closed=ObjectiveFactory(
            agreement=handover,
            name="Customers",
            metric_source=S.CUSTOMERS_CLOSED,
            target=Decimal("10"),
        ),
        friction_reports=ObjectiveFactory(
            agreement=handover,
            name="Friction reports",
            metric_source=S.FRICTION_REPORTS,
            target=Decimal("1"),
        ),
        uptime=ObjectiveFactory(
            agreement=care,
            name="Uptime",
            metric_source=S.MANUAL,
            unit=U.PERCENT,
            target=Decimal("99"),
        ),
        response_hours=ObjectiveFactory(
            agreement=care,
            name="Response time",
            metric_source=S.MANUAL,
            unit=U.HOURS,
            comparator=Objective.Comparator.AT_MOST,
            target=Decimal("3"),
        ),
    )


# --- Agreements between Marketing and Sales, in each state ----------------


@pytest.fixture
def draft_ms(marketing_lead, marketing, sales):
    """A draft from Marketing to Sales with one objective."""
    return draft(user=marketing_lead, provider=marketing, consumer=sales)


@pytest.fixture
def proposed_ms(marketing_lead, marketing, sales):
    return proposed(user=marketing_lead, provider=marketing, consumer=sales)


@pytest.fixture
def active_ms(marketing_lead, sales_lead, marketing, sales):
    return active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )


@pytest.fixture
def as_marketing(api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    return api_client


# --- Rows the figures pages work on (with ``frozen`` and ``chain``) --------


@pytest.fixture
def entry(marketing, marketing_lead):
    return LeadLogEntryFactory(
        team=marketing, date=dt.date(2026, 3, 10), created_by=marketing_lead
    )


# test_figures_locked_months.py has a locked entry of its own.
@pytest.fixture
def locked_entry(marketing, marketing_lead):
    return LeadLogEntryFactory(
        team=marketing,
        date=IN_LOCKED_MONTH,
        leads_delivered=40,
        qualified_leads=10,
        created_by=marketing_lead,
    )


@pytest.fixture
def customer(sales, sales_lead):
    return ClosedCustomerFactory(
        team=sales, customer="Acme GmbH", closed_on=dt.date(2026, 3, 10)
    )


@pytest.fixture
def measurement(chain, service_head):
    return MeasurementFactory(objective=chain.uptime, month=THIS_MONTH)
