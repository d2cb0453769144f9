"""Organisations for the scorecard tests: a leads agreement, its figures,
an organisation of any size, and the months they happen in."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import time_machine

from agreements.models import Agreement, Objective, Team
from agreements.tests.factories import (
    AgreementFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
    ObjectiveFactory,
    TeamFactory,
)

UTC = dt.UTC
JANUARY = dt.date(2026, 1, 1)
# 10 February 2026: January is over and locked (grace ended 4 February 00:00).
AFTER_JANUARY_LOCKED = dt.datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
FEBRUARY = dt.date(2026, 2, 1)


def leads_agreement(
    provider: Team, consumer: Team, *, leads=200, qualified=120, **fields
) -> Agreement:
    agreement = AgreementFactory(
        provider=provider,
        consumer=consumer,
        title=fields.pop("title", "Lead delivery"),
        effective_from=fields.pop("effective_from", dt.date(2025, 1, 1)),
        **fields,
    )
    ObjectiveFactory(
        agreement=agreement,
        name="Leads delivered",
        metric_source=Objective.Source.LEADS_DELIVERED,
        target=Decimal(leads),
        weight=Decimal(1),
        position=1,
    )
    ObjectiveFactory(
        agreement=agreement,
        name="Qualified leads",
        metric_source=Objective.Source.QUALIFIED_LEADS,
        target=Decimal(qualified),
        weight=Decimal(2),
        position=2,
    )
    return agreement


def log_leads(team: Team, day: dt.date, delivered: int, qualified: int, at=None):
    """A lead log entry, written at ``at`` (default: the day itself, 17:00)."""
    at = at or dt.datetime.combine(day, dt.time(17, 0), tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        return LeadLogEntryFactory(
            team=team,
            date=day,
            month=day.replace(day=1),
            leads_delivered=delivered,
            qualified_leads=qualified,
        )


def measure(objective: Objective, month: dt.date, value, at=None):
    at = at or dt.datetime.combine(month.replace(day=28), dt.time(17, 0), tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        return MeasurementFactory(
            objective=objective, month=month, value=Decimal(value)
        )


_orgs = itertools.count()


def build_org(size: int, month: dt.date = JANUARY) -> list[Agreement]:
    """``size`` lead agreements between fresh teams, each with a manual
    objective and figures in ``month``."""
    agreements = []
    org = next(_orgs)
    for n in range(size):
        provider = TeamFactory(name=f"Provider {org}-{n}")
        consumer = TeamFactory(name=f"Consumer {org}-{n}")
        agreement = leads_agreement(provider, consumer, title=f"Agreement {n}")
        uptime = ObjectiveFactory(
            agreement=agreement,
            name="Uptime",
            metric_source=Objective.Source.MANUAL,
            unit=Objective.Unit.PERCENT,
            target=Decimal(99),
            position=3,
        )
        log_leads(provider, month.replace(day=5), 100 + n, 50)
        log_leads(provider, month.replace(day=20), 90, 60 + n)
        measure(uptime, month, "99.5" if n % 2 else "98")
        agreements.append(agreement)
    return agreements
