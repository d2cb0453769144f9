"""Figures of a locked month through the pages: who may correct them, how a
correction is made, and when a month stops taking figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from agreements.figures.tests.figure_pages import (
    body,
    customer_data,
    lead_data,
    measurement_data,
    prefixed,
    url,
    written,
)
from agreements.models import LeadLogEntry, Measurement
from agreements.tests.factories import ClosedCustomerFactory, MeasurementFactory
from agreements.tests.moments import IN_LOCKED_MONTH, LOCKED_MONTH, local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


def test_a_head_corrects_a_locked_entry_with_a_reason(
    client, marketing_head, locked_entry, chain
):
    client.force_login(marketing_head)
    page = client.get(url("leads_correct", locked_entry.pk))
    assert page.status_code == 200
    assert "February 2026 is locked" in body(page)
    response = client.post(
        url("leads_correct", locked_entry.pk),
        {
            "action": "change",
            **prefixed(lead_data(date="2026-02-20", leads_delivered=45), "change"),
            "change-reason": "Two <b>webinar</b> batches were missed",
        },
    )
    assert response.status_code == 302
    locked_entry.refresh_from_db()
    assert locked_entry.leads_delivered == 45

    history = body(client.get(url("leads_detail", locked_entry.pk)))
    assert "Correction" in history
    assert "Two &lt;b&gt;webinar&lt;/b&gt; batches were missed" in history
    assert "<del>40</del> → 45" in history

    agreement = body(client.get(reverse("agreements:detail", args=[chain.leads.pk])))
    assert 'data-testid="corrections"' in agreement
    assert "Two &lt;b&gt;webinar&lt;/b&gt; batches were missed" in agreement
    assert url("leads_detail", locked_entry.pk) in agreement
    assert "<del>40</del> → 45" in agreement


def test_a_correction_needs_a_reason(client, marketing_head, locked_entry):
    client.force_login(marketing_head)
    before = written()
    response = client.post(
        url("leads_correct", locked_entry.pk),
        {
            "action": "change",
            **prefixed(lead_data(date="2026-02-20", leads_delivered=45), "change"),
            "change-reason": "   ",
        },
    )
    assert response.status_code == 200
    assert "Say why this locked month is being corrected" in body(response)
    assert written() == before


def test_a_correction_still_checks_the_figures(client, marketing_head, locked_entry):
    client.force_login(marketing_head)
    before = written()
    response = client.post(
        url("leads_correct", locked_entry.pk),
        {
            "action": "change",
            **prefixed(
                lead_data(date="2026-02-20", leads_delivered=5, qualified_leads=9),
                "change",
            ),
            "change-reason": "Typo",
        },
    )
    assert response.status_code == 200
    assert "cannot be more than the leads delivered" in body(response)
    assert written() == before


def test_a_head_deletes_a_locked_entry_with_a_reason(
    client, marketing_head, locked_entry, chain
):
    client.force_login(marketing_head)
    response = client.post(
        url("leads_correct", locked_entry.pk),
        {"action": "delete", "delete-reason": "Logged for the wrong team"},
    )
    assert response.status_code == 302
    assert not LeadLogEntry.objects.exists()
    agreement = body(client.get(reverse("agreements:detail", args=[chain.leads.pk])))
    assert "Logged for the wrong team" in agreement
    assert "deleted" in agreement


def test_an_open_month_needs_no_correction(client, marketing_head, entry):
    client.force_login(marketing_head)
    response = client.get(url("leads_correct", entry.pk))
    assert response.status_code == 302
    assert response.url == url("leads_edit", entry.pk)


def test_an_administrator_may_correct(client, admin_user, locked_entry):
    client.force_login(admin_user)
    response = client.post(
        url("leads_correct", locked_entry.pk),
        {
            "action": "change",
            **prefixed(lead_data(date="2026-02-20", leads_delivered=41), "change"),
            "change-reason": "Counting error",
        },
    )
    assert response.status_code == 302
    locked_entry.refresh_from_db()
    assert locked_entry.leads_delivered == 41


def test_a_head_adds_a_missing_entry_to_a_locked_month(
    client, marketing_head, marketing
):
    client.force_login(marketing_head)
    response = client.post(
        url("leads_late", "marketing"),
        {**lead_data(date="2026-02-11"), "reason": "Trade fair leads came in late"},
    )
    assert response.status_code == 302
    entry = LeadLogEntry.objects.get()
    assert entry.month == LOCKED_MONTH
    assert entry.history.get().history_change_reason.startswith(
        "correction: Trade fair leads came in late"
    )


def test_a_late_entry_for_an_open_month_is_refused(client, marketing_head):
    client.force_login(marketing_head)
    before = written()
    response = client.post(
        url("leads_late", "marketing"),
        {**lead_data(date="2026-03-11"), "reason": "Late"},
    )
    assert response.status_code == 200
    assert "March 2026 is still open" in body(response)
    assert written() == before


def test_a_lead_cannot_add_to_a_locked_month(client, marketing_lead):
    client.force_login(marketing_lead)
    assert client.get(url("leads_late", "marketing")).status_code == 403


def test_a_head_adds_a_missing_measurement_late(client, chain, service_head):
    client.force_login(service_head)
    response = client.post(
        url("measurements_late", "customer-service"),
        {**measurement_data(chain.uptime, month="2026-02"), "reason": "Report late"},
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    assert measurement.month == LOCKED_MONTH
    page = body(client.get(reverse("agreements:detail", args=[chain.care.pk])))
    assert "Report late" in page


def test_a_locked_measurement_is_corrected(client, chain, service_head):
    measurement = MeasurementFactory(objective=chain.uptime, month=LOCKED_MONTH)
    client.force_login(service_head)
    response = client.post(
        url("measurements_correct", measurement.pk),
        {
            "action": "change",
            "change-value": "98.2",
            "change-note": "",
            "change-reason": "Outage on the 27th was missed",
        },
    )
    assert response.status_code == 302
    measurement.refresh_from_db()
    assert measurement.value == Decimal("98.2")


def test_a_locked_closed_customer_is_corrected(client, sales, admin_user, chain):
    customer = ClosedCustomerFactory(team=sales, closed_on=IN_LOCKED_MONTH)
    client.force_login(admin_user)
    response = client.post(
        url("customers_correct", customer.pk),
        {
            "action": "change",
            **prefixed(
                customer_data(closed_on="2026-02-20", customer="Initech"), "change"
            ),
            "change-reason": "Wrong customer name",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.customer == "Initech"
    page = body(client.get(reverse("agreements:detail", args=[chain.handover.pk])))
    assert "Wrong customer name" in page


def test_an_agreement_without_corrections_says_so(client, marketing_lead, chain):
    client.force_login(marketing_lead)
    page = body(client.get(reverse("agreements:detail", args=[chain.leads.pk])))
    assert "No corrections" in page


# --- Month boundaries -----------------------------------------------------------


def _post_lead(client, day: str):
    return client.post(url("leads_new", "marketing"), lead_data(date=day))


def test_the_last_second_of_a_month_still_takes_its_figures(
    client, marketing_lead, frozen
):
    frozen.move_to(local(2026, 3, 31, 23, 59, 59))
    client.force_login(marketing_lead)
    assert _post_lead(client, "2026-03-31").status_code == 302
    # The next day has not begun.
    response = _post_lead(client, "2026-04-01")
    assert response.status_code == 200
    assert "April 2026 has not begun yet" in body(response)
    assert LeadLogEntry.objects.count() == 1


def test_a_month_takes_figures_until_its_grace_period_ends(
    client, marketing_lead, marketing_head, frozen
):
    # (Logged in after each jump: a session lasts two weeks.)
    frozen.move_to(local(2026, 4, 3, 23, 59, 59))
    client.force_login(marketing_lead)
    assert _post_lead(client, "2026-03-31").status_code == 302
    entry = LeadLogEntry.objects.get()

    frozen.move_to(local(2026, 4, 4, 0, 0, 0))
    client.force_login(marketing_lead)
    response = _post_lead(client, "2026-03-30")
    assert response.status_code == 200
    assert "March 2026 is locked" in body(response)
    assert LeadLogEntry.objects.count() == 1
    # Edits now go through a correction, for heads only.
    assert client.get(url("leads_edit", entry.pk)).status_code == 302
    assert client.get(url("leads_correct", entry.pk)).status_code == 403
    client.force_login(marketing_head)
    assert client.get(url("leads_correct", entry.pk)).status_code == 200


def test_a_list_shows_the_month_state(client, marketing_lead, frozen):
    frozen.move_to(dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC))
    client.force_login(marketing_lead)
    page = body(client.get(url("leads_list", "marketing") + "?month=2026-03"))
    assert 'data-month-state="closing"' in page
    with time_machine.travel(dt.datetime(2026, 4, 5, tzinfo=dt.UTC), tick=False):
        page = body(client.get(url("leads_list", "marketing") + "?month=2026-03"))
    assert 'data-month-state="locked"' in page


@pytest.mark.parametrize("kind", ["leads_list", "customers_list", "measurements_list"])
@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1999-12", "2101-01"])
def test_a_month_outside_the_kept_range_shows_every_month_not_an_error(
    client, marketing_lead, chain, kind, month
):
    client.force_login(marketing_lead)
    response = client.get(url(kind, "marketing") + f"?month={month}")
    assert response.status_code == 200
    assert response.context["month"] is None  # every month, as for "all"
