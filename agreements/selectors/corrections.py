"""Corrections to locked months, read from the history tables: a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from .. import periods
from ..figures.kinds import KINDS
from ..models import (
    Agreement,
    FrictionReport,
    Measurement,
    Objective,
)
from ..models.common import CORRECTION_PREFIX
from ..records.models import (
    Incident,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    ServiceRequest,
)

# --- Corrections ----------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Correction:
    """One correction to a locked month, read from the history tables."""

    kind: str  # "lead log entry", "closed customer", ...
    object_id: int
    month: dt.date
    when: dt.datetime
    user: Any
    reason: str
    action: str  # "added", "changed" or "deleted"
    changes: list[FieldChange] = field(default_factory=list)


# Columns that are bookkeeping, not figures.
_NOT_FIGURES = {
    "id",
    "created_at",
    "created_by",
    "client_token",
    "acknowledged_by",
    "acknowledged_at",
    "received_at",
}
_ACTIONS = {"+": "added", "~": "changed", "-": "deleted"}


def _corrections(model, rows: QuerySet) -> list[Correction]:
    """Two queries: the correction rows, then every history row of the same
    objects to find what each correction changed."""
    corrected = list(
        rows.filter(history_change_reason__startswith=CORRECTION_PREFIX)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    if not corrected:
        return []
    timeline: dict[int, list] = defaultdict(list)
    for record in model.history.filter(id__in={r.id for r in corrected}).order_by(
        "history_date", "history_id"
    ):
        timeline[record.id].append(record)
    tracked = sorted(_figure_fields(model))
    kind = str(model._meta.verbose_name)
    result = []
    for record in corrected:
        versions = timeline[record.id]
        index = next(
            i for i, v in enumerate(versions) if v.history_id == record.history_id
        )
        previous = versions[index - 1] if index else None
        changes = []
        if previous is not None and record.history_type == "~":
            # Compared by hand: simple-history's diff_against skips fields
            # that are not editable, and ``month`` is one of them.
            for name in tracked:
                attname = model._meta.get_field(name).attname
                old, new = getattr(previous, attname), getattr(record, attname)
                if old != new:
                    label = str(model._meta.get_field(name).verbose_name)
                    changes.append(FieldChange(name, label, old, new))
        result.append(
            Correction(
                kind=kind,
                object_id=record.id,
                month=_month(record),
                when=record.history_date,
                user=record.history_user,
                reason=record.history_change_reason or "",
                action=_ACTIONS.get(record.history_type, record.history_type),
                changes=changes,
            )
        )
    return result


def _month(record) -> dt.date:
    """A figure's month; a record's, the month it started in."""
    month = getattr(record, "month", None)
    return month if month is not None else periods.month_of(record.started_at)


def _record_corrections(agreement: Agreement) -> list[Correction]:
    """Records of locked months sent late to the sources the agreement's
    objectives are measured from: the requests of its consumer (or of no
    team), every incident and maintenance window."""
    measured = set(
        RecordMeasure.objects.filter(objective__agreement=agreement).values_list(
            "source_id", "source__kind"
        )
    )
    found: list[Correction] = []
    requests = {pk for pk, kind in measured if kind == RecordSource.Kind.REQUESTS}
    if requests:
        found += _corrections(
            ServiceRequest,
            ServiceRequest.history.filter(source_id__in=requests).filter(
                Q(consumer_id=None) | Q(consumer_id=agreement.consumer_id)
            ),
        )
    incidents = {pk for pk, kind in measured if kind == RecordSource.Kind.INCIDENTS}
    if incidents:
        for model in (Incident, MaintenanceWindow):
            found += _corrections(model, model.history.filter(source_id__in=incidents))
    return found


def _figure_fields(model) -> set[str]:
    return {
        f.name
        for f in model._meta.fields
        if f.name not in _NOT_FIGURES and not f.name.endswith("updated_at")
    }


def corrections_for_agreement(agreement: Agreement) -> list[Correction]:
    """Corrections to locked months of the submissions that feed the
    agreement's objectives, newest first, each with who, when, why and what
    changed (old → new)."""
    objectives = list(agreement.objectives.values_list("pk", "metric_source"))
    sources = {source for _, source in objectives}
    S = Objective.Source
    found: list[Correction] = []
    for kind in KINDS.values():
        if sources & kind.sources:
            model: Any = kind.model  # its history is set up by the model
            found += _corrections(
                model, model.history.filter(team_id=agreement.provider_id)
            )
    if S.FRICTION_REPORTS in sources:
        found += _corrections(
            FrictionReport,
            FrictionReport.history.filter(
                reporting_team_id=agreement.provider_id,
                addressed_team_id=agreement.consumer_id,
            ),
        )
    if sources & set(Objective.RECORD_SOURCES):
        found += _record_corrections(agreement)
    manual = [pk for pk, source in objectives if source == S.MANUAL]
    if manual:
        found += _corrections(
            Measurement, Measurement.history.filter(objective_id__in=manual)
        )
    return sorted(found, key=lambda c: c.when, reverse=True)
