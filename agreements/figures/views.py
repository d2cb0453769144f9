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
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import periods
from ..models import Lead, Team
from ..rules import can
from ..selectors import submission_history
from ..views.common import (
    paginate,
    query_without_page,
    require,
    safe_next,
    visible_team,
)
from .forms import FiguresFilterForm, HandoverFilterForm, figure_forms
from .kinds import CUSTOMERS, KINDS, FigureKind
from .preview import month_preview
from .row_pages import (
    LATE_PAGE,
    correct_page,
    delete_page,
    form_page,
    open_row,
    require_correction,
)
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
    rows = kind_.model.objects.filter(team=team).select_related(*kind_.related)
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
        kind_.list_templates,
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
            "crm_months": _crm_months(team, month) if kind_.counts_leads else [],
        },
    )


def _crm_months(team: Team, month) -> list[dict]:
    """The months (the chosen one, or the latest twelve) whose leads the
    team's CRM sent: in those the scorecards count them, not the log."""
    leads = Lead.objects.counted().filter(team=team)
    if month is not None:
        leads = leads.filter(month=month)
    return list(
        leads.values("month")
        .annotate(leads=Count("pk"), qualified=Count("pk", filter=Q(qualified=True)))
        .order_by("-month")[:12]
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
    return form_page(
        request,
        form,
        save=lambda: figure_create(
            kind_,
            team=team,
            user=request.user,
            client_token=form.cleaned_data["client_token"],
            **form.values(),
        ),
        saved=lambda row: (
            f"Saved: {kind_.describe(row)}.",
            _list_url(kind_, team, row.month),
        ),
        context={
            "team": team,
            "kind": kind_,
            "title": kind_.new_title,
            "submit_label": "Save",
            "cancel_url": _list_url(kind_, team),
            "preview": month_preview(kind_, team, form),
        },
    )


@login_required
def figures_late(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Add a row a locked month is missing: a correction, with a reason."""
    kind_ = KINDS[kind]
    team = visible_team(request, slug)
    require_correction(request, team)
    initial = {kind_.date_field: request.GET.get("date")}
    form = figure_forms(kind_)[2](request.POST or None, initial=initial)
    return form_page(
        request,
        form,
        save=lambda: figure_correct(
            kind_,
            user=request.user,
            reason=form.cleaned_data["reason"],
            team=team,
            **form.values(),
        ),
        saved=lambda row: (
            f"Added to a locked month: {kind_.describe(row)}.",
            kind_.url("detail", row.pk),
        ),
        context={
            "team": team,
            "kind": kind_,
            "title": f"Add a late {kind_.singular}",
            **LATE_PAGE,
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


@login_required
def figures_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind_ = KINDS[kind]
    row = _row(request, kind_, pk)
    locked = open_row(request, row, slug=kind_.slug, change="change its figures")
    if locked is not None:
        return locked
    form = figure_forms(kind_)[0](request.POST or None, initial=kind_.initial(row))
    return form_page(
        request,
        form,
        save=lambda: figure_update(row=row, user=request.user, **form.values()),
        saved=lambda changed: (
            f"Saved: {kind_.describe(changed)}.",
            _list_url(kind_, changed.team, changed.month),
        ),
        context={
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
    row = _row(request, kind_, pk)
    locked = open_row(request, row, slug=kind_.slug, change="delete its figures")
    if locked is not None:
        return locked
    return delete_page(
        request,
        row,
        kind=kind_,
        title=kind_.describe(row),
        delete=lambda: figure_delete(row=row, user=request.user),
        done_url=_list_url(kind_, row.team, row.month),
    )


@login_required
def figures_correct(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Change or delete a row of a locked month, with a reason."""
    kind_ = KINDS[kind]
    row = _row(request, kind_, pk)
    return correct_page(
        request,
        row,
        kind=kind_,
        title=kind_.describe(row),
        what="the figures",
        form_class=figure_forms(kind_)[2],
        initial=kind_.initial(row),
        correct=lambda **change: figure_correct(
            kind_, row=row, user=request.user, **change
        ),
        done_url=_list_url(kind_, row.team, row.month),
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
