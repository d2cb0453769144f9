"""Import a source's records from a CSV file exported by the team's tool.

The file is read as every import reads one (``agreements.imports``), within
the figures import's limits: UTF-8 with or without a byte-order mark, ``,``,
``;`` or a tab, rows numbered as in a spreadsheet. Its columns can be named
anything and come in any order: each field of a record is mapped onto one
column (``guess_columns`` proposes a mapping: the one saved from the
source's last import where the file has its columns, else one read from the
columns' names). Times are ISO 8601; those written without an offset are
read in a chosen time zone.

The rows then go to ``services.records_upsert`` as they are: the service
alone decides what is valid, new, updated, unchanged or stale.
``records_preview_csv`` asks it without writing (``services.records_preview``:
the same checks, one lookup of the records kept), so the preview is the
import's own verdict; ``records_import_csv`` writes every row or none and
keeps the mapping on the source for the next file (with ``dry_run``, in a
transaction rolled back: the slow way to the same answer, kept to check the
preview against).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from .. import periods
from ..calendars.models import time_zones
from ..figures.imports import MAX_ROWS
from ..history import save_with_history
from ..imports.headers import header_key, match_headers
from ..imports.moments import ISO_DATE, ISO_DATETIME, parse_moment
from ..imports.reading import (
    CsvTable,
    RowError,
    header_problems,
    parse_table,
    rows_problem,
)
from ..models.teams import Team
from ..rules import require
from .batches import import_batch_imported
from .models import ImportBatch, RecordSource
from .rows import DEFAULT_KIND, KINDS, RecordsInvalid
from .services import UpsertReport, records_preview, records_upsert


@dataclass(frozen=True)
class CsvField:
    """A field of a record that a column of the file can fill."""

    name: str  # as ``records_upsert`` names it
    label: str
    help: str
    # Column names it is guessed from, as ``header_key`` writes them, best
    # first.
    names: tuple[str, ...] = ()
    time: bool = False  # a moment: read in the chosen zone without an offset
    required: bool = False  # every record of the source needs it


# The fields in the order a person maps them. Which of them a source's file
# offers, and which are required, comes from the service's kinds of record.
ABOUT = {
    f.name: f
    for f in (
        CsvField(
            "type",
            "Type",
            "incident or maintenance; empty means an incident.",
            ("type", "recordtype", "kind", "category"),
        ),
        CsvField(
            "external_id",
            "Record id",
            "The id the tool gives the record. A record sent again with the "
            "same id updates the one kept.",
            (
                "externalid",
                "id",
                "ticketid",
                "ticket",
                "ticketnumber",
                "ticketno",
                "requestid",
                "incidentid",
                "caseid",
                "case",
                "number",
                "key",
                "reference",
                "ref",
            ),
        ),
        CsvField(
            "started_at",
            "Started",
            "When it started: for a request, when it came in.",
            (
                "startedat",
                "started",
                "start",
                "starttime",
                "created",
                "createdat",
                "createdon",
                "opened",
                "openedat",
                "reported",
                "reportedat",
                "submitted",
                "begin",
            ),
            time=True,
        ),
        CsvField(
            "first_response_at",
            "First response",
            "When the request was first answered; empty until then.",
            (
                "firstresponseat",
                "firstresponse",
                "firstresponsetime",
                "firstreply",
                "firstreplyat",
                "firstanswer",
                "responded",
                "respondedat",
                "answered",
                "answeredat",
            ),
            time=True,
        ),
        CsvField(
            "resolved_at",
            "Resolved",
            "When the request was resolved; empty while it is open.",
            (
                "resolvedat",
                "resolved",
                "solved",
                "solvedat",
                "closed",
                "closedat",
                "completed",
                "done",
            ),
            time=True,
        ),
        CsvField(
            "ended_at",
            "Ended",
            "When it ended; empty while an incident is still open.",
            (
                "endedat",
                "ended",
                "end",
                "endtime",
                "resolved",
                "resolvedat",
                "recovered",
                "closed",
                "closedat",
                "finished",
            ),
            time=True,
        ),
        CsvField(
            "updated_at",
            "Last updated",
            "When the tool last changed the record: a later time than the one "
            "kept updates the record, an earlier one is ignored.",
            (
                "updatedat",
                "updated",
                "lastupdated",
                "lastupdate",
                "modified",
                "modifiedat",
                "lastmodified",
                "changed",
                "lastchanged",
            ),
            time=True,
        ),
        CsvField(
            "segment",
            "Segment",
            "E.g. a priority (P1) or a request type: an agreement may set a "
            "target per segment.",
            ("segment", "priority", "prio", "requesttype", "category", "tier"),
        ),
        CsvField(
            "consumer",
            "Asking team",
            "The team that asked, by its name or slug; empty when unknown.",
            (
                "consumer",
                "team",
                "askingteam",
                "requestingteam",
                "requesterteam",
                "fromteam",
                "customerteam",
            ),
        ),
        CsvField(
            "impact",
            "Impact",
            "major or partial (an incident).",
            ("impact", "severity", "level", "outage"),
        ),
        CsvField(
            "component",
            "Component",
            "The part of the service affected; empty means the whole service.",
            ("component", "service", "system", "affected", "affectedcomponent"),
        ),
        CsvField(
            "reason",
            "Reason",
            "Why the maintenance was needed (a maintenance window).",
            ("reason", "description", "summary", "title", "why"),
        ),
    )
}
# Fields a file does not fill: a request's provider is the source's team,
# its pauses (a list of intervals) have no one-cell form, and a lead's raw
# row is the whole of it.
NOT_FROM_FILES = frozenset({"provider", "pauses", "raw"})
NOT_IN_FILE = ""  # the choice of a field no column fills


def csv_fields(source_kind: str) -> tuple[CsvField, ...]:
    """The fields a source's file can fill, in ``ABOUT``'s order; required
    are those every kind of record the source sends needs."""
    kinds = [kind for kind in KINDS.values() if kind.source_kind == source_kind]
    names = {
        f.name for kind in kinds for f in kind.fields if f.name not in NOT_FROM_FILES
    }
    if len(kinds) > 1:
        names.add("type")
    required = set.intersection(
        *({f.name for f in kind.fields if f.required} for kind in kinds)
    )
    about = [ABOUT[name] for name in ABOUT if name in names] + [
        # A field the service gained and this table has not described yet.
        CsvField(
            name,
            name.replace("_", " ").capitalize(),
            "",
            (header_key(name),),
            time=name.endswith("_at"),
        )
        for name in sorted(names - set(ABOUT))
    ]
    return tuple(replace(f, required=f.name in required) for f in about)


@dataclass(frozen=True)
class ColumnMapping:
    """Which column fills each field (fields no column fills are left out),
    and the time zone of times written without an offset.

    A leads source's file also has one ``date_format`` (a key of
    ``imports.moments.BY_KEY``) for all its date columns, and says which
    leads are qualified: those with a value in ``qualified_column`` or,
    given ``qualified_values``, those whose value there is one of them."""

    columns: dict[str, str]
    time_zone: str
    date_format: str = ""
    qualified_column: str = ""
    qualified_values: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def as_json(self) -> dict[str, Any]:
        """As ``RecordSource.column_mapping`` keeps it."""
        kept: dict[str, Any] = {
            "columns": dict(self.columns),
            "time_zone": self.time_zone,
        }
        if self.date_format:
            kept["date_format"] = self.date_format
            kept["qualified_column"] = self.qualified_column
            kept["qualified_values"] = list(self.qualified_values)
        return kept

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> ColumnMapping:
        """The mapping ``as_json`` wrote (kept between the import's pages)."""
        return cls(
            **{**kept, "qualified_values": tuple(kept.get("qualified_values", ()))}
        )

    @classmethod
    def saved(cls, source: RecordSource) -> ColumnMapping:
        """The mapping kept from the source's last import (empty if none), in
        the organisation's time zone unless it chose another."""
        kept = source.column_mapping if isinstance(source.column_mapping, dict) else {}
        columns = kept.get("columns")
        zone = kept.get("time_zone")
        values = kept.get("qualified_values")
        return cls(
            columns={
                name: column
                for name, column in (columns or {}).items()
                if isinstance(name, str) and isinstance(column, str)
            }
            if isinstance(columns, dict)
            else {},
            time_zone=zone if zone in time_zones() else settings.TIME_ZONE,
            date_format=_text(kept.get("date_format")),
            qualified_column=_text(kept.get("qualified_column")),
            qualified_values=tuple(
                value for value in values or () if isinstance(value, str)
            )
            if isinstance(values, list)
            else (),
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- Reading the file ------------------------------------------------------------


def read_upload(text: str, *, max_rows: int = MAX_ROWS) -> CsvTable | list[RowError]:
    """The file's header and rows, or every reason it cannot be mapped: it
    cannot be parsed, has no rows or more than ``max_rows``, or names a
    column twice (a mapping names columns). A column without a name is left
    unmapped."""
    table = parse_table(text)
    if isinstance(table, RowError):
        return [table]
    errors = header_problems(table.header, allow_unnamed=True)
    if (error := rows_problem(table, max_rows=max_rows)) is not None:
        errors.append(error)
    return errors or table


def guess_columns(
    fields: tuple[CsvField, ...], header: list[str], saved: dict[str, str]
) -> dict[str, str]:
    """For each field, the column the source's last import used when the
    file has it, else the first unused column whose name means the field
    (letter case, spaces, underscores and punctuation aside)."""
    present = set(header)
    chosen = {f.name: saved[f.name] for f in fields if saved.get(f.name) in present}
    aliases = {f.name: f.names for f in fields if f.name not in chosen}
    return chosen | match_headers(header, aliases, taken=chosen.values())


@dataclass
class Batch:
    """The file's rows as ``records_upsert`` takes them."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # each row's row in the file
    # Rows that could not be sent (more values than the header has columns).
    errors: list[RowError] = field(default_factory=list)
    # How many records start in each month (the organisation's), oldest first.
    months: list[tuple[date, int]] = field(default_factory=list)


def _moment(text: str, zone: ZoneInfo) -> Any:
    """An ISO 8601 time written with an offset as it is, one without it read
    in ``zone`` (``parse_moment``). A day alone, or text that is no ISO
    time, goes to the service as it is, which explains what it wants."""
    if not text:
        return ""
    try:
        return parse_moment(text, ISO_DATETIME, zone)
    except ValueError:
        pass
    try:
        return parse_moment(text, ISO_DATE, zone).date()
    except ValueError:
        return text


def _team_slugs() -> dict[str, str]:
    """A team's slug by its slug or name, in any letter case."""
    slugs: dict[str, str] = {}
    teams = list(Team.objects.order_by().values_list("slug", "name"))
    for slug, name in teams:
        slugs[name.casefold()] = slug
    for slug, _ in teams:
        slugs[slug.casefold()] = slug
    return slugs


def _cell(cells: list[str], at: int) -> str:
    # A short row leaves its last columns empty.
    return cells[at].strip() if at < len(cells) else ""


def batch_from(
    table: CsvTable, *, source: RecordSource, mapping: ColumnMapping
) -> Batch:
    """Each row of the file as a record: the mapped columns' values, times
    made aware in the mapping's zone, a team's name turned into its slug."""
    batch = Batch()
    fields = [f for f in csv_fields(source.kind) if f.name in mapping.columns]
    index = {name: at for at, name in enumerate(table.header)}
    kinds = {kind.name: kind for kind in KINDS.values()}
    default = DEFAULT_KIND[RecordSource.Kind(source.kind)]
    slugs = _team_slugs() if "consumer" in mapping.columns else {}
    zone = mapping.zone
    months: Counter[date] = Counter()
    for number, cells in table.rows:
        if (error := table.width_error(number, cells)) is not None:
            batch.errors.append(error)
            continue
        values = {f.name: _cell(cells, index[mapping.columns[f.name]]) for f in fields}
        written = values.pop("type", "")
        kind = kinds.get(written.lower(), default) if written else default
        row: dict[str, Any] = {"type": written} if written else {}
        for f in fields:
            # A column another kind of record fills (an incident's row in a
            # column of maintenance reasons) is none of this record's.
            if f.name not in values or f.name not in kind.field_names:
                continue
            value = values[f.name]
            if f.time:
                value = _moment(value, zone)
            elif f.name == "consumer" and value:
                value = slugs.get(value.casefold(), value)
            row[f.name] = value
        if isinstance(started := row.get("started_at"), datetime):
            months[periods.month_of(started)] += 1
        batch.rows.append(row)
        batch.numbers.append(number)
    batch.months = sorted(months.items())
    return batch


# --- Checking and importing ------------------------------------------------------


@dataclass
class CsvOutcome:
    """What the import did, or would do (``report``), or why it cannot
    (``errors``, by the file's rows and columns: then nothing was written)."""

    report: UpsertReport | None
    errors: list[RowError]
    written: bool


@dataclass
class CsvPreview(CsvOutcome):
    """What importing the file would do, as a whole (``report``) and for
    each group of its rows (``groups``, by the ``group`` asked for)."""

    groups: dict[Any, UpsertReport] = field(default_factory=dict)


def report_sum(reports: list[UpsertReport]) -> UpsertReport:
    """One report for groups of a batch sent together."""
    total = UpsertReport()
    for report in reports:
        for name in ("created", "updated", "unchanged", "stale", "late_rows"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        for name in ("late", "recomputed", "months"):
            months = {*getattr(total, name), *getattr(report, name)}
            setattr(total, name, sorted(months))
    return total


class _RolledBack(Exception):
    def __init__(self, report: UpsertReport) -> None:
        self.report = report


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _row_errors(
    exc: RecordsInvalid, batch: Batch, mapping: ColumnMapping
) -> list[RowError]:
    return [
        RowError(
            batch.numbers[problem.row - 1],
            mapping.columns.get(problem.field, problem.field),
            _sentence(problem.message),
        )
        for problem in exc.problems
    ]


def mapping_remember(
    *, source: RecordSource, mapping: ColumnMapping, user: User
) -> None:
    """Keep the columns of an import on the source for its next file."""
    if source.column_mapping != mapping.as_json():
        source.column_mapping = mapping.as_json()
        save_with_history(
            source,
            user=user,
            reason="column mapping of its CSV import",
            update_fields=["column_mapping"],
        )


def records_preview_csv(
    *,
    source: RecordSource,
    batch: Batch,
    mapping: ColumnMapping,
    user: User,
    reason: str = "",
    group: Any = None,
) -> CsvPreview:
    """What ``records_import_csv`` would do with the file, asked without
    writing: its report and errors are the import's. ``group`` (a row's
    key, e.g. its month) also counts the rows group by group."""
    try:
        groups = records_preview(
            source=source,
            rows=batch.rows,
            user=user,
            reason=reason,
            group=group or (lambda row: None),
        )
    except RecordsInvalid as exc:
        errors = batch.errors + _row_errors(exc, batch, mapping)
        errors.sort(key=lambda error: error.row or 0)
        return CsvPreview(None, errors, written=False)
    if batch.errors:
        return CsvPreview(None, batch.errors, written=False)
    report = report_sum(list(groups.values()))
    return CsvPreview(report, [], written=False, groups=groups if group else {})


def records_import_csv(
    *,
    source: RecordSource,
    batch: Batch,
    mapping: ColumnMapping,
    user: User,
    reason: str = "",
    dry_run: bool = False,
    import_batch: ImportBatch | None = None,
) -> CsvOutcome:
    """Send the file's rows to ``records_upsert`` in one batch: all are
    written, or none. With ``dry_run`` (the preview) the service checks and
    counts them in a transaction that is rolled back. A written import
    keeps the mapping on the source for the next file. ``reason``: why
    records of locked months come late (a head's correction).
    ``import_batch``: the uploaded file's batch, which the records point to
    and which, written, becomes imported with the counts and months."""
    require(
        user,
        "send_records",
        source,
        f"Only a lead, manager or head of {source.team} can send its records.",
    )
    try:
        with transaction.atomic():
            report = records_upsert(
                source=source,
                rows=batch.rows,
                user=user,
                reason=reason,
                batch=import_batch,
            )
            if dry_run or batch.errors:
                raise _RolledBack(report)
            if import_batch is not None:
                import_batch_imported(batch=import_batch, user=user, report=report)
            mapping_remember(source=source, mapping=mapping, user=user)
    except _RolledBack as rolled_back:
        report = rolled_back.report
    except RecordsInvalid as exc:
        errors = batch.errors + _row_errors(exc, batch, mapping)
        errors.sort(key=lambda error: error.row or 0)
        return CsvOutcome(None, errors, written=False)
    if batch.errors:
        return CsvOutcome(None, batch.errors, written=False)
    return CsvOutcome(report, [], written=not dry_run)
