"""month_progress and corrections_for_agreement: what was logged, and what
was corrected after a month locked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from agreements import services
from agreements.models import Agreement
from agreements.selectors import (
    agreement_in_force,
    corrections_for_agreement,
    month_progress,
)
from agreements.tests.conftest import LOCKED_MONTH, THIS_MONTH
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    FrictionReportFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
    ObjectiveFactory,
    TeamFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def _by_name(progress):
    return {p.objective.name: (p.actual, p.entries) for p in progress}


def test_progress_sums_the_lead_log_of_the_month(chain, marketing):
    LeadLogEntryFactory(team=marketing, leads_delivered=30, qualified_leads=10)
    LeadLogEntryFactory(
        team=marketing, date=dt.date(2026, 3, 2), leads_delivered=12, qualified_leads=2
    )
    LeadLogEntryFactory(team=marketing, date=dt.date(2026, 2, 27), leads_delivered=99)
    assert _by_name(month_progress(team=marketing, month=THIS_MONTH)) == {
        "Leads": (Decimal(42), 2),
        "Qualified leads": (Decimal(12), 2),
    }


def test_progress_counts_customers_and_reports_to_the_consumer(chain, sales, service):
    ClosedCustomerFactory(team=sales)
    ClosedCustomerFactory(team=sales)
    FrictionReportFactory(reporting_team=sales, addressed_team=service)
    other = TeamFactory(name="Finance")
    AgreementFactory(provider=sales, consumer=other)
    # Addressed to another team: does not count for the agreement with service.
    FrictionReportFactory(reporting_team=sales, addressed_team=other)
    assert _by_name(month_progress(team=sales, month=THIS_MONTH)) == {
        "Customers": (Decimal(2), 2),
        "Friction reports": (Decimal(1), 1),
    }


def test_progress_shows_a_missing_measurement_as_no_data(chain, service):
    MeasurementFactory(objective=chain.uptime, value=Decimal("99.2"))
    assert _by_name(month_progress(team=service, month=THIS_MONTH)) == {
        "Uptime": (Decimal("99.2"), 1),
        "Response time": (None, 0),
    }


def test_progress_of_one_objective(chain, marketing):
    LeadLogEntryFactory(team=marketing, leads_delivered=7)
    (progress,) = month_progress(objective=chain.leads_delivered, month=THIS_MONTH)
    assert (progress.actual, progress.entries, progress.month) == (
        Decimal(7),
        1,
        THIS_MONTH,
    )


def test_progress_leaves_out_agreements_not_in_force(marketing, sales):
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
    assert list(_by_name(month_progress(team=marketing, month=THIS_MONTH))) == [
        "Retired this month"
    ]
    assert not agreement_in_force(draft, THIS_MONTH)
    assert not agreement_in_force(later, THIS_MONTH)
    assert agreement_in_force(later, dt.date(2026, 4, 1))
    assert agreement_in_force(retired, THIS_MONTH)
    assert not agreement_in_force(retired, dt.date(2026, 4, 1))


def test_progress_counts_the_later_version_in_the_month_a_revision_takes_over(
    marketing, sales
):
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
    assert agreement_in_force(first, THIS_MONTH)
    (progress,) = month_progress(team=marketing, month=THIS_MONTH)
    assert (progress.objective.agreement, progress.objective.target) == (
        second,
        Decimal(50),
    )
    assert progress.actual == Decimal(12)


def test_progress_runs_a_fixed_number_of_queries(
    chain, marketing, sales, service, django_assert_num_queries
):
    def grow(count):
        for _ in range(count):
            LeadLogEntryFactory(team=marketing)
            ClosedCustomerFactory(team=sales)
            FrictionReportFactory(reporting_team=sales, addressed_team=service)

    grow(2)
    with django_assert_num_queries(3):  # objectives, customers, friction
        month_progress(team=sales, month=THIS_MONTH)
    grow(30)
    with django_assert_num_queries(3):
        month_progress(team=sales, month=THIS_MONTH)


def test_progress_of_several_teams_in_one_go(
    chain, marketing, sales, service, django_assert_num_queries
):
    LeadLogEntryFactory(team=marketing, leads_delivered=30, qualified_leads=10)
    ClosedCustomerFactory(team=sales)
    # Objectives, then one query per metric source: leads, customers,
    # friction reports, measurements.
    with django_assert_num_queries(5):
        progress = month_progress(teams=[marketing, sales, service], month=THIS_MONTH)
    assert [p.objective.agreement.provider.name for p in progress] == [
        "Customer Service",
        "Customer Service",
        "Marketing",
        "Marketing",
        "Sales",
        "Sales",
    ]
    assert _by_name(progress)["Leads"] == (Decimal(30), 1)
    assert _by_name(progress)["Customers"] == (Decimal(1), 1)
    assert _by_name(progress)["Uptime"] == (None, 0)


def test_progress_needs_a_team_or_an_objective(chain, sales):
    with pytest.raises(TypeError):
        month_progress(month=THIS_MONTH)
    with pytest.raises(TypeError):
        month_progress(team=sales, objective=chain.uptime, month=THIS_MONTH)
    with pytest.raises(TypeError):
        month_progress(team=sales, teams=[sales], month=THIS_MONTH)


# --- Corrections ---------------------------------------------------------------


def test_corrections_of_an_agreement_say_who_when_why_and_old_to_new(
    chain, marketing, sales, marketing_head, marketing_lead, sales_head
):
    entry = LeadLogEntryFactory(
        team=marketing, date=dt.date(2026, 2, 10), leads_delivered=40
    )
    open_entry = services.lead_log_entry_create(
        team=marketing, user=marketing_lead, date=THIS_MONTH, leads_delivered=5
    )
    services.lead_log_entry_update(entry=open_entry, user=marketing_lead, note="x")
    services.lead_log_entry_correct(
        entry=entry, user=marketing_head, reason="counted twice", leads_delivered=30
    )
    late = services.lead_log_entry_correct(
        team=marketing,
        user=marketing_head,
        reason="fair leads",
        date=dt.date(2026, 2, 20),
        leads_delivered=8,
    )
    # A correction of another agreement's figures is not listed.
    other = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 2, 3))
    services.closed_customer_correct(
        closed_customer=other, user=sales_head, reason="typo", customer="Initech"
    )

    found = corrections_for_agreement(chain.leads)

    assert {(c.object_id, c.action) for c in found} == {
        (entry.pk, "changed"),
        (late.pk, "added"),
    }
    changed = next(c for c in found if c.action == "changed")
    assert changed.user == marketing_head
    assert changed.kind == "lead log entry"
    assert changed.month == LOCKED_MONTH
    assert changed.reason == "correction: counted twice (leads delivered 40 → 30)"
    assert [(c.field, c.old, c.new) for c in changed.changes] == [
        ("leads_delivered", 40, 30)
    ]
    assert changed.changes[0].label == "leads delivered"


def test_corrections_cover_measurements_customers_and_reports(
    chain, sales, service, service_head, sales_head
):
    measurement = MeasurementFactory(
        objective=chain.uptime, month=LOCKED_MONTH, value=Decimal("97")
    )
    services.measurement_correct(
        measurement=measurement, user=service_head, reason="recomputed", value=98
    )
    customer = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 2, 3))
    services.closed_customer_correct(
        closed_customer=customer, user=sales_head, reason="duplicate", delete=True
    )
    report = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=LOCKED_MONTH
    )
    services.friction_report_correct(
        report=report, user=sales_head, reason="typo", customer="Initech"
    )

    (care,) = corrections_for_agreement(chain.care)
    assert (care.kind, care.changes[0].old, care.changes[0].new) == (
        "measurement",
        Decimal("97.00"),
        Decimal("98.00"),
    )
    handover = corrections_for_agreement(chain.handover)
    assert {(c.kind, c.action) for c in handover} == {
        ("closed customer", "deleted"),
        ("friction report", "changed"),
    }
    assert corrections_for_agreement(chain.leads) == []


def test_corrections_take_a_fixed_number_of_queries(
    chain, marketing, marketing_head, django_assert_num_queries
):
    def correct(count):
        for n in range(count):
            entry = LeadLogEntryFactory(team=marketing, date=dt.date(2026, 2, 10))
            services.lead_log_entry_correct(
                entry=entry, user=marketing_head, reason=f"r{n}", leads_delivered=n + 20
            )

    correct(2)
    with django_assert_num_queries(3):  # objectives, corrections, their history
        assert len(corrections_for_agreement(chain.leads)) == 2
    correct(15)
    with django_assert_num_queries(3):
        assert len(corrections_for_agreement(chain.leads)) == 17


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("correction: typo (leads delivered 4 → 40)", ("typo", True)),
        (
            "correction: webinar (the second one) missed (source — → Webinar (May))",
            ("webinar (the second one) missed", True),
        ),
        ("correction: no details", ("no details", True)),
        ("logged", ("logged", False)),
    ],
)
def test_a_correction_reason_is_shown_without_what_changed(stored, shown):
    from agreements.selectors import split_correction_reason

    assert split_correction_reason(stored) == shown
