"""A leads source imports a CRM's export as it is: a HubSpot contacts export
or a Salesforce leads report is recognised, its dates read in one format a
person confirms, its qualified leads counted by a rule kept with the
source, and the preview counts each month's leads before anything is
written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.records.models import Lead
from reports.selectors import scorecard_for
from reports.tests.builders import leads_agreement

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent / "fixtures"
EXPORTS = Path(__file__).parents[2] / "imports" / "tests" / "fixtures"
HUBSPOT = (HERE / "hubspot-contacts-2026-03-02.csv").read_text(encoding="utf-8")
FEBRUARY, MARCH = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
SEPTEMBER, OCTOBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
# 2 March 2026: February still open (it locks on the 3rd), March running.
MARCH_2 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
# 2 October 2026, for the Salesforce reports of late September and October.
OCTOBER_2 = dt.datetime(2026, 10, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _utc(settings):
    """Months and times without an offset in UTC, whatever the machine's."""
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def march():
    with time_machine.travel(MARCH_2, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(client, marketing_lead):
    client.force_login(marketing_lead)
    return marketing_lead


def upload(client, source, data: bytes, name: str = "export.csv"):
    return client.post(
        reverse("records:import", args=[source.pk]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def columns_page(client, source, data: bytes):
    """Upload ``data``: the columns page, as proposed."""
    response = upload(client, source, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    page = client.get(response.url)
    assert page.status_code == 200
    return page


def as_proposed(page, **changes) -> dict[str, str]:
    """The columns form's values as the page proposes them, with
    ``changes``."""
    form = page.context["form"]
    return {
        **{name: form[name].value() or "" for name in form.fields},
        **changes,
    }


def preview(client, source, data: bytes, **changes):
    """Upload, confirm the proposed columns (with ``changes``): the preview."""
    page = columns_page(client, source, data)
    response = client.post(page.wsgi_request.path, as_proposed(page, **changes))
    assert response.status_code == 302, response.context["form"].errors
    return client.get(response.url)


def months(response) -> dict[dt.date, tuple[int, ...]]:
    """Per month: leads, new, updated, unchanged, qualified."""
    return {
        item.month: (
            item.leads,
            item.report.created,
            item.report.updated,
            item.report.unchanged,
            item.qualified,
        )
        for item in response.context["lead_months"]
    }


def imported(client, page):
    response = client.post(page.wsgi_request.path)
    assert response.status_code == 302, page.context["errors"]
    return response


# --- HubSpot ---------------------------------------------------------------------


def test_a_hubspot_export_is_recognised_and_its_columns_mapped(
    client, lead, crm, march
):
    page = columns_page(client, crm, HUBSPOT.encode())
    assert "Recognised: <strong>HubSpot contacts export</strong>" in (
        page.content.decode()
    )
    # While the preview is asked, the page says what it waits for.
    rows = HUBSPOT.strip().count("\n")
    assert f'data-busy="Checking {rows} rows: the preview follows' in (
        page.content.decode()
    )
    proposed = as_proposed(page)
    assert {
        name: proposed[name]
        for name in (
            "external_id",
            "started_at",
            "owner",
            "email",
            "first_name",
            "last_name",
            "company",
            "status",
            "stage",
            "qualified_at",
            "updated_at",
        )
    } == {
        "external_id": "Record ID",
        "started_at": "Create Date",
        "owner": "Contact owner",
        "email": "Email",
        "first_name": "First Name",
        "last_name": "Last Name",
        "company": "Associated Company",
        "status": "Lead Status",
        "stage": "Lifecycle Stage",
        "qualified_at": "Became a Marketing Qualified Lead Date",
        "updated_at": "Last Activity Date",
    }
    # Only ISO dates with times read every date; an example is shown.
    assert [key for key, _ in page.context["form"].fields["date_format"].choices] == [
        "iso-datetime"
    ]
    assert "2026-02-10 09:14 is 10 February 2026, 09:14" in page.content.decode()
    # Qualified: a date in the MQL column.
    assert proposed["qualified_column"] == "Became a Marketing Qualified Lead Date"
    assert proposed["qualified_values"] == ""


def test_a_hubspot_export_is_previewed_by_month_then_counted_on_the_scorecard(
    client, lead, crm, marketing, sales, march
):
    delivery = leads_agreement(marketing, sales)
    page = preview(client, crm, HUBSPOT.encode())
    assert page.status_code == 200
    assert page.context["errors"] == []
    # Hand-counted: 2001, 2002, 2003 handed over in February (2001 and 2003
    # with an MQL date), 2004 and 2005 in March (2005 qualified).
    assert months(page) == {FEBRUARY: (3, 3, 0, 0, 2), MARCH: (2, 2, 0, 0, 1)}
    assert not Lead.objects.exists()

    imported(client, page)
    assert Lead.objects.count() == 5
    chloe = Lead.objects.get(external_id="2003")
    assert (chloe.name, chloe.company, chloe.stage, chloe.status, chloe.owner) == (
        "Chloé Durand",
        "Café Crème SARL",
        "salesqualifiedlead",
        "IN_PROGRESS",
        "Tom Reyes",
    )
    assert chloe.qualified
    assert chloe.started_at == dt.datetime(2026, 2, 28, 8, 0, tzinfo=dt.UTC)
    assert chloe.qualified_at == dt.datetime(2026, 2, 28, 9, 0, tzinfo=dt.UTC)
    assert chloe.updated_at == dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    assert chloe.raw["Associated Company"] == "Café Crème SARL"
    assert len(chloe.raw) == 11
    # A lead without a last activity is updated at the import.
    assert Lead.objects.get(external_id="2002").updated_at == MARCH_2

    # The mapping and its rules are kept for the next file.
    crm.refresh_from_db()
    assert crm.column_mapping["date_format"] == "iso-datetime"
    assert crm.column_mapping["qualified_column"] == (
        "Became a Marketing Qualified Lead Date"
    )
    february = scorecard_for(delivery, FEBRUARY)
    delivered, qualified = (line.outcome.actual for line in february.lines)
    assert (delivered, qualified) == (Decimal(3), Decimal(2))


@pytest.mark.parametrize(
    "encoded",
    [
        HUBSPOT.encode(),
        HUBSPOT.encode("utf-8-sig"),
        HUBSPOT.encode("cp1252"),
        HUBSPOT.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["same", "bom", "cp1252", "crlf"],
)
def test_the_same_leads_imported_again_are_all_unchanged(
    client, lead, crm, march, encoded
):
    imported(client, preview(client, crm, HUBSPOT.encode()))
    kept = {lead.external_id: lead.updated_at for lead in Lead.objects.all()}
    march.shift(dt.timedelta(hours=1))

    page = preview(client, crm, encoded)
    # The saved mapping was offered again: no question needed.
    assert months(page) == {FEBRUARY: (3, 0, 0, 3, 2), MARCH: (2, 0, 0, 2, 1)}
    imported(client, page)
    assert {lead.external_id: lead.updated_at for lead in Lead.objects.all()} == kept
    assert all(lead.history.count() == 1 for lead in Lead.objects.all())


def test_a_lead_whose_row_changed_is_updated(client, lead, crm, march):
    imported(client, preview(client, crm, HUBSPOT.encode()))
    march.shift(dt.timedelta(hours=1))
    changed = HUBSPOT.replace('"lead","OPEN"', '"lead","CONNECTED"', 1)

    page = preview(client, crm, changed.encode())
    assert months(page) == {FEBRUARY: (3, 0, 1, 2, 2), MARCH: (2, 0, 0, 2, 1)}
    imported(client, page)
    bjorn = Lead.objects.get(external_id="2002")
    assert bjorn.status == "CONNECTED"
    assert bjorn.updated_at == MARCH_2 + dt.timedelta(hours=1)


def test_a_newer_export_overlapping_the_first_adds_only_what_is_new(
    client, lead, crm, march
):
    """The next day's export holds 2003 to 2007: 2003 moved on (an SQL
    became an opportunity), 2004 and 2005 are as they were, 2006 and 2007
    are new, and 2007 shares an address with 2006 (two CRM records, two
    leads)."""
    imported(client, preview(client, crm, HUBSPOT.encode()))
    march.shift(dt.timedelta(days=1))
    header, *rows = HUBSPOT.strip().split("\n")
    newer = [
        rows[2]
        .replace('"salesqualifiedlead","IN_PROGRESS"', '"opportunity","OPEN_DEAL"')
        .replace('"2026-03-01 10:00"', '"2026-03-03 11:00"'),
        rows[3],
        rows[4],
        '"2006","Fay","Wu","fay@example.com","Mia Park","Wu Ltd","lead","NEW",'
        '"2026-03-03 08:00","",""',
        '"2007","Fay","Wu","fay@example.com","Mia Park","Wu Ltd","lead","NEW",'
        '"2026-03-03 08:05","",""',
    ]
    page = preview(client, crm, "\n".join([header, *newer]).encode())
    # Per month: leads, new, updated, unchanged, qualified.
    assert months(page) == {FEBRUARY: (1, 0, 1, 0, 1), MARCH: (4, 2, 0, 2, 1)}
    imported(client, page)
    assert Lead.objects.count() == 7
    chloe = Lead.objects.get(external_id="2003")
    assert (chloe.stage, chloe.history.count()) == ("opportunity", 2)
    assert Lead.objects.get(external_id="2001").history.count() == 1
    march_leads = Lead.objects.counted().filter(month=MARCH)
    assert march_leads.count() == 4


def test_qualified_by_lifecycle_stage_is_kept_for_the_next_file(
    client, lead, crm, march
):
    stages = "Marketing Qualified Lead\nSales Qualified Lead\nOpportunity\nCustomer"
    page = preview(
        client,
        crm,
        HUBSPOT.encode(),
        qualified_column="Lifecycle Stage",
        qualified_values=stages,
    )
    # 2001 (MQL), 2003 (SQL), 2005 (opportunity), by HubSpot's internal names.
    assert months(page) == {FEBRUARY: (3, 3, 0, 0, 2), MARCH: (2, 2, 0, 0, 1)}
    imported(client, page)
    assert set(Lead.objects.filter(qualified=True).values_list("external_id")) == {
        ("2001",),
        ("2003",),
        ("2005",),
    }
    again = as_proposed(columns_page(client, crm, HUBSPOT.encode()))
    assert again["qualified_column"] == "Lifecycle Stage"
    assert again["qualified_values"] == stages


# --- Salesforce ------------------------------------------------------------------


def test_a_salesforce_report_in_german_with_its_footer(client, lead, crm):
    report = (EXPORTS / "salesforce-leads-classic-de.csv").read_bytes()
    with time_machine.travel(OCTOBER_2, tick=False):
        page = columns_page(client, crm, report)
        assert "Salesforce leads report" in page.content.decode()
        proposed = as_proposed(page)
        assert (proposed["external_id"], proposed["started_at"]) == (
            "Lead ID",
            "Create Date",
        )
        assert proposed["date_format"] == "german"
        assert proposed["qualified_column"] == "Lead Status"
        page = preview(client, crm, report)
        # Zoë on 1 October, René on 30 September; neither is working.
        assert months(page) == {SEPTEMBER: (1, 1, 0, 0, 0), OCTOBER: (1, 1, 0, 0, 0)}
        imported(client, page)
    rene = Lead.objects.get(external_id="00Q1t00000XyZaC")
    assert (rene.name, rene.company, rene.owner) == (
        "René Weiß",
        "Müller & Söhne GmbH",
        "Jürgen Müller",
    )
    assert rene.started_at == dt.datetime(2026, 9, 30, 8, 15, tzinfo=dt.UTC)
    # The footer is no lead.
    assert Lead.objects.count() == 2


def test_a_salesforce_lightning_report_counts_working_leads_as_qualified(
    client, lead, crm
):
    report = (EXPORTS / "salesforce-leads-lightning.csv").read_bytes()
    with time_machine.travel(OCTOBER_2, tick=False):
        page = columns_page(client, crm, report)
        # Month first and day first both read 10/1/2026 and 9/8/2026.
        assert [k for k, _ in page.context["form"].fields["date_format"].choices] == [
            "us",
            "day-first",
        ]
        page = preview(client, crm, report)
        # José (Working - Contacted) and Lena (Closed - Converted) on
        # 8 September; Ann (Open - Not Contacted) on 1 October.
        assert months(page) == {SEPTEMBER: (2, 2, 0, 0, 2), OCTOBER: (1, 1, 0, 0, 0)}


# --- Refused ---------------------------------------------------------------------


def test_a_date_in_another_format_is_its_rows_problem_and_nothing_is_written(
    client, lead, crm, march
):
    wrong = HUBSPOT.replace('"2026-02-27 23:59"', '"27.02.2026 23:59"')
    page = preview(client, crm, wrong.encode())
    [error] = page.context["errors"]
    assert (error.row, error.column) == (3, "Create Date")
    assert "27.02.2026 23:59" in error.message
    assert page.context["lead_months"] == []
    response = client.post(page.wsgi_request.path)
    assert response.status_code == 400
    assert not Lead.objects.exists()
    crm.refresh_from_db()
    assert crm.column_mapping is None


def test_a_lead_without_an_id_is_refused(client, lead, crm, march):
    missing = HUBSPOT.replace('"2004","Dan"', '"","Dan"')
    page = preview(client, crm, missing.encode())
    [error] = page.context["errors"]
    assert (error.row, error.column) == (5, "Record ID")
    assert "no id" in error.message
    client.post(page.wsgi_request.path)
    assert not Lead.objects.exists()


def test_a_date_handed_over_must_be_mapped(client, lead, crm, march):
    page = columns_page(client, crm, HUBSPOT.encode())
    response = client.post(page.wsgi_request.path, as_proposed(page, started_at=""))
    assert response.status_code == 400
    assert response.context["form"].errors["started_at"] == [
        "Choose the column that holds the date handed over: every record needs one."
    ]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((EXPORTS / "leads.xlsx").read_bytes(), "Excel workbook or zip"),
        (b"PK\x03\x04 anything zipped", "Excel workbook or zip"),
        (b"\x00\x01\x02binary", "This is not a CSV file"),
    ],
)
def test_a_workbook_or_binary_file_is_refused(client, lead, crm, data, message):
    response = upload(client, crm, data)
    assert response.status_code == 400
    [error] = response.context["errors"]
    assert message in error.message
    assert not Lead.objects.exists()


def test_an_outsider_cannot_import_leads(client, outsider, crm):
    client.force_login(outsider)
    response = upload(client, crm, HUBSPOT.encode())
    assert response.status_code == 404
    assert not Lead.objects.exists()
