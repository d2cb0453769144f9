"""Fixtures for the agreements app's tests: the marketing → sales → service
chain of agreements, a frozen clock, agreements in each state, and the rows
the figures pages work on. The personas are in the root conftest.py."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from agreements.tests.builders import active, draft, proposed
from agreements.tests.factories import (
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
)
from agreements.tests.moments import IN_LOCKED_MONTH, NOW, THIS_MONTH


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


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
