"""The records behind a figure measured from records: the requests that met
or breached their time, or the incidents and maintenance of the month, with
the minutes each counted; as a page and as a CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify

from agreements import periods
from agreements.models import Agreement, Objective
from agreements.records.measure import MIN_COUNTED, Outcome

from ..exports import csv_response
from ..models import ScorecardLine
from ..selectors.records import Evidence, evidence_rows, objective_evidence
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
    return render(
        request,
        "reports/evidence.html",
        {
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
