"""Fixtures of the friction conversation's tests: a report Sales filed to
Customer Service, and a member of Customer Service to assign it to."""

from __future__ import annotations

import pytest

from agreements.friction.services import friction_report_create
from agreements.models import FrictionReport, Membership
from conftest import make_member


@pytest.fixture
def report(sales, sales_manager, service_head) -> FrictionReport:
    return friction_report_create(
        reporting_team=sales,
        user=sales_manager,
        customer="Acme GmbH",
        category=FrictionReport.Category.BILLING,
        severity=FrictionReport.Severity.HIGH,
        description="Invoices arrive two weeks late.",
    )


@pytest.fixture
def service_member(service):
    return make_member(
        "service-member",
        service,
        Membership.Role.MEMBER,
        first_name="Dana",
        last_name="Reed",
    )
