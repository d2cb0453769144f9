"""CSV import of a team's lead log entries or closed customers: upload, a
preview with every problem by row and column, then import all rows or none.

The preview holds unsaved objects, so the confirmation does not reuse it: the
uploaded bytes wait in a pending ``ImportBatch`` (the records import's table,
with no source; the session holds only its id: one pending file per session,
replaced by the next upload, dropped once imported, or after a day) and are
parsed again on confirm, which also catches a month that locked in between.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ...models import Team
from ...records.batches import (
    import_batch_cancel,
    import_batch_imported,
    import_batch_start,
)
from ...records.models import ImportBatch
from ...views.common import require, visible_team
from ..kinds import BY_IMPORT
from ..team_views import figures_tabs
from . import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    ImportKind,
    ImportPreview,
    RowError,
    decode_csv,
    import_commit,
    parse_csv,
    template_csv,
)
from .forms import UploadForm

SESSION_KEY = "csv_import"
SHOWN_ROWS = 100
SHOWN_ERRORS = 200


def _kind(kind: str) -> ImportKind:
    try:
        return ImportKind(kind)
    except ValueError:
        raise Http404("No such import.") from None


@require_GET
@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    kind_ = _kind(kind)
    response = HttpResponse(
        template_csv(kind_).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{kind_.value}.csv"'
    return response


def _page(
    request: HttpRequest,
    team: Team,
    kind: ImportKind,
    *,
    form: UploadForm,
    preview: ImportPreview | None = None,
    upload: str = "",
    filename: str = "",
    status: int = 200,
) -> HttpResponse:
    errors = preview.errors if preview else []
    rows = preview.rows if preview else []
    return render(
        request,
        "figures/import.html",
        {
            "team": team,
            "kind": kind,
            "kind_label": kind.label,
            "tabs": figures_tabs(team, active=BY_IMPORT[kind].slug),
            "columns": COLUMNS[kind],
            "form": form,
            "preview": preview,
            "errors": errors[:SHOWN_ERRORS],
            "more_errors": max(len(errors) - SHOWN_ERRORS, 0),
            "rows": rows[:SHOWN_ROWS],
            "more_rows": max(len(rows) - SHOWN_ROWS, 0),
            "upload": upload,
            "filename": filename,
            "max_rows": MAX_ROWS,
            "max_mb": MAX_BYTES // (1024 * 1024),
            "list_url": BY_IMPORT[kind].url("list", team.slug),
        },
        status=status,
    )


def _store(
    request: HttpRequest, *, team: Team, kind: str, data: bytes, name: str
) -> str:
    text = decode_csv(data)
    batch = import_batch_start(
        user=request.user,
        team=team,
        figures_kind=kind,
        file_name=name,
        raw=data,
        # The preview read it, so it decodes; the fallback only fingerprints.
        text=text if isinstance(text, str) else data.decode("utf-8", "replace"),
        replaces=(request.session.get(SESSION_KEY) or {}).get("batch"),
    )
    request.session[SESSION_KEY] = {"batch": batch.pk}
    return batch.token


def _pending(
    request: HttpRequest, *, team: Team, kind: str, upload: str
) -> ImportBatch | None:
    pending = request.session.get(SESSION_KEY) or {}
    if not upload:
        return None
    batch = (
        ImportBatch.objects.pending()
        .filter(
            pk=pending.get("batch"),
            token=upload,
            kind=ImportBatch.Kind.FIGURES,
            team=team,
            figures_kind=kind,
            user=request.user,
        )
        .first()
    )
    return batch if batch is not None and batch.data is not None else None


@login_required
def import_upload(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    kind_ = _kind(kind)
    team = visible_team(request, slug)
    require(
        request,
        "submit_figures",
        team,
        f"Only a lead, manager or head of {team} can import its figures.",
    )
    if request.method != "POST":
        return _page(request, team, kind_, form=UploadForm())
    if "upload" in request.POST:
        return _confirm(request, team, kind_)

    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, team, kind_, form=form, status=400)
    file = form.cleaned_data["file"]
    if file.size > MAX_BYTES:
        # Refused before reading it into memory.
        preview = ImportPreview(kind=kind_, team=team)
        preview.errors.append(
            RowError(
                None,
                None,
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split "
                "it into smaller files.",
            )
        )
        return _page(request, team, kind_, form=form, preview=preview, status=400)
    data = file.read()
    preview = parse_csv(kind_, data, team, request.user)
    if not preview.is_valid:
        return _page(request, team, kind_, form=form, preview=preview, status=400)
    upload = _store(request, team=team, kind=kind_.value, data=data, name=file.name)
    return _page(
        request,
        team,
        kind_,
        form=UploadForm(),
        preview=preview,
        upload=upload,
        filename=file.name,
    )


def _confirm(request: HttpRequest, team: Team, kind: ImportKind) -> HttpResponse:
    pending = _pending(
        request, team=team, kind=kind.value, upload=request.POST.get("upload", "")
    )
    if pending is None:
        messages.warning(
            request,
            "This upload is no longer waiting to be imported (it was imported "
            "already, or replaced by another file). Nothing was imported now: "
            "upload the file again if it is still needed.",
        )
        return redirect("figures:import", slug=team.slug, kind=kind.value)
    data = bytes(pending.data or b"")
    preview = parse_csv(kind, data, team, request.user)
    if preview.is_valid:
        try:
            with transaction.atomic():
                result = import_commit(preview, request.user)
                import_batch_imported(batch=pending, user=request.user)
        except ValidationError as exc:
            preview.errors.extend(RowError(None, None, m) for m in exc.messages)
    request.session.pop(SESSION_KEY, None)
    if not preview.is_valid:
        import_batch_cancel(batch=pending, user=request.user)
        return _page(
            request, team, kind, form=UploadForm(), preview=preview, status=400
        )
    created = len(result.created)
    text = (
        f"Imported {created} row{'s' if created != 1 else ''} from {pending.file_name}."
    )
    if result.already_imported:
        text += (
            f" {result.already_imported} row"
            f"{'s were' if result.already_imported != 1 else ' was'} imported "
            "from this file before and left as they were."
        )
    messages.success(request, text)
    return redirect(BY_IMPORT[kind].url("list", team.slug))
