"""Fixtures for the submission, friction and import tests: the marketing →
sales → service chain of agreements, more personas, and a frozen clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine

from agreements.models import Agreement, Membership, Objective
from agreements.tests.factories import (
    AgreementFactory,
    ObjectiveFactory,
)
from conftest import make_member

# Mid-March 2026 in UTC (the default TIME_ZONE): March is open, February is
# locked (its grace period ended on 3 March), April is in the future.
NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
THIS_MONTH = dt.date(2026, 3, 1)
LOCKED_MONTH = dt.date(2026, 2, 1)
NEXT_MONTH = dt.date(2026, 4, 1)


def local(*args: int) -> dt.datetime:
    """A moment on the organisation's clock (``TIME_ZONE``): month and grace
    boundaries are local midnights, whatever zone the suite runs in."""
    from agreements import periods

    return dt.datetime(*args, tzinfo=periods.org_zone())


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def marketing_head(marketing):
    return make_member("marketing-head", marketing, Membership.Role.HEAD)


@pytest.fixture
def marketing_member(marketing):
    return make_member("marketing-member", marketing, Membership.Role.MEMBER)


@pytest.fixture
def sales_head(sales):
    return make_member("sales-head", sales, Membership.Role.HEAD)


@pytest.fixture
def sales_member(sales):
    return make_member("sales-member", sales, Membership.Role.MEMBER)


@pytest.fixture
def service_lead(service):
    return make_member("service-lead", service, Membership.Role.LEAD)


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
