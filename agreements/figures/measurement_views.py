"""The measurement pages: the monthly value of each manual objective (uptime,
response hours, onboarding rate…), one per objective and month, entered by
the provider team's leads while the month is open and corrected by its heads
after it locks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from .. import periods, standing
from ..models import SIGNED, Measurement, Objective, Team
from ..rules import can
from ..selectors import submission_history
from ..views.common import (
    add_service_errors,
    correction_forms,
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
from .team_views import figures_tabs


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


def _form_page(request: HttpRequest, context: dict) -> HttpResponse:
    form = context["form"]
    context.setdefault(
        "not_saved",
        form.is_bound and any(name != "__all__" for name in form.errors),
    )
    context.setdefault("kind", {"plural": "measurements", "slug": "measurements"})
    return render(request, "figures/form.html", context)


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
            "kind": {"plural": "measurements", "slug": "measurements"},
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
    duplicate = None
    if form.is_bound and form.is_valid():
        try:
            measurement = measurement_services.measurement_create(
                objective=form.cleaned_data["objective"],
                user=request.user,
                month=form.cleaned_data["month"],
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            duplicate = _duplicate(request, exc)
        else:
            messages.success(request, f"Saved: {_describe(measurement)}.")
            return redirect(_list_url(team, measurement.month))
    return _form_page(
        request,
        {
            "form": form,
            "team": team,
            "title": "Enter a measurement",
            "submit_label": "Save",
            "cancel_url": _list_url(team),
            "duplicate": duplicate,
        },
    )


@login_required
def measurement_late(request: HttpRequest, slug: str) -> HttpResponse:
    """Add the measurement a locked month is missing, with a reason."""
    team = visible_team(request, slug)
    require(
        request,
        "correct_submission",
        team,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    initial = {
        "objective": request.GET.get("objective"),
        "month": request.GET.get("month")
        or periods.previous_month(periods.previous_month(periods.current_month())),
    }
    form = MeasurementLateForm(
        request.POST or None, initial=initial, objectives=_manual_objectives(team)
    )
    duplicate = None
    if form.is_bound and form.is_valid():
        try:
            measurement = measurement_services.measurement_correct(
                user=request.user,
                reason=form.cleaned_data["reason"],
                objective=form.cleaned_data["objective"],
                month=form.cleaned_data["month"],
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            duplicate = _duplicate(request, exc)
        else:
            messages.success(
                request, f"Added to a locked month: {_describe(measurement)}."
            )
            return redirect("figures:measurements_detail", pk=measurement.pk)
    return _form_page(
        request,
        {
            "form": form,
            "team": team,
            "title": "Add a late measurement",
            "intro": "The month is locked: adding to it is a correction. Say why; "
            "the reason is kept in its history.",
            "submit_label": "Add with this reason",
            "cancel_url": _list_url(team),
            "duplicate": duplicate,
        },
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
            "kind": {"plural": "measurements", "slug": "measurements"},
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


def _locked_redirect(request: HttpRequest, measurement: Measurement) -> HttpResponse:
    label = periods.month_label(measurement.month)
    if can(request.user, "correct_submission", measurement):
        messages.info(
            request, f"{label} is locked: change it with a correction and a reason."
        )
        return redirect("figures:measurements_correct", pk=measurement.pk)
    messages.warning(
        request,
        f"{label} is locked: only a head of {measurement.responsible_team} or an "
        "administrator can still correct it.",
    )
    return redirect("figures:measurements_detail", pk=measurement.pk)


@login_required
def measurement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    team = measurement.responsible_team
    require(
        request,
        "submit_figures",
        measurement,
        f"Only a lead, manager or head of {team} can change its measurements.",
    )
    if periods.is_locked(measurement.month):
        return _locked_redirect(request, measurement)
    form = MeasurementValueForm(
        request.POST or None,
        initial={"value": measurement.value.normalize(), "note": measurement.note},
    )
    if form.is_bound and form.is_valid():
        try:
            measurement = measurement_services.measurement_update(
                measurement=measurement, user=request.user, **form.values()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved: {_describe(measurement)}.")
            return redirect(_list_url(team, measurement.month))
    return _form_page(
        request,
        {
            "form": form,
            "team": team,
            "row": measurement,
            "title": f"Edit {measurement.objective.name} for "
            f"{periods.month_label(measurement.month)}",
            "submit_label": "Save changes",
            "cancel_url": reverse("figures:measurements_detail", args=[pk]),
        },
    )


@login_required
def measurement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    team = measurement.responsible_team
    require(
        request,
        "submit_figures",
        measurement,
        f"Only a lead, manager or head of {team} can delete its measurements.",
    )
    if periods.is_locked(measurement.month):
        return _locked_redirect(request, measurement)
    if request.method == "POST":
        try:
            measurement_services.measurement_delete(
                measurement=measurement, user=request.user
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("figures:measurements_detail", pk=pk)
        messages.success(request, f"Deleted: {_describe(measurement)}.")
        return redirect(_list_url(team, measurement.month))
    return render(
        request,
        "figures/confirm_delete.html",
        {
            "kind": {"plural": "measurements", "slug": "measurements"},
            "row": measurement,
            "team": team,
            "title": _describe(measurement),
            "cancel_url": reverse("figures:measurements_detail", args=[pk]),
        },
    )


@login_required
def measurement_correct(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurement(request, pk)
    team = measurement.responsible_team
    require(
        request,
        "correct_submission",
        measurement,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    if not periods.is_locked(measurement.month):
        messages.info(
            request,
            f"{periods.month_label(measurement.month)} is still open: change the "
            "value directly, no correction is needed.",
        )
        return redirect("figures:measurements_edit", pk=pk)
    forms = correction_forms(
        request,
        MeasurementCorrectForm,
        initial={"value": measurement.value.normalize(), "note": measurement.note},
    )
    if forms.apply(
        lambda **change: measurement_services.measurement_correct(
            measurement=measurement, user=request.user, **change
        )
    ):
        if forms.deleting:
            messages.success(
                request, f"Deleted from a locked month: {_describe(measurement)}."
            )
            return redirect(_list_url(team, measurement.month))
        messages.success(request, "Corrected. The reason is kept in its history.")
        return redirect("figures:measurements_detail", pk=pk)
    return render(
        request,
        "figures/correct.html",
        {
            "kind": {"plural": "measurements", "slug": "measurements"},
            "row": measurement,
            "team": team,
            "title": _describe(measurement),
            "form": forms.form,
            "delete_form": forms.delete_form,
            "month_label": periods.month_label(measurement.month),
            "cancel_url": reverse("figures:measurements_detail", args=[pk]),
        },
    )
