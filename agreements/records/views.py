"""The record sources of a person's teams, and the CSV import of a source's
records in three steps: upload a file, map its columns onto the record's
fields, then preview what the import does and confirm it.

Between the steps the file waits in a pending ``ImportBatch`` (at most the
figures import's ``MAX_BYTES``; the session holds only its id: one file per
session, replaced by the next upload, dropped once imported or cancelled, or
after a day), under a token the step URLs carry, so a page left open on an
older file imports nothing. Nothing is written to the
records before the confirmation: the preview asks the import's service
what it would do (``csv_import.records_preview_csv``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import periods
from ..figures.imports import CsvTable, RowError
from ..figures.imports.forms import UploadForm
from ..models import Agreement, Objective, Team
from ..rules import can
from ..views.common import require
from .background import (
    decode_file,
    file_batch,
    import_batch_queue,
    in_background,
    leads,
    limits,
    read_file,
)
from .batches import (
    import_batch_cancel,
    import_batch_map,
    import_batch_start,
    imported_before,
)
from .csv_import import (
    Batch,
    ColumnMapping,
    CsvField,
    CsvOutcome,
    CsvPreview,
    csv_fields,
    guess_columns,
    read_upload,
    records_import_csv,
    records_preview_csv,
)
from .forms import ColumnsForm, LateReasonForm, LeadColumnsForm
from .lead_csv import (
    LEAD_CSV_FIELDS,
    NAME_FIELD,
    NAME_PARTS,
    guess_lead_mapping,
    handed_over_month,
    lead_months,
    recognised,
)
from .models import ImportBatch, RecordSource
from .rows import KINDS

SESSION_KEY = "records_import"
DONE_KEY = "records_import_done"
SHOWN_ERRORS = 200
SHOWN_ROWS = 20
SHOWN_MONTHS = 12
STEPS = ("Upload", "Map columns", "Preview and import")
# The reason a preview runs with, rolled back with it, for a person who may
# send records of locked months: what they do is shown before the reason is.
PREVIEW_REASON = "preview"


def visible_sources(user) -> QuerySet[RecordSource]:
    """The sources of the person's teams; every source for an executive
    (the list form of the ``view_record_source`` rule)."""
    sources = RecordSource.objects.select_related("team").order_by(
        "team__name", "name", "pk"
    )
    if can(user, "view_organisation"):
        return sources
    return sources.filter(team__in=Team.objects.of_user(user))


def _received(sources: list[RecordSource]) -> dict[int, dict[str, Any]]:
    """Each source's record count and when its last record arrived: one
    query per model of record."""
    received: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "last": None}
    )
    models = dict.fromkeys(kind.model for kind in KINDS.values())
    for model in models:
        rows = (
            model._default_manager.filter(source__in=sources)
            .order_by()
            .values("source")
            .annotate(count=Count("pk"), last=Max("received_at"))
        )
        for row in rows:
            total = received[row["source"]]
            total["count"] += row["count"]
            if total["last"] is None or row["last"] > total["last"]:
                total["last"] = row["last"]
    return received


@require_GET
@login_required
def source_list(request: HttpRequest) -> HttpResponse:
    sources = list(visible_sources(request.user))
    received = _received(sources)
    teams: dict[Any, list[dict[str, Any]]] = {}
    for source in sources:
        teams.setdefault(source.team, []).append(
            {
                "source": source,
                **received[source.pk],
                "may_import": can(request.user, "send_records", source),
                "may_manage": can(request.user, "manage_record_sources", source),
            }
        )
    return render(request, "records/sources.html", {"teams": list(teams.items())})


# --- The import --------------------------------------------------------------------


def _source(request: HttpRequest, pk: int) -> RecordSource:
    """A source the person may import into: 404 for one they may not see,
    403 for one they see but may not send records to."""
    source = get_object_or_404(RecordSource.objects.select_related("team"), pk=pk)
    if not can(request.user, "view_record_source", source):
        raise Http404("No such source.")
    require(
        request,
        "send_records",
        source,
        f"Only a lead, manager or head of {source.team} can import its records.",
    )
    return source


def _fields(source: RecordSource) -> tuple[CsvField, ...]:
    return LEAD_CSV_FIELDS if leads(source) else csv_fields(source.kind)


def _page(
    request: HttpRequest,
    template: str,
    source: RecordSource,
    *,
    step: int,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    errors = context.pop("errors", [])
    max_rows, max_bytes = limits(source)
    return render(
        request,
        template,
        {
            "source": source,
            "steps": [
                {"number": n, "label": label, "done": n < step, "current": n == step}
                for n, label in enumerate(STEPS, start=1)
            ],
            "fields": _fields(source),
            "errors": errors[:SHOWN_ERRORS],
            "error_count": len(errors),
            "more_errors": max(len(errors) - SHOWN_ERRORS, 0),
            "max_rows": max_rows,
            "max_mb": max_bytes // (1024 * 1024),
            "org_zone": periods.org_zone().key,
            **context,
        },
        status=status,
    )


def _pending(
    request: HttpRequest, source: RecordSource, upload: str
) -> tuple[ImportBatch, CsvTable] | None:
    """The file waiting under this token for this source, and its table."""
    pending = request.session.get(SESSION_KEY) or {}
    batch = (
        ImportBatch.objects.pending()
        .filter(
            pk=pending.get("batch"),
            token=upload,
            source=source,
            user=request.user,
        )
        .first()
    )
    if batch is None or batch.data is None:
        return None
    table = read_file(source, bytes(batch.data))
    if not isinstance(table, CsvTable):  # it was readable when uploaded
        return None
    return batch, table


def _gone(source: RecordSource, request: HttpRequest) -> HttpResponse:
    messages.warning(
        request,
        "This file is no longer waiting to be imported (it was imported already, "
        "or replaced by another file). Nothing was imported now: upload the file "
        "again if it is still needed.",
    )
    return redirect("records:import", pk=source.pk)


@login_required
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: a CSV file, checked for what any mapping needs (readable,
    named columns, rows within the limits)."""
    source = _source(request, pk)
    posted = request.method == "POST"
    form = UploadForm(request.POST, request.FILES) if posted else UploadForm()
    max_rows, max_bytes = limits(source)
    form.fields[
        "file"
    ].help_text = (
        f"UTF-8, comma- or semicolon-separated, up to {max_bytes // (1024 * 1024)} MB."
    )
    errors: list[RowError] = []
    if posted and form.is_valid():
        file = form.cleaned_data["file"]
        # One byte past the limit is enough to refuse a larger file unread.
        raw = file.read(max_bytes + 1)
        text = decode_file(source, raw)
        table = (
            [text]
            if isinstance(text, RowError)
            else read_upload(text, max_rows=max_rows)
        )
        if isinstance(table, CsvTable):
            assert isinstance(text, str)  # a table was read from it
            batch = import_batch_start(
                user=request.user,
                team=source.team,
                source=source,
                file_name=file.name,
                raw=raw,
                text=text,
                replaces=(request.session.get(SESSION_KEY) or {}).get("batch"),
            )
            request.session[SESSION_KEY] = {"batch": batch.pk}
            return redirect("records:import_columns", pk=source.pk, upload=batch.token)
        errors = table
    return _page(
        request,
        "records/import_upload.html",
        source,
        step=1,
        status=400 if posted else 200,
        form=form,
        errors=errors,
    )


@login_required
def import_columns(request: HttpRequest, pk: int, upload: str) -> HttpResponse:
    """Step 2: the column of each field, prefilled from the last import's
    mapping or guessed from the columns' names, and the time zone."""
    source = _source(request, pk)
    found = _pending(request, source, upload)
    if found is None:
        return _gone(source, request)
    pending, table = found
    fields = _fields(source)
    saved = ColumnMapping.saved(source)
    if pending.mapping:
        chosen = ColumnMapping.from_json(pending.mapping)
    elif leads(source):
        chosen = guess_lead_mapping(table, saved)
    else:
        chosen = ColumnMapping(
            guess_columns(fields, table.header, saved.columns), saved.time_zone
        )
    data = request.POST if request.method == "POST" else None
    form: ColumnsForm
    if leads(source):
        form = LeadColumnsForm(
            data, table=table, initial=LeadColumnsForm.initial_for(chosen)
        )
    else:
        form = ColumnsForm(
            data,
            fields=fields,
            header=table.header,
            initial={**chosen.columns, "time_zone": chosen.time_zone},
        )
    if form.is_valid():
        import_batch_map(
            batch=pending, user=request.user, mapping=form.mapping().as_json()
        )
        return redirect("records:import_preview", pk=source.pk, upload=upload)
    first = table.rows[0][1] if table.rows else []
    return _page(
        request,
        "records/import_columns.html",
        source,
        step=2,
        status=400 if form.is_bound else 200,
        form=form,
        upload=upload,
        filename=pending.file_name,
        row_count=len(table.rows),
        samples=[
            (name, first[at].strip() if at < len(first) else "")
            for at, name in enumerate(table.header)
            if name
        ],
        from_last_import=any(
            saved.columns.get(name) == column for name, column in chosen.columns.items()
        ),
        leads=leads(source),
        recognised=recognised(table.header) if leads(source) else "",
    )


def _shown(batch: Batch) -> list[dict[str, Any]]:
    """The first rows as the import reads them: times with their offsets."""
    return [
        {
            "row": number,
            "cells": {
                name: value.isoformat(sep=" ") if isinstance(value, datetime) else value
                for name, value in row.items()
            },
        }
        for number, row in zip(batch.numbers[:SHOWN_ROWS], batch.rows, strict=False)
    ]


@login_required
def import_preview(request: HttpRequest, pk: int, upload: str) -> HttpResponse:
    """Step 3: what importing the file does, or every problem in it, checked
    by the service without writing; confirmed, the same import writes."""
    source = _source(request, pk)
    found = _pending(request, source, upload)
    if found is None:
        return _gone(source, request)
    pending, table = found
    if not pending.mapping:
        return redirect("records:import_columns", pk=source.pk, upload=upload)
    mapping = ColumnMapping.from_json(pending.mapping)
    batch = file_batch(table, source, mapping)
    confirming = request.method == "POST"
    # A head may import records of locked months as a correction, with a
    # reason: the preview counts them as if one were given.
    may_correct = can(request.user, "send_late_records", source)
    late_form = LateReasonForm(request.POST if confirming else None)
    reason = late_form.cleaned_data["reason"] if late_form.is_valid() else ""
    preview_reason = reason or (PREVIEW_REASON if may_correct else "")
    outcome: CsvOutcome = records_preview_csv(
        source=source,
        batch=batch,
        mapping=mapping,
        user=request.user,
        reason=preview_reason,
        group=handed_over_month if leads(source) else None,
    )
    late = outcome.report.late if outcome.report else []
    if confirming and not outcome.errors and (late_form.is_valid() or not late):
        if in_background(len(batch.rows)):
            import_batch_queue(
                batch=pending, user=request.user, rows=len(batch.rows), reason=reason
            )
            request.session.pop(SESSION_KEY, None)
            return redirect("records:import_progress", pk=source.pk, batch=pending.pk)
        outcome = records_import_csv(
            source=source,
            batch=batch,
            mapping=mapping,
            user=request.user,
            import_batch=pending,
            reason=reason,
        )
        if outcome.written:
            return _imported(request, source, pending, batch, outcome)
    by_month = (
        lead_months(
            batch,
            source=source,
            user=request.user,
            reason=preview_reason,
            reports=outcome.groups,
        )
        if isinstance(outcome, CsvPreview) and outcome.report and leads(source)
        else []
    )
    fields = [f for f in _fields(source) if f.name in mapping.columns]
    return _page(
        request,
        "records/import_preview.html",
        source,
        step=3,
        status=400 if confirming else 200,
        late=late,
        late_form=late_form,
        upload=upload,
        filename=pending.file_name,
        imported_before=imported_before(pending),
        mapping=mapping,
        mapped=_mapped(fields, mapping),
        report=outcome.report,
        errors=outcome.errors,
        record_count=len(batch.rows) + len(batch.errors),
        months=batch.months,
        lead_months=by_month,
        rows=_shown(batch),
        more_rows=max(len(batch.rows) - SHOWN_ROWS, 0),
    )


def _mapped(
    fields: list[CsvField], mapping: ColumnMapping
) -> list[tuple[CsvField, str]]:
    """Each field the file fills and its column; a lead's first and last
    names show as the name they make."""
    parts = [f for f in fields if f.name in NAME_PARTS]
    mapped = [(f, mapping.columns[f.name]) for f in fields if f not in parts]
    if parts and "name" not in mapping.columns:
        joined = " + ".join(mapping.columns[f.name] for f in parts)
        mapped.append((NAME_FIELD, joined))
    return mapped


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _imported(
    request: HttpRequest,
    source: RecordSource,
    pending: ImportBatch,
    batch: Batch,
    outcome: CsvOutcome,
) -> HttpResponse:
    report = outcome.report
    assert report is not None  # written
    request.session.pop(SESSION_KEY, None)
    request.session[DONE_KEY] = {
        "source": source.pk,
        "months": [periods.format_month(month) for month, _ in batch.months],
    }
    messages.success(
        request,
        f"Imported {_plural(report.total, 'record')} from {pending.file_name}: "
        f"{report.created} new, {report.updated} updated, {report.unchanged} "
        f"unchanged, {report.stale} stale.",
    )
    return redirect("records:import_done", pk=source.pk)


def _where_counted(
    user, source: RecordSource, months: list[date]
) -> list[dict[str, Any]]:
    """The objectives of the person's active agreements measured from the
    source, each with the imported months it was in force."""
    objectives = (
        Objective.objects.filter(
            record_measure__source=source,
            agreement__in=Agreement.objects.visible_to(user).active(),
        )
        .select_related("agreement__provider", "agreement__consumer")
        .order_by("agreement__title", "name")
    )
    begun = [month for month in reversed(months) if not periods.is_future(month)]
    counted = []
    for objective in objectives:
        agreement = objective.agreement
        first = periods.month_of(agreement.effective_from)
        last = agreement.effective_to
        in_force = [
            month
            for month in begun
            if month >= first and (last is None or month <= last)
        ]
        counted.append(
            {
                "objective": objective,
                "agreement": agreement,
                "months": in_force[:SHOWN_MONTHS],
            }
        )
    return counted


@require_POST
@login_required
def import_cancel(request: HttpRequest, pk: int, upload: str) -> HttpResponse:
    """Drop the file waiting under this token: nothing is imported."""
    source = _source(request, pk)
    found = _pending(request, source, upload)
    if found is None:
        return _gone(source, request)
    import_batch_cancel(batch=found[0], user=request.user)
    request.session.pop(SESSION_KEY, None)
    messages.info(
        request, f"{found[0].file_name} was dropped: nothing was imported from it."
    )
    return redirect("records:import", pk=source.pk)


@require_GET
@login_required
def import_done(request: HttpRequest, pk: int) -> HttpResponse:
    """After an import: where its records count, month by month."""
    source = _source(request, pk)
    done = request.session.get(DONE_KEY) or {}
    if done.get("source") != source.pk:
        return redirect("records:sources")
    months = [periods.parse_month(text) for text in done["months"]]
    return _page(
        request,
        "records/import_done.html",
        source,
        step=len(STEPS) + 1,
        counted=_where_counted(request.user, source, months),
    )


@require_GET
@login_required
def import_progress(request: HttpRequest, pk: int, batch: int) -> HttpResponse:
    """A file imported in the background: how far it is, refreshed every
    second or two (htmx asks for the bar alone); once done, what it did."""
    source = _source(request, pk)
    imported = get_object_or_404(
        ImportBatch.objects.exclude(status=ImportBatch.Status.PENDING),
        pk=batch,
        source=source,
        user=request.user,
    )
    context = {
        "batch": imported,
        "running": imported.status == ImportBatch.Status.RUNNING,
    }
    if request.headers.get("HX-Request"):
        return render(
            request, "records/_import_progress.html", {"source": source, **context}
        )
    return _page(
        request,
        "records/import_progress.html",
        source,
        step=len(STEPS),
        **context,
    )
