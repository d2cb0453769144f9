"""Every write of records: a batch from a webhook, an import or the API.

``records_upsert`` checks the whole batch before it writes anything, then
upserts each record by (source, external id). The source's own
``updated_at`` orders the updates, so a batch sent twice, in any order, or an
old update arriving after a newer one, changes nothing.

Records of a locked month go through the correction flow, as figures do: only
a head of the source's team (or an administrator) sends them, with a reason
kept in their history as ``"correction: <reason> (…)"``, and the month's
stored scorecards are finalised again (``reports.services.scorecards_finalise``)
so that they count them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from reports.selectors.cards import finalised_months
from reports.services import scorecards_finalise

from .. import periods
from ..history import delete_with_history, save_with_history
from ..rules import can, require
from ..services._common import correction_reason
from .bulk import Write, bulk_write
from .models import (
    ImportBatch,
    Lead,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from .rows import (
    KINDS,
    LEAD,
    REQUEST,
    Parsed,
    RecordKind,
    RecordsInvalid,
    RowProblem,
    parse_rows,
    record_instance,
)

# A batch's ids are looked up this many at a time (SQLite caps a query's
# parameters).
LOOKUP_CHUNK = 500
# From this many records to write, a batch is written in bulk
# (``bulk.bulk_write``); a smaller one record by record, which reads simpler
# and costs little.
BULK_FROM = 200


@dataclass(slots=True)
class UpsertReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older than the record kept: ignored
    # Locked months the batch writes records of (sent late, with a reason),
    # and how many of its rows do.
    late: list[date] = dataclasses.field(default_factory=list)
    late_rows: int = 0
    # Locked months whose stored scorecards were finalised again because
    # records of theirs were written late.
    recomputed: list[date] = dataclasses.field(default_factory=list)
    # Every month the batch writes records of (created or changed, as for
    # ``late``): an import can be undone while all of them are open.
    months: list[date] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.stale


# Why records of a locked month come late: a sentence or two, kept in history.
REASON_MAX_LENGTH = 2000


# --- Writing ------------------------------------------------------------------


def _existing(kind: RecordKind, source: RecordSource, ids: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    queryset = kind.model._default_manager.filter(source=source)
    if kind is REQUEST:
        queryset = queryset.prefetch_related("pauses")
    for at in range(0, len(ids), LOOKUP_CHUNK):
        chunk: Iterable[Any] = queryset.filter(
            external_id__in=ids[at : at + LOOKUP_CHUNK]
        )
        for record in chunk:
            found[record.external_id] = record
    return found


def _stored_pauses(record: ServiceRequest) -> list[tuple[datetime, datetime | None]]:
    return sorted(
        ((pause.started_at, pause.ended_at) for pause in record.pauses.all()),
        key=lambda pause: pause[0],
    )


def _same(record: models.Model, values: dict[str, Any]) -> bool:
    for name, value in values.items():
        if name == "pauses":
            if _stored_pauses(record) != value:  # type: ignore[arg-type]
                return False
        elif name in ("provider", "consumer", "team"):
            if getattr(record, f"{name}_id") != (value.pk if value else None):
                return False
        elif getattr(record, name) != value:
            return False
    return True


def _write_pauses(
    request: ServiceRequest,
    pauses: Iterable[tuple[datetime, datetime | None]],
    *,
    user: User | None,
    reason: str,
    replace: bool,
) -> None:
    if replace:
        for old in list(request.pauses.all()):
            delete_with_history(old, user=user, reason=reason)
    for start, end in pauses:
        pause = RequestPause(request=request, started_at=start, ended_at=end)
        pause.full_clean(exclude=["request"])
        save_with_history(pause, user=user, reason=reason)


@dataclass
class Planned:
    """What the batch does with one row: create it (``record`` None), update
    ``record``, or leave it (unchanged, or stale)."""

    item: Parsed
    record: Any
    action: str  # "created", "updated", "unchanged" or "stale"
    # The months it changes (``_written_months``), and those of them locked.
    months: set[date] = dataclasses.field(default_factory=set)
    locked: list[date] = dataclasses.field(default_factory=list)

    @property
    def writes(self) -> bool:
        return self.action in ("created", "updated")


def _months(
    kind: RecordKind, started: datetime, ended: datetime | None, now: datetime
) -> list[date]:
    """The months a record counts in: a request's start month; every month
    an incident or a maintenance window overlaps (an open incident, up to
    now)."""
    first = periods.month_of(started)
    if kind is REQUEST:
        return [first]
    end = ended if ended is not None else now
    # The end is exclusive: an outage ending at midnight is not in the next month.
    last = periods.month_of(max(started, end - timedelta(microseconds=1)))
    return periods.months_between(first, last)


def _written_months(plan: Planned, now: datetime) -> set[date]:
    """The months the row would change: those of the values sent and, for
    an update, those of the record kept (moving a record out of a month
    changes that month too)."""
    values, kind = plan.item.values, plan.item.kind
    months = set(_months(kind, values["started_at"], values.get("ended_at"), now))
    if plan.record is not None:
        months.update(
            _months(
                kind,
                plan.record.started_at,
                getattr(plan.record, "ended_at", None),
                now,
            )
        )
    return months


def _lock_problems(
    plans: list[Planned],
    source: RecordSource,
    *,
    user: User | None,
    reason: str,
    enforce: bool,
) -> list[RowProblem]:
    """Rows that would change a locked month without the right to, or
    without a reason: the correction flow's rule for figures."""
    late = [plan for plan in plans if plan.locked]
    if not late or not enforce:
        return []
    if user is None or not can(user, "send_late_records", source):
        why = f"a head of {source.team} can send it, with a reason."
    elif not reason:
        why = (
            "say why it is sent late (reason): the reason is kept in the "
            "record's history."
        )
    else:
        return []
    return sorted(
        (
            RowProblem(
                plan.item.number,
                "started_at",
                f"{periods.month_label(plan.locked[0])} is locked: {why}",
            )
            for plan in late
        ),
        key=lambda problem: problem.row,
    )


@transaction.atomic
def records_upsert(
    *,
    source: RecordSource,
    rows: list[dict[str, Any]],
    user: User | None = None,
    reason: str = "",
    enforce_lock: bool | None = None,
    batch: ImportBatch | None = None,
    bulk: bool | None = None,
) -> UpsertReport:
    """Create or update the source's records from ``rows``, each keyed by
    its ``external_id``.

    A row of a requests source is a request: ``external_id``, ``started_at``
    and ``updated_at`` (the source's last change), optionally
    ``first_response_at``, ``resolved_at``, ``segment``, ``provider`` and
    ``consumer`` (team slugs; the provider defaults to the source's team) and
    ``pauses`` (``[{"started_at": …, "ended_at": …}]``). A row of an
    incidents source is an incident (``impact`` major or partial,
    ``started_at``, ``ended_at`` while open empty, ``component``) or, with
    ``"type": "maintenance"``, a maintenance window (``started_at``,
    ``ended_at``, ``reason``, ``component``). Times are aware datetimes or
    ISO 8601 text with an offset.

    Every row is checked first; on any problem ``RecordsInvalid`` (a
    ValidationError) names each by row and field and nothing is written.
    Then a new id is created; a known one is updated only when its
    ``updated_at`` is later than the one kept (an older one is stale and
    ignored), and a record sent again unchanged is left alone, without a
    history row. An updated request's pauses are replaced as a whole.

    A ``user`` must be allowed to send the source's records (``send_records``,
    else ``PermissionDenied``). A row that would create or change a record
    of a locked month (a request's start month, any month an incident or
    maintenance window overlaps) is refused unless the user may send late
    records (``send_late_records``) and gives a ``reason``, which the
    records' history keeps; rows sent unchanged are not writes, so a feed
    may keep re-sending them. ``enforce_lock`` says whether that rule holds:
    by default for a person, not for the system (``user=None``: the demo's
    seed); a webhook has no user but passes ``True``. The locked months
    written to that are finalised already are finalised again
    (``UpsertReport.recomputed``).

    ``batch``: the CSV import the rows come from; every record created or
    updated points to it (and its history rows too, which is how the import
    is undone: ``batches.import_batch_undo``).

    ``bulk``: write the records in bulk (``bulk.bulk_write``: the same rows
    and history rows, a fixed number of queries per chunk) or one by one;
    by default in bulk from ``BULK_FROM`` records written.
    """
    if user is not None:
        require(
            user,
            "send_records",
            source,
            f"Only a lead, manager or head of {source.team} can send its records.",
        )
    reason = (reason or "").strip()
    enforce = user is not None if enforce_lock is None else enforce_lock
    # Batches of one source are written one after another, so two of them
    # cannot both create the same id.
    source = (
        RecordSource.objects.select_for_update()
        .select_related("team")
        .get(pk=source.pk)
    )
    now = timezone.now()
    plans, written = _checked(
        rows, source, user=user, reason=reason, enforce=enforce, now=now
    )
    report = UpsertReport()
    duplicates = _duplicates(plans, source)
    writes: list[Write] = []
    for plan in plans:
        if plan.action == "created":
            if plan.item.kind is LEAD:
                email = plan.item.values.get("email")
                plan.item.values["duplicate_of"] = duplicates.get(email or "")
            report.created += 1
        elif plan.action == "updated":
            report.updated += 1
        elif plan.action == "unchanged":
            report.unchanged += 1
        else:
            report.stale += 1
        if plan.writes:
            writes.append(Write(plan.item, plan.record, _why(plan, source, reason)))
    if len(writes) >= BULK_FROM if bulk is None else bulk:
        bulk_write(writes, source, user=user, batch=batch)
    else:
        for write in writes:
            if write.record is None:
                _create(write, source, user=user, batch=batch)
            else:
                _update(write, user=user, batch=batch)
    report.late = sorted({month for plan in plans for month in plan.locked})
    report.late_rows = sum(1 for plan in plans if plan.locked)
    report.months = sorted(written)
    report.recomputed = _refinalise(
        set(report.late),
        source=source,
        reason=reason,
        now=now,
    )
    return report


def _checked(
    rows: list[dict[str, Any]],
    source: RecordSource,
    *,
    user: User | None,
    reason: str,
    enforce: bool,
    now: datetime,
) -> tuple[list[Planned], set[date]]:
    """Each row's fate and the months the batch writes, once every row is
    read and the lock rule holds; else ``RecordsInvalid``."""
    plans = _plan(parse_rows(rows, source), source)
    written: set[date] = set()
    locked: dict[date, bool] = {}  # each month asked once, not once a row
    for plan in plans:
        if plan.writes:
            plan.months = _written_months(plan, now)
            written |= plan.months
            for month in plan.months - locked.keys():
                locked[month] = periods.is_locked(month, now)
            plan.locked = sorted(m for m in plan.months if locked[m])
    problems = _lock_problems(plans, source, user=user, reason=reason, enforce=enforce)
    if problems:
        raise RecordsInvalid(problems)
    return plans, written


def records_check(
    *,
    source: RecordSource,
    rows: list[dict[str, Any]],
    user: User,
    reason: str = "",
) -> None:
    """Check a whole batch as ``records_upsert`` does, writing nothing: a
    batch written in several calls (``background``) is refused whole, or
    not at all. ``RecordsInvalid`` names every problem."""
    _checked(
        rows,
        source,
        user=user,
        reason=(reason or "").strip(),
        enforce=True,
        now=timezone.now(),
    )


def records_preview(
    *,
    source: RecordSource,
    rows: list[dict[str, Any]],
    user: User,
    reason: str = "",
    group: Callable[[dict[str, Any]], Hashable],
) -> dict[Hashable, UpsertReport]:
    """What ``records_upsert`` would report for each group of ``rows``
    (``group`` gives a row's), each group sent on its own, asked without
    writing: the whole batch checked and its records looked up once, not
    upserted group after group in a transaction rolled back. Raises as the
    service does (``RecordsInvalid``, ``PermissionDenied``)."""
    require(
        user,
        "send_records",
        source,
        f"Only a lead, manager or head of {source.team} can send its records.",
    )
    now = timezone.now()
    plans, _ = _checked(
        rows,
        source,
        user=user,
        reason=(reason or "").strip(),
        enforce=True,
        now=now,
    )
    reports: dict[Hashable, UpsertReport] = {}
    written: dict[Hashable, set[date]] = {}
    late: dict[Hashable, set[date]] = {}
    for plan in plans:
        key = group(rows[plan.item.number - 1])
        report = reports.setdefault(key, UpsertReport())
        setattr(report, plan.action, getattr(report, plan.action) + 1)
        if plan.writes:
            written.setdefault(key, set()).update(plan.months)
        if plan.locked:
            late.setdefault(key, set()).update(plan.locked)
            report.late_rows += 1
    for key, report in reports.items():
        report.months = sorted(written.get(key, ()))
        report.late = sorted(late.get(key, ()))
        if report.late:
            report.recomputed = sorted(finalised_months(set(report.late), now=now))
    return reports


def _plan(parsed: list[Parsed], source: RecordSource) -> list[Planned]:
    """Each row's fate, by kind, with one lookup of the records kept."""
    plans: list[Planned] = []
    for kind in KINDS.values():
        items = [item for item in parsed if item.kind is kind]
        if not items:
            continue
        existing = _existing(
            kind, source, [item.values["external_id"] for item in items]
        )
        for item in items:
            record = existing.get(item.values["external_id"])
            if record is None:
                action = "created"
            elif _same(record, item.values):
                action = "unchanged"
            elif item.values["updated_at"] > record.updated_at:
                action = "updated"
            else:
                action = "stale"
            plans.append(Planned(item, record, action))
    return plans


def _refinalise(
    months: set[date], *, source: RecordSource, reason: str, now: datetime
) -> list[date]:
    """Finalise again the locked ``months`` whose scorecards are stored, as
    after a correction of figures: the scorecards and breaches follow the
    records, their history says why."""
    finalised = sorted(finalised_months(months, now=now))
    why = (
        correction_reason(reason, f"records sent late to {source.name}")
        if reason
        else f"recomputed: records sent late to {source.name}"
    )
    for month in finalised:
        scorecards_finalise(month=month, now=now, reason=why)
    return finalised


def _duplicates(plans: list[Planned], source: RecordSource) -> dict[str, Lead]:
    """For the new leads' addresses, the lead another team handed over first
    with the same address: a new lead that is one is flagged and not counted
    (one query per ``LOOKUP_CHUNK`` addresses)."""
    emails = sorted(
        {
            email
            for plan in plans
            if plan.action == "created"
            and plan.item.kind is LEAD
            and (email := plan.item.values.get("email"))
        }
    )
    first: dict[str, Lead] = {}
    for at in range(0, len(emails), LOOKUP_CHUNK):
        for lead in (
            Lead.objects.counted()
            .filter(email__in=emails[at : at + LOOKUP_CHUNK])
            .order_by("first_received_at", "pk")
        ):
            first.setdefault(lead.email, lead)
    team = {
        plan.item.values.get("email"): plan.item.values["team"]
        for plan in plans
        if plan.item.kind is LEAD
    }
    return {
        email: lead for email, lead in first.items() if lead.team_id != team[email].pk
    }


def _why(plan: Planned, source: RecordSource, reason: str) -> str:
    """The reason the row's history keeps."""
    if plan.locked and reason:
        return correction_reason(reason, f"sent late to {source.name}")
    if plan.action == "created":
        return f"received from {source.name}"
    return f"updated by {source.name}"


def _create(
    write: Write,
    source: RecordSource,
    *,
    user: User | None,
    batch: ImportBatch | None,
) -> None:
    item, reason = write.item, write.reason
    record = record_instance(item, source)
    record.batch = batch  # type: ignore[attr-defined]
    save_with_history(record, user=user, reason=reason)
    if item.kind is REQUEST:
        _write_pauses(
            record,  # type: ignore[arg-type]
            item.values.get("pauses") or [],
            user=user,
            reason=reason,
            replace=False,
        )


def _update(
    write: Write,
    *,
    user: User | None,
    batch: ImportBatch | None,
) -> None:
    record, item, reason = write.record, write.item, write.reason
    pauses = item.values.get("pauses")
    # The values were checked with the batch (``rows.parse_rows``).
    for name, value in item.values.items():
        if name != "pauses":
            setattr(record, name, value)
    if batch is not None:
        record.batch = batch
    save_with_history(record, user=user, reason=reason)
    if item.kind is REQUEST and _stored_pauses(record) != (pauses or []):
        _write_pauses(
            record,
            pauses or [],
            user=user,
            reason=reason,
            replace=True,
        )
