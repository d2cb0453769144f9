"""The figures pages: lead log, closed customers, measurements and
corrections, every rule through the pages a person uses."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from agreements.models import ClosedCustomer, LeadLogEntry, Measurement
from agreements.tests.conftest import LOCKED_MONTH, THIS_MONTH, local
from agreements.tests.factories import (
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

TODAY = dt.date(2026, 3, 15)
IN_LOCKED_MONTH = dt.date(2026, 2, 20)

PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
]


def url(name: str, *args: Any) -> str:
    return reverse(f"figures:{name}", args=args)


def written() -> tuple:
    """Every row and history row the figures pages can write."""
    return (
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
        Measurement.objects.count(),
        Measurement.history.count(),
    )


def lead_data(**overrides: Any) -> dict[str, str]:
    data = {
        "date": "2026-03-14",
        "leads_delivered": "40",
        "qualified_leads": "12",
        "source": "Spring webinar",
        "note": "",
        "client_token": str(uuid.uuid4()),
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def customer_data(**overrides: Any) -> dict[str, str]:
    data = {
        "customer": "Acme GmbH",
        "closed_on": "2026-03-14",
        "deal_value": "12000.50",
        "handover_notes": "Wants a kick-off call.",
        "client_token": str(uuid.uuid4()),
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def measurement_data(of, **overrides: Any) -> dict[str, str]:
    data = {
        "objective": str(of.pk),
        "month": "2026-03",
        "value": "99.5",
        "note": "From the status page.",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def entry(marketing, marketing_lead):
    return LeadLogEntryFactory(
        team=marketing, date=dt.date(2026, 3, 10), created_by=marketing_lead
    )


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


# --- Login and navigation -------------------------------------------------------


def test_figures_pages_need_login(client, marketing, entry):
    for address in (
        url("index"),
        url("leads_list", "marketing"),
        url("leads_new", "marketing"),
        url("leads_detail", entry.pk),
    ):
        response = client.get(address)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_navigation_offers_figures_friction_and_knowledge_base_to_team_members(
    client, marketing_lead
):
    client.force_login(marketing_lead)
    page = body(client.get(reverse("home")))
    for name in ("figures:index", "friction:list", "knowledge:list"):
        assert f'href="{reverse(name)}"' in page


def test_navigation_leaves_them_out_for_someone_in_no_team(client, outsider):
    client.force_login(outsider)
    page = body(client.get(reverse("home")))
    for name in ("figures:index", "friction:list", "knowledge:list"):
        assert f'href="{reverse(name)}"' not in page


def test_navigation_offers_them_to_executives(client, executive):
    client.force_login(executive)
    page = body(client.get(reverse("home")))
    assert f'href="{reverse("figures:index")}"' in page
    assert f'href="{reverse("knowledge:list")}"' in page


def test_someone_in_one_team_goes_straight_to_its_figures(client, marketing_lead):
    client.force_login(marketing_lead)
    response = client.get(url("index"))
    assert response.status_code == 302
    assert response.url == url("team", "marketing")
    assert client.get(response.url).url == url("leads_list", "marketing")


def test_the_index_lists_the_teams_and_their_partners(client, sales_lead):
    from agreements.tests.factories import MembershipFactory, TeamFactory

    MembershipFactory(user=sales_lead, team=TeamFactory(name="Sales EMEA"))
    client.force_login(sales_lead)
    page = body(client.get(url("index")))
    assert "Sales EMEA" in page
    # Partners through signed agreements: Marketing and Customer Service.
    assert url("leads_list", "marketing") in page
    assert url("measurements_list", "customer-service") in page


def test_a_team_opens_on_the_tab_of_what_it_owes(client, sales_lead):
    client.force_login(sales_lead)
    response = client.get(url("team", "sales"))
    assert response.url == url("customers_list", "sales")
    page = body(client.get(response.url))
    assert url("measurements_list", "sales") not in page  # Sales measures nothing
    assert url("leads_list", "sales") not in page


# --- Permission matrix ------------------------------------------------------------
# Marketing's lead log is read by Marketing, its partner Sales and executives;
# written by Marketing's leads. Sales' closed customers are read by Sales and
# its partners Marketing and Customer Service; written by Sales' leads, and
# acknowledged by Customer Service's leads. Customer Service's measurements
# are read by the two parties of their agreement (Service, Sales).
READS = {
    "marketing": {"marketing_lead", "sales_lead", "sales_manager", "executive"},
    "sales": set(PERSONAS) - {"outsider"},
    "customer-service": {"sales_lead", "sales_manager", "service_head", "executive"},
}
WRITES = {
    "marketing": {"marketing_lead"},
    "sales": {"sales_lead", "sales_manager"},
    "customer-service": {"service_head"},
}


def expected(persona: str, team: str, *, writes: bool, ok: int = 200) -> int:
    if persona not in READS[team]:
        return 404
    if writes and persona not in WRITES[team]:
        return 403
    return ok


PAGES = {
    # name: (team, address builder, whether it writes)
    "leads_list": ("marketing", lambda o: url("leads_list", "marketing"), False),
    "leads_new": ("marketing", lambda o: url("leads_new", "marketing"), True),
    "leads_detail": ("marketing", lambda o: url("leads_detail", o["entry"].pk), False),
    "leads_edit": ("marketing", lambda o: url("leads_edit", o["entry"].pk), True),
    "leads_delete": ("marketing", lambda o: url("leads_delete", o["entry"].pk), True),
    "leads_import": (
        "marketing",
        lambda o: url("import", "marketing", "lead_log"),
        True,
    ),
    "customers_list": ("sales", lambda o: url("customers_list", "sales"), False),
    "customers_new": ("sales", lambda o: url("customers_new", "sales"), True),
    "customers_detail": (
        "sales",
        lambda o: url("customers_detail", o["customer"].pk),
        False,
    ),
    "customers_edit": (
        "sales",
        lambda o: url("customers_edit", o["customer"].pk),
        True,
    ),
    "measurements_list": (
        "customer-service",
        lambda o: url("measurements_list", "customer-service"),
        False,
    ),
    "measurements_new": (
        "customer-service",
        lambda o: url("measurements_new", "customer-service"),
        True,
    ),
    "measurements_detail": (
        "customer-service",
        lambda o: url("measurements_detail", o["measurement"].pk),
        False,
    ),
    "measurements_edit": (
        "customer-service",
        lambda o: url("measurements_edit", o["measurement"].pk),
        True,
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_matrix(client, request, persona, page, entry, customer, measurement):
    team, address, writes = PAGES[page]
    client.force_login(request.getfixturevalue(persona))
    response = client.get(
        address({"entry": entry, "customer": customer, "measurement": measurement})
    )
    assert response.status_code == expected(persona, team, writes=writes)


POSTS = {
    # name: (team, address builder, data builder, what changes)
    "leads_new": (
        "marketing",
        lambda o: url("leads_new", "marketing"),
        lambda o: lead_data(),
        lambda: LeadLogEntry.objects.count() == 2,
    ),
    "leads_edit": (
        "marketing",
        lambda o: url("leads_edit", o["entry"].pk),
        lambda o: lead_data(leads_delivered=77),
        lambda: LeadLogEntry.objects.filter(leads_delivered=77).exists(),
    ),
    "leads_delete": (
        "marketing",
        lambda o: url("leads_delete", o["entry"].pk),
        lambda o: {},
        lambda: LeadLogEntry.objects.count() == 0,
    ),
    "customers_new": (
        "sales",
        lambda o: url("customers_new", "sales"),
        lambda o: customer_data(customer="Globex"),
        lambda: ClosedCustomer.objects.filter(customer="Globex").exists(),
    ),
    "customers_delete": (
        "sales",
        lambda o: url("customers_delete", o["customer"].pk),
        lambda o: {},
        lambda: not ClosedCustomer.objects.exists(),
    ),
    "measurements_new": (
        "customer-service",
        lambda o: url("measurements_new", "customer-service"),
        lambda o: measurement_data(o["chain"].response_hours, value="2.5"),
        lambda: Measurement.objects.count() == 2,
    ),
    "measurements_edit": (
        "customer-service",
        lambda o: url("measurements_edit", o["measurement"].pk),
        lambda o: {"value": "98", "note": ""},
        lambda: Measurement.objects.filter(value=Decimal("98")).exists(),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(POSTS))
def test_action_matrix(
    client, request, persona, action, entry, customer, measurement, chain
):
    team, address, data, changed = POSTS[action]
    objects = {
        "entry": entry,
        "customer": customer,
        "measurement": measurement,
        "chain": chain,
    }
    before = written()
    client.force_login(request.getfixturevalue(persona))

    response = client.post(address(objects), data(objects))

    assert response.status_code == expected(persona, team, writes=True, ok=302)
    if response.status_code == 302:
        assert changed()
    else:
        assert written() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_acknowledge_matrix(client, request, persona, customer):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(url("customers_acknowledge", customer.pk))
    customer.refresh_from_db()
    if persona == "service_head":
        assert response.status_code == 302
        assert customer.acknowledged_by.username == "service-head"
    else:
        assert response.status_code == (404 if persona == "outsider" else 403)
        assert customer.acknowledged_at is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_correction_matrix(client, request, persona, locked_entry):
    """Nobody among the personas heads Marketing: corrections of its locked
    months are refused (403 to those who see them, 404 to the others)."""
    client.force_login(request.getfixturevalue(persona))
    before = written()
    response = client.post(
        url("leads_correct", locked_entry.pk),
        {
            "action": "change",
            "change-reason": "Typo",
            **prefixed(lead_data(), "change"),
        },
    )
    assert response.status_code == (403 if persona in READS["marketing"] else 404)
    assert written() == before


def prefixed(data: dict[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}-{k}": v for k, v in data.items() if k != "client_token"}


def test_an_unknown_team_or_row_is_a_404(client, marketing_lead):
    client.force_login(marketing_lead)
    assert client.get(url("leads_list", "no-such-team")).status_code == 404
    assert client.get(url("leads_detail", 999_999)).status_code == 404
    assert client.get(url("import", "marketing", "spreadsheets")).status_code == 404


# --- Lead log -------------------------------------------------------------------


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
        ("date", "yesterday", "Enter a valid date."),
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


# --- Closed customers ---------------------------------------------------------------


def test_a_closed_customer_is_recorded_once_however_often_posted(client, sales_manager):
    client.force_login(sales_manager)
    data = customer_data(deal_value="")
    for _ in range(2):
        assert client.post(url("customers_new", "sales"), data).status_code == 302
    customer = ClosedCustomer.objects.get()
    assert customer.deal_value == 0
    assert customer.created_by == sales_manager


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer", "", "This field is required."),
        ("customer", "   ", "This field is required."),
        ("deal_value", "-5", "The deal value cannot be negative."),
        ("deal_value", "12,000", "Enter an amount, like 12000.50."),
        ("closed_on", "2026-02-10", "February 2026 is locked"),
        ("closed_on", "2026-03-20", "20 March 2026 is in the future"),
    ],
)
def test_bad_closed_customer_input_writes_nothing(
    client, sales_lead, field, value, message
):
    client.force_login(sales_lead)
    before = written()
    response = client.post(
        url("customers_new", "sales"), customer_data(**{field: value})
    )
    assert response.status_code == 200
    assert message in body(response)
    assert written() == before


def test_the_service_team_acknowledges_a_handover_from_the_list(
    client, service_head, customer
):
    client.force_login(service_head)
    listed = body(client.get(url("customers_list", "sales")))
    assert "Acknowledge handover" in listed
    response = client.post(
        url("customers_acknowledge", customer.pk),
        {"next": url("customers_list", "sales") + "?month=2026-03"},
    )
    assert response.url == url("customers_list", "sales") + "?month=2026-03"
    customer.refresh_from_db()
    assert customer.acknowledged_by == service_head
    listed = body(client.get(response.url))
    assert "✓ Acknowledged" in listed
    assert "Acknowledge handover" not in listed


def test_the_acknowledge_button_is_for_the_receiving_team_only(
    client, sales_lead, customer
):
    client.force_login(sales_lead)
    page = body(client.get(url("customers_list", "sales")))
    assert "Waiting for acknowledgement" in page
    assert url("customers_acknowledge", customer.pk) not in page


def test_acknowledging_leads_only_to_this_site(client, service_head, customer):
    client.force_login(service_head)
    response = client.post(
        url("customers_acknowledge", customer.pk), {"next": "https://evil.example/"}
    )
    assert response.url == url("customers_list", "sales") + "?month=2026-03"


def test_acknowledge_is_post_only(client, service_head, customer):
    client.force_login(service_head)
    assert client.get(url("customers_acknowledge", customer.pk)).status_code == 405
    customer.refresh_from_db()
    assert customer.acknowledged_at is None


def test_pending_handovers_can_be_listed_alone(client, service_head, sales, customer):
    ClosedCustomerFactory(
        team=sales,
        customer="Done Ltd",
        acknowledged_by=service_head,
        acknowledged_at=dt.datetime(2026, 3, 12, tzinfo=dt.UTC),
    )
    client.force_login(service_head)
    page = client.get(url("customers_list", "sales") + "?pending=on")
    assert [c.customer for c in page.context["page"]] == ["Acme GmbH"]


# --- Measurements ----------------------------------------------------------------


def test_the_provider_enters_a_measurement(client, service_head, chain):
    client.force_login(service_head)
    response = client.post(
        url("measurements_new", "customer-service"), measurement_data(chain.uptime)
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    assert (measurement.objective, measurement.month, measurement.value) == (
        chain.uptime,
        THIS_MONTH,
        Decimal("99.5"),
    )


def test_the_measurement_form_is_prefilled_from_the_link(client, service_head, chain):
    client.force_login(service_head)
    form = client.get(
        url("measurements_new", "customer-service")
        + f"?objective={chain.response_hours.pk}&month=2026-03"
    ).context["form"]
    assert str(form["objective"].value()) == str(chain.response_hours.pk)
    assert form["month"].value() == "2026-03"
    # Only the team's manual objectives are offered.
    offered = {o.pk for o in form.fields["objective"].queryset}
    assert offered == {chain.uptime.pk, chain.response_hours.pk}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"value": "101"}, "value", "A percentage must be between 0 and 100."),
        ({"value": "-1"}, "value", "A percentage must be between 0 and 100."),
        ({"value": "high"}, "value", "Enter a number, like 99.5."),
        ({"month": "2026-04"}, "month", "April 2026 has not begun yet"),
        ({"month": "2026-02"}, "month", "February 2026 is locked"),
        ({"month": "March"}, "month", "is not a month: write it as YYYY-MM"),
        ({"objective": "999999"}, "objective", "Choose one of the objectives listed."),
    ],
)
def test_bad_measurements_write_nothing(
    client, service_head, chain, overrides, field, message
):
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("measurements_new", "customer-service"),
        measurement_data(chain.uptime, **overrides),
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in body(response)
    assert written() == before


def test_another_teams_objective_cannot_be_measured_here(client, service_head, chain):
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("measurements_new", "customer-service"),
        measurement_data(chain.leads_delivered),
    )
    assert "objective" in response.context["form"].errors
    assert written() == before


def test_a_second_measurement_offers_to_edit_the_first(
    client, service_head, chain, measurement
):
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("measurements_new", "customer-service"),
        measurement_data(chain.uptime, value="97"),
    )
    assert response.status_code == 200
    page = body(response)
    assert "“Uptime” already has a measurement for March 2026 (99.5)" in page
    assert 'data-testid="duplicate"' in page
    assert f'href="{url("measurements_edit", measurement.pk)}"' in page
    assert written() == before


def test_a_measurement_is_edited_while_its_month_is_open(
    client, service_head, measurement
):
    client.force_login(service_head)
    response = client.post(
        url("measurements_edit", measurement.pk), {"value": "99.9", "note": "Better"}
    )
    assert response.status_code == 302
    measurement.refresh_from_db()
    assert measurement.value == Decimal("99.9")


def test_the_measurements_page_shows_what_is_still_to_measure(
    client, service_head, chain, measurement
):
    client.force_login(service_head)
    page = client.get(url("measurements_list", "customer-service"))
    owed = {p.objective.name: p.actual for p in page.context["owed"]}
    assert owed == {"Uptime": Decimal("99.5"), "Response time": None}
    assert f"?objective={chain.response_hours.pk}&amp;month=2026-03" in body(page)


# --- Corrections after the lock ------------------------------------------------


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
