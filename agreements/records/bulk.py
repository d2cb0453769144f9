"""Writing a large batch of records: the same rows and history rows as
``services.records_upsert`` writes one by one, in a fixed number of queries
per ``WRITE_CHUNK`` records.

The service has checked and planned the whole batch before this runs (every
row read, each one's fate decided, the lock rule applied, duplicates found):
only the writing differs. Records are created with ``bulk_create`` and
updated with ``bulk_update``, and their history rows are written with
simple-history's bulk helpers, each with the user and reason it would have
had if saved on its own. A request's pauses follow: those it had are
deleted (with a history row each) when the update changes them, and the new
ones created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from slaportal import freshness

from .models import Lead, RequestPause, ServiceRequest
from .rows import Parsed, record_instance

# Records written per round of queries: large enough that a 100,000-row file
# takes a few hundred queries, small enough for SQLite's parameter limits
# (Django splits a chunk further where the database needs it).
WRITE_CHUNK = 500

# Fields never written by an update: the key, and when the portal first had it.
_NOT_UPDATED = {"id", "source", "external_id", "first_received_at"}


@dataclass(slots=True)
class Write:
    """One record to write: ``item`` created (``record`` None) or ``record``
    updated to it, with the reason its history row keeps."""

    item: Parsed
    record: Any
    reason: str


def bulk_write(
    writes: list[Write],
    source: Any,
    *,
    user: User | None,
    batch: Any,
) -> None:
    """Create and update the records of ``writes``, ``WRITE_CHUNK`` at a
    time, with their history (and a request's pauses). History's bulk
    helpers send no signal: the months' stamps are moved here."""
    freshness.months_moved(None)
    for at in range(0, len(writes), WRITE_CHUNK):
        chunk = writes[at : at + WRITE_CHUNK]
        by_model: dict[type[models.Model], list[Write]] = {}
        for write in chunk:
            by_model.setdefault(write.item.kind.model, []).append(write)
        for model, group in by_model.items():
            _write_group(model, group, source, user=user, batch=batch)


def _prepared(record: Any, write: Write, user: User | None) -> Any:
    record._history_user = user
    record._change_reason = write.reason
    if isinstance(record, Lead):
        # What ``Lead.save`` derives, which a bulk write skips.
        record.derive()
    return record


def _write_group(
    model: type[models.Model],
    group: list[Write],
    source: Any,
    *,
    user: User | None,
    batch: Any,
) -> None:
    now = timezone.now()
    new = [w for w in group if w.record is None]
    changed = [w for w in group if w.record is not None]
    created: list[Any] = []
    if new:
        records = []
        for write in new:
            record = record_instance(write.item, source)
            record.batch = batch  # type: ignore[attr-defined]
            records.append(_prepared(record, write, user))
        created = bulk_create_with_history(records, model, default_user=user)
    fields: set[str] = set()
    for write in changed:
        record = write.record
        for name, value in write.item.values.items():
            if name != "pauses":
                setattr(record, name, value)
                fields.add(name)
        if batch is not None:
            record.batch = batch
        # ``auto_now`` is applied by ``save`` only.
        record.received_at = now
        _prepared(record, write, user)
    if changed:
        fields |= {"received_at", "batch"}
        if model is Lead:
            fields |= {"month", "email"}
        names = [
            f.name
            for f in model._meta.concrete_fields
            if f.name in fields and f.name not in _NOT_UPDATED
        ]
        bulk_update_with_history(
            [w.record for w in changed], model, names, default_user=user
        )
    if model is ServiceRequest:
        _write_pauses(new, created, changed, user=user)


def _stored(record: ServiceRequest) -> list[tuple[datetime, datetime | None]]:
    # The pauses were prefetched with the records (``services._existing``).
    return sorted(
        ((p.started_at, p.ended_at) for p in record.pauses.all()),
        key=lambda pause: pause[0],
    )


def _write_pauses(
    new: list[Write],
    created: list[Any],
    changed: list[Write],
    *,
    user: User | None,
) -> None:
    """The pauses of the requests created, and of those updated whose pauses
    changed (replaced as a whole, as ``services._update`` does)."""
    pauses: list[RequestPause] = []
    replaced: list[RequestPause] = []
    for write, record in zip(new, created, strict=True):
        pauses += _pauses(record, write, user)
    for write in changed:
        wanted = write.item.values.get("pauses") or []
        if _stored(write.record) == wanted:
            continue
        for old in write.record.pauses.all():
            old._history_user = user
            old._change_reason = write.reason
            replaced.append(old)
        pauses += _pauses(write.record, write, user)
    if replaced:
        _bulk_delete_with_history(replaced, RequestPause, user=user)
    if pauses:
        bulk_create_with_history(pauses, RequestPause, default_user=user)


def _pauses(request: Any, write: Write, user: User | None) -> list[RequestPause]:
    made = []
    for start, end in write.item.values.get("pauses") or []:
        pause = RequestPause(request=request, started_at=start, ended_at=end)
        pause._history_user = user  # type: ignore[attr-defined]
        pause._change_reason = write.reason  # type: ignore[attr-defined]
        made.append(pause)
    return made


def _bulk_delete_with_history(
    objs: Iterable[Any], model: type[models.Model], *, user: User | None
) -> None:
    """Delete ``objs`` with the history row a delete of each one writes
    (``history_type`` "-", its user and reason), in two queries."""
    objs = list(objs)
    history = model.history.model  # type: ignore[attr-defined]
    now = timezone.now()
    history.objects.bulk_create(
        [
            history(
                history_date=now,
                history_user=getattr(obj, "_history_user", user),
                history_change_reason=getattr(obj, "_change_reason", None),
                history_type="-",
                **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
            )
            for obj in objs
        ]
    )
    # A plain DELETE: ``QuerySet.delete`` would send a signal per row, and
    # simple-history would write a second history row for each of them.
    queryset = model._default_manager.filter(pk__in=[obj.pk for obj in objs])
    queryset._raw_delete(queryset.db)  # type: ignore[attr-defined]
