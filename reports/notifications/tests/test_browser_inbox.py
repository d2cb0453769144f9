"""The bell and the inbox, in a real Chromium: a head hears that a proposal
awaits their signature, follows it, and the bell counts one fewer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agreements.tests.builders import proposed
from conftest import log_in
from reports.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_leads_to_the_inbox_and_its_notifications_to_their_pages(
    page: Page, live_server, marketing, sales, marketing_lead, sales_head, sales_lead,
    screenshot,
):  # fmt: skip
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    Notification.objects.create(
        recipient=sales_head,
        event=Notification.Event.REVIEW_DUE,
        key="review",
        text=f"“{agreement.title}” (Marketing → Sales) is due for review.",
        url=f"/agreements/{agreement.pk}/",
        agreement=agreement,
    )
    log_in(page, live_server, sales_head.username)
    bell = page.get_by_role("link", name="Notifications, 2 unread")
    expect(bell).to_be_visible()
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_text("Unread", exact=True)).to_have_count(2)
    screenshot("inbox")

    page.get_by_role("link", name=re.compile("the signature of Sales")).click()
    expect(page).to_have_url(re.compile(rf"/agreements/{agreement.pk}/$"))
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()

    page.get_by_role("link", name="Notifications, 1 unread").click()
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
    expect(page.get_by_text("Unread", exact=True)).to_have_count(0)
