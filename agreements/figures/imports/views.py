"""CSV import of a team's lead log entries or closed customers: upload, a
preview with every problem by row and column, then import all rows or none.

The preview holds unsaved objects, so the confirmation does not reuse it: the
uploaded bytes wait in the session (one pending file per session, replaced
by the next upload, dropped once imported) and are parsed again on confirm,
which also catches a month that locked in between.
"""

from __future__ import annotations

import base64
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ...models import Team
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


def _store(request: HttpRequest, *, team: Team, kind: str, data: bytes, name: str):
    upload = uuid.uuid4().hex
    request.session[SESSION_KEY] = {
        "upload": upload,
        "team": team.pk,
        "kind": kind,
        "name": name,
        "data": base64.b64encode(data).decode("ascii"),
    }
    return upload


def _pending(request: HttpRequest, *, team: Team, kind: str, upload: str):
    pending = request.session.get(SESSION_KEY) or {}
    if (
        not upload
        or pending.get("upload") != upload
        or pending.get("team") != team.pk
        or pending.get("kind") != kind
    ):
        return None
    return pending


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
    request.session.pop(SESSION_KEY, None)
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
    data = base64.b64decode(pending["data"])
    preview = parse_csv(kind, data, team, request.user)
    if preview.is_valid:
        try:
            result = import_commit(preview, request.user)
        except ValidationError as exc:
            preview.errors.extend(RowError(None, None, m) for m in exc.messages)
    if not preview.is_valid:
        request.session.pop(SESSION_KEY, None)
        return _page(
            request, team, kind, form=UploadForm(), preview=preview, status=400
        )
    request.session.pop(SESSION_KEY, None)
    created = len(result.created)
    text = (
        f"Imported {created} row{'s' if created != 1 else ''} from {pending['name']}."
    )
    if result.already_imported:
        text += (
            f" {result.already_imported} row"
            f"{'s were' if result.already_imported != 1 else ' was'} imported "
            "from this file before and left as they were."
        )
    messages.success(request, text)
    return redirect(BY_IMPORT[kind].url("list", team.slug))
