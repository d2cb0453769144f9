"""The figures pages of lead log entries and closed customers: a list per
team, create, edit and delete while the month is open, corrections after it
locks, and the handover acknowledgement.

Every kind in the registry (``kinds.KINDS``) has these pages; its entry says
what differs (model, form, columns, totals). Every view fetches through
``visible_to`` (404 for what the person may not see), checks the rule (403 for
what they may see but not do), calls one service and redirects, or shows the
service's refusal on the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import periods
from ..models import Team
from ..rules import can
from ..selectors import submission_history
from ..views.common import (
    add_service_errors,
    correction_forms,
    paginate,
    query_without_page,
    require,
    safe_next,
    visible_team,
)
from .forms import FiguresFilterForm, HandoverFilterForm, figure_forms
from .kinds import CUSTOMERS, KINDS, FigureKind
from .services import (
    closed_customer_acknowledge,
    figure_correct,
    figure_create,
    figure_delete,
    figure_update,
)
from .team_views import figures_tabs


def _list_url(kind: FigureKind, team: Team, month=None) -> str:
    url = kind.url("list", team.slug)
    return f"{url}?month={periods.format_month(month)}" if month else url


def _row(request: HttpRequest, kind: FigureKind, pk: int) -> Any:
    return get_object_or_404(
        kind.model.objects.visible_to(request.user).select_related(*kind.related),
        pk=pk,
    )


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    form = context["form"]
    context.setdefault(
        "not_saved",
        form.is_bound and any(name != "__all__" for name in form.errors),
    )
    return render(request, "figures/form.html", context)


# --- Lists ------------------------------------------------------------------


@login_required
def figures_list(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    kind_ = KINDS[kind]
    team = visible_team(request, slug)
    user = request.user
    form = (HandoverFilterForm if kind_.acknowledged else FiguresFilterForm)(
        request.GET
    )
    month = form.chosen_month()
    rows = kind_.model.objects.filter(team=team).select_related(*kind_.related[1:])
    if month is not None:
        rows = rows.for_month(month)
    if kind_.acknowledged and form.is_valid() and form.cleaned_data["pending"]:
        rows = rows.filter(acknowledged_at__isnull=True)
    totals = rows.aggregate(**kind_.totals)
    page = paginate(request, rows)
    # The same answer for every row of the page: the rows share one team.
    may_acknowledge = (
        kind_.acknowledged
        and bool(page.object_list)
        and can(user, "acknowledge_closed_customer", page.object_list[0])
    )
    return render(
        request,
        kind_.list_template,
        {
            "team": team,
            "kind": kind_,
            "tabs": figures_tabs(team, active=kind),
            "form": form,
            "month": month,
            "page": page,
            "totals": totals,
            "filter_query": query_without_page(request),
            "may_submit": can(user, "submit_figures", team),
            "may_correct": can(user, "correct_submission", team),
            "may_acknowledge": may_acknowledge,
            "current_month": periods.current_month(),
        },
    )


# --- Create -----------------------------------------------------------------


@login_required
def figures_new(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    kind_ = KINDS[kind]
    team = visible_team(request, slug)
    require(
        request,
        "submit_figures",
        team,
        f"Only a lead, manager or head of {team} can log its figures.",
    )
    initial = {kind_.date_field: request.GET.get("date") or periods.today()}
    form = figure_forms(kind_)[1](request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            row = figure_create(
                kind_,
                team=team,
                user=request.user,
                client_token=form.cleaned_data["client_token"],
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved: {kind_.describe(row)}.")
            return redirect(_list_url(kind_, team, row.month))
    return _form_page(
        request,
        {
            "form": form,
            "team": team,
            "kind": kind_,
            "title": kind_.new_title,
            "submit_label": "Save",
            "cancel_url": _list_url(kind_, team),
        },
    )


@login_required
def figures_late(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Add a row a locked month is missing: a correction, with a reason."""
    kind_ = KINDS[kind]
    team = visible_team(request, slug)
    require(
        request,
        "correct_submission",
        team,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    initial = {kind_.date_field: request.GET.get("date")}
    form = figure_forms(kind_)[2](request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            row = figure_correct(
                kind_,
                user=request.user,
                reason=form.cleaned_data["reason"],
                team=team,
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Added to a locked month: {kind_.describe(row)}."
            )
            return redirect(kind_.url("detail", row.pk))
    return _form_page(
        request,
        {
            "form": form,
            "team": team,
            "kind": kind_,
            "title": f"Add a late {kind_.singular}",
            "intro": "The month is locked: adding to it is a correction. Say why; "
            "the reason is kept in its history.",
            "submit_label": "Add with this reason",
            "cancel_url": _list_url(kind_, team),
        },
    )


# --- One row ----------------------------------------------------------------


@login_required
def figures_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind_ = KINDS[kind]
    row = _row(request, kind_, pk)
    user = request.user
    return render(
        request,
        "figures/detail.html",
        {
            "kind": kind_,
            "row": row,
            "team": row.team,
            "title": kind_.describe(row),
            "fields": kind_.fields_of(row),
            "history": submission_history(row),
            "may_submit": can(user, "submit_figures", row),
            "may_correct": can(user, "correct_submission", row),
            "may_acknowledge": kind_.acknowledged
            and not row.is_acknowledged
            and can(user, "acknowledge_closed_customer", row),
            "month_open": periods.is_open(row.month),
            "month_locked": periods.is_locked(row.month),
            "edit_url": kind_.url("edit", row.pk),
            "delete_url": kind_.url("delete", row.pk),
            "correct_url": kind_.url("correct", row.pk),
            "list_url": _list_url(kind_, row.team, row.month),
        },
    )


def _locked_redirect(request: HttpRequest, kind: FigureKind, row: Any) -> HttpResponse:
    """A locked row is changed through a correction, by those who may."""
    label = periods.month_label(row.month)
    if can(request.user, "correct_submission", row):
        messages.info(
            request, f"{label} is locked: change it with a correction and a reason."
        )
        return redirect(kind.url("correct", row.pk))
    messages.warning(
        request,
        f"{label} is locked: only a head of {row.team} or an administrator can "
        "still correct it.",
    )
    return redirect(kind.url("detail", row.pk))


def _open_row(
    request: HttpRequest, kind: FigureKind, pk: int, verb: str
) -> tuple[Any, HttpResponse | None]:
    """The row the person may change, and the redirect to take instead when
    its month is locked."""
    row = _row(request, kind, pk)
    require(
        request,
        "submit_figures",
        row,
        f"Only a lead, manager or head of {row.team} can {verb} its figures.",
    )
    if periods.is_locked(row.month):
        return row, _locked_redirect(request, kind, row)
    return row, None


@login_required
def figures_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind_ = KINDS[kind]
    row, locked = _open_row(request, kind_, pk, "change")
    if locked is not None:
        return locked
    form = figure_forms(kind_)[0](request.POST or None, initial=kind_.initial(row))
    if form.is_bound and form.is_valid():
        try:
            row = figure_update(row=row, user=request.user, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved: {kind_.describe(row)}.")
            return redirect(_list_url(kind_, row.team, row.month))
    return _form_page(
        request,
        {
            "form": form,
            "team": row.team,
            "kind": kind_,
            "row": row,
            "title": f"Edit {kind_.singular}",
            "submit_label": "Save changes",
            "cancel_url": kind_.url("detail", row.pk),
        },
    )


@login_required
def figures_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind_ = KINDS[kind]
    row, locked = _open_row(request, kind_, pk, "delete")
    if locked is not None:
        return locked
    if request.method == "POST":
        try:
            figure_delete(row=row, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(kind_.url("detail", row.pk))
        messages.success(request, f"Deleted: {kind_.describe(row)}.")
        return redirect(_list_url(kind_, row.team, row.month))
    return render(
        request,
        "figures/confirm_delete.html",
        {
            "kind": kind_,
            "row": row,
            "team": row.team,
            "title": kind_.describe(row),
            "cancel_url": kind_.url("detail", row.pk),
        },
    )


@login_required
def figures_correct(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Change or delete a row of a locked month, with a reason."""
    kind_ = KINDS[kind]
    row = _row(request, kind_, pk)
    require(
        request,
        "correct_submission",
        row,
        f"Only a head of {row.team} or an administrator can correct a locked month.",
    )
    if not periods.is_locked(row.month):
        messages.info(
            request,
            f"{periods.month_label(row.month)} is still open: change the figures "
            "directly, no correction is needed.",
        )
        return redirect(kind_.url("edit", row.pk))
    forms = correction_forms(
        request, figure_forms(kind_)[2], initial=kind_.initial(row)
    )
    if forms.apply(
        lambda **change: figure_correct(kind_, row=row, user=request.user, **change)
    ):
        if forms.deleting:
            messages.success(
                request, f"Deleted from a locked month: {kind_.describe(row)}."
            )
            return redirect(_list_url(kind_, row.team, row.month))
        messages.success(request, "Corrected. The reason is kept in its history.")
        return redirect(kind_.url("detail", row.pk))
    return render(
        request,
        "figures/correct.html",
        {
            "kind": kind_,
            "row": row,
            "team": row.team,
            "title": kind_.describe(row),
            "form": forms.form,
            "delete_form": forms.delete_form,
            "month_label": periods.month_label(row.month),
            "cancel_url": kind_.url("detail", row.pk),
        },
    )


@login_required
@require_POST
def customer_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    row = _row(request, CUSTOMERS, pk)
    require(
        request,
        "acknowledge_closed_customer",
        row,
        "Only a lead, manager or head of the team taking over the customer can "
        "acknowledge the handover.",
    )
    closed_customer_acknowledge(closed_customer=row, user=request.user)
    messages.success(request, f"Handover of {row.customer} acknowledged.")
    return redirect(safe_next(request, _list_url(CUSTOMERS, row.team, row.month)))
