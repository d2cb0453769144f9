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
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from reports.selectors.cards import finalised_months
from reports.services import scorecards_finalise

from .. import periods
from ..history import delete_with_history, save_with_history
from ..models.teams import Team
from ..rules import can, require
from ..services._common import correction_reason
from ..validators import single_line
from .models import (
    Incident,
    MaintenanceWindow,
    RecordSource,
    RequestPause,
    ServiceRequest,
)

# A batch's ids are looked up this many at a time (SQLite caps a query's
# parameters).
LOOKUP_CHUNK = 500
# Related rows the batch finds itself (one query for all its teams): a
# full_clean per row would look each one up again.
RESOLVED = ("source", "provider", "consumer")


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

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.stale


# Why records of a locked month come late: a sentence or two, kept in history.
REASON_MAX_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # from 1, in the order the rows were given
    field: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.field}: {self.message}"


class RecordsInvalid(ValidationError):
    """Every problem of a refused batch, each naming its row and field
    (``problems``, for an API to lay out; ``messages`` reads them)."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(
            [ValidationError(str(p), code="invalid_record") for p in problems]
        )
        self.problems = tuple(problems)


# --- Reading one value ------------------------------------------------------


class Problem(Exception):
    """Why a value cannot be read; becomes a ``RowProblem``."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise Problem(f"give text, not {type(value).__name__}.")
    return str(value).strip()


def _moment(value: Any) -> datetime | None:
    """An aware datetime, from a datetime or ISO 8601 text; None if empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Problem(
                f"“{value}” is not a date and time: use ISO 8601, e.g. "
                "2026-03-02T09:30:00+01:00."
            ) from None
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        raise Problem(f"{value} is a day: give a date and time with its offset.")
    else:
        raise Problem(f"give a date and time, not {type(value).__name__}.")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Problem(
            f"{parsed.isoformat()} has no time zone: add its offset, e.g. "
            "+01:00, or Z for UTC."
        )
    # The days the portal keeps (``periods``); near year 1 or 9999 moving the
    # moment to UTC would overflow.
    if not periods.FIRST_DAY <= parsed.date() <= periods.LAST_DAY:
        raise Problem(
            f"{parsed.isoformat()} is outside the dates the portal keeps "
            f"({periods.FIRST_DAY.isoformat()} to {periods.LAST_DAY.isoformat()})."
        )
    return parsed


def _pauses(value: Any) -> list[tuple[datetime, datetime | None]]:
    """``[{"started_at": …, "ended_at": …}, …]`` (or pairs), in time order;
    Problem on a bad entry, or on pauses that overlap."""
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise Problem('give a list of {"started_at": …, "ended_at": …}.')
    pauses = []
    for number, entry in enumerate(value, start=1):
        if isinstance(entry, dict):
            unknown = set(entry) - {"started_at", "ended_at"}
            if unknown:
                raise Problem(
                    f"pause {number} has {', '.join(sorted(unknown))}: a pause "
                    "has only started_at and ended_at."
                )
            first, last = entry.get("started_at"), entry.get("ended_at")
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            first, last = entry
        else:
            raise Problem(f"pause {number} is not a start and an end.")
        try:
            start, end = _moment(first), _moment(last)
        except Problem as exc:
            raise Problem(f"pause {number}: {exc}") from None
        if start is None:
            raise Problem(f"pause {number} has no start.")
        if end is not None and end < start:
            raise Problem(
                f"pause {number} ends ({end.isoformat()}) before it starts "
                f"({start.isoformat()})."
            )
        pauses.append((start, end, number))
    pauses.sort(key=lambda pause: pause[0])
    for (_, end, number), (start, _, later) in pairwise(pauses):
        if end is None or start < end:
            first_number, second_number = sorted((number, later))
            raise Problem(f"pauses {first_number} and {second_number} overlap.")
    return [(start, end) for start, end, _ in pauses]


# --- The kinds of record ------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    read: Callable[[Any], Any]
    required: bool = False


@dataclass(frozen=True)
class RecordKind:
    """One kind of record a source sends: its model, the fields a row gives
    (each read by its function), the checks across fields, and the related
    rows it owns (a request's pauses)."""

    name: str  # a row's "type"
    label: str
    model: type[models.Model]
    source_kind: str
    fields: tuple[Field, ...]
    checks: Callable[[dict[str, Any]], list[tuple[str, str]]]

    @property
    def field_names(self) -> set[str]:
        return {field.name for field in self.fields}


def _not_before(
    values: dict[str, Any], field: str, start: str, what: str
) -> list[tuple[str, str]]:
    later, earlier = values.get(field), values.get(start)
    if later is None or earlier is None or later >= earlier:
        return []
    return [
        (
            field,
            f"{what} ({later.isoformat()}) before it starts ({earlier.isoformat()}).",
        )
    ]


def _request_checks(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = _not_before(
        values, "first_response_at", "started_at", "the request is answered"
    ) + _not_before(values, "resolved_at", "started_at", "the request is resolved")
    started = values.get("started_at")
    pauses = values.get("pauses") or []
    # Pauses come sorted: the first is the earliest.
    if started is not None and pauses and pauses[0][0] < started:
        problems.append(
            (
                "pauses",
                f"a pause starts ({pauses[0][0].isoformat()}) before the request "
                f"({started.isoformat()}).",
            )
        )
    return problems


def _ends_checks(what: str) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    def checks(values: dict[str, Any]) -> list[tuple[str, str]]:
        return _not_before(values, "ended_at", "started_at", f"the {what} ends")

    return checks


def _impact(value: Any) -> str:
    text = _text(value).lower()
    if text not in Incident.Impact.values:
        raise Problem(f"“{value}” is not an impact: use major or partial.")
    return text


def _team(value: Any) -> Any:
    # Teams are resolved for the whole batch at once (``_resolve_teams``).
    if isinstance(value, Team):
        return value
    text = _text(value)
    # Looked up before the model's own checks run: no control character
    # (PostgreSQL refuses a NUL in a query) gets that far.
    try:
        single_line(text)
    except ValidationError as exc:
        raise Problem(exc.messages[0]) from None
    return text or None


EXTERNAL_ID = Field("external_id", _text, required=True)
UPDATED_AT = Field("updated_at", _moment, required=True)
COMPONENT = Field("component", _text)

REQUEST = RecordKind(
    name="request",
    label="request",
    model=ServiceRequest,
    source_kind=RecordSource.Kind.REQUESTS,
    fields=(
        EXTERNAL_ID,
        Field("started_at", _moment, required=True),
        Field("first_response_at", _moment),
        Field("resolved_at", _moment),
        UPDATED_AT,
        Field("segment", _text),
        Field("provider", _team),
        Field("consumer", _team),
        Field("pauses", _pauses),
    ),
    checks=_request_checks,
)
INCIDENT = RecordKind(
    name="incident",
    label="incident",
    model=Incident,
    source_kind=RecordSource.Kind.INCIDENTS,
    fields=(
        EXTERNAL_ID,
        COMPONENT,
        Field("impact", _impact, required=True),
        Field("started_at", _moment, required=True),
        Field("ended_at", _moment),
        UPDATED_AT,
    ),
    checks=_ends_checks("incident"),
)
MAINTENANCE = RecordKind(
    name="maintenance",
    label="maintenance window",
    model=MaintenanceWindow,
    source_kind=RecordSource.Kind.INCIDENTS,
    fields=(
        EXTERNAL_ID,
        COMPONENT,
        Field("started_at", _moment, required=True),
        Field("ended_at", _moment, required=True),
        Field("reason", _text, required=True),
        UPDATED_AT,
    ),
    checks=_ends_checks("maintenance window"),
)
KINDS = {kind.name: kind for kind in (REQUEST, INCIDENT, MAINTENANCE)}
# A row without a "type" is a source's main kind of record.
DEFAULT_KIND = {
    RecordSource.Kind.REQUESTS: REQUEST,
    RecordSource.Kind.INCIDENTS: INCIDENT,
}


# --- Checking a batch ---------------------------------------------------------


@dataclass
class Parsed:
    number: int
    kind: RecordKind
    values: dict[str, Any]


def _kind_of(row: dict[str, Any], source: RecordSource) -> RecordKind:
    name = _text(row.get("type")).lower()
    if not name:
        return DEFAULT_KIND[RecordSource.Kind(source.kind)]
    kind = KINDS.get(name)
    allowed = [k.name for k in KINDS.values() if k.source_kind == source.kind]
    if kind is None or kind.source_kind != source.kind:
        raise Problem(
            f"“{name}” is not a record {source} sends: use {' or '.join(allowed)}."
        )
    return kind


def _parse(
    number: int, row: Any, source: RecordSource, problems: list[RowProblem]
) -> Parsed | None:
    if not isinstance(row, dict):
        problems.append(RowProblem(number, "row", "a record is a set of named fields."))
        return None
    try:
        kind = _kind_of(row, source)
    except Problem as exc:
        problems.append(RowProblem(number, "type", str(exc)))
        return None
    values: dict[str, Any] = {}
    failed: set[str] = set()
    for name in sorted(set(row) - kind.field_names - {"type"}):
        problems.append(
            RowProblem(
                number,
                name,
                f"a {kind.label} has no such field; its fields are "
                f"{', '.join(f.name for f in kind.fields)}.",
            )
        )
    for field in kind.fields:
        try:
            value = field.read(row.get(field.name))
        except Problem as exc:
            problems.append(RowProblem(number, field.name, str(exc)))
            failed.add(field.name)
            continue
        if field.required and value in (None, ""):
            problems.append(
                RowProblem(number, field.name, f"a {kind.label} needs one.")
            )
            failed.add(field.name)
            continue
        values[field.name] = value
    for name, message in kind.checks(values):
        if name not in failed:
            problems.append(RowProblem(number, name, message))
    return Parsed(number, kind, values)


def _resolve_teams(
    parsed: list[Parsed], source: RecordSource, problems: list[RowProblem]
) -> None:
    """Team slugs to teams, with one query; a request's provider defaults to
    the source's team."""
    slugs = {
        value
        for item in parsed
        for name in ("provider", "consumer")
        if isinstance(value := item.values.get(name), str)
    }
    teams = {team.slug: team for team in Team.objects.filter(slug__in=slugs)}
    for item in parsed:
        if item.kind is not REQUEST:
            continue
        for name in ("provider", "consumer"):
            value = item.values.get(name)
            if isinstance(value, str):
                team = teams.get(value)
                if team is None:
                    problems.append(
                        RowProblem(
                            item.number, name, f"no team has the slug “{value}”."
                        )
                    )
                item.values[name] = team
        if item.values.get("provider") is None:
            item.values["provider"] = source.team


def _instance(item: Parsed, source: RecordSource) -> models.Model:
    fields = {k: v for k, v in item.values.items() if k != "pauses"}
    return item.kind.model(source=source, **fields)


def _model_problems(
    item: Parsed, instance: models.Model, named: set[str], problems: list[RowProblem]
) -> None:
    """The model's own field rules (lengths, plain text) for the fields not
    ``named`` in a problem already; its constraints are the rows' checks."""
    try:
        instance.full_clean(
            exclude=[*named, *RESOLVED],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                problems.append(RowProblem(item.number, field, message))


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
        elif name in ("provider", "consumer"):
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
    # The locked months it changes.
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


def _locked_months(plan: Planned, now: datetime) -> list[date]:
    """The locked months the row would change: those of the values sent and,
    for an update, those of the record kept (moving a record out of a locked
    month changes that month too)."""
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
    return sorted(m for m in months if periods.is_locked(m, now))


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
    problems: list[RowProblem] = []
    parsed = [
        item
        for number, row in enumerate(rows, start=1)
        if (item := _parse(number, row, source, problems)) is not None
    ]
    _resolve_teams(parsed, source, problems)
    seen: dict[tuple[str, str], int] = {}
    for item in parsed:
        external_id = item.values.get("external_id")
        if not external_id:
            continue
        first = seen.setdefault((item.kind.name, external_id), item.number)
        if first != item.number:
            problems.append(
                RowProblem(
                    item.number,
                    "external_id",
                    f"“{external_id}” is row {first}'s too: send each "
                    f"{item.kind.label} once in a batch.",
                )
            )
    named: dict[int, set[str]] = {}
    for problem in problems:
        named.setdefault(problem.row, set()).add(problem.field)
    for item in parsed:
        _model_problems(
            item, _instance(item, source), named.get(item.number, set()), problems
        )
    if problems:
        problems.sort(key=lambda problem: problem.row)
        raise RecordsInvalid(problems)

    now = timezone.now()
    plans = _plan(parsed, source)
    for plan in plans:
        if plan.writes:
            plan.locked = _locked_months(plan, now)
    problems = _lock_problems(plans, source, user=user, reason=reason, enforce=enforce)
    if problems:
        raise RecordsInvalid(problems)

    report = UpsertReport()
    for plan in plans:
        why = (
            correction_reason(reason, f"sent late to {source.name}")
            if plan.locked and reason
            else None
        )
        if plan.action == "created":
            _create(plan.item, source, user=user, why=why)
            report.created += 1
        elif plan.action == "updated":
            _update(plan.record, plan.item, source, user=user, why=why)
            report.updated += 1
        elif plan.action == "unchanged":
            report.unchanged += 1
        else:
            report.stale += 1
    report.late = sorted({month for plan in plans for month in plan.locked})
    report.late_rows = sum(1 for plan in plans if plan.locked)
    report.recomputed = _refinalise(
        set(report.late),
        source=source,
        reason=reason,
        now=now,
    )
    return report


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


def _create(
    item: Parsed, source: RecordSource, *, user: User | None, why: str | None
) -> None:
    record = _instance(item, source)
    reason = why or f"received from {source.name}"
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
    record: models.Model,
    item: Parsed,
    source: RecordSource,
    *,
    user: User | None,
    why: str | None,
) -> None:
    reason = why or f"updated by {source.name}"
    pauses = item.values.get("pauses")
    # The values were checked with the batch (``_model_problems``).
    for name, value in item.values.items():
        if name != "pauses":
            setattr(record, name, value)
    save_with_history(record, user=user, reason=reason)
    if item.kind is REQUEST and _stored_pauses(record) != (pauses or []):  # type: ignore[arg-type]
        _write_pauses(
            record,  # type: ignore[arg-type]
            pauses or [],
            user=user,
            reason=reason,
            replace=True,
        )


# --- Sources ------------------------------------------------------------------


@transaction.atomic
def source_webhook_secret_rotate(*, source: RecordSource, user: User) -> RecordSource:
    """Give the source a new webhook secret, turning its webhook on; the old
    secret stops working at once. A head of the source's team, or an
    administrator. The history says when and by whom, never the secret."""
    require(
        user,
        "manage_record_sources",
        source,
        f"Only a head of {source.team} or an administrator can set up its sources.",
    )
    source = RecordSource.objects.select_for_update().get(pk=source.pk)
    first = not source.webhook_secret
    source.webhook_secret = secrets.token_urlsafe(32)
    save_with_history(
        source,
        user=user,
        reason="webhook secret set" if first else "webhook secret rotated",
        update_fields=["webhook_secret"],
    )
    return source


@transaction.atomic
def source_webhook_off(*, source: RecordSource, user: User) -> RecordSource:
    """Turn the source's webhook off: its secret is dropped, and every signed
    request is refused until a head sets a new one."""
    require(
        user,
        "manage_record_sources",
        source,
        f"Only a head of {source.team} or an administrator can set up its sources.",
    )
    source = RecordSource.objects.select_for_update().get(pk=source.pk)
    if source.webhook_secret:
        source.webhook_secret = ""
        save_with_history(
            source,
            user=user,
            reason="webhook turned off",
            update_fields=["webhook_secret"],
        )
    return source
