"""Agreements in force, month progress and corrections: a fixed number of
queries whatever the number of rows (grouped aggregates, never a query per
row)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from .. import periods
from ..models import (
    Agreement,
    ClosedCustomer,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Objective,
    Team,
)
from ..models.common import CORRECTION_PREFIX

# --- Agreements in force --------------------------------------------------


def in_force_q(month: dt.date, prefix: str = "") -> Q:
    """Agreements signed by both parties and in force during ``month``
    (``prefix="agreement__"`` to filter objectives)."""
    p = prefix
    active = Q(**{f"{p}status": Agreement.Status.ACTIVE})
    # A retired agreement still counts for the months up to its retirement.
    retired_later = Q(
        **{
            f"{p}status": Agreement.Status.RETIRED,
            f"{p}retired_at__gte": periods.month_start(month),
        }
    )
    starts = Q(**{f"{p}effective_from__lt": periods.next_month(month)})
    ends = Q(**{f"{p}effective_to__isnull": True}) | Q(
        **{f"{p}effective_to__gte": month}
    )
    return (active | retired_later) & starts & ends


def agreement_in_force(agreement: Agreement, month: dt.date) -> bool:
    """``in_force_q`` for one agreement already in memory."""
    month = periods.month_of(month)
    if agreement.status == Agreement.Status.ACTIVE:
        signed = True
    elif agreement.status == Agreement.Status.RETIRED:
        signed = (
            agreement.retired_at is not None
            and agreement.retired_at >= periods.month_start(month)
        )
    else:
        signed = False
    return (
        signed
        and agreement.effective_from < periods.next_month(month)
        and (agreement.effective_to is None or agreement.effective_to >= month)
    )


# --- Month progress -------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveProgress:
    """What has been logged for an objective in a month so far.

    ``actual`` is the figure the objective is judged on: a sum or a count for
    counted sources (0 when nothing was logged), the measured value for a
    manual objective, or ``None`` when it has not been measured yet.
    ``entries`` is how many rows it comes from.
    """

    objective: Objective
    month: dt.date
    actual: Decimal | None
    entries: int


def month_progress(
    *,
    month: dt.date,
    team: Team | None = None,
    objective: Objective | None = None,
    teams: Iterable[Team] | None = None,
) -> list[ObjectiveProgress]:
    """Per objective, the figures logged for ``month``: every objective
    ``team`` (or each of ``teams``) owes under agreements in force that
    month, or one ``objective``.

    One query for the objectives and one per metric source among them,
    however many teams and objectives there are.
    """
    if sum(arg is not None for arg in (team, objective, teams)) != 1:
        raise TypeError("month_progress needs a team, some teams or an objective")
    month = periods.month_of(month)
    if objective is not None:
        objectives = [objective]
    else:
        providers = [team] if team is not None else list(teams or [])
        # In the month a revision takes over, the old version is in force
        # too: the later one counts, as on the scorecards.
        newer = Agreement.objects.filter(
            in_force_q(month),
            lineage=OuterRef("agreement__lineage"),
            version__gt=OuterRef("agreement__version"),
        )
        objectives = list(
            Objective.objects.filter(in_force_q(month, "agreement__"))
            .filter(agreement__provider__in=providers)
            .exclude(Exists(newer))
            .select_related("agreement__provider", "agreement__consumer")
            .order_by(
                "agreement__provider__name",
                "agreement__title",
                "agreement_id",
                "position",
                "pk",
            )
        )
    sources = {o.metric_source for o in objectives}
    providers = {o.agreement.provider_id for o in objectives}
    S = Objective.Source

    leads: dict[int, dict[str, Any]] = {}
    if sources & {S.LEADS_DELIVERED, S.QUALIFIED_LEADS}:
        leads = {
            row["team"]: row
            for row in LeadLogEntry.objects.filter(month=month, team__in=providers)
            .values("team")
            .annotate(
                delivered=Sum("leads_delivered"),
                qualified=Sum("qualified_leads"),
                n=Count("pk"),
            )
        }
    customers: dict[int, int] = {}
    if S.CUSTOMERS_CLOSED in sources:
        customers = dict(
            ClosedCustomer.objects.filter(month=month, team__in=providers)
            .values("team")
            .annotate(n=Count("pk"))
            .values_list("team", "n")
        )
    friction: dict[tuple[int, int], int] = {}
    if S.FRICTION_REPORTS in sources:
        friction = {
            (row["reporting_team"], row["addressed_team"]): row["n"]
            for row in FrictionReport.objects.filter(
                month=month, reporting_team__in=providers
            )
            .values("reporting_team", "addressed_team")
            .annotate(n=Count("pk"))
        }
    measured: dict[int, Decimal] = {}
    if S.MANUAL in sources:
        measured = dict(
            Measurement.objects.filter(
                month=month,
                objective__in=[o.pk for o in objectives if o.metric_source == S.MANUAL],
            ).values_list("objective", "value")
        )

    progress = []
    for o in objectives:
        provider = o.agreement.provider_id
        if o.metric_source in (S.LEADS_DELIVERED, S.QUALIFIED_LEADS):
            row = leads.get(provider, {})
            key = "delivered" if o.metric_source == S.LEADS_DELIVERED else "qualified"
            actual, entries = Decimal(row.get(key) or 0), row.get("n", 0)
        elif o.metric_source == S.CUSTOMERS_CLOSED:
            entries = customers.get(provider, 0)
            actual = Decimal(entries)
        elif o.metric_source == S.FRICTION_REPORTS:
            # Reports count for the agreement whose consumer receives them.
            entries = friction.get((provider, o.agreement.consumer_id), 0)
            actual = Decimal(entries)
        else:
            actual = measured.get(o.pk)
            entries = 0 if actual is None else 1
        progress.append(ObjectiveProgress(o, month, actual, entries))
    return progress


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
                month=record.month,
                when=record.history_date,
                user=record.history_user,
                reason=record.history_change_reason or "",
                action=_ACTIONS.get(record.history_type, record.history_type),
                changes=changes,
            )
        )
    return result


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
    if sources & {S.LEADS_DELIVERED, S.QUALIFIED_LEADS}:
        found += _corrections(
            LeadLogEntry,
            LeadLogEntry.history.filter(team_id=agreement.provider_id),
        )
    if S.CUSTOMERS_CLOSED in sources:
        found += _corrections(
            ClosedCustomer,
            ClosedCustomer.history.filter(team_id=agreement.provider_id),
        )
    if S.FRICTION_REPORTS in sources:
        found += _corrections(
            FrictionReport,
            FrictionReport.history.filter(
                reporting_team_id=agreement.provider_id,
                addressed_team_id=agreement.consumer_id,
            ),
        )
    manual = [pk for pk, source in objectives if source == S.MANUAL]
    if manual:
        found += _corrections(
            Measurement, Measurement.history.filter(objective_id__in=manual)
        )
    return sorted(found, key=lambda c: c.when, reverse=True)
