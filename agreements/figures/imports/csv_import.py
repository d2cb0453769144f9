"""Reading, checking and committing a CSV file (see the package's docstring)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from simple_history.utils import bulk_create_with_history

from ...imports.reading import (
    CsvTable,
    RowError,
    decode_export,
    parse_table,
    rows_problem,
)
from ...models import Team
from ...rules import can
from ...services._common import day_errors
from ..kinds import BY_IMPORT
from ..services import figure_prepare
from .columns import (
    COLUMNS,
    DEFAULTS,
    MAX_BYTES,
    MAX_ROWS,
    Column,
    import_kind,
)

# Row tokens are derived from the team and the file's content, so the same
# file imported twice maps onto the same rows (see ``client_token``).
_TOKEN_NAMESPACE = uuid.UUID("7d1f0f0e-55a4-4c55-9a8e-2f3b6c1e9a10")


@dataclass
class PreparedRow:
    row: int
    values: dict[str, str]
    instance: models.Model | None = None


@dataclass
class ImportPreview:
    """The outcome of ``parse_csv``: rows ready to import, or errors."""

    kind: str
    team: Team
    rows: list[PreparedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    already_imported: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def columns(self) -> tuple[Column, ...]:
        return COLUMNS[self.kind]


@dataclass(frozen=True)
class ImportResult:
    created: list[models.Model]
    already_imported: int


def decode_csv(file_bytes: bytes) -> str | RowError:
    """The file's text, or why it cannot be read (``decode_export``): a
    figures file is UTF-8 (or UTF-16 with a byte-order mark), at most
    ``MAX_BYTES``."""
    decoded = decode_export(file_bytes, max_bytes=MAX_BYTES, utf8_only=True)
    return decoded if isinstance(decoded, RowError) else decoded.text


def rows_error(table: CsvTable) -> RowError | None:
    """A file with no rows, or more than ``MAX_ROWS``."""
    return rows_problem(table, max_rows=MAX_ROWS)


def _header_errors(header: list[str], columns: tuple[Column, ...]) -> list[RowError]:
    known = {c.name for c in columns}
    names = ", ".join(c.name for c in columns)
    errors = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(1, name, f"The column “{name}” appears twice."))
        elif name not in known:
            errors.append(
                RowError(
                    1,
                    name or None,
                    f"Unknown column “{name}”: the columns are {names}."
                    if name
                    else f"A column has no name: the columns are {names}.",
                )
            )
        seen.add(name)
    for column in columns:
        if column.required and column.name not in seen:
            errors.append(
                RowError(1, column.name, f"The column “{column.name}” is missing.")
            )
    return errors


def _convert(column: Column, raw: str):
    """The cell's value, or raise ValueError with a message for a person."""
    if column.kind == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(
                f"“{raw}” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02."
            ) from None
    if column.kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"“{raw}” is not a whole number.") from None
    if column.kind == "decimal":
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValueError(
                f"“{raw}” is not a number: use digits and a dot for decimals, "
                "without thousands separators (e.g. 12000.50)."
            )
        return value
    return raw


def _row_fields(row: int, values: dict[str, str], columns, errors) -> dict | None:
    fields: dict = {}
    ok = True
    for column in columns:
        raw = values.get(column.name, "")
        if raw == "":
            if column.required:
                errors.append(RowError(row, column.name, "This value is required."))
                ok = False
            elif column.name in DEFAULTS:
                fields[column.name] = DEFAULTS[column.name]
            else:
                fields[column.name] = ""
            continue
        try:
            fields[column.name] = _convert(column, raw)
        except ValueError as exc:
            errors.append(RowError(row, column.name, str(exc)))
            ok = False
    return fields if ok else None


def _batch(kind: str, team: Team, file_bytes: bytes) -> uuid.UUID:
    digest = hashlib.sha256(file_bytes).hexdigest()
    return uuid.uuid5(_TOKEN_NAMESPACE, f"{kind}:{team.pk}:{digest}")


def parse_csv(
    kind: str,
    file_bytes: bytes,
    team: Team,
    user,
    *,
    now: dt.datetime | None = None,
) -> ImportPreview:
    """Read and check a file without writing anything.

    Raises ``PermissionDenied`` if ``user`` may not submit ``team``'s figures;
    every problem in the file is an entry in ``preview.errors``.
    """
    kind = import_kind(kind)
    if not can(user, "submit_figures", team):
        raise PermissionDenied(
            f"Only a lead, manager or head of {team} can import its figures."
        )
    preview = ImportPreview(kind=kind, team=team)
    columns = COLUMNS[kind]
    text = decode_csv(file_bytes)
    table = text if isinstance(text, RowError) else parse_table(text)
    if isinstance(table, RowError):
        preview.errors.append(table)
        return preview
    header = [name.lower().replace(" ", "_") for name in table.header]
    preview.errors = _header_errors(header, columns)
    if preview.errors:
        return preview
    error = rows_error(table)
    if error is not None:
        preview.errors.append(error)
        return preview

    batch = _batch(kind, team, file_bytes)
    figure_kind = BY_IMPORT[kind]
    for number, cells in table.rows:
        error = table.width_error(number, cells)
        if error is not None:
            preview.errors.append(error)
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        fields = _row_fields(number, values, columns, preview.errors)
        if fields is None:
            continue
        try:
            instance = figure_prepare(
                figure_kind,
                team=team,
                user=user,
                client_token=uuid.uuid5(batch, str(number)),
                now=now,
                # Row checks are in Python; the database's constraints still
                # guard the insert. Checking them here would cost queries per row.
                validate_constraints=False,
                **fields,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = None if name == NON_FIELD_ERRORS else name
                preview.errors.extend(RowError(number, column, m) for m in messages)
            continue
        preview.rows.append(PreparedRow(number, values, instance))

    tokens = [r.instance.client_token for r in preview.rows]
    preview.already_imported = (
        BY_IMPORT[kind].model.objects.filter(team=team, client_token__in=tokens).count()
    )
    return preview


@transaction.atomic
def import_commit(preview: ImportPreview, user) -> ImportResult:
    """Write every row of a checked file in one transaction, or none.

    Rows already imported from the same file are skipped, so confirming the
    same preview twice imports once. The months are checked again: one may
    have locked since the preview.
    """
    if preview.errors or not preview.rows:
        raise ValidationError(
            "The file has errors (or no rows): fix them and upload it again. "
            "Nothing was imported.",
            code="invalid_file",
        )
    team = preview.team
    if not can(user, "submit_figures", team):
        raise PermissionDenied(
            f"Only a lead, manager or head of {team} can import its figures."
        )
    date_field = BY_IMPORT[preview.kind].date_field
    late = []
    for row in preview.rows:
        errors = day_errors(
            getattr(row.instance, date_field), field=date_field, team=team
        )
        late.extend(f"Row {row.row}: {m.message}" for m in errors.get(date_field, []))
    if late:
        raise ValidationError(late, code="locked")

    model = BY_IMPORT[preview.kind].model
    tokens = {row.instance.client_token for row in preview.rows}
    existing = set(
        model.objects.filter(team=team, client_token__in=tokens).values_list(
            "client_token", flat=True
        )
    )
    new = [
        row.instance
        for row in preview.rows
        if row.instance.client_token not in existing
    ]
    for instance in new:
        instance.created_by = user
    if not new:
        return ImportResult(created=[], already_imported=len(existing))
    try:
        with transaction.atomic():
            created = bulk_create_with_history(
                new,
                model,
                batch_size=500,
                default_user=user,
                default_change_reason=f"imported from CSV ({len(new)} rows)",
            )
    except IntegrityError:
        # The same file confirmed twice at once: the other request won.
        if model.objects.filter(team=team, client_token__in=tokens).count() == len(
            tokens
        ):
            return ImportResult(created=[], already_imported=len(tokens))
        raise
    return ImportResult(created=list(created), already_imported=len(existing))
