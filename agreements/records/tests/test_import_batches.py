"""Import batches: the uploaded file waits in the database (the session
holds only the batch's id), is cleared when cancelled or abandoned for a
day, is recognised when the same data comes again, and an import can be
undone from the source's import history while its months are open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from agreements.models import Membership
from agreements.records.batches import fingerprint
from agreements.records.models import ImportBatch, Lead, ServiceRequest
from agreements.records.services import records_upsert
from agreements.records.views import SESSION_KEY
from conftest import make_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("utc")]

FIXTURES = Path(__file__).parent / "fixtures"
HUBSPOT = (FIXTURES / "hubspot-contacts-2026-03-02.csv").read_text(encoding="utf-8")
# 3 March 2026, 18:00 UTC: February is still closing (it locks at the end
# of the 3rd), March running.
CLOSING = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)
REQUESTS = (
    "Ticket ID,Created,First reply,Solved,Priority,Updated\n"
    "T-1,2026-03-02 10:00,2026-03-02 10:30,,P1,2026-03-02 11:00\n"
    "T-2,2026-02-27 16:00,,,P2,2026-02-27 16:00\n"
)
# T-1 answered and resolved since, T-3 new.
LATER = (
    "Ticket ID,Created,First reply,Solved,Priority,Updated\n"
    "T-1,2026-03-02 10:00,2026-03-02 10:30,2026-03-03 09:00,P2,2026-03-03 09:00\n"
    "T-2,2026-02-27 16:00,,,P2,2026-02-27 16:00\n"
    "T-3,2026-03-03 08:00,,,P3,2026-03-03 08:00\n"
)


@pytest.fixture
def lead(client, service_lead):
    """Mia Park, a lead of the service team, logged in."""
    service_lead.first_name, service_lead.last_name = "Mia", "Park"
    service_lead.save()
    client.force_login(service_lead)
    return service_lead


@pytest.fixture
def clock():
    """3 March 2026, 18:00 UTC, the clock still."""
    with time_machine.travel(CLOSING, tick=False) as traveller:
        yield traveller


def upload(client, source, data: str | bytes, name: str = "export.csv"):
    raw = data.encode() if isinstance(data, str) else data
    return client.post(
        reverse("records:import", args=[source.pk]),
        {"file": SimpleUploadedFile(name, raw, content_type="text/csv")},
    )


def preview(client, source, data: str | bytes, name: str = "export.csv"):
    """Upload, confirm the proposed columns: the preview."""
    uploaded = upload(client, source, data, name)
    assert uploaded.status_code == 302, uploaded.context and uploaded.context["errors"]
    form = client.get(uploaded.url).context["form"]
    mapped = client.post(
        uploaded.url, {name: form[name].value() or "" for name in form.fields}
    )
    assert mapped.status_code == 302, mapped.context["form"].errors
    page = client.get(mapped.url)
    assert page.status_code == 200
    return page


def import_file(client, source, data: str | bytes, name: str = "export.csv"):
    page = preview(client, source, data, name)
    response = client.post(page.wsgi_request.path)
    assert response.status_code == 302, page.context["errors"]
    return ImportBatch.objects.get(token=page.context["upload"])


def history_url(source) -> str:
    return reverse("records:import_history", args=[source.pk])


def undo(client, batch):
    return client.post(reverse("records:import_undo", args=[batch.source_id, batch.pk]))


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- The session holds no file -------------------------------------------------


def test_a_large_upload_waits_in_a_batch_not_in_the_session(
    client, lead, helpdesk, clock
):
    notes = "x" * 10_000
    rows = "".join(
        f"T-{n},2026-03-02 10:00,,,P1,2026-03-02 10:00,{notes}\n" for n in range(105)
    )
    data = "Ticket ID,Created,First reply,Solved,Priority,Updated,Notes\n" + rows
    assert len(data) > 1024 * 1024

    response = upload(client, helpdesk, data, "big.csv")

    assert response.status_code == 302
    session = client.session
    assert set(session[SESSION_KEY]) == {"batch"}
    assert len(session.encode(dict(session.items()))) < 1000
    batch = ImportBatch.objects.get(pk=session[SESSION_KEY]["batch"])
    assert batch.token in response.url
    assert (batch.status, batch.file_name, batch.size) == (
        "pending",
        "big.csv",
        len(data),
    )
    assert bytes(batch.data) == data.encode()
    assert batch.user == lead
    assert batch.history.get().history_user == lead


def test_choosing_the_columns_keeps_them_on_the_batch(client, lead, helpdesk, clock):
    page = preview(client, helpdesk, REQUESTS)
    batch = ImportBatch.objects.get(token=page.context["upload"])
    assert batch.mapping["columns"]["external_id"] == "Ticket ID"
    assert set(client.session[SESSION_KEY]) == {"batch"}


# --- Cancelled or abandoned ----------------------------------------------------


def test_cancelling_drops_the_file_and_imports_nothing(client, lead, helpdesk, clock):
    page = preview(client, helpdesk, REQUESTS)
    token = page.context["upload"]
    cancel = reverse("records:import_cancel", args=[helpdesk.pk, token])
    assert f'action="{cancel}"' in page.content.decode()

    response = client.post(cancel)

    assert response.status_code == 302
    batch = ImportBatch.objects.get(token=token)
    assert (batch.status, batch.data) == ("cancelled", None)
    assert SESSION_KEY not in client.session
    assert ServiceRequest.objects.count() == 0
    # The steps' pages no longer find the file.
    gone = client.post(page.wsgi_request.path)
    assert gone.status_code == 302
    assert gone.url == reverse("records:import", args=[helpdesk.pk])
    assert ServiceRequest.objects.count() == 0


def test_the_columns_step_offers_to_cancel(client, lead, helpdesk, clock):
    columns = upload(client, helpdesk, REQUESTS).url
    token = ImportBatch.objects.get().token
    page = client.get(columns).content.decode()
    assert reverse("records:import_cancel", args=[helpdesk.pk, token]) in page


def test_an_upload_waiting_for_more_than_a_day_is_cleared(
    client, lead, helpdesk, clock
):
    upload(client, helpdesk, REQUESTS)
    batch = ImportBatch.objects.get()

    clock.shift(timedelta(hours=23))
    call_command("clear_pending_imports", stdout=StringIO())
    batch.refresh_from_db()
    assert batch.status == "pending"
    assert batch.data is not None

    clock.shift(timedelta(hours=2))
    out = StringIO()
    call_command("clear_pending_imports", stdout=out)
    batch.refresh_from_db()
    assert (batch.status, batch.data) == ("cancelled", None)
    assert "Cleared 1 pending upload." in out.getvalue()


def test_a_new_upload_clears_those_abandoned_and_replaces_the_last(
    client, lead, helpdesk, service_head, clock
):
    other = client.__class__()
    other.force_login(service_head)
    upload(other, helpdesk, REQUESTS)  # someone else's, abandoned
    upload(client, helpdesk, REQUESTS)  # the person's own, replaced below
    clock.shift(timedelta(hours=25))

    upload(client, helpdesk, LATER)

    statuses = list(ImportBatch.objects.order_by("pk").values_list("status", "data"))
    assert statuses[:2] == [("cancelled", None), ("cancelled", None)]
    assert statuses[2][0] == "pending"


# --- The same data again -------------------------------------------------------


def test_the_fingerprint_is_the_datas_whatever_the_encoding(
    client, marketing_lead, crm, clock
):
    client.force_login(marketing_lead)
    variants = [
        HUBSPOT.encode("utf-8"),
        b"\xef\xbb\xbf" + HUBSPOT.encode("utf-8"),
        HUBSPOT.encode("cp1252"),
        HUBSPOT.replace("\n", "\r\n").encode("cp1252"),
    ]
    for data in variants:
        assert upload(client, crm, data).status_code == 302

    prints = set(ImportBatch.objects.values_list("fingerprint", flat=True))
    assert prints == {fingerprint(HUBSPOT)}
    changed = HUBSPOT.replace("Mia Park", "Mia Parker", 1)
    assert fingerprint(changed) != fingerprint(HUBSPOT)


def test_the_preview_says_when_the_same_data_was_imported(
    client, marketing_lead, crm, clock
):
    marketing_lead.first_name, marketing_lead.last_name = "Mia", "Park"
    marketing_lead.save()
    client.force_login(marketing_lead)
    clock.move_to(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    first = import_file(client, crm, HUBSPOT.encode())
    clock.shift(timedelta(hours=1))

    page = preview(client, crm, HUBSPOT.encode("cp1252"))

    assert page.context["imported_before"] == first
    text = " ".join(page.content.decode().split())
    assert (
        "This file was imported on 2 Mar 2026 by Mia Park: importing it again "
        "changes nothing" in text
    )
    other = preview(client, crm, HUBSPOT.replace("Mia Park", "Tom Reyes", 1).encode())
    assert other.context["imported_before"] is None


# --- What an import records ----------------------------------------------------


def test_an_import_records_its_counts_months_and_records(client, lead, helpdesk, clock):
    batch = import_file(client, helpdesk, REQUESTS, "helpdesk.csv")

    batch.refresh_from_db()
    assert batch.status == "imported"
    assert batch.data is None
    assert batch.imported_at == CLOSING
    assert (batch.created, batch.updated, batch.unchanged, batch.stale) == (2, 0, 0, 0)
    assert batch.months == ["2026-02", "2026-03"]
    assert set(ServiceRequest.objects.values_list("batch", flat=True)) == {batch.pk}
    row = ServiceRequest.history.get(external_id="T-1")
    assert (row.batch_id, row.history_user) == (batch.pk, lead)
    assert SESSION_KEY not in client.session
    done = client.get(reverse("records:import_done", args=[helpdesk.pk]))
    assert history_url(helpdesk) in done.content.decode()


def test_the_history_lists_the_imports_newest_first(
    client, lead, helpdesk, clock, django_assert_max_num_queries
):
    first = import_file(client, helpdesk, REQUESTS, "monday.csv")
    clock.shift(timedelta(minutes=5))
    second = import_file(client, helpdesk, LATER, "tuesday.csv")
    upload(client, helpdesk, REQUESTS, "pending.csv")  # not imported: not listed

    with django_assert_max_num_queries(12):
        response = client.get(history_url(helpdesk))

    assert response.status_code == 200
    assert [row["batch"] for row in response.context["rows"]] == [second, first]
    page = response.content.decode()
    assert "pending.csv" not in page
    assert page.index("tuesday.csv") < page.index("monday.csv")
    assert "Mia Park" in page
    assert reverse("records:import_undo", args=[helpdesk.pk, second.pk]) in page
    sources = client.get(reverse("records:sources")).content.decode()
    assert f'href="{history_url(helpdesk)}"' in sources


# --- Undo ----------------------------------------------------------------------


def test_undo_deletes_what_the_import_created_and_restores_what_it_updated(
    client, lead, helpdesk, clock
):
    import_file(client, helpdesk, REQUESTS)
    before = ServiceRequest.objects.get(external_id="T-1")
    clock.shift(timedelta(minutes=5))
    later = import_file(client, helpdesk, LATER)
    later.refresh_from_db()
    assert (later.created, later.updated, later.unchanged) == (1, 1, 1)
    clock.shift(timedelta(minutes=5))

    response = undo(client, later)

    assert response.status_code == 302
    assert "was undone" in said(response)[-1]
    assert set(ServiceRequest.objects.values_list("external_id", flat=True)) == {
        "T-1",
        "T-2",
    }
    t1 = ServiceRequest.objects.get(external_id="T-1")
    assert (t1.resolved_at, t1.segment, t1.updated_at) == (
        before.resolved_at,
        "P1",
        before.updated_at,
    )
    assert t1.batch_id == before.batch_id
    later.refresh_from_db()
    assert (later.status, later.undone_by, later.undone_at) == (
        "undone",
        lead,
        CLOSING + timedelta(minutes=10),
    )
    # The history says who undid what.
    deleted = ServiceRequest.history.get(external_id="T-3", history_type="-")
    assert deleted.history_user == lead
    assert "undo of the import" in deleted.history_change_reason
    restored = t1.history.first()
    assert (restored.history_user, restored.history_type) == (lead, "~")
    assert later.history.first().history_user == lead
    # Undone, it is not undone twice.
    again = undo(client, later)
    assert "nothing to undo" in said(again)[-1]


def test_undo_of_a_leads_import_puts_the_leads_back(client, marketing_lead, crm, clock):
    client.force_login(marketing_lead)
    clock.move_to(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    import_file(client, crm, HUBSPOT.encode())
    clock.shift(timedelta(hours=1))
    changed = HUBSPOT.replace('"lead","OPEN"', '"lead","CONNECTED"', 1)
    batch = import_file(client, crm, changed.encode())

    undo(client, batch)

    assert Lead.objects.count() == 5
    assert Lead.objects.get(external_id="2002").status == "OPEN"


def test_undo_is_refused_once_a_month_it_touched_locked(client, lead, helpdesk, clock):
    batch = import_file(client, helpdesk, REQUESTS)  # T-2 started in February
    clock.move_to(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))  # February locked

    page = client.get(history_url(helpdesk)).content.decode()
    response = undo(client, batch)

    assert "February 2026 is locked" in page
    assert "February 2026 is locked" in said(response)[-1]
    batch.refresh_from_db()
    assert batch.status == "imported"
    assert ServiceRequest.objects.count() == 2
    assert not ServiceRequest.history.filter(history_type="-").exists()


def test_undo_is_refused_when_a_record_changed_since(client, lead, helpdesk, clock):
    batch = import_file(client, helpdesk, REQUESTS)
    clock.shift(timedelta(minutes=5))
    records_upsert(  # the webhook sends T-1 again, resolved
        source=helpdesk,
        rows=[
            {
                "external_id": "T-1",
                "started_at": "2026-03-02T10:00:00+00:00",
                "resolved_at": "2026-03-03T12:00:00+00:00",
                "updated_at": "2026-03-03T12:00:00+00:00",
            }
        ],
        enforce_lock=True,
    )

    response = undo(client, batch)

    assert "changed after this import (T-1)" in said(response)[-1]
    batch.refresh_from_db()
    assert batch.status == "imported"
    assert ServiceRequest.objects.count() == 2


# --- Who may ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "history", "undo_status"),
    [
        ("sales_lead", 404, 404),
        ("outsider", 404, 404),
        ("service_member", 200, 403),
    ],
)
def test_only_a_lead_of_the_team_may_undo(
    client, lead, helpdesk, clock, request, persona, history, undo_status
):
    batch = import_file(client, helpdesk, REQUESTS)
    if persona == "service_member":
        person = make_member("service-member", helpdesk.team, Membership.Role.MEMBER)
    else:
        person = request.getfixturevalue(persona)
    client.force_login(person)

    page = client.get(history_url(helpdesk))
    response = undo(client, batch)

    assert page.status_code == history
    if history == 200:
        assert "Undo" not in page.content.decode().split("<tbody>")[1]
    assert response.status_code == undo_status
    batch.refresh_from_db()
    assert batch.status == "imported"
    assert ServiceRequest.objects.count() == 2


def test_a_pending_file_is_not_reachable_by_another_person(
    client, lead, helpdesk, service_head, clock
):
    columns = upload(client, helpdesk, REQUESTS).url
    client.force_login(service_head)
    response = client.get(columns)
    assert response.status_code == 302  # not their file: gone
    assert ImportBatch.objects.get().status == "pending"
