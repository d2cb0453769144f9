"""The agreement editor: a draft's terms plus its objectives, with htmx adding
and removing objective rows."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..forms import (
    MAX_OBJECTIVES,
    OBJECTIVES_PREFIX,
    AgreementForm,
    BaseObjectiveFormSet,
    ObjectiveForm,
    objective_formset,
)
from ..models import Agreement, Membership, Team
from ..rules import can
from ..services.agreements import agreement_create, agreement_update
from .common import add_service_errors


def _both_valid(form: Form, formset: BaseObjectiveFormSet) -> bool:
    # Validate both, so that every error shows on the first round trip.
    form_ok = form.is_valid()
    formset_ok = formset.is_valid()
    return form_ok and formset_ok


def _editor(
    request: HttpRequest,
    *,
    form: AgreementForm,
    formset: BaseObjectiveFormSet,
    agreement: Agreement | None,
) -> HttpResponse:
    # Field errors can sit far down a long form: say so at the top.
    fields_to_correct = form.is_bound and (
        any(name != NON_FIELD_ERRORS for name in form.errors)
        or formset.total_error_count() > 0
    )
    return render(
        request,
        "agreements/editor.html",
        {
            "form": form,
            "formset": formset,
            "agreement": agreement,
            "fields_to_correct": fields_to_correct,
            "max_objectives": MAX_OBJECTIVES,
        },
    )


@login_required
def agreement_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, "add_agreement"):
        raise PermissionDenied(
            "Only a lead, manager or head of a team can draft an agreement."
        )
    data = request.POST if request.method == "POST" else None
    led = (
        Team.objects.filter(
            memberships__user=user,
            memberships__role__in=Membership.LEADING_ROLES,
        )
        .order_by("name")
        .first()
    )
    form = AgreementForm(data, user=user, initial={"provider": led})
    formset = objective_formset(data)
    if data is not None and _both_valid(form, formset):
        try:
            agreement = agreement_create(
                user=user, objectives=formset.rows(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Draft “{agreement.title}” saved. Propose it for signature when "
                "both teams agree on the terms.",
            )
            return redirect(agreement)
    return _editor(request, form=form, formset=formset, agreement=None)


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    agreement = get_object_or_404(
        Agreement.objects.visible_to(user).select_related("provider", "consumer"),
        pk=pk,
    )
    if not can(user, "act_on_agreement", agreement):
        raise PermissionDenied("Only a lead of a party team can edit this agreement.")
    if not agreement.is_editable:
        status = agreement.get_status_display().lower()
        hint = {
            Agreement.Status.PROPOSED: " Request changes to send it back to draft.",
            Agreement.Status.ACTIVE: " Revise it to change its terms.",
        }.get(agreement.status, "")
        messages.warning(
            request, f"This agreement is {status}: only a draft can be edited.{hint}"
        )
        return redirect(agreement)

    data = request.POST if request.method == "POST" else None
    # A copy: the form writes its values into its instance while validating,
    # and the page header should keep showing the saved draft.
    form = AgreementForm(
        data,
        instance=copy.copy(agreement),
        initial={"edit_count": agreement.edit_count},
        user=user,
        editing=True,
    )
    formset = objective_formset(data, objectives=list(agreement.objectives.all()))
    if data is not None and _both_valid(form, formset):
        fields = dict(form.cleaned_data)
        expected = fields.pop("edit_count")
        try:
            agreement_update(
                agreement=agreement,
                user=user,
                expected_edit_count=expected,
                objectives=formset.rows(),
                **fields,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Draft saved.")
            return redirect(agreement)
    return _editor(request, form=form, formset=formset, agreement=agreement)


# --- htmx: objective rows -------------------------------------------------
# These render form rows and write nothing; the whole editor is posted on save.


def _row_index(value: str | None) -> int | None:
    try:
        index = int(value or "")
    except ValueError:
        return None
    return index if 0 <= index < MAX_OBJECTIVES else None


def _may_edit(request: HttpRequest) -> None:
    if not can(request.user, "add_agreement"):
        raise PermissionDenied


@login_required
@require_GET
def objective_row_add(request: HttpRequest) -> HttpResponse:
    """A blank row at the next index, and the formset's new total."""
    _may_edit(request)
    index = _row_index(request.GET.get(f"{OBJECTIVES_PREFIX}-TOTAL_FORMS"))
    if index is None:
        return HttpResponseBadRequest(
            f"An agreement can have at most {MAX_OBJECTIVES} objectives."
        )
    form = ObjectiveForm(
        prefix=f"{OBJECTIVES_PREFIX}-{index}", use_required_attribute=False
    )
    return render(
        request,
        "agreements/includes/objective_row_added.html",
        {"form": form, "index": index, "total": index + 1},
    )


def _submitted_row(request: HttpRequest) -> tuple[int, ObjectiveForm] | None:
    index = _row_index(request.POST.get("index"))
    if index is None:
        return None
    prefix = f"{OBJECTIVES_PREFIX}-{index}"
    return index, ObjectiveForm(request.POST, prefix=prefix)


@login_required
@require_POST
def objective_row_remove(request: HttpRequest) -> HttpResponse:
    """The row collapsed to hidden inputs marked for removal, with an undo: the
    formset keeps its numbering and the objective goes when the draft is saved."""
    _may_edit(request)
    submitted = _submitted_row(request)
    if submitted is None:
        return HttpResponseBadRequest("Unknown objective row.")
    index, form = submitted
    return render(
        request,
        "agreements/includes/objective_row.html",
        {"form": form, "index": index, "removed": True},
    )


@login_required
@require_POST
def objective_row_restore(request: HttpRequest) -> HttpResponse:
    """Undo a removal: the row again, with the values it had."""
    _may_edit(request)
    submitted = _submitted_row(request)
    if submitted is None:
        return HttpResponseBadRequest("Unknown objective row.")
    index, bound = submitted
    # Unbound with the submitted values as initial, so the row shows them
    # without validation errors before the person has saved.
    form = ObjectiveForm(
        prefix=bound.prefix,
        initial={name: bound[name].value() for name in bound.fields},
        use_required_attribute=False,
    )
    return render(
        request,
        "agreements/includes/objective_row.html",
        {"form": form, "index": index, "removed": False},
    )
