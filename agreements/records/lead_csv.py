"""The CSV import of a leads source: a CRM's export taken as it is.

A HubSpot contacts export or a Salesforce leads report is recognised by its
columns (``imports.headers``) and its columns mapped onto a lead's fields;
anything else is mapped by the columns' names, as for other records. Unlike
the other records, a CRM's file is read:

- in Windows-1252 too (Salesforce and Excel write it), not only UTF-8;
- with one date format for all its date columns, chosen by a person among
  those that read every value (``imports.moments``), never guessed per row;
- with a rule for which leads are qualified: a value (a date) in a column,
  or a column's value among some (a lifecycle stage, a lead status);
- each row kept whole as the lead's ``raw`` (column → value).

A lead's ``updated_at`` is the file's last modified (or last activity) date
where it has one. Else it is the import's own moment, but for a lead whose
row is exactly as last imported and read the same way: it keeps the time it
has, so the service finds it unchanged and importing a file again changes
nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from .. import periods
from ..imports.headers import (
    HUBSPOT_LIFECYCLE_STAGES,
    PRESET_LABELS,
    PRESETS,
    header_key,
    match_headers,
    preset_for,
)
from ..imports.moments import (
    BY_KEY,
    DATE_FORMATS,
    DateFormat,
    date_formats_for,
    reads,
)
from ..imports.moments import parse_moment as read_moment
from ..imports.reading import CsvTable, RowError, decode_export
from .csv_import import Batch, ColumnMapping, CsvField
from .models import Lead, RecordSource
from .rows import RecordsInvalid
from .services import LOOKUP_CHUNK, UpsertReport, records_preview, records_upsert

# A CRM's export is larger than a team's own files: a year of a large CRM's
# leads fits in one file. Other sources keep the figures import's limits.
LEAD_MAX_ROWS = 100_000
LEAD_MAX_BYTES = 50 * 1024 * 1024

# The fields of a lead a file fills, in the order a person maps them. A name
# comes from one column, or from a first and a last name joined.
LEAD_CSV_FIELDS = (
    CsvField(
        "external_id",
        "CRM id",
        "The id the CRM gives the lead (HubSpot's Record ID, Salesforce's Lead "
        "ID). A lead sent again with the same id updates the one kept.",
        ("externalid", "recordid", "contactid", "leadid", "id"),
        required=True,
    ),
    CsvField(
        "started_at",
        "Date handed over",
        "When the lead was handed over: it counts in that month. HubSpot's "
        "Became a Lead Date where the file has it, else its Create Date.",
        ("startedat", "handedover", "becamealeaddate", "createdate", "created"),
        time=True,
        required=True,
    ),
    CsvField("owner", "Owner", "", ("owner", "leadowner", "contactowner")),
    CsvField("email", "Email", "Finds the same person sent by two teams.", ("email",)),
    CsvField("first_name", "First name", "", ("firstname",)),
    CsvField("last_name", "Last name", "", ("lastname",)),
    CsvField(
        "name", "Name", "A full name, where the file has no first and last.", ("name",)
    ),
    CsvField("company", "Company", "", ("company", "companyname")),
    CsvField("status", "Status", "", ("status", "leadstatus")),
    CsvField("stage", "Lifecycle stage", "", ("stage", "lifecyclestage")),
    CsvField(
        "qualified_at",
        "Date qualified",
        "When the lead became marketing qualified.",
        ("qualifiedat", "qualified"),
        time=True,
    ),
    CsvField(
        "owner_assigned_at",
        "Date owner assigned",
        "",
        ("ownerassignedat", "ownerassigneddate"),
        time=True,
    ),
    CsvField(
        "first_touch_at",
        "Date first touched",
        "The first engagement: measures the follow-up.",
        ("firsttouchat", "firsttouch", "firstengagementdate"),
        time=True,
    ),
    CsvField(
        "updated_at",
        "Last modified",
        "When the CRM last changed the lead: a later date updates the lead kept. "
        "Without it, a lead whose row changed is updated at the import.",
        ("updatedat", "lastmodifieddate", "lastmodified", "lastactivitydate"),
        time=True,
    ),
)
TIME_FIELDS = tuple(f.name for f in LEAD_CSV_FIELDS if f.time)
NAME_PARTS = ("first_name", "last_name")
NAME_FIELD = next(f for f in LEAD_CSV_FIELDS if f.name == "name")

# Which leads count as qualified unless a person says otherwise: the
# lifecycle stages from Marketing Qualified Lead to Customer.
QUALIFIED_STAGES = HUBSPOT_LIFECYCLE_STAGES[2:6]
QUALIFIED_STATUSES = ("Working - Contacted", "Closed - Converted")


def decode_lead_file(raw: bytes) -> str | RowError:
    """The file's text (UTF-8, UTF-16 or Windows-1252), or why it cannot be
    read (too large, a workbook or zip, binary, empty)."""
    decoded = decode_export(raw, max_bytes=LEAD_MAX_BYTES)
    return decoded if isinstance(decoded, RowError) else decoded.text


def recognised(header: list[str]) -> str:
    """What the file is, when a CRM's export is recognised; else ""."""
    preset = preset_for(header)
    return PRESET_LABELS[preset] if preset else ""


def _aliases(header: list[str]) -> dict[str, tuple[str, ...]]:
    """Each field's column names: the recognised CRM's first, then ours."""
    preset = PRESETS.get(preset_for(header) or "", {})
    return {f.name: (*preset.get(f.name, ()), *f.names) for f in LEAD_CSV_FIELDS}


def _values(table: CsvTable, columns: dict[str, str]) -> list[str]:
    """Every value of the mapped date columns."""
    return [
        value
        for name in TIME_FIELDS
        if name in columns and columns[name] in table.header
        for value in table.column(columns[name])
    ]


def date_format_choices(table: CsvTable, columns: dict[str, str]) -> list[DateFormat]:
    """The formats that read every date of the mapped columns; when none
    does, all of them, those that read the most dates first (the preview
    then names each date that does not read)."""
    values = [value for value in _values(table, columns) if value]
    return date_formats_for(values) or sorted(
        DATE_FORMATS, key=lambda fmt: -sum(1 for value in values if reads(value, fmt))
    )


def example(table: CsvTable, columns: dict[str, str], fmt: DateFormat) -> str:
    """The file's first date, and what ``fmt`` reads it as."""
    for value in _values(table, columns):
        if value:
            try:
                moment = read_moment(value, fmt, periods.org_zone())
            except ValueError:
                return f"{value} cannot be read so"
            return f"{value} is {moment.day} {moment:%B %Y, %H:%M}"
    return ""


def _default_qualified(
    header: list[str], columns: dict[str, str]
) -> tuple[str, tuple[str, ...]]:
    """A Salesforce lead is qualified by its status; any other by a date it
    became qualified, else by its lifecycle stage."""
    if preset_for(header) == "salesforce" and "status" in columns:
        return columns["status"], QUALIFIED_STATUSES
    if "qualified_at" in columns:
        return columns["qualified_at"], ()
    if "stage" in columns:
        return columns["stage"], QUALIFIED_STAGES
    return "", ()


def guess_lead_mapping(table: CsvTable, saved: ColumnMapping) -> ColumnMapping:
    """The mapping the columns page proposes: the source's last one where
    the file has its columns, else the recognised CRM's names or ours; the
    first date format that reads every date; the qualified rule kept, else
    the CRM's usual one."""
    header = table.header
    present = set(header)
    chosen = {
        f.name: saved.columns[f.name]
        for f in LEAD_CSV_FIELDS
        if saved.columns.get(f.name) in present
    }
    aliases = {
        name: names for name, names in _aliases(header).items() if name not in chosen
    }
    columns = chosen | match_headers(header, aliases, taken=chosen.values())
    formats = date_format_choices(table, columns)
    date_format = (
        saved.date_format
        if saved.date_format in {fmt.key for fmt in formats}
        else formats[0].key
    )
    if saved.qualified_column in present:
        rule = saved.qualified_column, saved.qualified_values
    else:
        rule = _default_qualified(header, columns)
    return ColumnMapping(
        columns={f.name: columns[f.name] for f in LEAD_CSV_FIELDS if f.name in columns},
        time_zone=saved.time_zone,
        date_format=date_format,
        qualified_column=rule[0],
        qualified_values=rule[1],
    )


# --- The rows as leads -----------------------------------------------------------


def _kept(source: RecordSource, ids: list[str]) -> dict[str, tuple[Any, datetime]]:
    """The raw row and ``updated_at`` of the source's leads by id."""
    kept: dict[str, tuple[Any, datetime]] = {}
    for at in range(0, len(ids), LOOKUP_CHUNK):
        for external_id, raw, updated_at in Lead.objects.filter(
            source=source, external_id__in=ids[at : at + LOOKUP_CHUNK]
        ).values_list("external_id", "raw", "updated_at"):
            kept[external_id] = (raw, updated_at)
    return kept


def _qualified(raw: dict[str, str], mapping: ColumnMapping) -> bool:
    value = raw.get(mapping.qualified_column, "").strip()
    if not mapping.qualified_values:
        return bool(value)
    # HubSpot writes a stage by its name or its internal value
    # (salesqualifiedlead): both are one key.
    return header_key(value) in {header_key(v) for v in mapping.qualified_values}


def lead_batch_from(
    table: CsvTable, *, source: RecordSource, mapping: ColumnMapping, now: datetime
) -> Batch:
    """Each row of the file as a lead for ``records_upsert``, or the row's
    problems (a row wider than the header, no id, a date the chosen format
    does not read): such a row is not sent, and the import writes nothing."""
    batch = Batch()
    fmt = BY_KEY.get(mapping.date_format, DATE_FORMATS[0])
    zone = mapping.zone
    named = [(at, name) for at, name in enumerate(table.header) if name]
    columns = mapping.columns
    if "started_at" not in columns:
        batch.errors.append(
            RowError(
                None,
                None,
                "No column holds the date each lead was handed over: choose one "
                "(e.g. Create Date); a lead counts in that date's month.",
            )
        )
        return batch
    id_column = columns.get("external_id", "")
    ids = table.column(id_column) if id_column in table.header else []
    # Read as last time: the same row gives the same lead.
    as_before = source.column_mapping == mapping.as_json()
    kept = _kept(source, [i for i in ids if i]) if as_before else {}
    months: Counter[date] = Counter()
    for number, cells in table.rows:
        if (error := table.width_error(number, cells)) is not None:
            batch.errors.append(error)
            continue
        raw = {name: cells[at] if at < len(cells) else "" for at, name in named}
        row, errors = _lead(number, raw, mapping, fmt, zone)
        if not row.get("external_id"):
            errors.insert(
                0,
                RowError(
                    number,
                    id_column or None,
                    "This lead has no id: every lead needs the id the CRM gives it.",
                ),
            )
        if errors:
            batch.errors.extend(errors)
            continue
        if row.get("updated_at") is None:
            before = kept.get(row["external_id"])
            row["updated_at"] = before[1] if before and before[0] == raw else now
        months[periods.month_of(row["started_at"])] += 1
        batch.rows.append(row)
        batch.numbers.append(number)
    batch.months = sorted(months.items())
    return batch


def _lead(
    number: int,
    raw: dict[str, str],
    mapping: ColumnMapping,
    fmt: DateFormat,
    zone: Any,
) -> tuple[dict[str, Any], list[RowError]]:
    row: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, column in mapping.columns.items():
        value = raw.get(column, "").strip()
        if name not in TIME_FIELDS:
            row[name] = value
        elif value:
            try:
                row[name] = read_moment(value, fmt, zone)
            except ValueError as exc:
                errors.append(RowError(number, column, str(exc)))
        elif name == "started_at":
            errors.append(
                RowError(number, column, "This lead has no date it was handed over.")
            )
    parts = [row.pop(name, "") for name in NAME_PARTS]
    if not row.get("name"):
        row["name"] = " ".join(part for part in parts if part)
    if mapping.qualified_column:
        row["qualified"] = _qualified(raw, mapping)
    row["raw"] = raw
    return row, errors


# --- The preview by month --------------------------------------------------------


@dataclass(frozen=True)
class LeadMonth:
    """What importing the file does to one month's leads."""

    month: date
    leads: int
    qualified: int
    report: UpsertReport


class _RolledBack(Exception):
    pass


def handed_over_month(row: dict[str, Any]) -> date:
    """The month a lead's row counts in: the month it was handed over."""
    return periods.month_of(row["started_at"])


def lead_months(
    batch: Batch,
    *,
    source: RecordSource,
    user: User,
    reason: str,
    dry_run: bool = False,
    reports: dict[Any, UpsertReport] | None = None,
) -> list[LeadMonth]:
    """For each month of the file's leads (by their hand-over), oldest
    first: how many it has, how many are qualified, and what the service
    does with them (new, updated, unchanged, stale) were each month sent on
    its own. Counted from one lookup of the leads kept
    (``services.records_preview``), or from the ``reports`` by month that
    lookup gave already; with ``dry_run``, by upserting month after month
    in a transaction rolled back, which gives the same and is much slower.
    Empty when the batch is refused."""
    by_month: dict[date, list[dict[str, Any]]] = {}
    for row in batch.rows:
        by_month.setdefault(handed_over_month(row), []).append(row)
    if reports is None:
        try:
            reports = (
                _upserted_by_month(by_month, source, user, reason)
                if dry_run
                else records_preview(
                    source=source,
                    rows=batch.rows,
                    user=user,
                    reason=reason,
                    group=handed_over_month,
                )
            )
        except RecordsInvalid:
            return []
    return [
        LeadMonth(
            month,
            len(rows),
            sum(1 for row in rows if row.get("qualified")),
            reports[month],
        )
        for month, rows in sorted(by_month.items())
    ]


def _upserted_by_month(
    by_month: dict[date, list[dict[str, Any]]],
    source: RecordSource,
    user: User,
    reason: str,
) -> dict[date, UpsertReport]:
    reports: dict[date, UpsertReport] = {}
    try:
        with transaction.atomic():
            for month, rows in sorted(by_month.items()):
                reports[month] = records_upsert(
                    source=source, rows=rows, user=user, reason=reason
                )
            raise _RolledBack
    except _RolledBack:
        return reports
