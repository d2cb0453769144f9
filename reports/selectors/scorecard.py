"""The scorecard page of one agreement: a month's card and a 12-month trend
per objective, across the agreement's versions. A fixed number of queries:
the versions, then ``cards_for``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Min
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Objective
from agreements.models.agreements import AgreementQuerySet

from ..charts import TrendPoint
from .cards import CardView, cards_for, with_records

TREND_MONTHS = 12
# How far back the month picker offers months; older ones stay reachable by
# the previous-month link and the URL.
PICKER_MONTHS = 36


@dataclass(frozen=True)
class Trend:
    objective: Objective  # as in the latest version that has it
    points: list[TrendPoint]

    @property
    def name(self) -> str:
        return self.objective.name


@dataclass
class AgreementScorecard:
    agreement: Agreement  # the version in force in ``month``, else the one asked
    month: datetime.date
    card: CardView | None  # None: no version in force, or the month not begun
    not_begun: bool
    window: list[datetime.date]  # the trend's months, oldest first
    trends: list[Trend]
    first_month: datetime.date  # when the agreement's first version starts
    picker: list[datetime.date]  # months to choose from, newest first
    previous: datetime.date | None
    next: datetime.date | None

    @property
    def window_live(self) -> bool:
        """The trend ends with the running month (drawn hollow)."""
        return any(p.live for trend in self.trends for p in trend.points)


def agreement_scorecard(
    agreement: Agreement,
    *,
    month: datetime.date,
    versions: AgreementQuerySet,
    now: datetime.datetime | None = None,
) -> AgreementScorecard:
    """``versions``: the agreements the reader may see; only the ones sharing
    ``agreement``'s lineage count."""
    now = now or timezone.now()
    current = periods.current_month(now)
    lineage = versions.filter(lineage=agreement.lineage)
    started = lineage.aggregate(first=Min("effective_from"))["first"]
    first_month = periods.month_of(started or agreement.effective_from)
    not_begun = month > current
    end = min(month, current)
    window = periods.months_between(periods.add_months(end, 1 - TREND_MONTHS), end)
    cards = cards_for(window, agreements=lineage, now=now)
    by_month = {m: cards.get((agreement.lineage, m)) for m in window}
    card = None if not_begun else by_month.get(month)
    if card is not None and card.finalised:
        card = with_records(card, now=now)

    picker = periods.months_between(
        max(first_month, periods.add_months(current, 1 - PICKER_MONTHS)), current
    )
    if month not in picker:
        picker.append(month)
    picker.sort(reverse=True)

    return AgreementScorecard(
        agreement=card.agreement if card else agreement,
        month=month,
        card=card,
        not_begun=not_begun,
        window=window,
        trends=_trends(window, by_month, card),
        first_month=first_month,
        picker=picker,
        previous=periods.previous_month(month) if month > first_month else None,
        next=periods.next_month(month) if month < current else None,
    )


def _trends(
    window: list[datetime.date],
    by_month: dict[datetime.date, CardView | None],
    card: CardView | None,
) -> list[Trend]:
    """One trend per objective of the month shown (or, before the agreement
    began, of the latest month with a card), followed by name across
    versions."""
    basis = card
    if basis is None:
        basis = next((c for m in reversed(window) if (c := by_month[m])), None)
    if basis is None:
        return []
    trends = []
    for objective_line in basis.lines:
        points = []
        for m in window:
            month_card = by_month[m]
            line = month_card.line(objective_line.key) if month_card else None
            if month_card is None or line is None:
                points.append(TrendPoint(month=m))
                continue
            points.append(
                TrendPoint(
                    month=m,
                    target=line.target,
                    actual=line.actual,
                    status=line.status,
                    live=month_card.live,
                    projected=line.projected,
                )
            )
        trends.append(Trend(objective=objective_line.objective, points=points))
    return trends
