"""The CSV import pages: template, upload, preview with every problem, and
all-or-nothing confirmation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.figures.imports import COLUMNS, MAX_ROWS, ImportKind
from agreements.figures.imports import views as import_views
from agreements.models import ClosedCustomer, LeadLogEntry
from agreements.records.models import ImportBatch
from agreements.tests.moments import local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

PAGE = reverse("figures:import", args=["marketing", "lead_log"])
CUSTOMERS_PAGE = reverse("figures:import", args=["sales", "closed_customers"])


def csv_file(*lines: str, name: str = "leads.csv", raw: bytes | None = None):
    data = raw if raw is not None else ("\r\n".join(lines) + "\r\n").encode()
    return SimpleUploadedFile(name, data, content_type="text/csv")


GOOD = (
    "date,leads_delivered,qualified_leads,source,note",
    "2026-03-02,40,12,Spring webinar,",
    "2026-03-03,25,,Ads,<b>bold</b> claims",
)


def written() -> tuple:
    return (
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
    )


def upload(client, *lines: str, page: str = PAGE, **kwargs):
    return client.post(page, {"file": csv_file(*lines, **kwargs)})


def confirm(client, response, page: str = PAGE):
    return client.post(page, {"upload": response.context["upload"]})


@pytest.fixture
def lead(client, marketing_lead):
    client.force_login(marketing_lead)
    return marketing_lead


# --- The page -----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ImportKind))
def test_the_template_is_a_csv_download(client, marketing_lead, kind):
    client.force_login(marketing_lead)
    response = client.get(reverse("figures:import_template", args=[kind.value]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{kind}.csv"'
    header = response.content.decode().splitlines()[0]
    assert header == ",".join(c.name for c in COLUMNS[kind])


def test_the_page_documents_every_column(client, lead):
    page = client.get(PAGE).content.decode()
    for column in COLUMNS[ImportKind.LEAD_LOG]:
        assert f"<code>{column.name}</code>" in page
        assert column.help in page
    assert reverse("figures:import_template", args=["lead_log"]) in page
    assert f"At most {MAX_ROWS} rows" in page


PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_import_matrix(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    expected = {
        "marketing_lead": (200, 200),
        "sales_lead": (403, 403),
        "sales_manager": (403, 403),
        "executive": (403, 403),
        "service_head": (404, 404),
        "outsider": (404, 404),
    }[persona]
    assert client.get(PAGE).status_code == expected[0]
    response = upload(client, *GOOD)
    assert response.status_code == expected[1]
    if response.status_code == 200:
        confirm(client, response)
    assert LeadLogEntry.objects.count() == (2 if persona == "marketing_lead" else 0)


# --- A good file ---------------------------------------------------------------


def test_a_good_file_is_previewed_then_imported(client, lead, marketing):
    before = written()
    preview = upload(client, *GOOD)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "2 rows checked and ready to import" in page
    assert "Spring webinar" in page
    assert "&lt;b&gt;bold&lt;/b&gt; claims" in page
    assert "<b>bold</b>" not in page
    assert written() == before  # nothing saved before confirming

    response = confirm(client, preview)
    assert response.status_code == 302
    assert response.url == reverse("figures:leads_list", args=["marketing"])
    rows = LeadLogEntry.objects.order_by("date")
    assert [(r.leads_delivered, r.qualified_leads, r.team) for r in rows] == [
        (40, 12, marketing),
        (25, 0, marketing),
    ]
    assert all(r.created_by == lead for r in rows)
    assert (
        "Imported 2 rows from leads.csv." in client.get(response.url).content.decode()
    )


def test_confirming_twice_imports_once(client, lead):
    preview = upload(client, *GOOD)
    confirm(client, preview)
    again = confirm(client, preview)
    assert again.status_code == 302
    assert LeadLogEntry.objects.count() == 2
    page = client.get(again.url).content.decode()
    assert "no longer waiting to be imported" in page


def test_the_same_file_imported_twice_adds_its_rows_once(client, lead):
    confirm(client, upload(client, *GOOD))
    second = upload(client, *GOOD)
    assert "2 of them were imported from this file before" in (second.content.decode())
    response = confirm(client, second)
    assert LeadLogEntry.objects.count() == 2
    assert "2 rows were imported from this file before" in (
        client.get(response.url).content.decode()
    )


def test_only_the_file_shown_is_imported(client, lead):
    first = upload(client, *GOOD)
    upload(client, GOOD[0], "2026-03-04,7,1,Fair,")  # replaces the pending file
    response = confirm(client, first)
    assert response.status_code == 302
    assert not LeadLogEntry.objects.exists()


def test_a_forged_upload_token_imports_nothing(client, lead):
    upload(client, *GOOD)
    client.post(PAGE, {"upload": "0" * 32})
    assert not LeadLogEntry.objects.exists()


def test_a_month_that_locks_before_confirming_stops_the_import(client, lead, frozen):
    frozen.move_to(local(2026, 4, 3, 23, 0))
    client.force_login(lead)
    preview = upload(client, GOOD[0], "2026-03-31,10,2,Late batch,")
    assert preview.context["upload"]
    frozen.move_to(local(2026, 4, 4, 0, 1))
    response = confirm(client, preview)
    assert response.status_code == 400
    assert "March 2026 is locked" in response.content.decode()
    assert "Nothing was imported" in response.content.decode()
    assert not LeadLogEntry.objects.exists()


def test_closed_customers_are_imported(client, sales_lead, sales):
    client.force_login(sales_lead)
    preview = upload(
        client,
        "customer;closed_on;deal_value;handover_notes",
        "Acme GmbH;2026-03-02;12000.50;Kick-off in week 1",
        "Globex;2026-03-05;;",
        page=CUSTOMERS_PAGE,
    )
    assert preview.status_code == 200
    confirm(client, preview, page=CUSTOMERS_PAGE)
    assert set(ClosedCustomer.objects.values_list("customer", flat=True)) == {
        "Acme GmbH",
        "Globex",
    }


# --- Files with problems --------------------------------------------------------


def refused(response, *messages: str) -> str:
    assert response.status_code == 400
    page = response.content.decode()
    for message in messages:
        assert message in page
    assert 'name="upload"' not in page  # no confirm button
    return page


def test_one_bad_row_is_shown_with_its_row_and_column_and_nothing_is_imported(
    client, lead
):
    before = written()
    response = upload(
        client,
        *GOOD,
        "2026-03-04,10,30,Fair,",
        "2026-03-05,many,,Fair,",
    )
    page = refused(response, "Nothing was imported.", "The file has 2 problems")
    errors = response.context["errors"]
    assert [(e.row, e.column) for e in errors] == [
        (4, "qualified_leads"),
        (5, "leads_delivered"),
    ]
    assert "“many” is not a whole number." in page
    assert "<code>qualified_leads</code>" in page
    assert written() == before


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (("day,leads", "2026-03-02,4"), "Unknown column “day”"),
        (("date,leads_delivered,colour", "2026-03-02,4,red"), "Unknown column"),
        (("date,source", "2026-03-02,x"), "The column “leads_delivered” is missing."),
        (("date,leads_delivered",), "The file has no rows to import."),
        (("date,leads_delivered", "2026-04-02,4"), "April 2026 has not begun yet"),
        (("date,leads_delivered", "2026-02-02,4"), "February 2026 is locked"),
        (("date,leads_delivered", "02/03/2026,4"), "is not a date"),
    ],
)
def test_a_file_with_problems_imports_nothing(client, lead, lines, message):
    before = written()
    refused(upload(client, *lines), message)
    assert written() == before


def test_a_file_that_is_not_utf8_is_explained(client, lead):
    data = "date,leads_delivered,source\r\n2026-03-02,4,Messe München\r\n".encode(
        "latin-1"
    )
    refused(
        client.post(PAGE, {"file": csv_file(raw=data)}),
        "The file is not UTF-8 text: row 2",
        "Save the file as “CSV UTF-8”",
    )
    assert not LeadLogEntry.objects.exists()


@pytest.mark.parametrize("data", [b"", b"   \r\n  "])
def test_an_empty_file_is_refused(client, lead, data):
    response = client.post(PAGE, {"file": csv_file(raw=data)})
    assert response.status_code == 400
    assert "The file is empty." in response.content.decode()
    assert not LeadLogEntry.objects.exists()


def test_no_file_at_all_is_refused(client, lead):
    response = client.post(PAGE, {})
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()


def test_too_many_rows_are_refused(client, lead):
    rows = ["2026-03-02,1"] * (MAX_ROWS + 1)
    refused(
        upload(client, "date,leads_delivered", *rows),
        f"The file has {MAX_ROWS + 1:,} rows; import at most {MAX_ROWS:,}",
    )
    assert not LeadLogEntry.objects.exists()


def test_a_file_too_large_is_refused_before_it_is_read(client, lead, monkeypatch):
    monkeypatch.setattr(import_views, "MAX_BYTES", 100)
    refused(
        upload(client, *GOOD, *["2026-03-02,1,0,x,"] * 10),
        "The file is larger than",
    )
    assert not LeadLogEntry.objects.exists()


def test_an_unknown_kind_is_a_404(client, lead):
    assert (
        client.get(reverse("figures:import_template", args=["nonsense"])).status_code
        == 404
    )


def test_the_pending_file_waits_in_an_import_batch_not_the_session(client, lead):
    response = upload(client, *GOOD)

    assert set(client.session[import_views.SESSION_KEY]) == {"batch"}
    batch = ImportBatch.objects.get(token=response.context["upload"])
    assert (batch.kind, batch.figures_kind, batch.source) == (
        "figures",
        "lead_log",
        None,
    )
    assert batch.status == "pending"
    confirm(client, response)
    batch.refresh_from_db()
    assert (batch.status, batch.data) == ("imported", None)
    assert import_views.SESSION_KEY not in client.session
