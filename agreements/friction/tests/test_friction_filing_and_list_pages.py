"""Filing a friction report through its form, and finding reports in the
list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.friction.tests.friction_pages import body, report_data, url, written
from agreements.models import FrictionReport
from agreements.tests.factories import FrictionReportFactory, PainPointFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


def test_the_form_offers_the_teams_and_preselects_customer_service(
    client, sales_manager, sales, service, marketing
):
    client.force_login(sales_manager)
    form = client.get(url("create")).context["form"]
    assert list(form.fields["reporting_team"].queryset) == [sales]
    assert set(form.fields["addressed_team"].queryset) == {marketing, service}
    assert form["addressed_team"].value() == service.pk
    assert form["month"].value() == "2026-03"
    assert form["client_token"].value()


def test_a_sales_manager_files_a_report(
    client, sales_manager, service_head, sales, service
):
    client.force_login(sales_manager)
    response = client.post(url("create"), report_data(sales, service))
    report = FrictionReport.objects.get()
    assert response.status_code == 302
    assert response.url == url("detail", report.pk)
    assert (report.reporting_team, report.addressed_team, report.addressed_to) == (
        sales,
        service,
        service_head,
    )
    assert report.tags == "billing,late-invoices"
    page = body(client.get(response.url))
    assert "Report filed and sent to" in page
    assert "Waiting for" in page and "to acknowledge it" in page


def test_the_same_report_posted_twice_is_filed_once(
    client, sales_manager, sales, service
):
    client.force_login(sales_manager)
    data = report_data(sales, service)
    client.post(url("create"), data)
    client.post(url("create"), data)
    assert FrictionReport.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer", "", "This field is required."),
        ("description", "", "This field is required."),
        ("category", "weather", "Select a valid choice."),
        ("severity", "apocalyptic", "Select a valid choice."),
        ("month", "2026-02", "Select a valid choice."),
        ("tags", "x" * 41, "A tag can be at most 40 characters"),
    ],
)
def test_bad_reports_write_nothing(
    client, sales_manager, sales, service, field, value, message
):
    client.force_login(sales_manager)
    before = written()
    response = client.post(url("create"), report_data(sales, service, **{field: value}))
    assert response.status_code == 200
    assert message in body(response)
    assert written() == before


def test_a_report_to_a_team_without_an_agreement_is_refused(
    client, marketing_lead, marketing, service, sales
):
    client.force_login(marketing_lead)
    before = written()
    response = client.post(url("create"), report_data(marketing, service))
    assert response.status_code == 200
    assert "addressed_team" in response.context["form"].errors
    assert written() == before


def test_html_in_a_report_is_shown_escaped(client, sales_manager, sales, service):
    client.force_login(sales_manager)
    client.post(
        url("create"),
        report_data(
            sales,
            service,
            customer="<i>Acme</i>",
            description="<script>alert('x')</script>",
        ),
    )
    report = FrictionReport.objects.get()
    for address in (url("detail", report.pk), url("list")):
        page = body(client.get(address))
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
        assert "&lt;i&gt;Acme&lt;/i&gt;" in page


def test_the_report_month_may_be_last_month_while_in_grace(
    client, sales_manager, sales, service, frozen
):
    frozen.move_to(dt.datetime(2026, 4, 2, 10, 0, tzinfo=dt.UTC))
    client.force_login(sales_manager)
    response = client.post(url("create"), report_data(sales, service, month="2026-03"))
    assert response.status_code == 302
    assert FrictionReport.objects.get().month == dt.date(2026, 3, 1)


# --- The list -------------------------------------------------------------------


def test_the_list_filters_and_searches(client, sales_manager, sales, service):
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Initech",
        category="billing",
        tags="invoices",
    )
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Globex",
        category="product",
        status="acknowledged",
        severity="critical",
    )
    client.force_login(sales_manager)

    def customers(query: str) -> set[str]:
        page = client.get(url("list") + query).context["page"]
        return {r.customer for r in page}

    assert customers("") == {"Initech", "Globex"}
    assert customers("?category=billing") == {"Initech"}
    assert customers("?status=acknowledged") == {"Globex"}
    assert customers("?severity=critical") == {"Globex"}
    assert customers("?tag=invoices") == {"Initech"}
    assert customers("?q=Initech") == {"Initech"}
    assert customers("?box=received") == set()
    assert customers("?status=nonsense") == {"Initech", "Globex"}


def test_the_list_takes_a_fixed_number_of_queries(
    client, sales_manager, sales, service
):
    client.force_login(sales_manager)
    client.get(url("list"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url("list"))
        return len(captured)

    FrictionReportFactory(reporting_team=sales, addressed_team=service)
    few = queries()
    for _ in range(20):
        FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            pain_point=PainPointFactory(),
        )
    assert queries() == few
