"""The pages people use on the move, on a phone (390×844) in a real Chromium:
three journeys done by what a person reads on the screen, each main button
on screen without scrolling sideways; and every such page at phone and
desktop width, with full-page screenshots under test-artifacts/screens/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import Locator, Page, expect

from agreements import periods
from agreements.models import FrictionReport, LeadLogEntry
from agreements.records.models import RecordSource
from agreements.records.services import records_upsert
from agreements.tests.factories import (
    ClosedCustomerFactory,
    FrictionReportFactory,
    MeasurementFactory,
)
from conftest import ARTIFACTS, log_in
from reports.models import Breach
from reports.services import scorecards_finalise
from reports.tests.builders import log_leads

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENS = ARTIFACTS / "screens"
FEBRUARY = dt.date(2026, 2, 1)
MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def march(db):
    """10 March 2026, mid-morning in the organisation's zone: February is
    locked (its figures were due in the first days of March), March runs.
    The clock ticks, so the live server's requests see time pass."""
    moment = dt.datetime(2026, 3, 10, 10, 0, tzinfo=periods.org_zone())
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture
def breach(march, chain) -> Breach:
    """Marketing delivered far too few leads in February: once the month is
    finalised, a breach is open on each of its two lead objectives."""
    log_leads(chain.leads.provider, dt.date(2026, 2, 16), 5, 2)
    scorecards_finalise(month=FEBRUARY)
    return Breach.objects.get(
        agreement=chain.leads, line__objective=chain.qualified_leads
    )


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def assert_on_screen(page: Page, target: Locator) -> None:
    """The button a person is about to press is visible and fits the
    viewport's width, and the page does not scroll sideways."""
    expect(target).to_be_visible()
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (
        f"{box} is not within 0..{width}"
    )
    no_sideways_scroll(page)


def open_menu_link(page: Page, name: str) -> None:
    """On a phone the main navigation folds behind the menu button."""
    toggle = page.get_by_role("button", name="Toggle navigation")
    assert_on_screen(page, toggle)
    toggle.click()
    link = page.get_by_role("navigation").get_by_role("link", name=name, exact=True)
    assert_on_screen(page, link)
    link.click()


def test_a_lead_logs_figures_from_the_home_page_on_a_phone(
    page: Page, live_server, march, chain, marketing_lead
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "marketing-lead")
    expect(page.get_by_text("Due this month")).to_be_visible()
    expect(page.get_by_text("Marketing owes")).to_be_visible()

    log = page.get_by_role("link", name="Log", exact=True).first
    assert_on_screen(page, log)
    log.click()

    expect(page.get_by_role("heading", name="Log leads")).to_be_visible()
    no_sideways_scroll(page)
    page.get_by_label("Leads delivered").fill("42")
    page.get_by_label("Qualified leads").fill("18")
    save = page.get_by_role("button", name="Save")
    assert_on_screen(page, save)
    save.click()

    expect(page.get_by_test_id("toasts")).to_be_visible()
    entry = LeadLogEntry.objects.get(team=chain.leads.provider)
    assert (entry.leads_delivered, entry.qualified_leads) == (42, 18)
    assert entry.month == MARCH


def test_a_sales_manager_files_a_friction_report_on_a_phone(
    page: Page, live_server, march, chain, sales_manager
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "sales-manager")
    open_menu_link(page, "Friction")
    expect(page.get_by_role("heading", name="Friction reports")).to_be_visible()
    # The filters are folded away on a phone, one button away.
    expect(page.get_by_label("Search")).to_be_hidden()
    expect(page.get_by_role("button", name="Filters")).to_be_visible()

    file = page.get_by_role("link", name="File a report")
    assert_on_screen(page, file)
    file.click()

    page.get_by_label("Customer").fill("Hooli Europe")
    page.get_by_label("Category").select_option(label="Billing")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Description").fill(
        "Their invoice lists seats they cancelled in January."
    )
    no_sideways_scroll(page)
    submit = page.get_by_role("button", name="File the report")
    assert_on_screen(page, submit)
    submit.click()

    expect(page.get_by_test_id("toasts")).to_contain_text("Report filed")
    report = FrictionReport.objects.get(customer="Hooli Europe")
    assert (report.reporting_team, report.addressed_team) == (
        chain.handover.provider,
        chain.handover.consumer,
    )
    assert report.created_by == sales_manager


def test_the_providers_head_acknowledges_a_breach_on_a_phone(
    page: Page, live_server, breach, marketing_head
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "marketing-head")
    open_menu_link(page, "Dashboard")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # The heat map opens on the latest months, with a cue to scroll back.
    expect(page.get_by_text("Scroll for earlier months")).to_be_visible()
    expect(page.get_by_text("Qualified leads").first).to_be_visible()

    card = page.get_by_role("row").filter(has_text="Qualified leads")
    acknowledge = card.get_by_role("button", name="Acknowledge")
    assert_on_screen(page, acknowledge)
    acknowledge.click()

    expect(page.get_by_test_id("toasts")).to_contain_text("acknowledged")
    breach.refresh_from_db()
    assert (breach.status, breach.acknowledged_by) == ("acknowledged", marketing_head)


def _pages(chain, breach) -> list[tuple[str, str, str]]:
    """(name, persona, path) of each page people use on the move."""
    marketing, sales, service = (
        chain.leads.provider,
        chain.handover.provider,
        chain.handover.consumer,
    )
    report = FrictionReport.objects.get(customer="Hooli Europe")
    return [
        ("home", "marketing-lead", "/"),
        ("figures", "marketing-lead", "/figures/"),
        ("figures-team", "marketing-lead", f"/figures/{marketing.slug}/"),
        ("leads", "marketing-lead", f"/figures/{marketing.slug}/leads/"),
        ("leads-new", "marketing-lead", f"/figures/{marketing.slug}/leads/new/"),
        ("customers", "sales-lead", f"/figures/{sales.slug}/customers/"),
        ("customers-new", "sales-lead", f"/figures/{sales.slug}/customers/new/"),
        (
            "measurements",
            "service-lead",
            f"/figures/{service.slug}/measurements/",
        ),
        (
            "measurements-new",
            "service-lead",
            f"/figures/{service.slug}/measurements/new/",
        ),
        ("friction-list", "sales-manager", "/friction/"),
        ("friction-new", "sales-manager", "/friction/new/"),
        ("friction-detail", "sales-manager", f"/friction/{report.pk}/"),
        ("scorecard", "marketing-head", f"/reports/agreements/{chain.leads.pk}/"),
        ("dashboard", "marketing-head", "/reports/dashboard/"),
        ("breach", "marketing-head", f"/reports/breaches/{breach.pk}/"),
    ]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_page_on_the_move_fits_a_phone_and_keeps_its_tables_on_a_desktop(
    page: Page,
    live_server,
    width,
    breach,
    chain,
    marketing_lead,
    marketing_head,
    sales_lead,
    sales_manager,
    service_lead,
):
    sales, service = chain.handover.provider, chain.handover.consumer
    log_leads(chain.leads.provider, dt.date(2026, 3, 3), 30, 12)
    ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 3, 4), month=MARCH)
    MeasurementFactory(objective=chain.uptime, month=FEBRUARY, value=Decimal("99.5"))
    for customer in ("Hooli Europe", "Initech"):
        FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            customer=customer,
            created_by=sales_manager,
        )
    crm = RecordSource.objects.create(
        team=chain.leads.provider, name="HubSpot", kind=RecordSource.Kind.LEADS
    )
    records_upsert(
        source=crm,
        rows=[
            {
                "external_id": f"HS-{n}",
                "started_at": f"2026-03-0{n}T10:00:00Z",
                "updated_at": f"2026-03-0{n}T10:00:00Z",
                "email": f"lead{n}@example.com",
                "name": "Ann Lee",
                "company": "Acme Corporation Europe",
                "qualified": n % 2 == 0,
            }
            for n in (2, 3)
        ],
    )
    records = ("records", "marketing-lead", f"/records/{crm.pk}/records/")
    page.set_viewport_size(PHONE if width == "phone" else DESKTOP)
    SCREENS.mkdir(parents=True, exist_ok=True)
    persona = None
    for name, username, path in [*_pages(chain, breach), records]:
        if username != persona:
            log_in(page, live_server, username)
            persona = username
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (name, path)
        if width == "phone":
            no_sideways_scroll(page)
            # Nor does a table scroll sideways in its own frame: lists are
            # stacked cards.
            wide = page.evaluate(
                "[...document.querySelectorAll('.table-responsive')]"
                ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
            )
            assert wide == 0, f"{path}: {wide} table(s) scroll sideways"
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)

    # The friction list says the one direction once, not on every row.
    log_in(page, live_server, "sales-manager")
    page.goto(f"{live_server.url}/friction/")
    expect(page.get_by_text("All from Sales to Customer Service.")).to_be_visible()
    expect(page.get_by_text("Sales → Customer Service")).to_have_count(0)
    # Filters: folded behind one button on a phone, open on a desktop.
    search = page.get_by_label("Search")
    filters = page.get_by_role("button", name="Filters")
    if width == "phone":
        expect(search).to_be_hidden()
        filters.click()
        expect(search).to_be_visible()
    else:
        expect(search).to_be_visible()
        expect(filters).to_be_hidden()
        # A desktop keeps the table: its column headings show.
        expect(page.get_by_role("columnheader", name="Severity")).to_be_visible()


def test_a_scorecard_s_objectives_start_on_a_phone_s_first_screen(
    page: Page, live_server, march, chain, marketing_head
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "marketing-head")
    page.goto(f"{live_server.url}/reports/agreements/{chain.leads.pk}/")
    lines = page.get_by_test_id("lines")
    expect(lines).to_be_visible()
    # Without scrolling: the summary leaves room for the first objective.
    first = lines.locator("tbody tr").first
    box = first.bounding_box()
    assert box is not None
    assert box["y"] < PHONE["height"], f"the first objective starts at {box['y']}px"
    no_sideways_scroll(page)
    # The month arrows show only the arrow but keep the month as their name.
    expect(page.get_by_role("link", name="‹ February 2026")).to_be_visible()
