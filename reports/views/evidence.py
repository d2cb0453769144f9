"""The records behind a figure measured from records: the requests that met
or breached their time, or the incidents and maintenance of the month, with
the minutes each counted; as a page and as a CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from agreements import periods
from agreements.forms.common import ReasonForm
from agreements.models import Agreement, Objective
from agreements.records.measure import MIN_COUNTED, Outcome
from agreements.rules import can

from ..exports import csv_response
from ..models import ScorecardLine
from ..selectors.records import Evidence, evidence_rows, objective_evidence
from ..services import scorecards_finalise
from ._common import month_from, visible_agreements

OUTCOMES = {
    "": "All",
    Outcome.BREACHED: "Breached",
    Outcome.PENDING: "Not due yet",
    Outcome.MET: "Met",
}


def _evidence(request: HttpRequest, pk: int, objective_pk: int) -> Evidence:
    agreement = get_object_or_404(visible_agreements(request), pk=pk)
    month = month_from(request, default=periods.current_month())
    if periods.is_future(month):
        raise Http404("That month has not begun.")
    # The objective of any version of the agreement the reader may see.
    objective = get_object_or_404(
        Objective.objects.select_related("agreement__provider", "agreement__consumer"),
        pk=objective_pk,
        agreement__lineage=agreement.lineage,
        agreement__in=visible_agreements(request),
        metric_source__in=Objective.RECORD_SOURCES,
    )
    version: Agreement = objective.agreement
    line = (
        ScorecardLine.objects.filter(
            scorecard__agreement=version, scorecard__month=month, objective=objective
        )
        .only("actual")
        .first()
    )
    return objective_evidence(
        version,
        objective,
        month,
        now=timezone.now(),
        kept=line.actual if line else None,
        finalised=line is not None,
    )


@login_required
def evidence(request: HttpRequest, pk: int, objective_pk: int) -> HttpResponse:
    found = _evidence(request, pk, objective_pk)
    outcome = request.GET.get("outcome", "")
    if outcome not in OUTCOMES:
        raise Http404("Show all, breached, not due yet or met requests.")
    counts = {}
    if found.requests is not None:
        counts = {
            "": len(found.requests.evidence),
            Outcome.BREACHED: found.requests.breached,
            Outcome.PENDING: found.requests.pending,
            Outcome.MET: found.requests.met,
        }
    may_apply = found.changed_since_finalised and can(
        request.user, "correct_submission", found.agreement.provider
    )
    return render(
        request,
        "reports/evidence.html",
        {
            "may_apply": may_apply,
            "apply_form": ReasonForm() if may_apply else None,
            "ev": found,
            "agreement": found.agreement,
            "objective": found.objective,
            "rows": found.request_rows(outcome),
            "outcome": outcome,
            "outcomes": [
                (key, label, counts.get(key, 0)) for key, label in OUTCOMES.items()
            ],
            "min_counted": MIN_COUNTED,
        },
    )


@login_required
def evidence_csv(request: HttpRequest, pk: int, objective_pk: int) -> HttpResponse:
    found = _evidence(request, pk, objective_pk)
    header, rows = evidence_rows(found)
    name = slugify(found.objective.name) or "objective"
    return csv_response(
        f"evidence-{name}-{periods.format_month(found.month)}.csv", header, rows
    )


@login_required
@require_POST
def evidence_apply(request: HttpRequest, pk: int, objective_pk: int) -> HttpResponse:
    """Apply what the records now give to a finalised month: a correction,
    by a head of the provider (or an administrator), with a reason."""
    found = _evidence(request, pk, objective_pk)
    if not can(request.user, "correct_submission", found.agreement.provider):
        raise PermissionDenied(
            f"Only a head of {found.agreement.provider} corrects a locked month."
        )
    url = (
        reverse("reports:evidence", args=[pk, objective_pk])
        + f"?month={periods.format_month(found.month)}"
    )
    form = ReasonForm(request.POST)
    if not form.is_valid():
        for error in form.errors["reason"]:
            messages.error(request, error)
        return redirect(url)
    if not found.finalised:
        messages.info(request, "This month is not finalised: it follows the records.")
        return redirect(url)
    try:
        scorecards_finalise(
            month=found.month,
            reason=f"records applied: {form.cleaned_data['reason']}",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(url)
    messages.success(
        request,
        f"{periods.month_label(found.month)} now follows the records: "
        f"{found.objective.name} is {found.value:.1f} %.",
    )
    return redirect(url)
