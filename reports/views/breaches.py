"""A breach's page, and acknowledging or resolving it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agreements.models import Agreement
from agreements.rules import can

from ..forms import BreachNoteForm, BreachResolveForm
from ..models import Breach
from ..selectors import breach_history
from ..services import breach_acknowledge as acknowledge
from ..services import breach_resolve as resolve


def _visible(request: HttpRequest) -> QuerySet[Breach]:
    return Breach.objects.filter(
        agreement__in=Agreement.objects.visible_to(request.user)
    ).select_related(
        "agreement__provider",
        "agreement__consumer",
        "line__objective",
        "line__scorecard",
        "acknowledged_by",
        "resolved_by",
    )


def _back(request: HttpRequest, breach: Breach) -> str:
    """Back to the page the button was on, if it is one of ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("reports:breach", args=[breach.pk])


@login_required
def breach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_object_or_404(_visible(request), pk=pk)
    return render(
        request,
        "reports/breach.html",
        {
            "breach": breach,
            "line": breach.line,
            "agreement": breach.agreement,
            "history": breach_history(breach),
            "may_act": can(request.user, "act_on_breach", breach),
            "acknowledge_form": BreachNoteForm(),
            "resolve_form": BreachResolveForm(),
        },
    )


def _act(request: HttpRequest, pk: int, *, resolving: bool) -> HttpResponse:
    breach = get_object_or_404(_visible(request), pk=pk)
    if not can(request.user, "act_on_breach", breach):
        raise PermissionDenied(
            "Only a lead, manager or head of a party team can act on a breach."
        )
    form = (BreachResolveForm if resolving else BreachNoteForm)(request.POST)
    what = f"{breach.line.objective.name} ({breach.month:%B %Y})"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request, breach))
    note = form.cleaned_data["note"]
    try:
        if resolving:
            resolve(breach=breach, user=request.user, note=note)
        else:
            acknowledge(breach=breach, user=request.user, note=note)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Breach of {what} resolved."
            if resolving
            else f"Breach of {what} acknowledged.",
        )
    return redirect(_back(request, breach))


@login_required
@require_POST
def breach_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, resolving=False)


@login_required
@require_POST
def breach_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, resolving=True)
