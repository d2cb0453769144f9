"""Who reaches which figures page: login, navigation, and the permission
matrix of the lead log, closed customer and measurement pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
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
from agreements.models import ClosedCustomer, LeadLogEntry, Measurement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
]


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


def test_an_unknown_team_or_row_is_a_404(client, marketing_lead):
    client.force_login(marketing_lead)
    assert client.get(url("leads_list", "no-such-team")).status_code == 404
    assert client.get(url("leads_detail", 999_999)).status_code == 404
    assert client.get(url("import", "marketing", "spreadsheets")).status_code == 404
