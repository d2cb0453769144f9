"""The records pages: a person's sources, and the CSV import in three steps
(upload, map the columns, preview and import), nothing written before the
confirmation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.figures.imports import csv_import as figures_csv
from agreements.models import Membership
from agreements.records.models import (
    Incident,
    MaintenanceWindow,
    RecordSource,
    ServiceRequest,
)
from agreements.records.services import records_upsert
from conftest import make_member

from .builders import answers_agreement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("utc", "frozen")]

SOURCES = reverse("records:sources")
CLOSING = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)

# A helpdesk's export: its own column names, times without an offset but for
# T-2's, a team by its name, T-3 started in February.
REQUESTS = (
    "Ticket ID,Created,First reply,Solved,Priority,Updated,Team\n"
    "T-1,2026-03-02 10:00,2026-03-02 10:30,2026-03-02 12:00,P1,2026-03-02 12:00,Sales\n"
    "T-2,2026-03-03T09:00:00+01:00,,,P2,2026-03-03T09:00:00+01:00,sales\n"
    "T-3,2026-02-27 16:00,2026-03-02 09:15,,P2,2026-03-02 09:15,\n"
)
GUESSED = {
    "external_id": "Ticket ID",
    "started_at": "Created",
    "first_response_at": "First reply",
    "resolved_at": "Solved",
    "segment": "Priority",
    "updated_at": "Updated",
    "consumer": "Team",
}


def csv_file(data: str | bytes, name: str = "helpdesk.csv") -> SimpleUploadedFile:
    raw = data.encode() if isinstance(data, str) else data
    return SimpleUploadedFile(name, raw, content_type="text/csv")


def upload(client, source, data: str | bytes, name: str = "helpdesk.csv"):
    return client.post(
        reverse("records:import", args=[source.pk]), {"file": csv_file(data, name)}
    )


def choose(client, columns_url: str, **choices: str):
    """Post the columns form as prefilled, with ``choices`` changed."""
    form = client.get(columns_url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    return client.post(columns_url, {**data, **choices})


def preview(client, source, data: str | bytes = REQUESTS, **choices: str):
    """Upload, map (as prefilled, but for ``choices``), and open the preview."""
    uploaded = upload(client, source, data)
    assert uploaded.status_code == 302, uploaded.content.decode()
    mapped = choose(client, uploaded.url, **choices)
    assert mapped.status_code == 302, mapped.content.decode()
    page = client.get(mapped.url)
    page.url = mapped.url  # where the import is confirmed
    return page


def written() -> tuple[int, ...]:
    return (
        ServiceRequest.objects.count(),
        ServiceRequest.history.count(),
        Incident.objects.count(),
        MaintenanceWindow.objects.count(),
        RecordSource.history.filter(history_type="~").count(),  # changed
    )


@pytest.fixture
def frozen():
    """3 March 2026, 18:00: February (T-3's month) is still closing, so a
    lead may still send its records."""
    with time_machine.travel(CLOSING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(client, service_lead, sales):
    client.force_login(service_lead)
    return service_lead


@pytest.fixture
def service_member(service):
    return make_member("service-member", service, Membership.Role.MEMBER)


# --- Who sees what ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "listed", "may_import", "status"),
    [
        ("service_lead", True, True, 200),
        ("service_head", True, True, 200),
        ("service_member", True, False, 403),
        ("executive", True, False, 403),
        ("sales_lead", False, False, 404),
        ("outsider", False, False, 404),
    ],
)
def test_who_sees_a_source_and_who_may_import_into_it(
    client, request, helpdesk, persona, listed, may_import, status
):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(SOURCES).content.decode()
    url = reverse("records:import", args=[helpdesk.pk])

    assert ('data-source="Helpdesk"' in page) is listed
    assert (f'href="{url}"' in page) is may_import
    assert client.get(url).status_code == status
    before = written()
    assert upload(client, helpdesk, REQUESTS).status_code == (
        302 if may_import else status
    )
    assert written() == before


def test_the_steps_of_an_upload_are_refused_to_a_member_of_another_team(
    client, lead, helpdesk, sales_lead
):
    columns = upload(client, helpdesk, REQUESTS).url
    mapped = choose(client, columns).url
    client.force_login(sales_lead)
    before = written()

    assert client.get(columns).status_code == 404
    assert client.get(mapped).status_code == 404
    assert client.post(mapped).status_code == 404
    assert written() == before


def test_the_list_shows_each_source_with_its_records(
    client, lead, helpdesk, status_page, django_assert_max_num_queries
):
    records_upsert(
        source=helpdesk,
        rows=[
            {
                "external_id": f"R-{n}",
                "started_at": "2026-03-02T10:00:00+00:00",
                "updated_at": "2026-03-02T10:00:00+00:00",
            }
            for n in range(3)
        ],
    )
    with django_assert_max_num_queries(13):
        response = client.get(SOURCES)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Customer Service" in page
    row = page[page.index('data-source="Helpdesk"') :]
    assert '<td class="text-end" data-testid="record-count">3</td>' in row
    assert "3 Mar 2026, 18:00" in row  # received now (the frozen clock)
    assert "Incidents and maintenance" in page
    assert "nothing yet" in page[page.index('data-source="Status page"') :]


def test_the_team_figures_pages_link_to_the_records(client, lead):
    page = client.get(
        reverse("figures:measurements_list", args=["customer-service"])
    ).content.decode()
    assert f'href="{SOURCES}#team-customer-service"' in page


# --- Step 1: upload ----------------------------------------------------------------


def test_an_upload_leads_to_the_columns_with_each_one_guessed(client, lead, helpdesk):
    response = upload(client, helpdesk, REQUESTS)
    assert response.status_code == 302
    page = client.get(response.url)

    form = page.context["form"]
    assert {name: form[name].value() for name in GUESSED} == GUESSED
    assert form["time_zone"].value() == "UTC"  # the organisation's
    html = page.content.decode()
    assert "helpdesk.csv, 3 rows" in html
    assert "— not in the file —" in html
    assert 'aria-current="step"' in html
    assert "<code>2026-03-02 10:00</code>" in html  # the first row, as a sample


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b" \n", "The file is empty."),
        (b"Ticket ID,Created\n", "The file has no rows to import."),
        (b"Id,Id\nT-1,T-2\n", "The column “Id” appears twice"),
        (b"Id\n\xff\xfe\n", "The file is not UTF-8 text: row 2"),
    ],
)
def test_a_file_that_cannot_be_mapped_is_explained(
    client, lead, helpdesk, data, message
):
    response = upload(client, helpdesk, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert written() == (0, 0, 0, 0, 0)


def test_a_file_too_large_is_refused(client, lead, helpdesk, monkeypatch):
    monkeypatch.setattr(figures_csv, "MAX_BYTES", 50)
    response = upload(client, helpdesk, REQUESTS)
    assert response.status_code == 400
    assert "The file is larger than" in response.content.decode()


def test_a_semicolon_file_with_a_byte_order_mark_is_read(client, lead, helpdesk):
    data = "\ufeff" + REQUESTS.replace(",", ";")
    page = preview(client, helpdesk, data.encode("utf-8"))

    assert page.status_code == 200
    assert page.context["errors"] == []
    assert page.context["report"].created == 3
    # The byte-order mark is not part of the first column's name.
    assert page.context["mapping"].columns == GUESSED


# --- Step 2: columns -------------------------------------------------------------


def test_the_last_imports_mapping_is_offered_again(client, lead, helpdesk):
    helpdesk.column_mapping = {
        "columns": {"external_id": "Nummer", "started_at": "Eingang"},
        "time_zone": "Europe/Berlin",
    }
    helpdesk.save()
    data = "Nummer,Eingang,Updated\nT-1,2026-03-02 10:00,2026-03-02 10:00\n"
    page = client.get(upload(client, helpdesk, data).url)

    form = page.context["form"]
    assert form["external_id"].value() == "Nummer"
    assert form["started_at"].value() == "Eingang"
    assert form["updated_at"].value() == "Updated"  # not kept: guessed
    assert form["time_zone"].value() == "Europe/Berlin"
    assert "the columns of this source's last import" in page.content.decode()


def test_a_kept_mapping_whose_columns_are_gone_gives_way_to_guesses(
    client, lead, helpdesk
):
    helpdesk.column_mapping = {"columns": {"external_id": "Nummer"}}
    helpdesk.save()
    page = client.get(upload(client, helpdesk, REQUESTS).url)

    assert page.context["form"]["external_id"].value() == "Ticket ID"
    assert "last import" not in page.content.decode()


def test_a_required_field_must_be_given_a_column(client, lead, helpdesk):
    columns = upload(client, helpdesk, REQUESTS).url
    response = choose(client, columns, updated_at="")

    assert response.status_code == 400
    assert "Choose the column that holds the last updated" in (
        response.content.decode()
    )
    assert written() == (0, 0, 0, 0, 0)


# --- Step 3: preview and import --------------------------------------------------


def test_the_preview_counts_by_month_and_writes_nothing(client, lead, helpdesk):
    page = preview(client, helpdesk, time_zone="Europe/Berlin")

    assert page.status_code == 200
    assert written() == (0, 0, 0, 0, 0)
    assert [(m.isoformat(), n) for m, n in page.context["months"]] == [
        ("2026-02-01", 1),
        ("2026-03-01", 2),
    ]
    report = page.context["report"]
    assert (report.created, report.updated, report.unchanged, report.stale) == (
        3,
        0,
        0,
        0,
    )
    html = page.content.decode()
    assert "3 records checked and ready to import" in html
    assert "read in <strong>Europe/Berlin</strong>" in html
    assert "2026-03-02 10:00:00+01:00" in html  # T-1, as it will be read
    assert "Import 3 records</button>" in html


def test_the_import_writes_every_record_and_keeps_the_mapping(
    client, lead, helpdesk, sales
):
    page = preview(client, helpdesk, time_zone="Europe/Berlin")
    response = client.post(page.url)

    assert response.status_code == 302
    assert response.url == reverse("records:import_done", args=[helpdesk.pk])
    t1, t2, t3 = ServiceRequest.objects.order_by("external_id")
    # Without an offset, read in Berlin (UTC+1 in March); with one, as written.
    assert t1.started_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert t1.resolved_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert t2.started_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert t2.first_response_at is None
    assert (t1.consumer, t2.consumer, t3.consumer) == (sales, sales, None)
    assert (t1.segment, t1.provider) == ("P1", helpdesk.team)
    assert t1.history.get().history_user == lead
    helpdesk.refresh_from_db()
    assert helpdesk.column_mapping == {"columns": GUESSED, "time_zone": "Europe/Berlin"}
    assert helpdesk.history.latest().history_user == lead
    done = client.get(response.url).content.decode()
    assert "Imported 3 records from helpdesk.csv: 3 new, 0 updated, 0 unchanged, " in (
        done
    )
    assert "No active agreement you can open measures an objective" in done


def test_importing_the_same_file_again_writes_nothing_new(client, lead, helpdesk):
    client.post(preview(client, helpdesk).url)
    before = written()

    again = preview(client, helpdesk)
    report = again.context["report"]
    assert (report.created, report.unchanged) == (0, 3)
    response = client.post(again.url)

    assert response.status_code == 302
    assert written() == before  # no record, history row or mapping change
    assert "0 new, 0 updated, 3 unchanged, 0 stale" in (
        client.get(response.url).content.decode()
    )


def test_a_later_update_is_counted_and_written(client, lead, helpdesk):
    client.post(preview(client, helpdesk).url)
    changed = REQUESTS.replace(
        "T-2,2026-03-03T09:00:00+01:00,,,P2,2026-03-03T09:00:00+01:00",
        "T-2,2026-03-03T09:00:00+01:00,2026-03-03T09:20:00+01:00,,P2,"
        "2026-03-03T09:20:00+01:00",
    )
    page = preview(client, helpdesk, changed)
    report = page.context["report"]
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)

    client.post(page.url)
    assert ServiceRequest.objects.get(external_id="T-2").first_response_at == (
        datetime(2026, 3, 3, 8, 20, tzinfo=UTC)
    )


def test_row_errors_are_shown_by_row_and_column_and_nothing_is_written(
    client, lead, helpdesk
):
    data = (
        "Ticket ID,Created,First reply,Updated,Team\n"
        "T-1,2026-03-02 10:00,2026-03-02 09:00,2026-03-02 10:00,\n"
        ",2026-03-02 11:00,,2026-03-02 11:00,\n"
        "T-3,yesterday,,2026-03-02 12:00,Nobody\n"
        "T-4,2026-03-02 13:00,,2026-03-02 13:00,\n"
    )
    page = preview(client, helpdesk, data)

    assert page.status_code == 200
    found = {(e.row, e.column) for e in page.context["errors"]}
    assert found == {
        (2, "First reply"),
        (3, "Ticket ID"),
        (4, "Created"),
        (4, "Team"),
    }
    html = page.content.decode()
    assert "Nothing will be written." in html
    assert "“yesterday” is not a date and time" in html
    assert "No team has the slug “Nobody”." in html
    assert "disabled" in html[html.index('data-testid="confirm-form"') :]
    assert page.context["report"] is None

    response = client.post(page.url)
    assert response.status_code == 400
    assert "Nothing will be written." in response.content.decode()
    assert written() == (0, 0, 0, 0, 0)


def test_a_row_wider_than_the_header_stops_the_import(client, lead, helpdesk):
    data = REQUESTS + "T-9,2026-03-04 10:00,,,P3,2026-03-04 10:00,Sales,extra\n"
    page = preview(client, helpdesk, data)

    assert [(e.row, e.column) for e in page.context["errors"]] == [(5, None)]
    assert client.post(page.url).status_code == 400
    assert written() == (0, 0, 0, 0, 0)


def test_confirming_twice_imports_once(client, lead, helpdesk):
    page = preview(client, helpdesk)
    client.post(page.url)
    before = written()

    again = client.post(page.url)
    assert again.status_code == 302
    assert again.url == reverse("records:import", args=[helpdesk.pk])
    assert "no longer waiting to be imported" in client.get(again.url).content.decode()
    assert written() == before


def test_only_the_latest_upload_can_be_imported(client, lead, helpdesk):
    older = preview(client, helpdesk)
    upload(client, helpdesk, REQUESTS.replace("T-", "X-"))

    assert client.post(older.url).status_code == 302
    assert written() == (0, 0, 0, 0, 0)


def test_incidents_and_maintenance_come_from_one_file(client, lead, status_page):
    data = (
        "Id;Type;Impact;Start;End;Updated;Description\n"
        "I-1;incident;major;2026-03-02 10:00;2026-03-02 10:45;2026-03-02 11:00;"
        "Database down\n"
        "M-1;Maintenance;;2026-03-08 02:00;2026-03-08 03:00;2026-03-01 09:00;"
        "Upgrade\n"
    )
    page = preview(client, status_page, data)
    assert page.context["errors"] == []
    client.post(page.url)

    incident = Incident.objects.get()
    assert (incident.external_id, incident.impact) == ("I-1", "major")
    assert incident.ended_at == datetime(2026, 3, 2, 10, 45, tzinfo=UTC)
    window = MaintenanceWindow.objects.get()
    assert (window.external_id, window.reason) == ("M-1", "Upgrade")


def test_the_done_page_links_to_the_scorecards_and_evidence_using_the_source(
    client, lead, helpdesk, sales, sales_lead
):
    agreement = answers_agreement(
        source=helpdesk, user=lead, other_signer=sales_lead, consumer=sales
    )
    objective = agreement.objectives.get()
    done = client.get(client.post(preview(client, helpdesk).url).url)

    html = done.content.decode()
    scorecard = reverse("reports:scorecard", args=[agreement.pk])
    evidence = reverse("reports:evidence", args=[agreement.pk, objective.pk])
    assert 'data-objective="Answers within 3 business hours"' in html
    assert f'href="{scorecard}?month=2026-03"' in html
    assert f'href="{evidence}?month=2026-03"' in html
    assert f'href="{scorecard}?month=2026-02"' in html
    assert "Scorecard, March 2026" in html


def test_the_done_page_without_an_import_leads_back_to_the_list(client, lead, helpdesk):
    response = client.get(reverse("records:import_done", args=[helpdesk.pk]))
    assert response.status_code == 302
    assert response.url == SOURCES


def test_a_record_of_a_locked_month_is_refused_in_the_preview(
    client, lead, helpdesk, frozen
):
    frozen.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC))  # February locked
    page = preview(client, helpdesk)

    html = page.content.decode()
    assert (
        "February 2026 is locked: a head of Customer Service can send it, "
        "with a reason." in html
    )
    assert written()[0] == 0


def test_a_head_imports_records_of_a_locked_month_with_a_reason(
    client, service_head, sales, helpdesk, frozen
):
    frozen.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC))  # February locked
    client.force_login(service_head)
    page = preview(client, helpdesk)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="import-errors-summary"' not in html
    late = html[html.index('data-testid="late-records"') :]
    assert "1 record changes a locked month:" in late
    assert "February 2026." in late
    assert 'name="reason"' in late

    # Without a reason: asked for one, nothing written.
    refused = client.post(page.url, {"reason": "  "})
    assert refused.status_code == 400
    assert "Say why these records come after their month locked" in (
        refused.content.decode()
    )
    assert written()[0] == 0

    done = client.post(page.url, {"reason": "The helpdesk export missed T-3."})
    assert done.status_code == 302
    t3 = ServiceRequest.objects.get(external_id="T-3")
    assert t3.history.get().history_change_reason.startswith(
        "correction: The helpdesk export missed T-3."
    )
    t1 = ServiceRequest.objects.get(external_id="T-1")
    assert t1.history.get().history_change_reason == "received from Helpdesk"


def test_a_lead_is_not_asked_for_a_reason_it_cannot_give(
    client, lead, helpdesk, frozen
):
    frozen.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC))  # February locked
    page = preview(client, helpdesk)
    assert 'data-testid="late-records"' not in page.content.decode()
    refused = client.post(page.url, {"reason": "Please"})
    assert refused.status_code == 400
    assert written()[0] == 0
