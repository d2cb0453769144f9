"""The friction knowledge base: pain points with how often and by whom they
are reported, their trend, and the heads' curation (add, edit, merge)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ..models import FrictionReport, Membership, PainPoint
from ..rules import can
from ..views.common import add_service_errors, require
from .forms import KnowledgeFilterForm, MergeForm, PainPointForm
from .knowledge import pain_point_create, pain_point_merge, pain_point_update
from .selectors import (
    friction_report_list,
    friction_tag_counts,
    pain_point_summaries,
    pain_point_summary,
)

UNFILED_LIMIT = 8


def _may_read(request: HttpRequest) -> None:
    require(
        request,
        "view_knowledge_base",
        None,
        "The knowledge base is for members of a team.",
    )


def _pain_point(request: HttpRequest, pk: int) -> PainPoint:
    return get_object_or_404(
        PainPoint.objects.visible_to(request.user).select_related("merged_into"),
        pk=pk,
    )


@login_required
def knowledge_list(request: HttpRequest) -> HttpResponse:
    _may_read(request)
    user = request.user
    form = KnowledgeFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    summaries = pain_point_summaries(
        search=filters.get("q", ""),
        category=filters.get("category", ""),
        tag=filters.get("tag", ""),
        severity=filters.get("severity", ""),
        status=filters.get("status", ""),
    )
    # Heads see the reports addressed to their teams that wait to be filed
    # under a pain point: the knowledge base grows from those.
    headed = Membership.objects.filter(user=user, role=Membership.Role.HEAD).values(
        "team"
    )
    unfiled = (
        FrictionReport.objects.filter(addressed_team__in=headed, pain_point=None)
        .select_related("reporting_team")
        .order_by("-created_at", "-pk")[: UNFILED_LIMIT + 1]
        if can(user, "manage_pain_points")
        else []
    )
    unfiled = list(unfiled)
    return render(
        request,
        "knowledge/list.html",
        {
            "form": form,
            "summaries": summaries,
            # One scale for every row's sparkline, so that rows compare.
            "peak": max((count for s in summaries for _, count in s.trend), default=0),
            "filtered": any(filters.values()),
            "tags": friction_tag_counts()[:20],
            "active_tag": filters.get("tag", ""),
            "may_manage": can(user, "manage_pain_points"),
            "unfiled": unfiled[:UNFILED_LIMIT],
            "more_unfiled": len(unfiled) > UNFILED_LIMIT,
        },
    )


@login_required
def knowledge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _may_read(request)
    pain_point = _pain_point(request, pk)
    if pain_point.is_merged:
        messages.info(
            request,
            f"“{pain_point}” was merged into “{pain_point.merged_into}”: its reports "
            "are here now.",
        )
        return redirect("knowledge:detail", pk=pain_point.merged_into_id)
    summary = pain_point_summary(pain_point)
    reports = list(friction_report_list(user=request.user, pain_point=pain_point))
    return render(
        request,
        "knowledge/detail.html",
        {
            "pain_point": pain_point,
            "summary": summary,
            "reports": reports,
            # Reports stay with their two teams: say how many others exist.
            "hidden_reports": summary.reports - len(reports),
            "merged": list(pain_point.merged.order_by("title")),
            "may_manage": can(request.user, "manage_pain_points"),
            "may_merge": can(request.user, "merge_pain_points", pain_point),
        },
    )


@login_required
def knowledge_new(request: HttpRequest) -> HttpResponse:
    _may_read(request)
    require(
        request,
        "manage_pain_points",
        None,
        "Only the head of a team can add pain points.",
    )
    form = PainPointForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            pain_point = pain_point_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Pain point “{pain_point}” added.")
            return redirect("knowledge:detail", pk=pain_point.pk)
    return render(
        request,
        "knowledge/form.html",
        {"form": form, "title": "New pain point", "submit_label": "Add"},
    )


@login_required
def knowledge_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _may_read(request)
    pain_point = _pain_point(request, pk)
    require(
        request,
        "manage_pain_points",
        pain_point,
        "Only the head of a team can edit pain points.",
    )
    form = PainPointForm(
        request.POST or None,
        initial={
            "title": pain_point.title,
            "category": pain_point.category,
            "description": pain_point.description,
        },
    )
    if form.is_bound and form.is_valid():
        try:
            pain_point = pain_point_update(
                pain_point=pain_point, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Pain point saved.")
            return redirect("knowledge:detail", pk=pain_point.pk)
    return render(
        request,
        "knowledge/form.html",
        {
            "form": form,
            "pain_point": pain_point,
            "title": f"Edit “{pain_point}”",
            "submit_label": "Save",
        },
    )


@login_required
def knowledge_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge a duplicate into another pain point: pick the target, see what
    will move, confirm."""
    _may_read(request)
    source = _pain_point(request, pk)
    require(
        request,
        "merge_pain_points",
        source,
        "Only an executive, or the head of every team its reports were addressed "
        "to, can merge this pain point.",
    )
    if source.is_merged:
        messages.info(request, f"“{source}” was merged already.")
        return redirect("knowledge:detail", pk=source.merged_into_id)
    form = MergeForm(request.POST or None, source=source)
    confirming = False
    target = None
    if form.is_bound and form.is_valid():
        target = form.cleaned_data["target"]
        if form.cleaned_data["confirm"]:
            try:
                pain_point_merge(source=source, target=target, user=request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"“{source}” merged into “{target}”: its reports are listed "
                    "here now.",
                )
                return redirect("knowledge:detail", pk=target.pk)
        else:
            confirming = True
            form = MergeForm(
                initial={"target": target.pk, "confirm": True}, source=source
            )
    return render(
        request,
        "knowledge/merge.html",
        {
            "form": form,
            "source": source,
            "source_summary": pain_point_summary(source),
            "confirming": confirming,
            "target": target,
            "target_summary": pain_point_summary(target) if confirming else None,
        },
    )
