"""The measurement pages: the monthly value of each manual objective (uptime,
response hours, onboarding rate…), one per objective and month, entered by
the provider team's leads while the month is open and corrected by its heads
after it locks."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from .. import periods, standing
from ..models import SIGNED, Measurement, Objective, Team
from ..rules import can
from ..selectors import submission_history
from ..views.common import (
    error_params,
    paginate,
    query_without_page,
    require,
    visible_team,
)
from . import measurements as measurement_services
from .forms import (
    FiguresFilterForm,
    MeasurementCorrectForm,
    MeasurementForm,
    MeasurementLateForm,
    MeasurementValueForm,
)
from .row_pages import (
    LATE_PAGE,
    RowPages,
    correct_page,
    delete_page,
    form_page,
    open_row,
    require_correction,
    row_url,
)
from .team_views import figures_tabs

PAGES = RowPages(slug="measurements", singular="measurement", plural="measurements")


def _manual_objectives(team: Team):
    """The manual objectives of the team's signed agreements."""
    return (
        Objective.objects.filter(
            metric_source=Objective.Source.MANUAL,
            agreement__provider=team,
            agreement__status__in=SIGNED,
        )
        .select_related("agreement")
        .order_by("agreement__title", "position", "pk")
    )


def _measurement(request: HttpRequest, pk: int) -> Measurement:
    return get_object_or_404(
        Measurement.objects.visible_to(request.user).select_related(
            "objective__agreement__provider", "created_by"
        ),
        pk=pk,
    )


def _list_url(team: Team, month=None) -> str:
    url = reverse("figures:measurements_list", args=[team.slug])
    return f"{url}?month={periods.format_month(month)}" if month else url


def _describe(measurement: Measurement) -> str:
    objective = measurement.objective
    unit = {"percent": " %", "hours": " hours"}.get(objective.unit, "")
    return (
        f"{objective.name}: {measurement.value.normalize():f}{unit} for "
        f"{periods.month_label(measurement.month)}"
    )


def _duplicate(request: HttpRequest, exc: ValidationError) -> Measurement | None:
    """The measurement a ``duplicate`` refusal refers to, if the person sees it."""
    params = error_params(exc, "duplicate")
    if not params or "pk" not in params:
        return None
    return (
        Measurement.objects.visible_to(request.user)
        .filter(pk=params["pk"])
        .select_related("objective")
        .first()
    )


def _page(team: Team, **context: Any) -> dict[str, Any]:
    """What a page adding a measurement shows besides its form."""
    return {"team": team, "kind": PAGES, "cancel_url": _list_url(team), **context}


@login_required
def measurements_list(request: HttpRequest, slug: str) -> HttpResponse:
    team = visible_team(request, slug)
    user = request.user
    form = FiguresFilterForm(request.GET)
    month = form.chosen_month()
    rows = (
        Measurement.objects.visible_to(user)
        .filter(objective__agreement__provider=team)
        .select_related("objective__agreement", "created_by")
        .order_by("-month", "objective__agreement__title", "objective__position")
    )
    if month is not None:
        rows = rows.for_month(month)
    shown = month or periods.current_month()
    page = paginate(request, rows)
    # The engine's verdict for the month shown and for every row listed.
    lines = standing.team_lines(team, {shown, *(m.month for m in page)})
    owed = [
        line
        for (_pk, line_month), line in lines.items()
        if line_month == shown
        and line.objective.metric_source == Objective.Source.MANUAL
    ]
    owed.sort(
        key=lambda line: (line.objective.agreement.title, line.objective.position)
    )
    for measurement in page:
        measurement.line = lines.get((measurement.objective_id, measurement.month))
    return render(
        request,
        "figures/measurements.html",
        {
            "team": team,
            "kind": PAGES,
            "tabs": figures_tabs(team, active="measurements"),
            "form": form,
            "month": month,
            "shown_month": shown,
            "shown_open": periods.is_open(shown),
            "owed": owed,
            "page": page,
            "filter_query": query_without_page(request),
            "may_submit": can(user, "submit_figures", team),
            "may_correct": can(user, "correct_submission", team),
        },
    )


@login_required
def measurement_new(request: HttpRequest, slug: str) -> HttpResponse:
    team = visible_team(request, slug)
    require(
        request,
        "submit_figures",
        team,
        f"Only a lead, manager or head of {team} can enter its measurements.",
    )
    initial = {
        "objective": request.GET.get("objective"),
        "month": request.GET.get("month") or periods.current_month(),
    }
    form = MeasurementForm(
        request.POST or None, initial=initial, objectives=_manual_objectives(team)
    )
    return form_page(
        request,
        form,
        save=lambda: measurement_services.measurement_create(
            objective=form.cleaned_data["objective"],
            user=request.user,
            month=form.cleaned_data["month"],
            **form.values(),
        ),
        saved=lambda measurement: (
            f"Saved: {_describe(measurement)}.",
            _list_url(team, measurement.month),
        ),
        refused=lambda exc: {"duplicate": _duplicate(request, exc)},
        context=_page(team, title="Enter a measurement", submit_label="Save"),
    )


@login_required
def measurement_late(request: HttpRequest, slug: str) -> HttpResponse:
    """Add the measurement a locked month is missing, with a reason."""
    team = visible_team(request, slug)
    require_correction(request, team)
    initial = {
        "objective": request.GET.get("objective"),
        "month": request.GET.get("month")
        or periods.previous_month(periods.previous_month(periods.current_month())),
    }
    form = MeasurementLateForm(
        request.POST or None, initial=initial, objectives=_manual_objectives(team)
    )
    return form_page(
        request,
        form,
        save=lambda: measurement_services.measurement_correct(
            user=request.user,
            reason=form.cleaned_data["reason"],
            objective=form.cleaned_data["objective"],
            month=form.cleaned_data["month"],
            **form.values(),
        ),
        saved=lambda measurement: (
            f"Added to a locked month: {_describe(measurement)}.",
            row_url(PAGES.slug, "detail", measurement.pk),
        ),
        refused=lambda exc: {"duplicate": _duplicate(request, exc)},
        context=_page(team, title="Add a late measurement", **LATE_PAGE),
    )


@login_required
def measurement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    objective = measurement.objective
    team = objective.agreement.provider
    user = request.user
    return render(
        request,
        "figures/detail.html",
        {
            "kind": PAGES,
            "row": measurement,
            "team": team,
            "title": _describe(measurement),
            "fields": [
                ("Objective", f"{objective.name} ({objective.describe})"),
                ("Agreement", objective.agreement.title),
                ("Month", periods.month_label(measurement.month)),
                ("Value", measurement.value),
                ("Note", measurement.note),
            ],
            "agreement_url": objective.agreement.get_absolute_url(),
            "history": submission_history(measurement),
            "may_submit": can(user, "submit_figures", measurement),
            "may_correct": can(user, "correct_submission", measurement),
            "month_open": periods.is_open(measurement.month),
            "month_locked": periods.is_locked(measurement.month),
            "edit_url": reverse("figures:measurements_edit", args=[pk]),
            "delete_url": reverse("figures:measurements_delete", args=[pk]),
            "correct_url": reverse("figures:measurements_correct", args=[pk]),
            "list_url": _list_url(team, measurement.month),
        },
    )


@login_required
def measurement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    team = measurement.responsible_team
    locked = open_row(
        request, measurement, slug=PAGES.slug, change="change its measurements"
    )
    if locked is not None:
        return locked
    form = MeasurementValueForm(
        request.POST or None,
        initial={"value": measurement.value.normalize(), "note": measurement.note},
    )
    return form_page(
        request,
        form,
        save=lambda: measurement_services.measurement_update(
            measurement=measurement, user=request.user, **form.values()
        ),
        saved=lambda changed: (
            f"Saved: {_describe(changed)}.",
            _list_url(team, changed.month),
        ),
        context={
            "team": team,
            "kind": PAGES,
            "row": measurement,
            "title": f"Edit {measurement.objective.name} for "
            f"{periods.month_label(measurement.month)}",
            "submit_label": "Save changes",
            "cancel_url": row_url(PAGES.slug, "detail", pk),
        },
    )


@login_required
def measurement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    locked = open_row(
        request, measurement, slug=PAGES.slug, change="delete its measurements"
    )
    if locked is not None:
        return locked
    return delete_page(
        request,
        measurement,
        kind=PAGES,
        title=_describe(measurement),
        delete=lambda: measurement_services.measurement_delete(
            measurement=measurement, user=request.user
        ),
        done_url=_list_url(measurement.responsible_team, measurement.month),
    )


@login_required
def measurement_correct(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    return correct_page(
        request,
        measurement,
        kind=PAGES,
        title=_describe(measurement),
        what="the value",
        form_class=MeasurementCorrectForm,
        initial={"value": measurement.value.normalize(), "note": measurement.note},
        correct=lambda **change: measurement_services.measurement_correct(
            measurement=measurement, user=request.user, **change
        ),
        done_url=_list_url(measurement.responsible_team, measurement.month),
    )
