"""An organisation with a locked month of figures, for the email tests.

January 2026: Marketing → Sales "Lead delivery" (leads met, qualified leads
missed: a breach), Sales → Customer Service "Customer handover" (met).
People: the personas of the root conftest.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine

from agreements.models import Agreement, Objective
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    ObjectiveFactory,
)
from reports.notifications.tests.moments import JANUARY, UTC
from reports.tests.builders import leads_agreement, log_leads


@dataclass
class Org:
    leads: Agreement
    handover: Agreement
    qualified: Objective
    customers: Objective
    people: dict


@pytest.fixture(autouse=True)
def _email_settings(settings):
    settings.TIME_ZONE = "UTC"
    settings.SITE_URL = "https://sla.example.com"
    settings.SLA_GRACE_DAYS = 3
    settings.SLA_REMINDER_DAYS = 3
    settings.SLA_AT_RISK_FROM_DAY = 15
    settings.SLA_EMAIL_HOUR = 8
    settings.SLA_EMAIL_MAX_ATTEMPTS = 5
    settings.SLA_EMAIL_RETRY_SECONDS = 30
    settings.SLA_EMAIL_LEASE_SECONDS = 900
    settings.SLA_EMAIL_CATCH_UP_MONTHS = 2
    settings.SLA_TASK_QUEUE = ""


@pytest.fixture
def sink():
    """An SMTP server on loopback, in a thread, keeping what it receives."""
    from .smtp_sink import SmtpSink

    server = SmtpSink()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def eager():
    """Run queued tasks in-process even when REDIS_URL is set for the run."""
    from slaportal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def org(
    marketing,
    sales,
    service,
    marketing_lead,
    marketing_head,
    sales_lead,
    sales_manager,
    sales_member,
    service_head,
    executive,
    outsider,
) -> Org:
    leads = leads_agreement(
        marketing,
        sales,
        leads=200,
        qualified=120,
        effective_from=JANUARY,
        compensation_clause="Marketing makes up the shortfall next month.",
        remedy=Agreement.Remedy.MAKE_UP,
    )
    handover = AgreementFactory(
        provider=sales,
        consumer=service,
        title="Customer handover",
        effective_from=JANUARY,
    )
    customers = ObjectiveFactory(
        agreement=handover,
        name="Customers closed",
        metric_source=Objective.Source.CUSTOMERS_CLOSED,
        target=Decimal(2),
        position=1,
    )
    # January: 210 leads (met), 96 qualified of 120 (missed: 80 %).
    log_leads(marketing, dt.date(2026, 1, 10), 110, 50)
    log_leads(marketing, dt.date(2026, 1, 25), 100, 46)
    with time_machine.travel(dt.datetime(2026, 1, 25, 12, tzinfo=UTC), tick=False):
        for day in (12, 20):
            ClosedCustomerFactory(
                team=sales, closed_on=dt.date(2026, 1, day), month=JANUARY
            )
    people = {
        u.username: u
        for u in (
            marketing_lead,
            marketing_head,
            sales_lead,
            sales_manager,
            sales_member,
            service_head,
            executive,
            outsider,
        )
    }
    return Org(
        leads=leads,
        handover=handover,
        qualified=leads.objectives.get(name="Qualified leads"),
        customers=customers,
        people=people,
    )
