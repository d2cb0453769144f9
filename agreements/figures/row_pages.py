"""What the pages of every kind of row share (lead log entries, closed
customers, measurements): the check before a change and the redirect a
locked month takes instead, the delete confirmation, and the correction page.
A kind's pages are named ``figures:<slug>_<view>``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .. import periods
from ..rules import can
from ..views.common import add_service_errors, correction_forms, require


@dataclass(frozen=True)
class RowPages:
    """The names a kind's pages go by (a ``FigureKind`` has them too)."""

    slug: str
    singular: str
    plural: str


def row_url(slug: str, view: str, pk: int) -> str:
    return reverse(f"figures:{slug}_{view}", args=[pk])


# What a page adding a row to a locked month says.
LATE_PAGE = {
    "intro": "The month is locked: adding to it is a correction. Say why; "
    "the reason is kept in its history.",
    "submit_label": "Add with this reason",
}


def require_correction(request: HttpRequest, obj: Any) -> None:
    """Refuse (403) unless the person may correct the locked months of the
    team (or of the row's team)."""
    team = getattr(obj, "responsible_team", obj)
    require(
        request,
        "correct_submission",
        obj,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )


def form_page(
    request: HttpRequest,
    form: Any,
    *,
    save: Callable[[], Any],
    saved: Callable[[Any], tuple[str, str]],
    context: dict[str, Any],
    refused: Callable[[ValidationError], dict[str, Any]] | None = None,
) -> HttpResponse:
    """A page with one form: on a valid post, ``save()`` the row, flash the
    message and go to the address ``saved(row)`` gives; a refusal of the
    service shows on the form (``refused`` may add to the page)."""
    if form.is_bound and form.is_valid():
        try:
            row = save()
        except ValidationError as exc:
            add_service_errors(form, exc)
            if refused is not None:
                context = {**context, **refused(exc)}
        else:
            message, url = saved(row)
            messages.success(request, message)
            return redirect(url)
    return render(
        request,
        "figures/form.html",
        {
            "form": form,
            "not_saved": form.is_bound
            and any(name != "__all__" for name in form.errors),
            **context,
        },
    )


def locked_redirect(request: HttpRequest, row: Any, slug: str) -> HttpResponse:
    """A locked row is changed through a correction, by those who may."""
    label = periods.month_label(row.month)
    if can(request.user, "correct_submission", row):
        messages.info(
            request, f"{label} is locked: change it with a correction and a reason."
        )
        return redirect(row_url(slug, "correct", row.pk))
    messages.warning(
        request,
        f"{label} is locked: only a head of {row.responsible_team} or an "
        "administrator can still correct it.",
    )
    return redirect(row_url(slug, "detail", row.pk))


def open_row(
    request: HttpRequest, row: Any, *, slug: str, change: str
) -> HttpResponse | None:
    """Refuse (403) unless the person may ``change`` the row ("change its
    figures"); the redirect to take instead when its month is locked."""
    require(
        request,
        "submit_figures",
        row,
        f"Only a lead, manager or head of {row.responsible_team} can {change}.",
    )
    if periods.is_locked(row.month):
        return locked_redirect(request, row, slug)
    return None


def delete_page(
    request: HttpRequest,
    row: Any,
    *,
    kind: Any,
    title: str,
    delete: Callable[[], None],
    done_url: str,
) -> HttpResponse:
    """Ask, then delete with ``delete()``; a refusal shows on the row's page."""
    detail = row_url(kind.slug, "detail", row.pk)
    if request.method == "POST":
        try:
            delete()
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(detail)
        messages.success(request, f"Deleted: {title}.")
        return redirect(done_url)
    return render(
        request,
        "figures/confirm_delete.html",
        {
            "kind": kind,
            "row": row,
            "team": row.responsible_team,
            "title": title,
            "cancel_url": detail,
        },
    )


def correct_page(
    request: HttpRequest,
    row: Any,
    *,
    kind: Any,
    title: str,
    what: str,
    form_class: type,
    initial: dict[str, Any],
    correct: Callable[..., Any],
    done_url: str,
) -> HttpResponse:
    """Change or delete a row of a locked month, with a reason: ``correct``
    takes the change (or ``delete=True``) and the reason."""
    slug = kind.slug
    team = row.responsible_team
    require_correction(request, row)
    if not periods.is_locked(row.month):
        messages.info(
            request,
            f"{periods.month_label(row.month)} is still open: change {what} "
            "directly, no correction is needed.",
        )
        return redirect(row_url(slug, "edit", row.pk))
    forms = correction_forms(request, form_class, initial=initial)
    if forms.apply(correct):
        if forms.deleting:
            messages.success(request, f"Deleted from a locked month: {title}.")
            return redirect(done_url)
        messages.success(request, "Corrected. The reason is kept in its history.")
        return redirect(row_url(slug, "detail", row.pk))
    return render(
        request,
        "figures/correct.html",
        {
            "kind": kind,
            "row": row,
            "team": team,
            "title": title,
            "form": forms.form,
            "delete_form": forms.delete_form,
            "month_label": periods.month_label(row.month),
            "cancel_url": row_url(slug, "detail", row.pk),
        },
    )
