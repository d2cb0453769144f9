"""People hear of a friction report and talk it through, in a real
Chromium: the sales manager files one, the VP of Service's bell counts it,
he opens it from the inbox, assigns it and asks a question, and the sales
manager finds the question in her own inbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agreements.models import FrictionReport, Membership
from conftest import log_in, make_member
from reports.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_report_filed_is_heard_of_assigned_and_answered_through_the_inbox(
    page: Page, live_server, chain, sales, service, sales_manager, service_head,
    mailoutbox, screenshot, eager,
):  # fmt: skip
    # Emails sent in the process, whether or not Redis is configured: set on
    # Celery's own configuration (``eager``), which an earlier test may have
    # read from the settings already.
    make_member(
        "service-agent",
        service,
        Membership.Role.MEMBER,
        first_name="Dana",
        last_name="Reed",
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "service-head")
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()

    log_in(page, live_server, "sales-manager")
    page.get_by_role("navigation").get_by_role("link", name="Friction").click()
    page.get_by_role("link", name="File a report").click()
    page.get_by_label("Customer").fill("Hooli Europe")
    page.get_by_label("Category").select_option(label="Billing")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Description").fill(
        "Their invoice lists seats they cancelled in January."
    )
    page.get_by_role("button", name="File the report").click()
    expect(page.get_by_test_id("toasts")).to_contain_text("Report filed")
    report = FrictionReport.objects.get(customer="Hooli Europe")

    # The head's bell counts it; a high report is emailed at once.
    log_in(page, live_server, "service-head")
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    (email,) = [m for m in mailoutbox if "Hooli Europe" in m.body]
    assert email.to[0].endswith(f"<{service_head.email}>")
    bell.click()
    page.get_by_role("link", name=re.compile("high-severity friction report")).click()
    expect(page).to_have_url(re.compile(rf"/friction/{report.pk}/$"))
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()

    assignment = page.get_by_test_id("assign-form")
    assignment.get_by_label("Assigned to").select_option(label="Dana Reed")
    assignment.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("assignee")).to_have_text("Dana Reed")
    reply = page.get_by_test_id("reply-form")
    reply.get_by_label("Comment").fill("Which invoice numbers are affected?")
    reply.get_by_role("button", name="Add comment").click()
    expect(page.get_by_test_id("timeline")).to_contain_text(
        "Which invoice numbers are affected?"
    )

    # The reporter hears of the question in her inbox.
    log_in(page, live_server, "sales-manager")
    page.get_by_role("link", name=re.compile(r"Notifications, \d+ unread")).click()
    question = page.get_by_role("link", name=re.compile("Which invoice numbers"))
    expect(question).to_be_visible()
    screenshot("inbox-reply")
    question.click()
    expect(page).to_have_url(re.compile(rf"/friction/{report.pk}/$"))
    # The assignee heard of it too, once.
    assigned = Notification.objects.filter(
        recipient__username="service-agent", event=Notification.Event.FRICTION_ASSIGNED
    )
    assert assigned.count() == 1
