"""A large file imported by a worker, chunk after chunk, with its progress
on the ``ImportBatch``.

Confirmed, a file of more than ``BACKGROUND_FROM`` rows is queued
(``import_batch_queue``) when a worker runs; without one (Celery eager: the
demo, the tests) the request imports it as it imports any file. The worker
(``import_batch_run``) reads the file kept on the batch, checks the whole
batch as the service does (``services.records_check``: refused whole, or
not at all), then writes ``IMPORT_CHUNK`` rows per transaction, each
through ``records_upsert``, and counts them on the batch as it goes. The
batch ends imported, with the counts, or failed, with the reason; the
records a failed import wrote before it stopped are taken back at once
(``_failed``), so a file is imported whole or not at all.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import periods
from ..figures.imports import MAX_BYTES, MAX_ROWS, decode_csv
from ..history import save_with_history
from ..imports.reading import CsvTable, RowError
from .batches import import_batch_imported, take_back, undo_refusal
from .csv_import import (
    Batch,
    ColumnMapping,
    batch_from,
    mapping_remember,
    read_upload,
)
from .lead_csv import LEAD_MAX_BYTES, LEAD_MAX_ROWS, decode_lead_file, lead_batch_from
from .models import ImportBatch, RecordSource
from .rows import RecordsInvalid
from .services import UpsertReport, records_check, records_upsert
from .tasks import import_batch_run_task

logger = logging.getLogger(__name__)

# A file of more rows than this is imported by a worker, when one runs.
BACKGROUND_FROM = 2000
# Rows written per transaction: the progress moves on after each.
IMPORT_CHUNK = 5000
# Problems named in a failed import's message.
SHOWN_PROBLEMS = 5


class ImportFailed(Exception):
    """Why the file cannot be imported, for the person who sent it."""


def leads(source: RecordSource) -> bool:
    # A CRM's export is read as it is (``lead_csv``); other files as
    # ``csv_import`` reads them.
    return source.kind == RecordSource.Kind.LEADS


def limits(source: RecordSource) -> tuple[int, int]:
    """The most rows and bytes a file of the source may have."""
    if leads(source):
        return LEAD_MAX_ROWS, LEAD_MAX_BYTES
    return MAX_ROWS, MAX_BYTES


def decode_file(source: RecordSource, raw: bytes) -> str | RowError:
    """The text of an uploaded file, or why it cannot be read."""
    return decode_lead_file(raw) if leads(source) else decode_csv(raw)


def read_file(source: RecordSource, raw: bytes) -> CsvTable | list[RowError]:
    """The table in an uploaded file, or why it cannot be imported."""
    text = decode_file(source, raw)
    if isinstance(text, RowError):
        return [text]
    return read_upload(text, max_rows=limits(source)[0])


def file_batch(table: CsvTable, source: RecordSource, mapping: ColumnMapping) -> Batch:
    """The file's rows as the service takes them."""
    if leads(source):
        return lead_batch_from(
            table, source=source, mapping=mapping, now=timezone.now()
        )
    return batch_from(table, source=source, mapping=mapping)


def in_background(rows: int) -> bool:
    """Whether a file of ``rows`` rows is imported by a worker."""
    return not settings.CELERY_TASK_ALWAYS_EAGER and rows > BACKGROUND_FROM


@transaction.atomic
def import_batch_queue(
    *, batch: ImportBatch, user: User, rows: int, reason: str = ""
) -> bool:
    """Hand the pending file to a worker: the batch is running, its
    ``rows`` to do. False when it was not pending any more (confirmed
    twice)."""
    if not ImportBatch.objects.filter(
        pk=batch.pk, status=ImportBatch.Status.PENDING
    ).update(status=ImportBatch.Status.RUNNING):
        return False
    batch.refresh_from_db()
    batch.rows_total = rows
    batch.reason = reason
    save_with_history(batch, user=user, reason="import started in the background")
    transaction.on_commit(
        functools.partial(
            import_batch_run_task.apply_async,
            args=(batch.pk,),
            queue=settings.SLA_TASK_QUEUE or None,
        )
    )
    return True


def import_batch_run(*, batch_id: int, chunk: int | None = None) -> ImportBatch | None:
    """Import a running batch's file, ``chunk`` rows per transaction; None
    if it is not running (imported already, by an earlier delivery)."""
    batch = (
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.RUNNING)
        .select_related("source", "user")
        .first()
    )
    if batch is None or batch.source is None or batch.user is None:
        return None
    try:
        report = _import(batch, batch.source, batch.user, chunk or IMPORT_CHUNK)
    except ImportFailed as exc:
        _failed(batch, str(exc))
        return batch
    except RecordsInvalid as exc:
        shown = "; ".join(str(problem) for problem in exc.problems[:SHOWN_PROBLEMS])
        more = len(exc.problems) - SHOWN_PROBLEMS
        _failed(batch, f"{shown}{f' (and {more} more)' if more > 0 else ''}.")
        return batch
    except Exception as exc:
        logger.exception("The import of batch %s failed", batch_id)
        _failed(batch, f"The import stopped: {exc}.")
        raise
    with transaction.atomic():
        batch.refresh_from_db()
        import_batch_imported(batch=batch, user=batch.user, report=report)
        mapping = ColumnMapping.from_json(batch.mapping or {})
        mapping_remember(source=batch.source, mapping=mapping, user=batch.user)
    return batch


def _import(
    batch: ImportBatch, source: RecordSource, user: User, chunk: int
) -> UpsertReport:
    table = read_file(source, bytes(batch.data or b""))
    if not isinstance(table, CsvTable):  # it was readable when uploaded
        raise ImportFailed("The file can no longer be read: upload it again.")
    mapping = ColumnMapping.from_json(batch.mapping or {})
    rows = file_batch(table, source, mapping)
    if rows.errors:
        shown = "; ".join(
            f"row {error.row}: {error.message}"
            for error in rows.errors[:SHOWN_PROBLEMS]
        )
        raise ImportFailed(f"{shown}.")
    records_check(source=source, rows=rows.rows, user=user, reason=batch.reason)
    # Delivered again after a worker was lost, the import starts over: the
    # rows it wrote then are found unchanged.
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_done=0, created=0, updated=0, unchanged=0, stale=0, months=[]
    )
    total = UpsertReport()
    months: set = set()
    for at in range(0, len(rows.rows), chunk):
        with transaction.atomic():
            part = records_upsert(
                source=source,
                rows=rows.rows[at : at + chunk],
                user=user,
                reason=batch.reason,
                batch=batch,
            )
            months |= set(part.months)
            # The months written so far: a failed import is taken back
            # only while they are open.
            ImportBatch.objects.filter(pk=batch.pk).update(
                rows_done=F("rows_done") + part.total,
                created=F("created") + part.created,
                updated=F("updated") + part.updated,
                unchanged=F("unchanged") + part.unchanged,
                stale=F("stale") + part.stale,
                months=[periods.format_month(month) for month in sorted(months)],
            )
        for name in ("created", "updated", "unchanged", "stale"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
    total.months = sorted(months)
    return total


def _failed(batch: ImportBatch, message: str) -> None:
    """The batch failed: the records it wrote before it stopped are taken
    back, so the import is whole or not at all; when that cannot be done
    (a month they are in was locked meanwhile, or one was changed since),
    they stay, the message says so, and the batch can be undone later as
    far as the rules allow (``batches.undo_refusal``)."""
    batch.refresh_from_db()
    batch.status = ImportBatch.Status.FAILED
    batch.error = message
    batch.data = None
    save_with_history(batch, user=batch.user, reason="import failed")
    written = batch.created + batch.updated
    if not written or batch.user is None:
        return
    refusal = undo_refusal(batch)
    if not refusal:
        try:
            with transaction.atomic():
                take_back(batch, user=batch.user, reason="the import failed")
                batch.created = batch.updated = batch.unchanged = batch.stale = 0
                batch.rows_done = 0
                batch.months = []
                save_with_history(
                    batch, user=batch.user, reason="records written taken back"
                )
            return
        except ValidationError as exc:
            refusal = " ".join(exc.messages)
    batch.error = (
        f"{message} {written:,} record{'s' if written != 1 else ''} written before "
        f"it stopped {'are' if written != 1 else 'is'} kept: {refusal}"
    )
    save_with_history(batch, user=batch.user, reason="import failed")
