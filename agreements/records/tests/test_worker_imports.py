"""A large CRM export imported by a real worker: Redis broker, a worker
process, PostgreSQL. The confirmation queues the import; the worker writes
it chunk after chunk and the batch ends imported with the file's counts."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements import periods
from agreements.records import background
from agreements.records.models import ImportBatch, Lead

from .test_lead_csv_import import as_proposed, columns_page

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROWS = 5000


def export(count: int) -> bytes:
    # Handed over an hour ago (in the organisation's zone): an open month.
    created = (timezone.now() - timedelta(hours=1)).astimezone(periods.org_zone())
    stamp = f"{created:%Y-%m-%d %H:%M}"
    header = '"Record ID","Email","Lifecycle Stage","Create Date"\n'
    lines = "".join(
        f'"{n}","lead{n}@example.com","lead","{stamp}"\n' for n in range(count)
    )
    return (header + lines).encode()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    return predicate()


def test_a_large_file_is_imported_by_the_worker_with_its_progress(
    client, marketing_lead, crm, celery_worker_factory, settings, monkeypatch
):
    worker = celery_worker_factory(extra_env={"TIME_ZONE": settings.TIME_ZONE})
    settings.SLA_TASK_QUEUE = worker.queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client.force_login(marketing_lead)
    page = columns_page(client, crm, export(ROWS))
    preview = client.post(page.wsgi_request.path, as_proposed(page))
    response = client.post(preview.url)
    batch = ImportBatch.objects.get()
    assert response.url == reverse("records:import_progress", args=[crm.pk, batch.pk])

    def finished():
        batch.refresh_from_db()
        return batch.status != ImportBatch.Status.RUNNING

    assert wait_for(finished), f"still {batch.rows_done} of {batch.rows_total}"
    assert batch.status == ImportBatch.Status.IMPORTED, batch.error
    assert (batch.rows_total, batch.rows_done, batch.created) == (ROWS, ROWS, ROWS)
    assert batch.data is None
    assert Lead.objects.filter(batch=batch).count() == ROWS
    assert Lead.history.filter(history_user=marketing_lead).count() == ROWS
    assert background.BACKGROUND_FROM < ROWS
    bar = client.get(response.url, headers={"HX-Request": "true"})
    assert f'data-testid="count-new">{ROWS:,}<' in bar.content.decode()
