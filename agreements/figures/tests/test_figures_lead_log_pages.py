"""The lead log pages: logging, editing and deleting leads in an open month
(and not in a locked one), the list's filters, and fixed query counts for
every figures list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agreements.figures.tests.figure_pages import body, lead_data, url, written
from agreements.models import LeadLogEntry
from agreements.tests.factories import (
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
)
from agreements.tests.moments import THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

TODAY = dt.date(2026, 3, 15)


def test_the_lead_log_form_is_filled_in_for_today_with_a_fresh_token(
    client, marketing_lead
):
    client.force_login(marketing_lead)
    form = client.get(url("leads_new", "marketing")).context["form"]
    assert form["date"].value() == TODAY
    first_token = form["client_token"].value()
    assert first_token
    again = client.get(url("leads_new", "marketing")).context["form"]
    assert again["client_token"].value() != first_token


def test_a_date_in_the_link_prefills_the_form(client, marketing_lead):
    client.force_login(marketing_lead)
    form = client.get(url("leads_new", "marketing") + "?date=2026-03-02").context[
        "form"
    ]
    assert form["date"].value() == "2026-03-02"


def test_a_lead_logs_leads_and_sees_them_listed(client, marketing_lead, marketing):
    client.force_login(marketing_lead)
    response = client.post(url("leads_new", "marketing"), lead_data(note="Webinar"))
    assert response.status_code == 302
    assert response.url == url("leads_list", "marketing") + "?month=2026-03"
    entry = LeadLogEntry.objects.get()
    assert (entry.team, entry.leads_delivered, entry.qualified_leads) == (
        marketing,
        40,
        12,
    )
    assert entry.created_by == marketing_lead
    page = body(client.get(response.url))
    assert "Saved: 40 leads (12 qualified) on 14 Mar 2026." in page
    assert "Spring webinar" in page
    assert '<span class="text-body fw-semibold">40</span> leads delivered' in page


def test_posting_the_same_form_twice_logs_once(client, marketing_lead):
    client.force_login(marketing_lead)
    data = lead_data()
    first = client.post(url("leads_new", "marketing"), data)
    second = client.post(url("leads_new", "marketing"), data)
    assert first.status_code == second.status_code == 302
    assert LeadLogEntry.objects.count() == 1
    assert LeadLogEntry.history.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("leads_delivered", "-3", "Leads delivered cannot be negative."),
        ("leads_delivered", "lots", "Enter a whole number, like 12."),
        ("leads_delivered", "", "This field is required."),
        ("qualified_leads", "-1", "Qualified leads cannot be negative."),
        ("qualified_leads", "4.5", "Enter a whole number, like 12."),
        (
            "qualified_leads",
            "50",
            "Qualified leads (50) cannot be more than the leads delivered (40).",
        ),
        ("date", "2026-03-16", "16 March 2026 is in the future"),
        ("date", "2026-04-01", "April 2026 has not begun yet"),
        ("date", "2026-02-27", "February 2026 is locked"),
        ("date", "yesterday", "Enter a day like 1 Dec 2026."),
    ],
)
def test_bad_lead_log_input_writes_nothing(
    client, marketing_lead, field, value, message
):
    client.force_login(marketing_lead)
    before = written()
    response = client.post(url("leads_new", "marketing"), lead_data(**{field: value}))
    assert response.status_code == 200
    assert message in body(response)
    assert field in response.context["form"].errors
    assert 'data-testid="not-saved"' in body(response)
    assert written() == before


def test_html_in_text_fields_is_shown_escaped(client, marketing_lead):
    client.force_login(marketing_lead)
    client.post(
        url("leads_new", "marketing"),
        lead_data(source="<script>alert(1)</script>", note="<b>big</b> batch"),
    )
    entry = LeadLogEntry.objects.get()
    for address in (url("leads_list", "marketing"), url("leads_detail", entry.pk)):
        page = body(client.get(address))
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;b&gt;big&lt;/b&gt; batch" in page


def test_an_entry_is_edited_while_its_month_is_open(client, marketing_lead, entry):
    client.force_login(marketing_lead)
    page = client.get(url("leads_edit", entry.pk))
    assert page.context["form"]["leads_delivered"].value() == entry.leads_delivered
    response = client.post(
        url("leads_edit", entry.pk), lead_data(date="2026-03-10", leads_delivered=55)
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.leads_delivered == 55
    history = body(client.get(url("leads_detail", entry.pk)))
    assert "Leads delivered" in history
    assert "<del>10</del> → 55" in history


def test_an_edit_that_breaks_a_rule_writes_nothing(client, marketing_lead, entry):
    client.force_login(marketing_lead)
    before = written()
    response = client.post(
        url("leads_edit", entry.pk), lead_data(date="2026-02-10", leads_delivered=55)
    )
    assert response.status_code == 200
    assert "February 2026 is locked" in body(response)
    assert written() == before


def test_an_entry_is_deleted_after_confirming(client, marketing_lead, entry):
    client.force_login(marketing_lead)
    confirm = client.get(url("leads_delete", entry.pk))
    assert 'data-testid="confirm-delete"' in body(confirm)
    assert LeadLogEntry.objects.exists()
    response = client.post(url("leads_delete", entry.pk))
    assert response.status_code == 302
    assert not LeadLogEntry.objects.exists()
    assert LeadLogEntry.history.filter(history_type="-").exists()


def test_a_locked_entry_is_not_edited_or_deleted(client, marketing_lead, locked_entry):
    client.force_login(marketing_lead)
    before = written()
    for action in ("leads_edit", "leads_delete"):
        response = client.post(url(action, locked_entry.pk), lead_data())
        assert response.status_code == 302
        assert response.url == url("leads_detail", locked_entry.pk)
    assert written() == before
    page = body(client.get(url("leads_detail", locked_entry.pk), follow=True))
    assert "February 2026 is locked: only a head of Marketing" in page


def test_the_list_filters_by_month_and_paginates(client, marketing_lead, marketing):
    for day in range(1, 31):
        LeadLogEntryFactory(team=marketing, date=dt.date(2026, 1, day))
    LeadLogEntryFactory(team=marketing, date=dt.date(2026, 3, 2), leads_delivered=7)
    client.force_login(marketing_lead)

    # The current month unless another is chosen.
    current = client.get(url("leads_list", "marketing"))
    assert current.context["page"].paginator.count == 1
    january = client.get(url("leads_list", "marketing") + "?month=2026-01")
    assert january.context["page"].paginator.count == 30
    assert len(january.context["page"].object_list) == 25
    assert "month=2026-01&amp;page=2" in body(january)
    everything = client.get(url("leads_list", "marketing") + "?month=all&page=2")
    assert everything.context["page"].paginator.count == 31
    assert len(everything.context["page"].object_list) == 6


def _grow_leads(chain, marketing, sales):
    LeadLogEntryFactory(team=marketing, date=TODAY)


def _grow_customers(chain, marketing, sales):
    ClosedCustomerFactory(team=sales, closed_on=TODAY)


def _grow_measurements(chain, marketing, sales):
    from agreements.tests.factories import ObjectiveFactory

    objective = ObjectiveFactory(
        agreement=chain.care, metric_source="manual", unit="hours"
    )
    MeasurementFactory(objective=objective, month=THIS_MONTH, value=Decimal(2))


@pytest.mark.parametrize(
    ("address", "grow"),
    [
        (url("leads_list", "marketing"), _grow_leads),
        (url("customers_list", "sales"), _grow_customers),
        (url("measurements_list", "customer-service"), _grow_measurements),
    ],
    ids=["leads", "customers", "measurements"],
)
def test_the_lists_take_a_fixed_number_of_queries(
    client, executive, chain, marketing, sales, address, grow
):
    client.force_login(executive)
    client.get(address)  # warm the session

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(address).status_code == 200
        return len(queries)

    grow(chain, marketing, sales)
    few = count()
    for _ in range(15):
        grow(chain, marketing, sales)
    assert count() == few
