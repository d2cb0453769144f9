"""A lead imports a helpdesk's CSV export in a real Chromium: maps its
columns, previews, imports, then follows the scorecard to the requests that
breached their time."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import Page, expect

from agreements import periods
from agreements.records.models import ServiceRequest
from conftest import log_in

from .builders import answers_agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Requests answered after this many minutes breach the three hours.
ANSWERED_AFTER = {"T-104": 240, "T-109": 300}


def helpdesk_export(month: dt.date) -> str:
    """Twelve requests of ``month``, in the helpdesk's words and Berlin's
    wall-clock time: two answered after more than three hours."""
    lines = ["Ticket ID,Created,First reply,Solved,Priority,Updated"]
    for n in range(101, 113):
        ticket = f"T-{n}"
        started = dt.datetime(month.year, month.month, 2 + n % 12, 10, 0)
        answered = started + dt.timedelta(minutes=ANSWERED_AFTER.get(ticket, 30))
        solved = answered + dt.timedelta(hours=1)
        lines.append(
            f"{ticket},{started:%Y-%m-%d %H:%M},{answered:%Y-%m-%d %H:%M},"
            f"{solved:%Y-%m-%d %H:%M},P2,{solved:%Y-%m-%d %H:%M}"
        )
    return "\n".join(lines) + "\n"


def test_a_lead_imports_a_helpdesk_export_and_finds_the_breached_requests(
    page: Page, live_server, service, sales, service_lead, sales_lead, screenshot
):
    # Last month, measured by an agreement signed the month before, on the
    # 2nd of this month: last month is closing, so a lead may still send its
    # records (once it locks, only a head may, with a reason).
    this_month = periods.current_month()
    month = periods.previous_month(this_month)
    start = periods.add_months(month, -1)
    closing = dt.datetime.combine(this_month.replace(day=2), dt.time(10), dt.UTC)
    helpdesk = service.record_sources.create(name="Helpdesk", kind="requests")
    with time_machine.travel(dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC)):
        agreement = answers_agreement(
            source=helpdesk,
            user=service_lead,
            other_signer=sales_lead,
            consumer=sales,
            title="Service answers Sales",
            effective_from=start,
        )
    with time_machine.travel(closing):
        log_in(page, live_server, "service-lead")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.goto(f"{live_server.url}/records/")
        page.get_by_role("link", name="Import CSV into Helpdesk").click()

        # Step 1: upload.
        page.get_by_label("CSV file").set_input_files(
            files=[
                {
                    "name": "helpdesk-export.csv",
                    "mimeType": "text/csv",
                    "buffer": helpdesk_export(month).encode(),
                }
            ]
        )
        page.get_by_role("button", name="Upload and map the columns").click()

        # Step 2: the columns, guessed from their names; times are Berlin's.
        expect(page.locator('[aria-current="step"]')).to_contain_text("Map columns")
        expect(page.get_by_label("Record id")).to_have_value("Ticket ID")
        expect(page.get_by_label("Started")).to_have_value("Created")
        expect(page.get_by_label("First response")).to_have_value("First reply")
        expect(page.get_by_label("Resolved")).to_have_value("Solved")
        expect(page.get_by_label("Segment")).to_have_value("Priority")
        expect(page.get_by_label("Last updated")).to_have_value("Updated")
        page.get_by_label("Time zone of times without an offset").select_option(
            "Europe/Berlin"
        )
        screenshot("records-import-columns")
        page.get_by_role("button", name="Preview the import").click()

        # Step 3: the preview, then the import.
        expect(page.get_by_test_id("import-ready")).to_contain_text(
            "12 records checked and ready to import"
        )
        expect(page.get_by_test_id("count-new")).to_have_text("12")
        months = page.get_by_test_id("months")
        expect(months).to_contain_text(periods.month_label(month))
        expect(months).to_contain_text("Europe/Berlin")
        assert not ServiceRequest.objects.exists()
        screenshot("records-import-preview")
        page.get_by_role("button", name="Import 12 records").click()

        expect(page.get_by_test_id("toasts")).to_contain_text(
            "Imported 12 records from helpdesk-export.csv: 12 new"
        )
        assert ServiceRequest.objects.filter(source=helpdesk).count() == 12
        screenshot("records-import-done")

        # The scorecard of the month counts them, and opens the breached ones.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role(
            "link", name=f"Scorecard, {periods.month_label(month)}"
        ).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(agreement.title)
        page.get_by_role("link", name="2 breached: see which").click()

        rows = page.locator("[data-request]")
        expect(rows).to_have_count(2)
        for ticket in ANSWERED_AFTER:
            expect(page.locator(f'[data-request="{ticket}"]')).to_be_visible()
        screenshot("records-evidence")
