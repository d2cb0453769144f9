"""Every write to the friction knowledge base's pain points goes through these
functions: heads of any team curate them (add, edit, merge duplicates); the
heads of a report's addressed team file it under one (``friction_report_link``
in ``friction.py``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_update_with_history

from ..history import save_with_history
from ..models import FrictionReport, PainPoint
from ..rules import require
from ..services._common import (
    check_fields,
    describe_changes,
    edit_reason,
    snapshot,
    validate,
)
from .services import locked_report

PAIN_POINT_FIELDS = ("title", "description", "category")


def _require_head(user, verb: str) -> None:
    require(
        user,
        "manage_pain_points",
        None,
        f"Only the head of a team can {verb} the knowledge base's pain points.",
    )


def _title_taken(title: str, *, exclude_pk: int | None = None):
    taken = (
        PainPoint.objects.current()
        .filter(title__iexact=(title or "").strip())
        .exclude(pk=exclude_pk)
        .first()
    )
    if taken is None:
        return {}
    return {
        "title": [
            ValidationError(
                "A pain point called “%(title)s” already exists: link reports to "
                "it, or merge the two.",
                code="duplicate",
                params={"title": taken.title, "pk": taken.pk},
            )
        ]
    }


@transaction.atomic
def pain_point_create(
    *, user: User, title: str, category: str, description: str = ""
) -> PainPoint:
    _require_head(user, "add to")
    pain_point = PainPoint(
        title=title, category=category, description=description, created_by=user
    )
    validate(
        pain_point,
        checks=[lambda: _title_taken(title)],
        exclude=("created_by",),
        validate_constraints=False,
    )
    save_with_history(pain_point, user=user, reason="created")
    return pain_point


@transaction.atomic
def pain_point_update(*, pain_point: PainPoint, user: User, **fields: Any) -> PainPoint:
    check_fields(fields, PAIN_POINT_FIELDS, "pain point")
    _require_head(user, "edit")
    current = PainPoint.objects.select_for_update().get(pk=pain_point.pk)
    before = snapshot(current, PAIN_POINT_FIELDS)
    for name, value in fields.items():
        setattr(current, name, value)
    validate(
        current,
        checks=[lambda: _title_taken(current.title, exclude_pk=current.pk)],
        exclude=("created_by",),
        validate_constraints=False,
    )
    changes = describe_changes(current, before, long_fields=("description",))
    if changes:
        save_with_history(current, user=user, reason=edit_reason("edited", changes))
    return current


@transaction.atomic
def pain_point_merge(*, source: PainPoint, target: PainPoint, user: User) -> PainPoint:
    """Merge a duplicate pain point into another: its reports (and pain points
    merged into it before) move to ``target``; ``source`` stays, marked merged,
    so old links still lead somewhere. The reports that move are the ones
    it is about: only an executive, or a head of every team they were
    addressed to, may move them."""
    require(
        user,
        "merge_pain_points",
        source,
        f"Only an executive, or the head of every team its reports were "
        f"addressed to, can merge “{source}”.",
    )
    if source.pk == target.pk:
        raise ValidationError(
            {"target": ValidationError("Choose another pain point to merge into.")}
        )
    # Lock both in a fixed order, so two merges of the same pair cannot deadlock.
    locked = {
        p.pk: p
        for p in PainPoint.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.is_merged:
        raise ValidationError(
            f"“{source}” has already been merged into “{source.merged_into}”.",
            code="merged",
        )
    if target.is_merged:
        raise ValidationError(
            {
                "target": ValidationError(
                    f"“{target}” was merged into “{target.merged_into}”: merge into "
                    "that one instead.",
                    code="merged",
                )
            }
        )
    reason = f"pain point “{source}” merged into “{target}”"
    reports = list(FrictionReport.objects.select_for_update().filter(pain_point=source))
    for report in reports:
        report.pain_point = target
    if reports:
        bulk_update_with_history(
            reports,
            FrictionReport,
            ["pain_point"],
            default_user=user,
            default_change_reason=reason,
        )
    earlier = list(PainPoint.objects.select_for_update().filter(merged_into=source))
    for pain_point in earlier:
        pain_point.merged_into = target
    if earlier:
        bulk_update_with_history(
            earlier,
            PainPoint,
            ["merged_into"],
            default_user=user,
            default_change_reason=reason,
        )
    source.merged_into = target
    save_with_history(source, user=user, reason=reason)
    return target


@transaction.atomic
def friction_report_link(
    *, report: FrictionReport, pain_point: PainPoint | None, user: User
) -> FrictionReport:
    """Group a report under a pain point (``None`` unlinks it)."""
    current = locked_report(report)
    require(
        user,
        "link_friction_report",
        current,
        f"Only a head of {current.addressed_team} can file this report under a "
        "pain point.",
    )
    if pain_point is not None:
        pain_point = PainPoint.objects.select_related("merged_into").get(
            pk=pain_point.pk
        )
        if pain_point.is_merged:
            raise ValidationError(
                {
                    "pain_point": ValidationError(
                        f"“{pain_point}” was merged into “{pain_point.merged_into}”:"
                        " link the report to that one.",
                        code="merged",
                    )
                }
            )
    if current.pain_point_id == (pain_point.pk if pain_point else None):
        return current
    current.pain_point = pain_point
    reason = (
        f"filed under pain point “{pain_point}”"
        if pain_point
        else "removed from its pain point"
    )
    save_with_history(current, user=user, reason=reason)
    return current
