"""Interactions in a real Chromium: filters that apply as they change,
confirmations before consequential actions, and toasts after a save."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from agreements.records.models import RecordSource
from agreements.tests.builders import proposed
from agreements.tests.factories import FrictionReportFactory
from conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_friction_filter_applies_as_it_changes_and_the_address_follows(
    page: Page, live_server, sales_manager, sales, service
):
    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, customer="Initech"
    )
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Globex",
        severity="critical",
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "sales-manager")
    page.goto(f"{live_server.url}/friction/")
    rows = page.get_by_test_id("friction-list").locator("tbody tr")
    expect(rows).to_have_count(2)
    # The button is for browsers without JavaScript.
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()

    page.get_by_label("Severity").select_option("critical")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Globex")
    expect(page).to_have_url(re.compile(r"severity=critical"))
    # The filter form itself was not replaced: the choice stays as made.
    expect(page.get_by_label("Severity")).to_have_value("critical")
    # The form's Clear link, outside the list, follows the filters too.
    clear = page.get_by_role("link", name="Clear")
    expect(clear).to_be_visible()

    # The address is shareable: opened afresh, it shows the same list.
    page.goto(page.url)
    expect(rows).to_have_count(1)

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"severity=critical"))


def test_clear_and_the_download_follow_a_live_filter(
    page: Page, live_server, sales_manager, marketing_lead, marketing, sales, service
):
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Globex",
        severity="critical",
    )
    log_in(page, live_server, "sales-manager")
    page.goto(f"{live_server.url}/friction/?severity=critical")
    page.get_by_role("link", name="Clear").click()
    expect(page).not_to_have_url(re.compile(r"severity="))
    expect(page.get_by_role("link", name="Clear")).to_have_count(0)
    page.get_by_label("Severity").select_option("critical")
    expect(page.get_by_role("link", name="Clear")).to_be_visible()
    page.get_by_label("Severity").select_option("")
    expect(page.get_by_role("link", name="Clear")).to_have_count(0)

    source = RecordSource.objects.create(
        team=marketing, name="HubSpot", kind=RecordSource.Kind.LEADS
    )
    page.context.clear_cookies()
    log_in(page, live_server, "marketing-lead")
    page.goto(live_server.url + reverse("records:records", args=[source.pk]))
    csv_link = page.get_by_test_id("csv-link")
    expect(csv_link).not_to_have_attribute("href", re.compile(r"q=Acme"))
    page.get_by_label("Search").fill("Acme")
    page.get_by_label("Search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=Acme"))
    # The download is of what is shown now, not of the page as first opened.
    expect(csv_link).to_have_attribute("href", re.compile(r"q=Acme"))


def test_a_search_applies_on_enter_without_a_button(
    page: Page, live_server, sales_manager, sales, service
):
    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, customer="Initech"
    )
    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, customer="Globex"
    )
    log_in(page, live_server, "sales-manager")
    page.goto(f"{live_server.url}/friction/")
    rows = page.get_by_test_id("friction-list").locator("tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Search").fill("Initech")
    page.get_by_label("Search").press("Enter")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=Initech"))


def test_signing_asks_first_and_cancel_posts_nothing(
    page: Page, live_server, marketing_lead, sales_lead, marketing, sales
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "sales-lead")
    page.goto(f"{live_server.url}{agreement.get_absolute_url()}")

    page.get_by_role("button", name="Sign for Sales").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("binding between Marketing and Sales")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not agreement.signatures.exists()

    page.get_by_role("button", name="Sign for Sales").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign for Sales").click()
    expect(page.get_by_test_id("signatures")).to_contain_text("Signed by")
    assert agreement.signatures.filter(team=sales).exists()


def test_a_save_is_told_in_a_toast_that_does_not_push_the_page_down(
    page: Page, live_server, marketing_lead, sales_lead, marketing, sales
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "sales-lead")
    page.goto(f"{live_server.url}{agreement.get_absolute_url()}")
    heading = page.get_by_role("heading", level=1)
    top_before = heading.bounding_box()["y"]

    page.get_by_role("button", name="Sign for Sales").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign for Sales").click()
    toast = page.get_by_test_id("toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Signed for Sales.")
    expect(toast).to_have_attribute("role", "status")
    expect(page.get_by_test_id("toasts")).to_have_attribute("aria-live", "polite")
    # The page starts where it did: the toast floats over it.
    assert heading.bounding_box()["y"] == top_before
    expect(page.get_by_role("alert")).to_have_count(0)


def test_the_editor_offers_only_the_units_that_fit_the_source(
    page: Page, live_server, marketing_lead, marketing, sales
):
    log_in(page, live_server, "marketing-lead")
    page.goto(f"{live_server.url}/agreements/new/")
    row = page.get_by_test_id("objective-row").first
    unit = row.get_by_label("Unit")

    row.get_by_label("Measured by").select_option("manual")
    unit.select_option("percent")
    expect(unit).to_have_value("percent")

    # A count is counted: the unit follows, and "%" is no longer offered.
    row.get_by_label("Measured by").select_option("qualified_leads")
    expect(unit).to_have_value("count")
    expect(unit.locator('option[value="percent"]')).to_be_disabled()

    row.get_by_label("Measured by").select_option("availability")
    expect(unit).to_have_value("percent")
    expect(unit.locator('option[value="count"]')).to_be_disabled()


def test_without_javascript_the_forms_still_work(
    browser, live_server, marketing_lead, sales_lead, marketing, sales
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "sales-lead")
        page.goto(f"{live_server.url}{agreement.get_absolute_url()}")
        # The request-changes dialog opens in the page through its link.
        page.get_by_role("button", name="Request changes").click()
        expect(page.locator("#request-changes-note")).to_be_visible()
        page.goto(f"{live_server.url}{agreement.get_absolute_url()}")
        # Signing posts at once: there is no dialog to confirm without JS.
        page.get_by_role("button", name="Sign for Sales").click()
        expect(page.get_by_test_id("signatures")).to_contain_text("Signed by")
        expect(page.get_by_test_id("toast")).to_contain_text("Signed for Sales.")
        assert agreement.signatures.filter(team=sales).exists()
        # A filter's button is shown and submits the form.
        page.goto(f"{live_server.url}/friction/")
        expect(page.get_by_role("button", name="Filter")).to_be_visible()
    finally:
        context.close()
