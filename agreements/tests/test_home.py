"""The "my month" home page: what each person's teams owe, what is late, and
what waits for a head."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import Objective
from agreements.tests.factories import (
    ClosedCustomerFactory,
    FrictionReportFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
    MembershipFactory,
    ObjectiveFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def lines(response) -> dict[str, tuple]:
    """Objective name → (actual, status, link) of the "due" table."""
    return {
        line.objective.name: (line.actual, line.status, line.fix_url)
        for line in response.context["my_month"].due
    }


def test_the_marketing_lead_sees_what_marketing_owes_this_month(
    client, marketing_lead, marketing
):
    LeadLogEntryFactory(team=marketing, leads_delivered=30, qualified_leads=10)
    LeadLogEntryFactory(team=marketing, leads_delivered=25, qualified_leads=20)
    response = home(client, marketing_lead)
    due = lines(response)
    assert set(due) == {"Leads", "Qualified leads"}
    assert due["Leads"][0] == Decimal(55)
    assert due["Qualified leads"][0] == Decimal(30)
    page = response.content.decode()
    assert "March 2026" in page
    assert "17 days left" in page
    assert "figures due by Fri 3 Apr 2026, end of day" in page
    assert "at least 100" in page  # the target
    assert "from 2 entries" in page
    # 10 of March's 22 business days gone: 55 of 100 is on track (45.5
    # expected by now), 30 of 40 qualified too (18.2 expected).
    assert due["Leads"][1] == "on_track"
    assert due["Qualified leads"][1] == "on_track"
    assert "45 expected by now" in page


def test_one_click_leads_to_the_prefilled_form(client, marketing_lead):
    response = home(client, marketing_lead)
    link = lines(response)["Leads"][2]
    assert link.startswith(reverse("figures:leads_new", args=["marketing"]))
    form = client.get(link).context["form"]
    assert str(form["date"].value()) == "2026-03-15"


def test_a_pace_behind_the_target_is_flagged(client, marketing_lead, marketing):
    LeadLogEntryFactory(team=marketing, leads_delivered=5, qualified_leads=1)
    response = home(client, marketing_lead)
    due = lines(response)
    # 5 of the 45.5 expected by now: 11 at the current pace, far off.
    assert due["Leads"][1] == "off_track"
    assert "Off track" in response.content.decode()


def test_the_sales_lead_files_friction_reports_and_closes_customers(
    client, sales_lead, sales, service, chain
):
    ClosedCustomerFactory(team=sales)
    due = lines(home(client, sales_lead))
    assert due["Customers"][0] == Decimal(1)
    link = urlparse(due["Friction reports"][2])
    assert link.path == reverse("friction:create")
    assert parse_qs(link.query) == {
        "team": [str(sales.pk)],
        "addressed": [str(service.pk)],
        "month": ["2026-03"],
    }
    form = client.get(due["Friction reports"][2]).context["form"]
    assert form["addressed_team"].value() == str(service.pk)


def test_the_service_head_enters_measurements_from_the_home_page(
    client, service_head, chain
):
    MeasurementFactory(objective=chain.uptime, value=Decimal("99.7"))
    response = home(client, service_head)
    due = lines(response)
    assert due["Uptime"][0] == Decimal("99.7")
    assert due["Uptime"][1] == "on_track"
    assert due["Response time"][0] is None
    assert due["Response time"][1] == "no_data_yet"
    link = due["Response time"][2]
    assert parse_qs(urlparse(link).query) == {
        "objective": [str(chain.response_hours.pk)],
        "month": ["2026-03"],
    }
    page = response.content.decode()
    assert "Not measured yet" in page
    assert "Enter value" in page


def test_a_member_sees_the_figures_but_no_buttons(client, marketing):
    member = MembershipFactory(team=marketing, role="member").user
    response = home(client, member)
    assert {link for _, _, link in lines(response).values()} == {""}
    assert reverse("figures:leads_new", args=["marketing"]) not in (
        response.content.decode()
    )


def test_someone_in_no_team_is_told_where_figures_come_from(client, outsider):
    page = home(client, outsider).content.decode()
    assert "Figures due show here once you are in a team" in page
    assert "You are not in a team yet" in page


def test_last_month_is_late_while_it_is_in_grace(
    client, service_head, chain, sales, frozen
):
    frozen.move_to(dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC))
    MeasurementFactory(objective=chain.uptime, month=dt.date(2026, 3, 1))
    response = home(client, service_head)
    late = {
        line.objective.name: line.fix_url for line in response.context["my_month"].late
    }
    assert set(late) == {"Response time"}  # uptime was measured
    assert parse_qs(urlparse(late["Response time"]).query)["month"] == ["2026-03"]
    page = response.content.decode()
    assert 'data-testid="late"' in page
    assert "March 2026 is closing and missing figures" in page
    assert "figures due by Fri 3 Apr 2026, end of day" in page


def test_counted_figures_are_late_when_nothing_was_logged(
    client, marketing_lead, marketing, frozen
):
    frozen.move_to(dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC))
    response = home(client, marketing_lead)
    late = {line.objective.name for line in response.context["my_month"].late}
    assert late == {"Leads", "Qualified leads"}
    LeadLogEntryFactory(team=marketing, date=dt.date(2026, 3, 31))
    response = home(client, marketing_lead)
    assert response.context["my_month"].late == []


def test_nothing_is_late_once_the_month_locked(client, service_head, frozen):
    frozen.move_to(dt.datetime(2026, 4, 4, 0, 0, tzinfo=dt.UTC))
    response = home(client, service_head)
    assert response.context["my_month"].late == []
    assert 'data-testid="late"' not in response.content.decode()


def test_a_head_sees_friction_reports_waiting_for_acknowledgement(
    client, service_head, sales, service
):
    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, customer="<b>Acme</b> GmbH"
    )
    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, status="acknowledged"
    )
    page = home(client, service_head).content.decode()
    assert 'data-testid="friction-waiting"' in page
    assert "&lt;b&gt;Acme&lt;/b&gt; GmbH" in page
    assert "<b>Acme</b>" not in page


def test_a_head_with_nothing_waiting_is_told_so(client, service_head):
    page = home(client, service_head).content.decode()
    assert "Nothing new: every report to your teams has been acknowledged." in page


def test_the_receiving_team_sees_handovers_to_acknowledge(
    client, service_head, sales_lead, sales
):
    customer = ClosedCustomerFactory(team=sales, customer="Initech")
    page = home(client, service_head).content.decode()
    assert 'data-testid="handovers-waiting"' in page
    assert reverse("figures:customers_detail", args=[customer.pk]) in page
    # Sales itself hands over; it has nothing to acknowledge.
    page = home(client, sales_lead).content.decode()
    assert 'data-testid="handovers-waiting"' not in page
    assert 'data-testid="friction-waiting"' not in page


def test_waiting_lists_show_the_first_few_and_how_many_more(
    client, service_head, sales, service
):
    for _ in range(7):
        FrictionReportFactory(reporting_team=sales, addressed_team=service)
    response = home(client, service_head)
    waiting = response.context["my_month"].friction_to_acknowledge
    assert (len(waiting.items), waiting.total, waiting.more) == (5, 7, 2)
    assert "2 more…" in response.content.decode()


def test_the_home_page_takes_the_same_queries_however_many_objectives(
    client, service_head, sales, service, chain
):
    """Query count must not grow with the number of objectives (nor with the
    figures logged against them)."""
    client.force_login(service_head)
    client.get(reverse("home"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        return len(captured)

    def grow(number: int) -> None:
        FrictionReportFactory(reporting_team=sales, addressed_team=service)
        ClosedCustomerFactory(team=sales)
        ObjectiveFactory(
            agreement=chain.care,
            name=f"Counted {number}",
            metric_source=Objective.Source.CUSTOMERS_CLOSED,
        )

    # Every metric source present, and more waiting than the lists show.
    for number in range(6):
        grow(number)
    before = queries()
    for number in range(6, 18):
        grow(number)
        objective = ObjectiveFactory(
            agreement=chain.care,
            name=f"Measured {number}",
            metric_source=Objective.Source.MANUAL,
            unit=Objective.Unit.HOURS,
        )
        MeasurementFactory(objective=objective, value=Decimal(number))
    assert len(client.get(reverse("home")).context["my_month"].due) == 2 + 18 + 12
    assert queries() == before
