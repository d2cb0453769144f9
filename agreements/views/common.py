"""Helpers the figures, friction and knowledge base pages share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.forms import Form
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from ..figures.forms import DeleteWithReasonForm
from ..models import Team
from ..rules import can

PAGE_SIZE = 25


def add_service_errors(form: Form, exc: ValidationError) -> None:
    """Show a service's refusal on the form: on the field it names when the
    form has that field, otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@dataclass
class CorrectionForms:
    """The two forms of a correction page: change the row, or delete it, each
    with a reason. ``deleting``: the delete form was the one posted."""

    form: Form
    delete_form: Form
    deleting: bool

    def apply(self, correct: Callable[..., Any]) -> bool:
        """When the posted form is valid, call ``correct(reason=..., delete=...,
        **changed fields)``; a refusal becomes the form's errors. True when the
        correction was made."""
        bound = self.delete_form if self.deleting else self.form
        if not (bound.is_bound and bound.is_valid()):
            return False
        try:
            correct(
                reason=bound.cleaned_data["reason"],
                delete=self.deleting,
                **({} if self.deleting else self.form.values()),
            )
        except ValidationError as exc:
            add_service_errors(bound, exc)
            return False
        return True


def correction_forms(
    request: HttpRequest, form_class: type[Form], *, initial: dict[str, Any]
) -> CorrectionForms:
    deleting = request.POST.get("action") == "delete"
    data = request.POST or None
    return CorrectionForms(
        form=form_class(None if deleting else data, initial=initial, prefix="change"),
        delete_form=DeleteWithReasonForm(data if deleting else None, prefix="delete"),
        deleting=deleting,
    )


def error_params(exc: ValidationError, code: str) -> dict[str, Any] | None:
    """The params of the first error with ``code`` (e.g. the ``pk`` of the
    row a ``duplicate`` refers to), or None."""
    for error in (
        exc.error_list
        if not hasattr(exc, "error_dict")
        else [e for errors in exc.error_dict.values() for e in errors]
    ):
        if error.code == code:
            return error.params or {}
    return None


def require(request: HttpRequest, rule: str, obj: Any, message: str) -> None:
    """403 for what the person may see but not do."""
    if not can(request.user, rule, obj):
        raise PermissionDenied(message)


def visible_team(request: HttpRequest, slug: str) -> Team:
    """A team whose figures the person may read; 404 for any other, so that
    the page does not tell outsiders which teams exist."""
    team = get_object_or_404(Team, slug=slug)
    if not can(request.user, "view_team", team):
        raise Http404("No such team.")
    return team


def paginate(request: HttpRequest, items, size: int = PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The list's filters, to carry over to the other pages."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def safe_next(request: HttpRequest, default: str) -> str:
    """Where a button should lead back to: ``next`` when it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
