"""The marketing lead imports the CRM's HubSpot contacts export in a real
Chromium: the export is recognised, its preset columns and date format
taken, the month's new and qualified leads previewed, then imported; the
source's records page lists the leads, the Lead delivery scorecard counts
them, and the same file again changes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import Page, expect

from agreements import periods
from agreements.records.models import Lead, RecordSource
from conftest import log_in
from reports.tests.builders import leads_agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Handed over on these days of the month; the ones with a date in the MQL
# column are qualified.
LEADS = [
    ("3001", "Ann", "Lee", "ann@example.com", 2, True),
    ("3002", "Björn", "Öberg", "bjorn@example.se", 3, False),
    ("3003", "Chloé", "Durand", "chloe@example.fr", 4, True),
    ("3004", "Dan", "Ek", "dan@example.com", 5, False),
    ("3005", "Eve", "Moss", "eve@example.com", 6, True),
]
QUALIFIED = sum(qualified for *_, qualified in LEADS)


def hubspot_export(month: dt.date) -> str:
    """A HubSpot contacts export of ``month``'s leads, as HubSpot writes it."""
    lines = [
        '"Record ID","First Name","Last Name","Email","Contact owner",'
        '"Associated Company","Lifecycle Stage","Lead Status","Create Date",'
        '"Became a Marketing Qualified Lead Date","Last Activity Date"'
    ]
    for external_id, first, last, email, day, qualified in LEADS:
        created = dt.datetime(month.year, month.month, day, 9, 0)
        mql = f"{created + dt.timedelta(hours=1):%Y-%m-%d %H:%M}" if qualified else ""
        stage = "marketingqualifiedlead" if qualified else "lead"
        lines.append(
            f'"{external_id}","{first}","{last}","{email}","Mia Park","Acme",'
            f'"{stage}","NEW","{created:%Y-%m-%d %H:%M}","{mql}",""'
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _utc(settings):
    """The file's times and the months in UTC, whatever the machine's."""
    settings.TIME_ZONE = "UTC"


def upload(page: Page, live_server, text: str) -> None:
    """From the records page to the columns step of the CRM's import."""
    page.goto(f"{live_server.url}/records/")
    page.get_by_role("link", name="Import CSV into CRM").click()
    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "hubspot-contacts.csv",
                "mimeType": "text/csv",
                "buffer": text.encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.locator('[aria-current="step"]')).to_contain_text("Map columns")


def month_row(page: Page, month: dt.date):
    """The preview's cells for ``month``: month, leads, new, updated,
    unchanged, stale, qualified."""
    row = page.get_by_test_id("lead-months").locator(
        f'tr[data-month="{periods.format_month(month)}"]'
    )
    expect(row).to_be_visible()
    return row.locator("td")


def test_the_marketing_lead_imports_a_hubspot_export_and_finds_its_leads_counted(
    page: Page, live_server, marketing, sales, marketing_lead, screenshot
):
    month = periods.current_month()
    # Late in the month, after every lead of the file was handed over.
    later = dt.datetime.combine(month.replace(day=20), dt.time(10), dt.UTC)
    crm = RecordSource.objects.create(
        team=marketing, name="CRM", kind=RecordSource.Kind.LEADS
    )
    delivery = leads_agreement(marketing, sales)
    export = hubspot_export(month)
    with time_machine.travel(later):
        log_in(page, live_server, "marketing-lead")
        page.set_viewport_size({"width": 1280, "height": 900})
        upload(page, live_server, export)

        # Recognised, its columns and date format proposed: taken as they are.
        expect(page.get_by_test_id("recognised")).to_contain_text(
            "HubSpot contacts export"
        )
        expect(page.get_by_label("CRM id")).to_have_value("Record ID")
        expect(page.get_by_label("Date handed over")).to_have_value("Create Date")
        expect(page.get_by_label("Email")).to_have_value("Email")
        expect(page.get_by_label("Dates are written")).to_have_value("iso-datetime")
        page.get_by_role("button", name="Preview the import").click()

        # The preview counts the month's leads, new and qualified.
        expect(page.get_by_test_id("import-ready")).to_contain_text(
            "5 records checked and ready to import"
        )
        cells = month_row(page, month)
        expect(cells.nth(0)).to_have_text(periods.month_label(month))
        expect(cells.nth(1)).to_have_text(str(len(LEADS)))
        expect(cells.nth(2)).to_have_text(str(len(LEADS)))  # new
        expect(cells.nth(6)).to_have_text(str(QUALIFIED))
        assert not Lead.objects.exists()
        page.get_by_role("button", name="Import 5 records").click()
        expect(page.get_by_test_id("toasts")).to_contain_text(
            "Imported 5 records from hubspot-contacts.csv: 5 new"
        )
        assert Lead.objects.filter(source=crm, qualified=True).count() == QUALIFIED

        # The source's records page lists them, this month's by default.
        page.goto(f"{live_server.url}/records/")
        page.get_by_test_id("records-link").filter(has_text="CRM").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("CRM")
        rows = page.get_by_test_id("records").locator("tbody tr")
        expect(rows).to_have_count(len(LEADS))
        ann = page.locator('[data-record="3001"]')
        expect(ann).to_contain_text("Ann Lee")
        expect(ann).to_contain_text("ann@example.com")
        ann.get_by_test_id("history").locator("summary").click()
        expect(ann.get_by_test_id("history")).to_contain_text("created by")
        screenshot("lead-records")

        # The Lead delivery scorecard counts the CRM's leads.
        page.goto(f"{live_server.url}/reports/agreements/{delivery.pk}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Lead delivery")
        delivered = page.locator('[data-objective="Leads delivered"] td').nth(2)
        # The actual comes first, then the pace.
        expect(delivered).to_have_text(re.compile(rf"^\s*{len(LEADS)}\b"))
        qualified = page.locator('[data-objective="Qualified leads"] td').nth(2)
        expect(qualified).to_have_text(re.compile(rf"^\s*{QUALIFIED}\b"))

        # The same file again: the source's columns, every lead unchanged.
        upload(page, live_server, export)
        page.get_by_role("button", name="Preview the import").click()
        cells = month_row(page, month)
        expect(cells.nth(2)).to_have_text("0")  # new
        expect(cells.nth(3)).to_have_text("0")  # updated
        expect(cells.nth(4)).to_have_text(str(len(LEADS)))  # unchanged
        expect(page.get_by_test_id("count-unchanged")).to_have_text(str(len(LEADS)))
        screenshot("lead-import-again")
