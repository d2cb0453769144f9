"""Figures, friction reports, the CSV import and the knowledge base in a real
Chromium, on the demo organisation (``seed_demo``: a year of figures)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from agreements import periods, standing
from agreements.models import FrictionReport, LeadLogEntry, Objective
from agreements.records.models import Lead
from conftest import log_in as sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def log_in(page: Page, live_server, username: str) -> None:
    """A demo persona, with the demo's password."""
    sign_in(page, live_server, username, settings.DEMO_PASSWORD)


def leads_so_far() -> Decimal:
    objective = Objective.objects.get(
        agreement__status="active", name="Leads delivered"
    )
    month = periods.current_month()
    lines = standing.team_lines(objective.agreement.provider, [month])
    return lines[(objective.pk, month)].actual


def test_the_marketing_lead_logs_this_weeks_leads_and_is_told_the_crm_counts(
    page: Page, live_server, demo, screenshot
):
    """The demo's Marketing sends its leads from HubSpot: a day's leads
    logged by hand are kept, and the page says the month counts the CRM's
    leads, which My month shows, not both."""
    page.set_viewport_size({"width": 1280, "height": 900})
    before = leads_so_far()
    log_in(page, live_server, "marketing-lead")

    row = page.get_by_test_id("due").locator('tr[data-objective="Leads delivered"]')
    expect(row.get_by_test_id("actual")).to_have_text(f"{before}")
    row.get_by_role("link", name="Log").click()

    expect(page.get_by_role("heading", name="Log leads")).to_be_visible()
    expect(page.get_by_label("Date")).to_have_value(periods.today().isoformat())
    page.get_by_label("Leads delivered").fill("42")
    page.get_by_label("Qualified leads").fill("18")
    page.get_by_label("Source or campaign").fill("Spring webinar")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("toasts")).to_contain_text(
        "Saved: 42 leads (18 qualified)"
    )
    expect(page.get_by_test_id("lead-log")).to_contain_text("Spring webinar")
    this_month = periods.month_label(periods.current_month())
    from_crm = (
        Lead.objects.counted()
        .filter(team__slug="marketing", month=periods.current_month())
        .exists()
    )
    if from_crm:
        expect(page.get_by_test_id("crm-months")).to_contain_text(
            f"{this_month} ({before} lead"
        )
    else:  # the month's first hours: no lead from the CRM yet
        notice = page.get_by_test_id("crm-months").filter(has_text=this_month)
        expect(notice).to_have_count(0)
    after = before if from_crm else before + 42

    page.get_by_role("navigation").get_by_role("link", name="My month").click()
    row = page.get_by_test_id("due").locator('tr[data-objective="Leads delivered"]')
    expect(row.get_by_test_id("actual")).to_have_text(f"{after}")
    assert leads_so_far() == after
    assert LeadLogEntry.objects.filter(source="Spring webinar", leads_delivered=42)
    screenshot("my-month")


def test_a_friction_report_is_filed_acknowledged_and_followed(
    page: Page, live_server, demo, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "sales-manager")
    page.get_by_role("navigation").get_by_role("link", name="Friction").click()
    page.get_by_role("link", name="File a report").click()

    expect(page.get_by_label("Addressed to")).to_have_value(
        str(FrictionReport.objects.values_list("addressed_team", flat=True).first())
    )
    page.get_by_label("Customer").fill("Hooli Europe")
    page.get_by_label("Category").select_option(label="Billing")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Description").fill(
        "Their invoice lists seats they cancelled in January."
    )
    page.get_by_label("Business impact").fill("Renewal in April is at risk.")
    page.get_by_label("Tags").fill("invoices, seats")
    page.get_by_role("button", name="File the report").click()

    expect(page.get_by_test_id("toasts")).to_contain_text("Report filed")
    expect(page.locator("h1 .sp-status")).to_have_text("New")
    report = FrictionReport.objects.get(customer="Hooli Europe")
    report_url = page.url

    log_in(page, live_server, "service-head")
    waiting = page.get_by_test_id("friction-waiting")
    waiting.get_by_role("link", name=re.compile("Hooli Europe")).click()
    reply = page.get_by_test_id("reply-form")
    reply.get_by_label("Comment").fill(
        "Finance will credit the seats on the next invoice."
    )
    reply.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("h1 .sp-status")).to_have_text("Acknowledged")

    log_in(page, live_server, "sales-manager")
    page.goto(report_url)
    expect(page.locator("h1 .sp-status")).to_have_text("Acknowledged")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text(
        "Victor Hale (Customer Service) set the status to Acknowledged"
    )
    expect(timeline).to_contain_text("Finance will credit the seats")
    report.refresh_from_db()
    assert report.status == FrictionReport.Status.ACKNOWLEDGED
    screenshot("friction-report")


def test_a_csv_file_with_one_bad_row_imports_nothing(
    page: Page, live_server, demo, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    before = LeadLogEntry.objects.count()
    today = periods.today().isoformat()
    log_in(page, live_server, "marketing-lead")
    page.get_by_role("navigation").get_by_role("link", name="Figures").click()
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_test_id("columns")).to_contain_text("leads_delivered")

    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "leads-this-week.csv",
                "mimeType": "text/csv",
                "buffer": (
                    "date,leads_delivered,qualified_leads,source\n"
                    f"{today},30,12,Newsletter\n"
                    f"{today},twenty,5,Trade fair\n"
                    f"{today},14,3,Partner referrals\n"
                ).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_test_id("import-errors-summary")).to_contain_text(
        "Nothing was imported."
    )
    errors = page.get_by_test_id("import-errors")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors).to_contain_text("3")
    expect(errors).to_contain_text("leads_delivered")
    expect(errors).to_contain_text("“twenty” is not a whole number.")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    assert LeadLogEntry.objects.count() == before
    screenshot("csv-import-error")


def test_the_knowledge_base(page: Page, live_server, demo, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "service-head")
    page.get_by_role("navigation").get_by_role("link", name="Knowledge base").click()
    table = page.get_by_test_id("pain-points")
    expect(table).to_contain_text("Data export times out for large accounts")
    expect(table.locator("svg.sp-sparkline").first).to_be_visible()
    expect(page.get_by_test_id("unfiled")).to_be_visible()
    screenshot("knowledge-base")

    page.get_by_label("Search").fill("currency")
    page.get_by_label("Search").press("Enter")
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name="Invoices in the wrong currency").click()
    expect(page.get_by_test_id("summary")).to_contain_text("reports")
    expect(page.get_by_test_id("reports")).to_be_visible()
