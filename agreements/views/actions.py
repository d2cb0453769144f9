"""The lifecycle buttons of the detail page, as POST-only endpoints.

Each fetches the agreement through ``visible_to`` (404 otherwise), refuses
people who may not act on it at all (403), and calls one service. A service's
refusal (wrong state, already signed, no objectives…) is a message on the
detail page, never an error page: the person did nothing wrong but click a
button on a page that had moved on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..forms import NoteForm, SignForm
from ..models import Agreement
from ..rules import can
from ..services.agreements import (
    agreement_propose,
    agreement_request_changes,
    agreement_retire,
    agreement_revise,
    agreement_sign,
)


def _act(
    request: HttpRequest,
    pk: int,
    run: Callable[[Agreement], tuple[Agreement | str, str]],
) -> HttpResponse:
    """``run`` calls the service and returns where to go next (an agreement
    or a URL) and what to tell the person."""
    agreement = get_object_or_404(
        Agreement.objects.visible_to(request.user).select_related(
            "provider", "consumer"
        ),
        pk=pk,
    )
    if not can(request.user, "act_on_agreement", agreement):
        raise PermissionDenied(
            "Only a lead, manager or head of a party team can do this."
        )
    try:
        target, done = run(agreement)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(agreement)
    messages.success(request, done)
    return redirect(target)


def _note(request: HttpRequest) -> str:
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise ValidationError(
            [f"Note: {e}" for errors in form.errors.values() for e in errors]
        )
    return form.cleaned_data["note"]


@login_required
@require_POST
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    def run(agreement: Agreement) -> tuple[Agreement, str]:
        agreement = agreement_propose(agreement=agreement, user=request.user)
        return agreement, (
            "Proposed for signature: a lead, manager or head of each team signs "
            "to make it active."
        )

    return _act(request, pk, run)


@login_required
@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    def run(agreement: Agreement) -> tuple[Agreement, str]:
        form = SignForm(request.POST)
        if not form.is_valid():
            raise ValidationError("Choose the team you sign for.")
        team = form.cleaned_data["team"]
        agreement = agreement_sign(agreement=agreement, user=request.user, team=team)
        if agreement.status == Agreement.Status.ACTIVE:
            return (
                agreement,
                f"Signed for {team}. Both teams have signed: it is active.",
            )
        return (
            agreement,
            f"Signed for {team}. It becomes active when the other team signs.",
        )

    return _act(request, pk, run)


@login_required
@require_POST
def request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    def run(agreement: Agreement) -> tuple[Agreement, str]:
        agreement = agreement_request_changes(
            agreement=agreement, user=request.user, note=_note(request)
        )
        return agreement, (
            "Sent back to draft; its signatures were cleared. Edit it and propose "
            "it again."
        )

    return _act(request, pk, run)


@login_required
@require_POST
def revise(request: HttpRequest, pk: int) -> HttpResponse:
    def run(agreement: Agreement) -> tuple[str, str]:
        revision = agreement_revise(agreement=agreement, user=request.user)
        return reverse("agreements:edit", args=[revision.pk]), (
            f"Version {revision.version} drafted. Version {agreement.version} stays "
            "in force until both teams sign the new one."
        )

    return _act(request, pk, run)


@login_required
@require_POST
def retire(request: HttpRequest, pk: int) -> HttpResponse:
    def run(agreement: Agreement) -> tuple[Agreement, str]:
        agreement = agreement_retire(
            agreement=agreement, user=request.user, note=_note(request)
        )
        return agreement, "Retired. Its history stays readable here."

    return _act(request, pk, run)
