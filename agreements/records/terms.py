"""How an objective measured from records is written into an agreement: its
``RecordMeasure`` is a term like the target, validated with the objective,
saved with it, copied into a revision and compared in the edit's diff.

An objective row (``agreements.services.agreements``) carries it under the
key ``measure``: a mapping of ``MEASURE_FIELDS``, the source and calendar as
instances or ids, the target as a duration or a number of minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from ..calendars.models import WorkingCalendar
from ..history import delete_with_history, save_with_history
from ..models.agreements import Objective
from .measure import MAX_TARGET_MINUTES
from .models import SOURCE_KINDS, RecordMeasure, RecordSource

MEASURE_FIELDS = (
    "source",
    "calendar",
    "event",
    "target",
    "share",
    "segment_goals",
    "partial_weight",
    "exclude_maintenance",
    "component",
)
_RELATED: dict[str, Any] = {"source": RecordSource, "calendar": WorkingCalendar}


def _related(field: str, value: Any) -> Any:
    model: Any = _RELATED[field]
    if value in (None, "") or isinstance(value, model):
        return value or None
    try:
        return model.objects.get(pk=int(value))
    except (TypeError, ValueError, model.DoesNotExist):
        raise ValidationError(
            {field: f"There is no {model._meta.verbose_name} {value}."}
        ) from None


def _duration(value: Any) -> timedelta | None:
    """A duration, or a number of minutes."""
    if value in (None, "") or isinstance(value, timedelta):
        return value or None
    try:
        minutes = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(
            {"target": f"“{value}” is not a number of minutes."}
        ) from None
    if not minutes.is_finite() or minutes <= 0:
        raise ValidationError({"target": "The target must be above zero."})
    if minutes > MAX_TARGET_MINUTES:
        raise ValidationError(
            {"target": f"The target is at most {MAX_TARGET_MINUTES:,} minutes."}
        )
    return timedelta(minutes=float(minutes))


def measure_build(
    objective: Objective, data: Any, current: RecordMeasure | None
) -> RecordMeasure:
    """The objective's measure from a row's ``measure`` mapping, validated
    and unsaved (``current`` updated in place when the objective has one).
    ValidationError with field messages otherwise."""
    if not isinstance(data, Mapping):
        raise ValidationError("Say how it is measured: a source and a calendar.")
    unknown = sorted(set(data) - set(MEASURE_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown measure fields: {', '.join(unknown)}.")
    measure = current or RecordMeasure()
    measure.objective = objective
    for field in MEASURE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in _RELATED:
            value = _related(field, value)
        elif field == "target":
            value = _duration(value)
        elif field == "segment_goals" and value in (None, ""):
            value = []
        elif field in ("event", "component") and value is None:
            value = ""
        setattr(measure, field, value)
    # The share that must meet the target is the objective's own target.
    requests = objective.metric_source == Objective.Source.REQUEST_TIMES
    if requests and measure.share is None and objective.target is not None:
        measure.share = Decimal(str(objective.target))
    measure.full_clean(exclude=["objective"], validate_constraints=False)
    if (
        requests
        and objective.target is not None
        and measure.share is not None
        and Decimal(measure.share) != Decimal(str(objective.target))
    ):
        raise ValidationError(
            {
                "share": f"The share of requests that must meet the time is the "
                f"objective's target ({objective.target} %)."
            }
        )
    return measure


def record_objective_errors(objective: Objective) -> list[str]:
    """What an objective measured from records must be besides its measure
    and its unit (a percentage, which the model's clean asks): at least to
    reach."""
    if objective.metric_source not in SOURCE_KINDS:
        return []
    if objective.comparator != Objective.Comparator.AT_LEAST:
        return ["comparator: a share of requests or of time is judged “at least”."]
    return []


def measure_terms(measure: RecordMeasure | None) -> tuple:
    """The measure's terms, for an edit's diff."""
    if measure is None:
        return ()
    return (
        measure.source_id,
        measure.calendar_id,
        measure.event,
        measure.target,
        None if measure.share is None else Decimal(measure.share),
        tuple((goal.pattern, goal.target) for goal in measure.goals),
        Decimal(measure.partial_weight),
        measure.exclude_maintenance,
        measure.component,
    )


def current_measure(objective: Objective) -> RecordMeasure | None:
    if objective.pk is None:
        return None
    try:
        return objective.record_measure
    except RecordMeasure.DoesNotExist:
        return None


def measure_write(objective: Objective, measure: RecordMeasure | None, *, user) -> None:
    """Save the objective's measure (after the objective), or drop the one it
    had when it is no longer measured from records."""
    if measure is not None:
        measure.objective = objective
        save_with_history(measure, user=user, reason="edited with the agreement")
        return
    if objective.metric_source not in SOURCE_KINDS:
        old = current_measure(objective)
        if old is not None:
            delete_with_history(old, user=user, reason="no longer from records")


def measure_copy(source: Objective, copy: Objective, *, user, reason: str) -> None:
    """Copy an objective's measure onto its copy in a revision."""
    measure = current_measure(source)
    if measure is None:
        return
    measure.pk = None
    measure.objective = copy
    save_with_history(measure, user=user, reason=reason)
