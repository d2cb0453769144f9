"""corrections_for_agreement: what was corrected after a month locked, by
whom, when, why, and what changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agreements.figures import kinds
from agreements.figures.measurements import measurement_correct
from agreements.figures.services import figure_correct, figure_create, figure_update
from agreements.friction.services import friction_report_correct
from agreements.selectors import corrections_for_agreement
from agreements.tests.factories import (
    ClosedCustomerFactory,
    FrictionReportFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
)
from agreements.tests.moments import LOCKED_MONTH, THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


# --- Corrections ---------------------------------------------------------------


def test_corrections_of_an_agreement_say_who_when_why_and_old_to_new(
    chain, marketing, sales, marketing_head, marketing_lead, sales_head
):
    entry = LeadLogEntryFactory(
        team=marketing, date=dt.date(2026, 2, 10), leads_delivered=40
    )
    open_entry = figure_create(
        kinds.LEADS,
        team=marketing,
        user=marketing_lead,
        date=THIS_MONTH,
        leads_delivered=5,
    )
    figure_update(row=open_entry, user=marketing_lead, note="x")
    figure_correct(
        kinds.LEADS,
        row=entry,
        user=marketing_head,
        reason="counted twice",
        leads_delivered=30,
    )
    late = figure_correct(
        kinds.LEADS,
        team=marketing,
        user=marketing_head,
        reason="fair leads",
        date=dt.date(2026, 2, 20),
        leads_delivered=8,
    )
    # A correction of another agreement's figures is not listed.
    other = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 2, 3))
    figure_correct(
        kinds.CUSTOMERS, row=other, user=sales_head, reason="typo", customer="Initech"
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
    measurement_correct(
        measurement=measurement, user=service_head, reason="recomputed", value=98
    )
    customer = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 2, 3))
    figure_correct(
        kinds.CUSTOMERS, row=customer, user=sales_head, reason="duplicate", delete=True
    )
    report = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=LOCKED_MONTH
    )
    friction_report_correct(
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
            figure_correct(
                kinds.LEADS,
                row=entry,
                user=marketing_head,
                reason=f"r{n}",
                leads_delivered=n + 20,
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
