"""Uploaded CSV files as import batches: kept while they wait for the
confirmation (in the database, not the session), then what importing them
did, and undone while every month they touched is open.

The records import and the figures import both keep their pending file in
an ``ImportBatch``; only the records import is recorded once imported and
can be undone (its records point to the batch, ``services.records_upsert``).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .. import periods
from ..history import delete_with_history, save_with_history
from ..models.teams import Team
from ..rules import require
from .models import ImportBatch, RecordSource, RequestPause, ServiceRequest
from .rows import KINDS
from .services import UpsertReport


def fingerprint(text: str) -> str:
    """SHA-256 of the decoded text with its line endings, a leading
    byte-order mark and trailing blank lines normalised away: the same data
    saved again by another program has the same fingerprint."""
    normal = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normal.rstrip("\n").encode("utf-8")).hexdigest()


def import_batches_clear_pending(*, now: datetime | None = None) -> int:
    """Drop the files of uploads left unconfirmed for ``PENDING_FOR``: they
    become cancelled. One conditional UPDATE, so running it twice, or at the
    same time as a confirmation, is harmless (a batch imported meanwhile is
    no longer pending). Returns how many were cleared."""
    now = timezone.now() if now is None else now
    # A bulk update writes no history row: nobody cancelled these, they
    # expired, and the row itself keeps when it was uploaded and by whom.
    return ImportBatch.objects.expired(now).update(
        status=ImportBatch.Status.CANCELLED, data=None
    )


@transaction.atomic
def import_batch_start(
    *,
    user: User,
    team: Team,
    file_name: str,
    raw: bytes,
    text: str,
    source: RecordSource | None = None,
    figures_kind: str = "",
    replaces: int | None = None,
) -> ImportBatch:
    """A pending batch for an uploaded file (its bytes ``raw``, read as
    ``text``). The upload the person had waiting (``replaces``) is
    cancelled, and every upload abandoned for a day is cleared."""
    import_batches_clear_pending()
    if replaces is not None:
        waiting = ImportBatch.objects.pending().filter(pk=replaces, user=user).first()
        if waiting is not None:
            import_batch_cancel(batch=waiting, user=user)
    batch = ImportBatch(
        kind=ImportBatch.Kind.RECORDS if source else ImportBatch.Kind.FIGURES,
        team=team,
        source=source,
        figures_kind=figures_kind,
        token=uuid.uuid4().hex,
        user=user,
        file_name=file_name[:255],
        size=len(raw),
        fingerprint=fingerprint(text),
        data=raw,
    )
    batch.full_clean()
    save_with_history(batch, user=user, reason="uploaded")
    return batch


def import_batch_cancel(*, batch: ImportBatch, user: User) -> bool:
    """Drop a pending file; False if it was not pending any more."""
    if batch.status != ImportBatch.Status.PENDING:
        return False
    batch.status = ImportBatch.Status.CANCELLED
    batch.data = None
    save_with_history(batch, user=user, reason="cancelled before importing")
    return True


def import_batch_map(*, batch: ImportBatch, user: User, mapping: dict) -> None:
    """Keep the columns chosen for the pending file."""
    batch.mapping = mapping
    save_with_history(
        batch, user=user, reason="columns chosen", update_fields=["mapping"]
    )


def import_batch_imported(
    *, batch: ImportBatch, user: User, report: UpsertReport | None = None
) -> None:
    """The pending file was imported: keep what it did, drop its bytes.
    Called inside the import's transaction."""
    batch.status = ImportBatch.Status.IMPORTED
    batch.data = None
    batch.imported_at = timezone.now()
    if report is not None:
        batch.created = report.created
        batch.updated = report.updated
        batch.unchanged = report.unchanged
        batch.stale = report.stale
        batch.months = [periods.format_month(month) for month in report.months]
    save_with_history(batch, user=user, reason="imported")


def imported_before(batch: ImportBatch) -> ImportBatch | None:
    """The last import into the same source of the same data, still in
    force (not undone)."""
    return (
        ImportBatch.objects.filter(
            source_id=batch.source_id,
            fingerprint=batch.fingerprint,
            status=ImportBatch.Status.IMPORTED,
        )
        .exclude(pk=batch.pk)
        .select_related("user")
        .order_by("-imported_at", "-pk")
        .first()
    )


# --- Undo ----------------------------------------------------------------------


def _record_models() -> list[type[models.Model]]:
    return list(dict.fromkeys(kind.model for kind in KINDS.values()))


def undoable(batch: ImportBatch) -> bool:
    """Imported, or failed in the background with records written that
    could not be taken back at once (``background``)."""
    if batch.status == ImportBatch.Status.FAILED:
        return batch.created + batch.updated > 0
    return batch.status == ImportBatch.Status.IMPORTED


def undo_refusal(batch: ImportBatch, *, now: datetime | None = None) -> str:
    """Why the import cannot be undone, or "" when it can."""
    if not undoable(batch):
        status = batch.get_status_display().lower()
        return f"This import is {status}: there is nothing to undo."
    locked = [m for m in batch.month_dates if periods.is_locked(m, now)]
    if locked:
        return (
            f"{periods.month_label(locked[0])} is locked, so this import can no "
            "longer be undone: a head of the team corrects the records instead."
        )
    return ""


@dataclass
class _Written:
    record: Any
    created: bool
    before: Any  # the history row before the import's, for an update


def _written(batch: ImportBatch) -> list[_Written]:
    """Each record the batch wrote: created, or updated (with its state
    before). A record written again since by anything else refuses the
    undo, which would otherwise throw that change away."""
    written: list[_Written] = []
    changed: list[str] = []
    for model in _record_models():
        history = model.history.model  # type: ignore[attr-defined]
        rows = history.objects.filter(batch_id=batch.pk).exclude(history_type="-")
        ids = {row.id for row in rows}
        if not ids:
            continue
        records = model._default_manager.in_bulk(ids)
        first: dict[int, Any] = {}
        before: dict[int, Any] = {}  # the row before the batch's first
        latest: dict[int, Any] = {}
        # In the order written (two rows may share a moment).
        for row in history.objects.filter(id__in=ids).order_by(
            "history_date", "history_id"
        ):
            if row.batch_id == batch.pk and row.id not in first:
                first[row.id] = row
                before[row.id] = latest.get(row.id)
            latest[row.id] = row
        for pk in sorted(ids):
            record, last = records.get(pk), latest[pk]
            if record is None or last.history_id != first[pk].history_id:
                changed.append(str(getattr(last, "external_id", pk)))
                continue
            created = last.history_type == "+"
            written.append(_Written(record, created, before[pk]))
    if changed:
        shown = ", ".join(sorted(changed)[:5])
        raise ValidationError(
            f"{len(changed)} record{'s were' if len(changed) != 1 else ' was'} "
            f"changed after this import ({shown}): undoing it would lose that "
            "change."
        )
    return written


# Fields an undo leaves as they are: the key, and the times the portal keeps.
_KEPT = {"id", "source", "external_id", "received_at", "first_received_at"}


def _restore(record: Any, before: Any, *, user: User, reason: str) -> None:
    for field in record._meta.concrete_fields:
        # Fields the history leaves out (a lead's raw row) stay as they are.
        if field.name in _KEPT or not hasattr(before, field.attname):
            continue
        setattr(record, field.attname, getattr(before, field.attname))
    save_with_history(record, user=user, reason=reason)
    if isinstance(record, ServiceRequest):
        _restore_pauses(record, before.history_date, user=user, reason=reason)


def _restore_pauses(
    request: ServiceRequest, moment: datetime, *, user: User, reason: str
) -> None:
    """The request's pauses as they were at ``moment`` (the update replaced
    them as a whole)."""
    kept = [
        (p.started_at, p.ended_at)
        for p in RequestPause.history.as_of(moment).filter(request_id=request.pk)
    ]
    current = list(request.pauses.all())
    if sorted((p.started_at, p.ended_at) for p in current) == sorted(
        kept, key=lambda p: p[0]
    ):
        return
    for pause in current:
        delete_with_history(pause, user=user, reason=reason)
    for start, end in kept:
        save_with_history(
            RequestPause(request=request, started_at=start, ended_at=end),
            user=user,
            reason=reason,
        )


@transaction.atomic
def import_batch_undo(*, batch: ImportBatch, user: User) -> ImportBatch:
    """Undo a records import: delete the records it created, put back the
    ones it updated as they were before it (from their history), and mark
    it undone by ``user``. Refused (``ValidationError``) once a month it
    touched is locked, or when a record it wrote was changed since;
    ``PermissionDenied`` for someone who may not send the source's records.
    """
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    source = batch.source
    if source is None:
        raise ValidationError("Only an import of records can be undone.")
    require(
        user,
        "send_records",
        source,
        f"Only a lead, manager or head of {source.team} can undo its imports.",
    )
    if refusal := undo_refusal(batch):
        raise ValidationError(refusal)
    take_back(batch, user=user, reason=f"undo of the import of {batch.file_name}")
    batch.status = ImportBatch.Status.UNDONE
    batch.undone_at = timezone.now()
    batch.undone_by = user
    save_with_history(batch, user=user, reason="undone")
    return batch


def take_back(batch: ImportBatch, *, user: User, reason: str) -> None:
    """Delete the records the batch created and put back the ones it
    updated as they were before it; ``ValidationError`` when one was
    changed since. Called inside a transaction."""
    reason = f"{reason} (#{batch.pk})"
    for item in _written(batch):
        item.record.batch = None
        if item.created:
            if isinstance(item.record, ServiceRequest):
                for pause in list(item.record.pauses.all()):
                    delete_with_history(pause, user=user, reason=reason)
            delete_with_history(item.record, user=user, reason=reason)
        else:
            _restore(item.record, item.before, user=user, reason=reason)
