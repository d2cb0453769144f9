"""Agreements in each state, made through the services so that they carry the
same history rows as the real thing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.utils import timezone

from agreements import periods
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
    earliest_start,
)

# The start the builders give an agreement unless told otherwise.
START = date(2026, 1, 1)


# The session clock runs on from a frozen moment: a start chosen at 23:59 on
# a month's last day must still be proposable a few seconds later.
MARGIN = timedelta(hours=1)


def _earliest_start_for_a_while() -> date:
    """The earliest start a proposal made at any time in the next hour may have."""
    with time_machine.travel(timezone.now() + MARGIN):
        return earliest_start()


def default_start() -> date:
    """``START``, or, on a day when a proposal could no longer reach back to
    it, the earliest month a proposal may start in (for the next hour too)."""
    return max(START, _earliest_start_for_a_while())


@contextmanager
def when_proposable(effective_from: date) -> Iterator[None]:
    """Tests date their agreements from January 2026 on whatever day they run.
    When a proposal made now could no longer start that far back, the
    agreement is drafted, proposed and signed on its first day instead, as it
    would have been then."""
    if periods.month_of(effective_from) >= _earliest_start_for_a_while():
        yield
        return
    with time_machine.travel(datetime.combine(effective_from, time(9), tzinfo=UTC)):
        yield


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
        effective_from=fields.pop("effective_from", None) or default_start(),
        compensation_clause=fields.pop(
            "compensation_clause", "Make up the shortfall the next month."
        ),
        objectives=[objective_row()] if objectives is None else objectives,
        **fields,
    )


def proposed(*, user, **kwargs: Any) -> Agreement:
    with when_proposable(kwargs.get("effective_from") or default_start()):
        return agreement_propose(agreement=draft(user=user, **kwargs), user=user)


def active(*, user, other_signer, **kwargs: Any) -> Agreement:
    """Proposed by ``user`` and signed by both: ``user`` for the team they lead
    and ``other_signer`` for the other party."""
    with when_proposable(kwargs.get("effective_from") or default_start()):
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
