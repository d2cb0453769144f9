"""A CRM's large export: a leads source takes files of up to 100,000 rows;
with a worker running, a large file is imported in the background, in
chunks, its progress on the import batch and the import page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from agreements.records import background, views
from agreements.records.background import import_batch_run
from agreements.records.lead_csv import lead_months
from agreements.records.models import ImportBatch, Lead
from agreements.records.services import records_upsert
from agreements.records.tasks import import_batch_run_task

from .test_lead_csv_import import as_proposed, columns_page, upload

pytestmark = pytest.mark.django_db

# 2 March 2026: February still open, March running.
MARCH_2 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HEADER = '"Record ID","Email","Lifecycle Stage","Create Date","Last Activity Date"\n'


def export(count: int, start: int = 1) -> bytes:
    """A HubSpot-like export of ``count`` leads over February and March."""
    lines = [
        f'"{n}","lead{n}@example.com","lead","2026-0{2 + n % 2}-01 09:00",'
        f'"2026-03-01 10:00"\n'
        for n in range(start, start + count)
    ]
    return (HEADER + "".join(lines)).encode()


@pytest.fixture(autouse=True)
def _march(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(MARCH_2, tick=False):
        yield


@pytest.fixture
def lead(client, marketing_lead):
    client.force_login(marketing_lead)
    return marketing_lead


@pytest.fixture
def worker(settings, monkeypatch):
    """As if a worker ran: tasks are queued, not run in the request; files
    of more than 10 rows go to it."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(background, "BACKGROUND_FROM", 10)


def preview_url(client, source, data: bytes) -> str:
    page = columns_page(client, source, data)
    response = client.post(page.wsgi_request.path, as_proposed(page))
    assert response.status_code == 302
    return response.url


def test_a_leads_file_may_have_more_rows_than_other_files(
    client, lead, crm, helpdesk, service_lead, monkeypatch
):
    assert upload(client, crm, export(5001)).status_code == 302
    monkeypatch.setattr(views, "limits", lambda source: (100, 50 * 1024 * 1024))
    refused = upload(client, crm, export(101))
    assert refused.status_code == 400
    assert "The file has 101 rows; import at most 100 at a time" in (
        refused.content.decode()
    )
    assert ImportBatch.objects.count() == 1


def test_a_requests_file_keeps_the_limit_of_5000_rows(client, helpdesk, service_lead):
    client.force_login(service_lead)
    rows = "".join(f"R-{n},2026-03-01T09:00Z,2026-03-01T10:00Z\n" for n in range(5001))
    refused = upload(client, helpdesk, f"id,started,updated\n{rows}".encode())
    assert refused.status_code == 400
    assert "import at most 5,000 at a time" in refused.content.decode()
    assert not ImportBatch.objects.exists()


def test_without_a_worker_a_large_file_is_imported_in_the_request(
    client, lead, crm, monkeypatch, settings
):
    # No worker: Celery runs tasks in the process (as without Redis).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(background, "BACKGROUND_FROM", 10)
    response = client.post(preview_url(client, crm, export(30)))
    assert response.url == reverse("records:import_done", args=[crm.pk])
    assert Lead.objects.count() == 30
    assert ImportBatch.objects.get().status == ImportBatch.Status.IMPORTED


def test_with_a_worker_a_large_file_is_queued_then_imported_in_chunks(
    client, lead, crm, worker, django_capture_on_commit_callbacks
):
    url = preview_url(client, crm, export(25))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url)
    batch = ImportBatch.objects.get()
    assert response.url == reverse("records:import_progress", args=[crm.pk, batch.pk])
    assert len(queued) == 1
    assert (batch.status, batch.rows_total, batch.rows_done) == ("running", 25, 0)
    assert not Lead.objects.exists()
    page = client.get(response.url)
    assert 'hx-get="' in page.content.decode()
    assert "0 of 25 rows imported" in page.content.decode()

    done: list[int] = []
    real = background.records_upsert

    def counting(**kwargs):
        done.append(ImportBatch.objects.get(pk=batch.pk).rows_done)
        return real(**kwargs)

    background.records_upsert = counting  # type: ignore[assignment]
    try:
        import_batch_run(batch_id=batch.pk, chunk=10)
    finally:
        background.records_upsert = real  # type: ignore[assignment]
    # The progress moved on after each chunk of 10 rows.
    assert done == [0, 10, 20]
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done, batch.created, batch.data) == (
        "imported",
        25,
        25,
        None,
    )
    assert batch.months == ["2026-02", "2026-03"]
    assert Lead.objects.filter(batch=batch).count() == 25
    assert Lead.history.filter(batch_id=batch.pk).count() == 25
    crm.refresh_from_db()
    assert crm.column_mapping  # kept for the next file

    bar = client.get(response.url, headers={"HX-Request": "true"})
    text = bar.content.decode()
    assert "hx-get" not in text  # done: no more polling
    assert 'data-testid="count-new">25<' in text
    assert reverse("records:import_history", args=[crm.pk]) in text
    # Delivered again, the task finds the batch imported and does nothing.
    assert import_batch_run(batch_id=batch.pk) is None


def test_the_task_imports_the_batch_eagerly(client, lead, crm, worker):
    url = preview_url(client, crm, export(12))
    client.post(url)
    batch = ImportBatch.objects.get()
    import_batch_run_task.apply(args=(batch.pk,)).get()
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.rows_done) == ("imported", 12, 12)


def test_a_background_import_that_fails_says_why_and_keeps_nothing(
    client, lead, crm, worker, django_capture_on_commit_callbacks
):
    client.post(preview_url(client, crm, export(12)))
    batch = ImportBatch.objects.get()
    # Meanwhile February was locked: a lead may no longer send its leads.
    with time_machine.travel(dt.datetime(2026, 3, 10, tzinfo=dt.UTC), tick=False):
        import_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "February 2026 is locked" in batch.error
    assert batch.data is None
    assert not Lead.objects.exists()
    page = client.get(reverse("records:import_progress", args=[crm.pk, batch.pk]))
    assert "The import failed." in page.content.decode()


def test_an_outsider_cannot_follow_an_import(client, lead, crm, worker, outsider):
    client.post(preview_url(client, crm, export(12)))
    batch = ImportBatch.objects.get()
    client.force_login(outsider)
    page = client.get(reverse("records:import_progress", args=[crm.pk, batch.pk]))
    assert page.status_code == 404


def test_the_preview_by_month_counts_as_the_service_would(crm, marketing_lead):
    """Counted from one lookup of the ids kept, the preview by month is the
    service's dry run, month by month."""
    from agreements.records.csv_import import Batch

    records_upsert(
        source=crm,
        rows=[
            {
                "external_id": str(n),
                "started_at": dt.datetime(2026, 2 + n % 2, 1, 9, tzinfo=dt.UTC),
                "updated_at": dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC),
                "email": f"lead{n}@example.com",
            }
            for n in range(1, 8)
        ],
    )
    rows = [
        {
            "external_id": str(n),
            "started_at": dt.datetime(2026, 2 + n % 2, 1, 9, tzinfo=dt.UTC),
            "updated_at": dt.datetime(2026, 3, 1, 9 + n % 3, tzinfo=dt.UTC),
            "email": f"lead{n}@example.com",
            "qualified": n % 4 == 0,
        }
        for n in range(1, 15)
    ]
    batch = Batch(rows=rows)
    fast = lead_months(batch, source=crm, user=marketing_lead, reason="")
    slow = lead_months(batch, source=crm, user=marketing_lead, reason="", dry_run=True)
    assert fast == slow
    assert {m.report.stale for m in fast} != {0}
    assert sum(m.report.created for m in fast) == 7


def test_the_preview_is_the_import_s_own_verdict(crm, marketing_head):
    """Asked without writing, the preview reports what the import rolled
    back reports: new, updated, unchanged, stale, late rows and months; and
    refuses what it refuses, naming the same rows."""
    from agreements.records.csv_import import (
        Batch,
        ColumnMapping,
        records_import_csv,
        records_preview_csv,
    )
    from agreements.records.lead_csv import handed_over_month

    records_upsert(
        source=crm,
        rows=[
            {
                "external_id": str(n),
                "started_at": dt.datetime(2026, 1 + n % 3, 1, 9, tzinfo=dt.UTC),
                "updated_at": dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC),
            }
            for n in range(1, 10)
        ],
    )
    rows = [
        {
            "external_id": str(n),
            "started_at": dt.datetime(2026, 1 + n % 3, 1, 9, tzinfo=dt.UTC),
            "updated_at": dt.datetime(2026, 3, 1, 9 + n % 3, tzinfo=dt.UTC),
            "qualified": n % 2 == 0,
        }
        for n in range(1, 16)
    ]
    mapping = ColumnMapping({"external_id": "Record ID"}, "UTC")
    ask = {"source": crm, "mapping": mapping, "user": marketing_head}
    numbers = list(range(2, 17))
    reason = "January's leads, exported late"
    preview = records_preview_csv(
        batch=Batch(rows=rows, numbers=numbers),
        reason=reason,
        group=handed_over_month,
        **ask,
    )
    rolled_back = records_import_csv(
        batch=Batch(rows=rows, numbers=numbers), reason=reason, dry_run=True, **ask
    )
    assert preview.report == rolled_back.report
    assert preview.report is not None
    assert preview.report.late == [dt.date(2026, 1, 1)]
    assert preview.report.stale > 0 and preview.report.updated > 0
    assert set(preview.groups) == {dt.date(2026, m, 1) for m in (1, 2, 3)}
    assert sum(r.created for r in preview.groups.values()) == 6
    assert not Lead.history.filter(external_id="15").exists()

    # Without a reason, January's rows are refused, by row, in both.
    refused = records_preview_csv(batch=Batch(rows=rows, numbers=numbers), **ask)
    assert refused.report is None
    assert (
        refused.errors
        == records_import_csv(
            batch=Batch(rows=rows, numbers=numbers), dry_run=True, **ask
        ).errors
    )
    assert refused.errors and "January 2026" in refused.errors[0].message


def _failing_on_the_second_chunk(monkeypatch, error: Exception) -> None:
    real = background.records_upsert
    calls: list[int] = []

    def upsert(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(background, "records_upsert", upsert)


def test_a_background_import_failing_midway_takes_back_what_it_wrote(
    client, lead, crm, worker, monkeypatch
):
    from agreements.records.rows import RecordsInvalid, RowProblem

    records_upsert(
        source=crm,
        rows=[
            {
                "external_id": "1",
                "started_at": dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
                "updated_at": dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC),
                "email": "before@example.com",
            }
        ],
    )
    client.post(preview_url(client, crm, export(25)))
    batch = ImportBatch.objects.get()
    _failing_on_the_second_chunk(
        monkeypatch, RecordsInvalid([RowProblem(11, "email", "not an email")])
    )
    import_batch_run(batch_id=batch.pk, chunk=10)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "not an email" in batch.error
    # The first chunk's ten rows were written, then taken back: the lead
    # sent before is as it was, no other lead is left.
    assert list(Lead.objects.values_list("external_id", "email")) == [
        ("1", "before@example.com")
    ]
    assert (batch.created, batch.updated, batch.rows_done) == (0, 0, 0)
    assert Lead.history.filter(history_type="-").count() == 9
    page = client.get(reverse("records:import_progress", args=[crm.pk, batch.pk]))
    assert "Nothing was written" in page.content.decode()
    history = client.get(reverse("records:import_history", args=[crm.pk]))
    text = history.content.decode()
    assert 'data-testid="batch-error"' in text and "not an email" in text
    assert "Undo<" not in text


def test_what_a_failed_import_could_not_take_back_can_be_undone_later(
    client, lead, crm, worker, monkeypatch
):
    client.post(preview_url(client, crm, export(25)))
    batch = ImportBatch.objects.get()
    _failing_on_the_second_chunk(monkeypatch, RuntimeError("the database went away"))
    monkeypatch.setattr(
        background, "undo_refusal", lambda batch: "March 2026 is locked."
    )
    with pytest.raises(RuntimeError):
        import_batch_run(batch_id=batch.pk, chunk=10)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == (
        "The import stopped: the database went away. 10 records written before "
        "it stopped are kept: March 2026 is locked."
    )
    assert Lead.objects.count() == 10
    assert batch.months == ["2026-02", "2026-03"]
    progress = client.get(reverse("records:import_progress", args=[crm.pk, batch.pk]))
    assert reverse("records:import_history", args=[crm.pk]) in (
        progress.content.decode()
    )
    # The months are open after all: the person undoes it from the imports.
    undone = client.post(reverse("records:import_undo", args=[crm.pk, batch.pk]))
    assert undone.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE
    assert not Lead.objects.exists()
