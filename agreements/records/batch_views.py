"""A source's import history: each CSV file imported into it, newest
first, with who imported it, what it did, and an Undo while every month it
touched is open."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..rules import can
from ..views.common import require
from .batches import import_batch_undo, undo_refusal, undoable
from .models import ImportBatch, RecordSource

SHOWN_BATCHES = 100


def _visible_source(request: HttpRequest, pk: int) -> RecordSource:
    source = get_object_or_404(RecordSource.objects.select_related("team"), pk=pk)
    if not can(request.user, "view_record_source", source):
        raise Http404("No such source.")
    return source


@require_GET
@login_required
def import_history(request: HttpRequest, pk: int) -> HttpResponse:
    source = _visible_source(request, pk)
    may_undo = can(request.user, "send_records", source)
    batches = (
        ImportBatch.objects.filter(
            source=source,
            status__in=[
                ImportBatch.Status.IMPORTED,
                ImportBatch.Status.RUNNING,
                ImportBatch.Status.FAILED,
                ImportBatch.Status.UNDONE,
            ],
        )
        .select_related("user", "undone_by")
        .order_by("-created_at", "-pk")[:SHOWN_BATCHES]
    )
    rows = [
        {
            "batch": batch,
            "months": batch.month_dates,
            "undoable": undoable(batch),
            "refusal": undo_refusal(batch) if undoable(batch) else "",
        }
        for batch in batches
    ]
    return render(
        request,
        "records/import_history.html",
        {
            "source": source,
            "rows": rows,
            "may_undo": may_undo,
            "may_import": may_undo,
        },
    )


@require_POST
@login_required
def import_undo(request: HttpRequest, pk: int, batch: int) -> HttpResponse:
    source = _visible_source(request, pk)
    require(
        request,
        "send_records",
        source,
        f"Only a lead, manager or head of {source.team} can undo its imports.",
    )
    found = get_object_or_404(ImportBatch, pk=batch, source=source)
    try:
        import_batch_undo(batch=found, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"The import of {found.file_name} was undone: the records it created "
            "were deleted and those it updated are as they were before it.",
        )
    return redirect("records:import_history", pk=source.pk)
