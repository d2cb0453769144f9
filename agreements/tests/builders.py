"""Agreements in each state, made through the services so that they carry the
same history rows as the real thing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from agreements.models import (
    Agreement,
    FrictionComment,
    FrictionReport,
    PainPoint,
    Team,
)
from agreements.rules import leads_team
from agreements.services.agreements import (
    agreement_create,
    agreement_propose,
    agreement_sign,
)


def objective_row(name: str = "Qualified leads", **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "metric_source": "qualified_leads",
        "comparator": "at_least",
        "target": Decimal("200"),
        "unit": "count",
        "weight": Decimal("1"),
        "warning_threshold": None,
        **overrides,
    }


def draft(
    *,
    user,
    provider: Team,
    consumer: Team,
    title: str = "Leads for sales",
    objectives: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Agreement:
    return agreement_create(
        user=user,
        provider=provider,
        consumer=consumer,
        title=title,
        effective_from=fields.pop("effective_from", date(2026, 1, 1)),
        compensation_clause=fields.pop(
            "compensation_clause", "Make up the shortfall the next month."
        ),
        objectives=[objective_row()] if objectives is None else objectives,
        **fields,
    )


def proposed(*, user, **kwargs: Any) -> Agreement:
    return agreement_propose(agreement=draft(user=user, **kwargs), user=user)


def active(*, user, other_signer, **kwargs: Any) -> Agreement:
    """Proposed by ``user`` and signed by both: ``user`` for the team they lead
    and ``other_signer`` for the other party."""
    agreement = proposed(user=user, **kwargs)
    for signer in (user, other_signer):
        team = (
            agreement.provider
            if leads_team(signer, agreement.provider)
            else agreement.consumer
        )
        agreement = agreement_sign(agreement=agreement, user=signer, team=team)
    assert agreement.status == Agreement.Status.ACTIVE
    return agreement


def friction_counts() -> tuple[int, ...]:
    """Rows and history rows of friction reports, their comments and pain
    points: what any write to them changes."""
    return tuple(
        manager.count()
        for model in (FrictionReport, FrictionComment, PainPoint)
        for manager in (model.objects, model.history)
    )
