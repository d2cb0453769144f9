"""Three journeys with the keyboard alone, on the demo organisation: Tab,
Shift+Tab, typing, Enter and Space, never the mouse. Locators only check
where the focus is and what the page says.

(a) the marketing lead logs leads, starting from My month;
(b) the sales manager files a friction report;
(c) the head of Customer Service acknowledges a breach of their team.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from playwright.sync_api import Page, expect

from agreements.models import FrictionReport, LeadLogEntry
from reports.models import Breach, MonthTotals

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How far a journey may Tab before giving up: more than any page has stops.
LIMIT = 200

# What has the focus: enough to tell one control from another.
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
    return {
        tag: el.tagName.toLowerCase(),
        text: (el.getAttribute('aria-label') || el.innerText || el.value || '').trim(),
        label: label.trim(),
        href: el.getAttribute('href') || '',
        visible: el.getClientRects().length > 0,
    };
}"""


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def focused(page: Page) -> dict | None:
    return page.evaluate(FOCUSED)


def tab_to(page: Page, matches, what: str, key: str = "Tab") -> dict:
    """Press Tab until the focused element ``matches``; fail, saying what
    was reached, if it never does."""
    seen = []
    for _ in range(LIMIT):
        page.keyboard.press(key)
        element = focused(page)
        if element and matches(element):
            assert element["visible"], f"{what} has the focus but is not shown"
            return element
        seen.append(element and (element["text"] or element["label"])[:40])
    raise AssertionError(f"Tab never reached {what}; it went through {seen[:60]}")


def named(name: str, tag: str | None = None):
    """A control whose text, label or accessible name begins with ``name``."""

    def check(element: dict) -> bool:
        if tag and element["tag"] != tag:
            return False
        return any((element[key] or "").startswith(name) for key in ("text", "label"))

    return check


def to_href(pattern: str):
    return lambda element: re.search(pattern, element["href"]) is not None


def log_in_by_keyboard(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, named("Username", "input"), "the username field")
    page.keyboard.type(username)
    tab_to(page, named("Password", "input"), "the password field")
    page.keyboard.type(settings.DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(
    page: Page, live_server, demo
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_by_keyboard(page, live_server, "marketing-lead")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    # The next Tab starts inside the content, past the navigation.
    element = tab_to(page, lambda e: True, "anything")
    assert not page.evaluate(
        "() => document.activeElement.closest('nav.sp-navbar') !== null"
    ), element


def test_a_lead_logs_leads_from_my_month_with_the_keyboard(
    page: Page, live_server, demo
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_by_keyboard(page, live_server, "marketing-lead")
    expect(page.get_by_test_id("due")).to_be_visible()

    tab_to(page, to_href(r"/figures/marketing/leads/new/"), "the Log link")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log leads")).to_be_visible()

    tab_to(page, named("Leads delivered", "input"), "Leads delivered")
    page.keyboard.type("42")
    tab_to(page, named("Qualified leads", "input"), "Qualified leads")
    page.keyboard.type("18")
    tab_to(page, named("Source or campaign", "input"), "Source or campaign")
    page.keyboard.type("Keyboard webinar")
    tab_to(page, named("Save", "button"), "the Save button")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("toasts")).to_contain_text(
        "Saved: 42 leads (18 qualified)"
    )
    assert LeadLogEntry.objects.filter(
        source="Keyboard webinar", leads_delivered=42, qualified_leads=18
    ).exists()


def test_a_sales_manager_files_a_friction_report_with_the_keyboard(
    page: Page, live_server, demo
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_by_keyboard(page, live_server, "sales-manager")

    tab_to(page, named("Friction", "a"), "Friction in the navigation")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/friction/$"))
    tab_to(page, named("File a report", "a"), "File a report")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/friction/new/$"))

    tab_to(page, named("Customer", "input"), "Customer")
    page.keyboard.type("Keyboard Corp")
    # A closed <select> takes the option whose words are typed.
    tab_to(page, named("Category", "select"), "Category")
    page.keyboard.type("Billing")
    tab_to(page, named("Severity", "select"), "Severity")
    page.keyboard.type("High")
    tab_to(page, named("Description", "textarea"), "Description")
    page.keyboard.type("Their invoice lists seats they cancelled.")
    tab_to(page, named("File the report", "button"), "File the report")
    page.keyboard.press("Space")

    expect(page.get_by_test_id("toasts")).to_contain_text("Report filed")
    report = FrictionReport.objects.get(customer="Keyboard Corp")
    assert (report.category, report.severity) == ("billing", "high")


def test_the_head_of_service_acknowledges_a_breach_with_the_keyboard(
    page: Page, live_server, demo
):
    # The newest breach of Customer Service's own agreement, open (the demo
    # may have acknowledged it already, depending on today's date).
    breach = (
        Breach.objects.filter(agreement__provider__slug="customer-service")
        .order_by("-month")
        .first()
    )
    assert breach is not None, "the demo has a breach of Customer Service"
    if breach.status != Breach.Status.OPEN:
        # The month's count of open breaches counts it again.
        MonthTotals.objects.filter(month=breach.month).update(
            breaches_open=F("breaches_open") + 1
        )
    Breach.objects.filter(pk=breach.pk).update(
        status=Breach.Status.OPEN,
        acknowledged_by=None,
        acknowledged_at=None,
        resolved_by=None,
        resolved_at=None,
        note="",
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_by_keyboard(page, live_server, "service-head")

    tab_to(page, named("Dashboard", "a"), "Dashboard in the navigation")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/reports/dashboard/"))
    tab_to(page, to_href(rf"/reports/breaches/{breach.pk}/$"), "the breach's link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/reports/breaches/{breach.pk}/$"))

    tab_to(page, named("Note", "textarea"), "the acknowledgement's note")
    page.keyboard.type("Seen; the remedy is planned for next week.")
    tab_to(page, named("Acknowledge", "button"), "the Acknowledge button")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("toasts")).to_contain_text("acknowledged")
    breach.refresh_from_db()
    assert breach.status == Breach.Status.ACKNOWLEDGED
    assert breach.acknowledged_by.username == "service-head"
