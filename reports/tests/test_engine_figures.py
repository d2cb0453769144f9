"""The engine's figures for a month: what was logged for each objective a
team owes, the version that counts, and the fixed number of queries. (These
are the figures every page, email and endpoint shows.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from agreements import standing
from agreements.models import Agreement
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    FrictionReportFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
    ObjectiveFactory,
    TeamFactory,
)
from agreements.tests.moments import NOW, THIS_MONTH
from reports.selectors import cards_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    """Mid-March 2026, as the chain's figures expect."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _by_name(team, month=THIS_MONTH):
    lines = standing.team_lines(team, [month])
    return {
        line.objective.name: (line.actual, line.entries)
        for (_pk, m), line in lines.items()
        if m == month
    }


def test_the_engine_sums_the_lead_log_of_the_month(chain, marketing):
    LeadLogEntryFactory(team=marketing, leads_delivered=30, qualified_leads=10)
    LeadLogEntryFactory(
        team=marketing, date=dt.date(2026, 3, 2), leads_delivered=12, qualified_leads=2
    )
    LeadLogEntryFactory(team=marketing, date=dt.date(2026, 2, 27), leads_delivered=99)
    assert _by_name(marketing) == {
        "Leads": (Decimal(42), 2),
        "Qualified leads": (Decimal(12), 2),
    }


def test_the_engine_counts_customers_and_reports_to_the_consumer(chain, sales, service):
    ClosedCustomerFactory(team=sales)
    ClosedCustomerFactory(team=sales)
    FrictionReportFactory(reporting_team=sales, addressed_team=service)
    other = TeamFactory(name="Finance")
    AgreementFactory(provider=sales, consumer=other)
    # Addressed to another team: does not count for the agreement with service.
    FrictionReportFactory(reporting_team=sales, addressed_team=other)
    assert _by_name(sales) == {
        "Customers": (Decimal(2), 2),
        "Friction reports": (Decimal(1), 1),
    }


def test_a_missing_measurement_has_no_value_and_no_entries(chain, service):
    MeasurementFactory(objective=chain.uptime, value=Decimal("99.2"))
    assert _by_name(service) == {
        "Uptime": (Decimal("99.2"), 1),
        "Response time": (None, 0),
    }


def test_agreements_not_in_force_owe_nothing(marketing, sales):
    draft = AgreementFactory(
        provider=marketing, consumer=sales, status=Agreement.Status.DRAFT
    )
    ObjectiveFactory(agreement=draft, name="Draft leads")
    later = AgreementFactory(
        provider=marketing, consumer=sales, effective_from=dt.date(2026, 4, 1)
    )
    ObjectiveFactory(agreement=later, name="Later leads")
    retired = AgreementFactory(
        provider=marketing,
        consumer=sales,
        status=Agreement.Status.RETIRED,
        retired_at=timezone.now(),
    )
    ObjectiveFactory(agreement=retired, name="Retired this month")
    assert list(_by_name(marketing)) == ["Retired this month"]
    assert not draft.is_in_force(THIS_MONTH)
    assert not later.is_in_force(THIS_MONTH)
    assert later.is_in_force(dt.date(2026, 4, 1))
    assert retired.is_in_force(THIS_MONTH)
    assert not retired.is_in_force(dt.date(2026, 4, 1))


def test_an_agreement_signed_after_a_month_locked_owes_nothing_for_it(marketing, sales):
    # Signed on 15 March 2026, backdated to start in January: January and
    # February had locked (3 Feb, 3 Mar), so only March is owed.
    backdated = AgreementFactory(
        provider=marketing,
        consumer=sales,
        effective_from=dt.date(2026, 1, 1),
        activated_at=NOW,
    )
    ObjectiveFactory(agreement=backdated, name="Leads")
    assert not backdated.is_in_force(dt.date(2026, 1, 1))
    assert not backdated.is_in_force(dt.date(2026, 2, 1))
    assert backdated.is_in_force(THIS_MONTH)
    assert set(Agreement.objects.in_force(dt.date(2026, 2, 1))) == set()
    assert list(Agreement.objects.in_force(THIS_MONTH)) == [backdated]
    months = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), THIS_MONTH]
    cards = cards_for(months, agreements=Agreement.objects.all())
    assert {month for _lineage, month in cards} == {THIS_MONTH}


def test_the_later_version_counts_in_the_month_a_revision_takes_over(marketing, sales):
    first = AgreementFactory(
        provider=marketing,
        consumer=sales,
        status=Agreement.Status.RETIRED,
        retired_at=timezone.now(),  # superseded this month: in force until now
    )
    ObjectiveFactory(agreement=first, name="Leads", target=Decimal(40))
    second = AgreementFactory(
        provider=marketing,
        consumer=sales,
        lineage=first.lineage,
        version=2,
        supersedes=first,
        effective_from=THIS_MONTH,
    )
    ObjectiveFactory(agreement=second, name="Leads", target=Decimal(50))
    LeadLogEntryFactory(team=marketing, leads_delivered=12)
    assert first.is_in_force(THIS_MONTH)
    lines = standing.team_lines(marketing, [THIS_MONTH])
    (line,) = lines.values()
    assert (line.objective.agreement, line.target, line.actual) == (
        second,
        Decimal(50),
        Decimal(12),
    )


def test_the_engine_runs_a_fixed_number_of_queries(
    chain, marketing, sales, service, django_assert_num_queries
):
    def grow(count):
        for _ in range(count):
            LeadLogEntryFactory(team=marketing)
            ClosedCustomerFactory(team=sales)
            FrictionReportFactory(reporting_team=sales, addressed_team=service)

    grow(2)
    # Versions, objectives, then one query per kind of figure: customers and
    # friction reports; the running month's pace calendars (their hours,
    # their holidays). The running month has nothing stored to read.
    with django_assert_num_queries(7):
        standing.team_lines(sales, [THIS_MONTH])
    grow(30)
    with django_assert_num_queries(7):
        standing.team_lines(sales, [THIS_MONTH])
