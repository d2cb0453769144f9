"""The friction report pages: the list, the form, and a report's page with its
timeline, where both teams talk it through, and the addressed team's heads
move it along, assign it, set its due date and file it under a pain point."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import periods
from ..models import FrictionReport, Team
from ..rules import can, friction_report_actions, signed_partner_ids
from ..selectors import friction_timeline
from ..views.common import (
    add_service_errors,
    correction_forms,
    paginate,
    query_without_page,
    require,
)
from .forms import (
    STATUS_ACTIONS,
    AssignForm,
    CommentForm,
    FrictionFilterForm,
    FrictionReportCorrectForm,
    FrictionReportFieldsForm,
    FrictionReportForm,
    LinkForm,
    StatusForm,
)
from .knowledge import friction_report_link, pain_point_create
from .selectors import friction_report_list
from .services import (
    friction_assignees,
    friction_comment_add,
    friction_default_addressee,
    friction_report_assign,
    friction_report_change_status,
    friction_report_correct,
    friction_report_create,
    friction_report_delete,
    friction_report_set_due_date,
    friction_report_update,
)


def _report(request: HttpRequest, pk: int) -> FrictionReport:
    return get_object_or_404(
        FrictionReport.objects.visible_to(request.user).select_related(
            "reporting_team",
            "addressed_team",
            "addressed_to",
            "assigned_to",
            "created_by",
            "pain_point",
        ),
        pk=pk,
    )


def _filing_teams(user):
    """Teams the person may file friction reports for."""
    led = Team.objects.of_user(user).order_by("name")
    return [team for team in led if can(user, "file_friction_report", team)]


@login_required
def friction_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = FrictionFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    reports = friction_report_list(
        user=user,
        search=filters.get("q", ""),
        category=filters.get("category", ""),
        tag=filters.get("tag", ""),
        severity=filters.get("severity", ""),
        status=filters.get("status", ""),
    )
    mine = Team.objects.of_user(user).values("pk")
    box = filters.get("box", "")
    if box == "filed":
        reports = reports.filter(reporting_team__in=mine)
    elif box == "received":
        reports = reports.filter(addressed_team__in=mine)
    page = paginate(request, reports)
    # When every report shown goes the same way (as for most teams, who file
    # to one partner), the direction is said once above the list, not on
    # every row.
    directions = {(r.reporting_team_id, r.addressed_team_id) for r in page}
    if len(directions) > 1:
        # Otherwise each row names only the other party: "to Marketing" for
        # what the reader's team filed, "from Sales" for what it received.
        my_ids = set(mine.values_list("pk", flat=True))
        for report in page:
            if report.reporting_team_id in my_ids:
                report.direction_text = f"to {report.addressed_team.name}"
            elif report.addressed_team_id in my_ids:
                report.direction_text = f"from {report.reporting_team.name}"
            else:
                report.direction_text = (
                    f"{report.reporting_team.name} → {report.addressed_team.name}"
                )
    return render(
        request,
        "friction/list.html",
        {
            "form": form,
            "page": page,
            "shared_direction": page[0] if len(directions) == 1 else None,
            "filtered": any(filters.values()),
            "filter_query": query_without_page(request),
            "may_file": bool(_filing_teams(user)),
        },
    )


@login_required
def friction_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    teams = _filing_teams(user)
    if not teams:
        raise PermissionDenied(
            "Only a lead, manager or head of a team with a signed agreement can "
            "file friction reports."
        )
    reporting = Team.objects.filter(pk__in=[t.pk for t in teams]).order_by("name")
    addressable = Team.objects.filter(
        pk__in=signed_partner_ids({t.pk for t in teams})
    ).order_by("name")
    chosen = next(
        (t for t in teams if str(t.pk) == request.GET.get("team", "")), teams[0]
    )
    addressee = friction_default_addressee(chosen)
    initial = {
        "reporting_team": chosen,
        "addressed_team": request.GET.get("addressed") or addressee,
        "month": request.GET.get("month")
        or periods.format_month(periods.current_month()),
    }
    form = FrictionReportForm(
        request.POST or None,
        initial=initial,
        reporting_teams=reporting,
        addressed_teams=addressable,
    )
    if form.is_bound and form.is_valid():
        try:
            report = friction_report_create(
                reporting_team=form.cleaned_data["reporting_team"],
                user=user,
                client_token=form.cleaned_data["client_token"],
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            head = report.addressed_to
            to = f"{head.get_full_name() or head.username}, " if head else ""
            messages.success(
                request,
                f"Report filed and sent to {to}head of {report.addressed_team}. "
                "Its status shows here as it moves on.",
            )
            return redirect("friction:detail", pk=report.pk)
    return render(
        request,
        "friction/form.html",
        {
            "form": form,
            "title": "File a friction report",
            "submit_label": "File the report",
            "not_saved": form.is_bound and bool(form.errors),
        },
    )


@login_required
def friction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _report(request, pk))


def _detail_page(
    request: HttpRequest,
    report: FrictionReport,
    *,
    reply_form: CommentForm | None = None,
    assign_form: AssignForm | None = None,
) -> HttpResponse:
    """The report's page; a form posted from it and refused comes back bound,
    with its errors and what the person typed."""
    user = request.user
    may = friction_report_actions(user, report)
    if reply_form is None and may["comment"]:
        reply_form = CommentForm(moves_status=bool(may["status"]))
    if assign_form is None and may["assign"]:
        assign_form = AssignForm(report=report, assignees=friction_assignees(report))
    return render(
        request,
        "friction/detail.html",
        {
            "report": report,
            "timeline": friction_timeline(report),
            "may": may,
            "reply_form": reply_form if may["comment"] else None,
            "status_actions": [(s, STATUS_ACTIONS[s]) for s in may["status"]],
            "assign_form": assign_form if may["assign"] else None,
            "link_form": LinkForm(
                initial={
                    "pain_point": report.pain_point_id,
                    "new_category": report.category,
                }
            )
            if may["link"]
            else None,
            "steps": _steps(report),
        },
    )


def _steps(report: FrictionReport) -> list[dict]:
    """The workflow as a row of steps, the report's place in it marked."""
    S = FrictionReport.Status
    closed = report.status if report.is_closed else S.RESOLVED
    order = [S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, closed]
    labels = dict(S.choices)
    reached = order.index(report.status) if report.status in order else 0
    return [
        {"label": labels[s], "done": i <= reached, "current": i == reached}
        for i, s in enumerate(order)
    ]


@login_required
def friction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    require(
        request,
        "change_friction_report",
        report,
        f"Only a lead, manager or head of {report.reporting_team} can change it.",
    )
    names = list(FrictionReportFieldsForm.base_fields)
    form = FrictionReportFieldsForm(
        request.POST or None,
        initial={name: getattr(report, name) for name in names},
    )
    if form.is_bound and form.is_valid():
        try:
            friction_report_update(report=report, user=request.user, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Report saved.")
            return redirect("friction:detail", pk=report.pk)
    return render(
        request,
        "friction/form.html",
        {
            "form": form,
            "report": report,
            "title": "Edit friction report",
            "submit_label": "Save changes",
            "not_saved": form.is_bound and bool(form.errors),
        },
    )


@login_required
def friction_delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    require(
        request,
        "change_friction_report",
        report,
        f"Only a lead, manager or head of {report.reporting_team} can delete it.",
    )
    if request.method == "POST":
        try:
            friction_report_delete(report=report, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("friction:detail", pk=report.pk)
        messages.success(request, f"Report about {report.customer} withdrawn.")
        return redirect("friction:list")
    return render(request, "friction/confirm_delete.html", {"report": report})


@login_required
@require_POST
def friction_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A status button of the reply form: the text typed goes with the move."""
    report = _report(request, pk)
    require(
        request,
        "change_friction_status",
        report,
        f"Only a head of {report.addressed_team} can change this report's status.",
    )
    form = StatusForm(request.POST, report=report)
    if form.is_valid():
        try:
            report = friction_report_change_status(
                report=report,
                user=request.user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            add_service_errors(form, _reply_errors(exc))
        else:
            messages.success(
                request,
                f"Status set to “{report.get_status_display()}”. "
                f"{report.reporting_team} sees it on the report.",
            )
            return redirect("friction:detail", pk=report.pk)
    return _detail_page(request, _report(request, pk), reply_form=form)


def _reply_errors(exc: ValidationError) -> ValidationError:
    """The service's refusal of a status change as the reply form shows it:
    the note is the form's one comment box, and the status is the button
    pressed, so its error goes above the form."""
    if not hasattr(exc, "error_dict"):
        return exc
    names = {"note": "body", "status": NON_FIELD_ERRORS}
    return ValidationError(
        {names.get(name, name): errors for name, errors in exc.error_dict.items()}
    )


@login_required
@require_POST
def friction_comment(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    require(
        request,
        "comment_friction_report",
        report,
        f"Only members of {report.reporting_team} and {report.addressed_team} can "
        "comment on this report.",
    )
    moves_status = bool(friction_report_actions(request.user, report)["status"])
    form = CommentForm(request.POST, moves_status=moves_status)
    if form.is_valid():
        try:
            comment = friction_comment_add(
                report=report, user=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            other = (
                report.addressed_team
                if comment.team_id == report.reporting_team_id
                else report.reporting_team
            )
            messages.success(request, f"Comment added. {other} sees it on the report.")
            return redirect("friction:detail", pk=report.pk)
    return _detail_page(request, report, reply_form=form)


@login_required
@require_POST
def friction_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Who looks after the report and by when: one form, two changes (each
    its own service, each its own line in the history), saved together."""
    report = _report(request, pk)
    require(
        request,
        "assign_friction_report",
        report,
        f"Only a head of {report.addressed_team} can assign this report and set "
        "its due date.",
    )
    form = AssignForm(request.POST, report=report, assignees=friction_assignees(report))
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        due_date = form.cleaned_data["due_date"]
        try:
            with transaction.atomic():
                if assignee != report.assigned_to:
                    report = friction_report_assign(
                        report=report, user=request.user, assignee=assignee
                    )
                if due_date != report.due_date:
                    report = friction_report_set_due_date(
                        report=report, user=request.user, due_date=due_date
                    )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Saved. Both teams see it on the report.")
            return redirect("friction:detail", pk=report.pk)
    return _detail_page(request, _report(request, pk), assign_form=form)


@login_required
@require_POST
def friction_link(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    require(
        request,
        "link_friction_report",
        report,
        f"Only a head of {report.addressed_team} can file this report under a "
        "pain point.",
    )
    form = LinkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("friction:detail", pk=report.pk)
    title = form.cleaned_data["new_title"]
    try:
        # A new pain point and the link to it are one step for the person:
        # both or neither.
        with transaction.atomic():
            pain_point = form.cleaned_data["pain_point"]
            if title:
                pain_point = pain_point_create(
                    user=request.user,
                    title=title,
                    category=form.cleaned_data["new_category"] or report.category,
                    description=report.description,
                )
            report = friction_report_link(
                report=report, pain_point=pain_point, user=request.user
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if report.pain_point:
            messages.success(
                request, f"Filed under the pain point “{report.pain_point}”."
            )
        else:
            messages.success(request, "No longer filed under a pain point.")
    return redirect("friction:detail", pk=report.pk)


@login_required
def friction_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Change or delete a report of a locked month, with a reason."""
    report = _report(request, pk)
    require(
        request,
        "correct_submission",
        report,
        f"Only a head of {report.reporting_team} or an administrator can correct "
        "a locked month.",
    )
    if not periods.is_locked(report.month):
        messages.info(
            request,
            f"{periods.month_label(report.month)} is still open: no correction is "
            "needed.",
        )
        return redirect("friction:detail", pk=report.pk)
    names = list(FrictionReportFieldsForm.base_fields)
    forms = correction_forms(
        request,
        FrictionReportCorrectForm,
        initial={name: getattr(report, name) for name in names},
    )
    if forms.apply(
        lambda **change: friction_report_correct(
            report=report, user=request.user, **change
        )
    ):
        messages.success(request, "Corrected. The reason is kept in its history.")
        if forms.deleting:
            return redirect("friction:list")
        return redirect("friction:detail", pk=report.pk)
    return render(
        request,
        "figures/correct.html",
        {
            "kind": {"plural": "friction reports", "slug": "friction"},
            "row": report,
            "title": f"Friction report about {report.customer}",
            "form": forms.form,
            "delete_form": forms.delete_form,
            "month_label": periods.month_label(report.month),
            "cancel_url": reverse("friction:detail", args=[report.pk]),
        },
    )
