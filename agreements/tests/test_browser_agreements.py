"""An agreement from first draft to active, in a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agreements import periods
from agreements.models import Agreement
from agreements.tests.builders import active
from conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_objective(page: Page, index: int, **values: str) -> None:
    for name, value in values.items():
        field = page.locator(f'[name="objectives-{index}-{name}"]')
        if name in ("metric_source", "comparator", "unit"):
            field.select_option(value)
        else:
            field.fill(value)


def test_draft_propose_and_sign_until_active(
    page: Page, live_server, marketing_lead, sales_lead, service, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "marketing-lead")
    page.get_by_role("navigation").get_by_role("link", name="Agreements").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("No agreements yet.")
    page.get_by_role("link", name="Draft the first agreement").click()

    page.get_by_label("Title").fill("Qualified leads for Sales")
    page.get_by_label("Provider").select_option(label="Marketing")
    page.get_by_label("Consumer").select_option(label="Sales")
    page.get_by_label("Summary").fill(
        "Marketing hands Sales a steady flow of qualified leads."
    )
    page.get_by_label("In force from").fill(periods.current_month().isoformat())
    page.get_by_label("In words").fill(
        "A shortfall is made up the next month; two misses in a row go to the "
        "head of Marketing."
    )
    fill_objective(
        page, 0, name="Qualified leads", metric_source="qualified_leads", target="200"
    )

    # The second objective comes from the server through htmx.
    page.get_by_role("button", name="+ Add objective").click()
    expect(page.get_by_test_id("objective-row")).to_have_count(2)
    fill_objective(
        page,
        1,
        name="Lead follow-up time",
        metric_source="manual",
        comparator="at_most",
        target="4",
        unit="hours",
        weight="2",
        warning_threshold="3",
    )
    # A third row, added and removed again, is not saved.
    page.get_by_role("button", name="+ Add objective").click()
    expect(page.get_by_test_id("objective-row")).to_have_count(3)
    fill_objective(page, 2, name="Not this one", metric_source="manual", target="1")
    page.get_by_test_id("objective-row").nth(2).get_by_role(
        "button", name="Remove objective"
    ).click()
    expect(page.get_by_test_id("objective-row-removed")).to_contain_text(
        "“Not this one” will be removed when you save."
    )
    page.get_by_role("button", name="Save draft").click()

    expect(
        page.get_by_role("heading", name="Qualified leads for Sales")
    ).to_be_visible()
    expect(page.locator("h1 .sp-status")).to_have_text("Draft")
    objectives = page.get_by_test_id("objectives")
    expect(objectives).to_contain_text("Qualified leads")
    expect(objectives).to_contain_text("at most 4 hours")
    expect(objectives).not_to_contain_text("Not this one")
    agreement = Agreement.objects.get()
    detail_url = f"{live_server.url}{agreement.get_absolute_url()}"

    page.get_by_role("button", name="Propose for signature").click()
    page.get_by_role("dialog").get_by_role(
        "button", name="Propose for signature"
    ).click()
    expect(page.locator("h1 .sp-status")).to_have_text("Proposed")
    expect(page.get_by_test_id("toasts")).to_contain_text("Proposed for signature")

    log_in(page, live_server, "sales-lead")
    page.goto(detail_url)
    page.get_by_role("button", name="Sign for Sales").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign for Sales").click()
    expect(page.get_by_test_id("toasts")).to_contain_text(
        "It becomes active when the other team signs."
    )
    expect(page.get_by_role("button", name="Sign for Sales")).to_have_count(0)

    log_in(page, live_server, "marketing-lead")
    page.goto(detail_url)
    page.get_by_role("button", name="Sign for Marketing").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign for Marketing").click()
    # Signed by both, and its start date has come: in force.
    expect(page.locator("h1 .sp-status")).to_have_text("In force")
    signatures = page.get_by_test_id("signatures")
    expect(signatures).to_contain_text(f"Signed by {marketing_lead.get_full_name()}")
    expect(signatures).to_contain_text(f"Signed by {sales_lead.get_full_name()}")
    expect(page.get_by_test_id("history")).to_contain_text(
        "Signed by both parties: active"
    )
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    assert list(agreement.objectives.values_list("name", flat=True)) == [
        "Qualified leads",
        "Lead follow-up time",
    ]
    screenshot("agreement-detail")


def test_a_bad_objective_is_shown_on_its_row(
    page: Page, live_server, marketing_lead, sales, screenshot
):
    log_in(page, live_server, "marketing-lead")
    page.goto(f"{live_server.url}/agreements/new/")
    page.get_by_label("Title").fill("Leads")
    page.get_by_label("Consumer").select_option(label="Sales")
    page.get_by_label("In force from").fill(periods.current_month().isoformat())
    page.get_by_label("In words").fill("Make it up.")
    fill_objective(page, 0, name="Uptime", metric_source="manual", unit="percent")
    fill_objective(page, 0, target="120")
    # Saved with Enter in a field, as many people do: a click on the sticky
    # "Save draft" card was now and then lost on a loaded machine while the
    # page settled, and no request went out. Then wait for the server's
    # answer itself.
    with page.expect_response(
        lambda response: response.request.method == "POST", timeout=60_000
    ):
        page.get_by_label("Title").press("Enter")
    expect(page.get_by_test_id("not-saved")).to_be_visible()
    expect(page.get_by_test_id("objective-row")).to_contain_text(
        "A percentage target cannot be over 100."
    )
    screenshot("agreement-editor-error")
    assert not Agreement.objects.exists()


def test_chain_diagram_links_to_each_agreement(
    page: Page,
    live_server,
    marketing_lead,
    sales_lead,
    service_head,
    marketing,
    sales,
    service,
    screenshot,
):
    links = [
        ("Qualified leads for Sales", marketing, sales, marketing_lead, sales_lead),
        ("Lead follow-up within 4 hours", sales, marketing, sales_lead, marketing_lead),
        ("Customer handover with notes", sales, service, sales_lead, service_head),
        ("Onboarding within 14 days", service, sales, service_head, sales_lead),
    ]
    for title, provider, consumer, lead, other in links:
        active(
            user=lead,
            other_signer=other,
            provider=provider,
            consumer=consumer,
            title=title,
        )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "sales-lead")
    page.get_by_role("navigation").get_by_role("link", name="Chain").click()
    diagram = page.get_by_test_id("chain")
    for title, *_ in links:
        expect(diagram.locator("text", has_text=title)).to_be_visible()
    screenshot("chain-diagram")

    diagram.locator(".chain-link text", has_text="Onboarding within 14 days").click()
    expect(page).to_have_url(re.compile(r"/agreements/\d+/$"))
    expect(
        page.get_by_role("heading", name="Onboarding within 14 days")
    ).to_be_visible()
