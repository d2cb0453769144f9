"""What a new row will do to the month: the log form shows, for each
objective the kind feeds, its target, the month so far and the figure with
the entry. "So far" is the scorecard engine's own line (``standing``); the
entry adds what the registry says the kind's rows add up to (a field's sum,
or one row counted), so nothing here judges a month a second way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import Aggregate, F

from .. import periods, standing
from ..models import Lead, Team
from .kinds import FigureKind


@dataclass(frozen=True)
class Preview:
    name: str
    comparator: str
    target: Decimal
    unit: str
    so_far: Decimal
    # The form field whose value the entry adds, or None: the row counts one.
    adds_field: str | None
    after: Decimal | None  # with this entry, when its value is known


def _adds(aggregate: Aggregate) -> str | None:
    """The field a Sum adds up; None for a Count (each row counts one)."""
    expression = aggregate.get_source_expressions()[0]
    if aggregate.name == "Sum" and isinstance(expression, F):
        return expression.name
    return None


def _month(kind: FigureKind, form: Any) -> dt.date:
    raw = form[kind.date_field].value()
    try:
        day = forms.DateField().clean(raw) if raw else None
    except forms.ValidationError:
        day = None
    return periods.month_of(day or periods.today())


def month_preview(kind: FigureKind, team: Team, form: Any) -> dict[str, Any]:
    month = _month(kind, form)
    # In a month the team's CRM sent leads, the scorecards count those, not
    # the log: an entry then changes nothing there.
    by_crm = (
        kind.counts_leads
        and Lead.objects.counted().filter(team=team, month=month).exists()
    )
    items = []
    lines = standing.team_lines(team, [month])
    for (_objective_id, _month_key), line in sorted(
        lines.items(), key=lambda item: item[1].objective.position
    ):
        objective = line.objective
        source = objective.metric_source
        if source not in kind.metrics:
            continue
        so_far = Decimal(line.actual or 0)
        adds_field = _adds(kind.metrics[source])
        after: Decimal | None
        if by_crm:
            after = None
        elif adds_field is None:
            after = so_far + 1
        else:
            try:
                after = so_far + Decimal(str(form[adds_field].value()))
            except (InvalidOperation, KeyError, TypeError, ValueError):
                after = None
        items.append(
            Preview(
                name=objective.name,
                comparator=objective.get_comparator_display(),
                target=line.target,
                unit=objective.get_unit_display(),
                so_far=so_far,
                adds_field=adds_field,
                after=after,
            )
        )
    return {"month": month, "items": items, "by_crm": by_crm}
