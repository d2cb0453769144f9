"""A friction report talked through by both teams in a real Chromium: the
VP of Service assigns it, sets a due date and asks a question as he
acknowledges it; the sales manager who filed it replies."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from agreements import periods
from agreements.friction.services import friction_report_create
from agreements.models import FrictionComment, FrictionReport, Membership
from agreements.tests.factories import FrictionReportFactory
from conftest import log_in, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_head_assigns_and_asks_and_the_reporter_replies(
    page: Page,
    live_server,
    chain,
    sales,
    service,
    sales_manager,
    service_head,
    screenshot,
):
    sales_manager.first_name, sales_manager.last_name = "Priya", "Nair"
    sales_manager.save()
    service_head.first_name, service_head.last_name = "Victor", "Hale"
    service_head.save()
    make_member(
        "service-agent",
        service,
        Membership.Role.MEMBER,
        first_name="Dana",
        last_name="Reed",
    )
    report = friction_report_create(
        reporting_team=sales,
        user=sales_manager,
        customer="Hooli Europe",
        category=FrictionReport.Category.BILLING,
        severity=FrictionReport.Severity.HIGH,
        description="Their invoice lists seats they cancelled in January.",
    )
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        created_by=sales_manager,
        customer="Initech",
        severity=FrictionReport.Severity.LOW,
    )
    due = periods.today() + dt.timedelta(days=7)
    page.set_viewport_size({"width": 1280, "height": 900})

    log_in(page, live_server, "service-head")
    waiting = page.get_by_test_id("friction-waiting")
    # The high one comes first, its severity in words.
    expect(waiting.get_by_role("link").first).to_contain_text("Hooli Europe")
    expect(waiting.get_by_role("link").first).to_contain_text("High")
    waiting.get_by_role("link", name=re.compile("Hooli Europe")).click()

    assignment = page.get_by_test_id("assign-form")
    assignment.get_by_label("Assigned to").select_option(label="Dana Reed")
    assignment.get_by_label("Due by").fill(due.isoformat())
    assignment.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("assignee")).to_have_text("Dana Reed")
    expect(page.get_by_test_id("due-date")).to_contain_text(f"{due:%b %Y}")
    screenshot("friction-head-view")

    reply = page.get_by_test_id("reply-form")
    expect(reply.locator("textarea")).to_have_count(1)
    reply.get_by_label("Comment").fill("Which invoice numbers are affected?")
    reply.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("h1 .sp-status")).to_have_text("Acknowledged")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text(
        "Victor Hale (Customer Service) assigned it to Dana Reed"
    )
    expect(timeline).to_contain_text("Which invoice numbers are affected?")

    log_in(page, live_server, "sales-manager")
    page.get_by_role("navigation").get_by_role("link", name="Friction").click()
    rows = page.get_by_test_id("friction-list").locator("tbody tr")
    expect(rows.first).to_contain_text("Hooli Europe")
    expect(rows.first).to_contain_text("Dana Reed")
    screenshot("friction-list")
    rows.first.get_by_role("link", name="Hooli Europe").click()

    expect(page.get_by_test_id("assign-form")).to_have_count(0)
    reply = page.get_by_test_id("reply-form")
    expect(reply.get_by_role("button", name="Acknowledge")).to_have_count(0)
    reply.get_by_label("Comment").fill("INV-2041 and INV-2042.")
    reply.get_by_role("button", name="Add comment").click()
    expect(page.get_by_test_id("toasts")).to_contain_text("Comment added")
    mine = page.get_by_test_id("timeline").locator('[data-side="reporting"]').last
    expect(mine).to_contain_text("Priya Nair (Sales) commented")
    expect(mine).to_contain_text("INV-2041 and INV-2042.")
    screenshot("friction-conversation")

    comments = FrictionComment.objects.filter(report=report).order_by("pk")
    assert [(c.author, c.team) for c in comments] == [
        (service_head, service),
        (sales_manager, sales),
    ]
    report.refresh_from_db()
    assert report.assigned_to.username == "service-agent"
    assert report.due_date == due
