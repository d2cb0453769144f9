"""The figures behind reminders and alerts: what is missing, what is at risk.

Both are read twice: when the jobs plan who gets an email, and again when
each email is rendered, so that a lead who logged the figures in between is
not reminded of them. A fixed number of queries per call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from agreements import periods
from agreements.models import Agreement, Objective

from ..scoring import Status
from ..selectors import (
    LineResult,
    collect_actuals,
    objective_of,
    scorecards_for_months,
    versions_in_force,
)


def missing_figures(
    month: date, *, provider_ids: Iterable[int] | None = None
) -> dict[int, list[Objective]]:
    """Objectives nothing has been logged for in ``month``, per provider team
    (the team that owes the figure). Each objective's ``agreement`` is loaded."""
    agreements = None
    if provider_ids is not None:
        agreements = Agreement.objects.filter(provider_id__in=set(provider_ids))
    versions = versions_in_force([month], agreements).get(month, [])
    pairs = [(a, row) for a in versions for row in a.objective_rows]
    figures = collect_actuals({month: pairs})
    missing: dict[int, list[Objective]] = defaultdict(list)
    for agreement, row in pairs:
        if figures[(month, row.id)].first_at is None:
            missing[agreement.provider_id].append(objective_of(row, agreement))
    return dict(missing)


@dataclass(frozen=True)
class AtRisk:
    agreement: Agreement
    line: LineResult

    @property
    def objective(self) -> Objective:
        return self.line.objective


def objectives_at_risk(month: date, *, now: datetime, agreements=None) -> list[AtRisk]:
    """Objectives whose pace so far says they will miss in the running
    ``month``: counted objectives (the pace projection applies to them) now
    at risk or off track (an "at most" ceiling passed is off track too)."""
    cards = scorecards_for_months([month], agreements=agreements, now=now)[month]
    found = []
    for card in cards:
        if card.state != periods.MonthState.RUNNING:
            continue
        for line in card.lines:
            if line.terms.cumulative and _behind(line):
                found.append(AtRisk(card.agreement, line))
    return found


def _behind(line: LineResult) -> bool:
    """At risk by pace, or over a ceiling; not merely inside the warning band
    of a target already reached."""
    if line.status not in (Status.AT_RISK, Status.OFF_TRACK):
        return False
    if line.terms.comparator == Objective.Comparator.AT_MOST:
        return True
    actual = line.outcome.actual
    return actual is not None and actual < line.terms.target
