"""A batch's rows before anything is written: each value read (times with
an offset, pauses, teams by slug), the kinds of record and their fields,
and every problem named by row and field (``RecordsInvalid``).

``services.records_upsert`` checks a whole batch through ``parse_rows``
before it writes any of it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from .. import periods
from ..models.teams import Team
from ..validators import single_line
from .models import (
    Incident,
    Lead,
    MaintenanceWindow,
    RecordSource,
    ServiceRequest,
)

# Related rows the batch finds itself (one query for all its teams): a
# full_clean per row would look each one up again.
RESOLVED = ("source", "provider", "consumer", "team", "duplicate_of")
# The most a lead's raw row may hold, as JSON text.
RAW_MAX_CHARS = 20_000


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


def _flag(value: Any) -> bool:
    """true or false (also yes/no, 1/0); empty is false."""
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("", "false", "no", "0"):
        return False
    if text in ("true", "yes", "1"):
        return True
    raise Problem(f"“{value}” is not true or false.")


def _email(value: Any) -> str:
    """An address as the CRM wrote it, in lower case (the same person twice
    is found by it)."""
    return _text(value).lower()


def _raw(value: Any) -> dict[str, Any]:
    """The row as the CRM gave it: named values, kept for audit."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise Problem("give the row as named values (an object).")
    written = json.dumps(value, default=str)
    if len(written) > RAW_MAX_CHARS:
        raise Problem(f"the raw row is over {RAW_MAX_CHARS:,} characters.")
    if "\\u0000" in written:
        raise Problem("the raw row holds a NUL character: leave it out.")
    return value


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
    # Fields that name a team by its slug; the first is the source's team
    # when the row leaves it empty.
    teams: tuple[str, ...] = ()

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
    teams=("provider", "consumer"),
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
LEAD = RecordKind(
    name="lead",
    label="lead",
    model=Lead,
    source_kind=RecordSource.Kind.LEADS,
    fields=(
        EXTERNAL_ID,
        Field("started_at", _moment, required=True),
        Field("team", _team),
        Field("qualified", _flag),
        Field("qualified_at", _moment),
        Field("owner_assigned_at", _moment),
        Field("first_touch_at", _moment),
        Field("owner", _text),
        Field("email", _email),
        Field("name", _text),
        Field("company", _text),
        Field("status", _text),
        Field("stage", _text),
        Field("raw", _raw),
        UPDATED_AT,
    ),
    checks=lambda values: _not_before(
        values, "first_touch_at", "started_at", "the lead is touched"
    ),
    teams=("team",),
)
KINDS = {kind.name: kind for kind in (REQUEST, INCIDENT, MAINTENANCE, LEAD)}
# A row without a "type" is a source's main kind of record.
DEFAULT_KIND = {
    RecordSource.Kind.REQUESTS: REQUEST,
    RecordSource.Kind.INCIDENTS: INCIDENT,
    RecordSource.Kind.LEADS: LEAD,
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
    """Team slugs to teams, with one query; a kind's first team (a
    request's provider, a lead's team) defaults to the source's team."""
    slugs = {
        value
        for item in parsed
        for name in item.kind.teams
        if isinstance(value := item.values.get(name), str)
    }
    teams = {team.slug: team for team in Team.objects.filter(slug__in=slugs)}
    for item in parsed:
        if not item.kind.teams:
            continue
        for name in item.kind.teams:
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
        if item.values.get(item.kind.teams[0]) is None:
            item.values[item.kind.teams[0]] = source.team


def record_instance(item: Parsed, source: RecordSource) -> models.Model:
    fields = {k: v for k, v in item.values.items() if k != "pauses"}
    return item.kind.model(source=source, **fields)


def _model_problems(item: Parsed, named: set[str], problems: list[RowProblem]) -> None:
    """The model's own field rules (lengths, plain text) for the fields the
    row gives and no problem ``named`` already: each field's ``clean``, as
    the model's ``full_clean`` runs it, without building the record (a
    field left out keeps its default, which the rules allow); its
    constraints are the rows' checks."""
    fields = _checked_fields(item.kind.model)
    for name, value in item.values.items():
        field = fields.get(name)
        if field is None or name in named:
            continue
        try:
            field.clean(value, None)
        except ValidationError as exc:
            problems.extend(
                RowProblem(item.number, name, message) for message in exc.messages
            )


@functools.cache
def _checked_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """The fields of a record a row fills and the model checks: neither
    the teams and links the service resolves nor those the model computes."""
    return {
        field.name: field
        for field in model._meta.concrete_fields
        if field.editable and field.name not in RESOLVED
    }


def parse_rows(rows: list[dict[str, Any]], source: RecordSource) -> list[Parsed]:
    """Every row of the batch read and checked, in order; on any problem
    ``RecordsInvalid`` names each by row and field."""
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
        _model_problems(item, named.get(item.number, set()), problems)
    if problems:
        problems.sort(key=lambda problem: problem.row)
        raise RecordsInvalid(problems)

    return parsed
