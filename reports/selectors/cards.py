"""Scorecards as the pages show them: the stored snapshot for a finalised
month, the engine's computed result for every other month.

A page asks for a set of months and a set of agreements and gets one
``CardView`` per (lineage, month) in a fixed number of queries: the engine's
six, one for the stored scorecards, and one for their lines when a page needs
them. Versions of one agreement share a lineage, so a page about an agreement
follows it across revisions.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Objective

from ..models import Breach, Scorecard, ScorecardLine
from ..scoring import quantize
from .engine import ScorecardResult, score_versions, versions_in_force


class State:
    """Where a month's figures stand, for the words next to them."""

    LIVE = "live"  # the month is running: judged on pace
    GRACE = "grace"  # over, figures still open until the deadline
    COMPUTED = "computed"  # locked, not finalised yet: computed from the figures
    FINALISED = "finalised"  # locked and stored

    LABELS = {
        LIVE: "Live",
        GRACE: "Closing",
        COMPUTED: "Not finalised yet",
        FINALISED: "Finalised",
    }


@dataclass(frozen=True)
class LineView:
    objective: Objective
    target: Decimal
    actual: Decimal | None
    attainment: Decimal | None
    status: str
    reported_on_time: bool
    expected_so_far: Decimal | None = None  # live month only
    projected: Decimal | None = None  # live month only
    breach: Breach | None = None  # finalised months only

    @property
    def name(self) -> str:
        return self.objective.name

    @property
    def source_label(self) -> str:
        """How the figure is measured, when the name does not say it already."""
        label = self.objective.get_metric_source_display()
        return "" if label.casefold() == self.name.casefold() else label

    @property
    def key(self) -> str:
        """Objectives keep their name across versions; the trend follows it."""
        return self.objective.name.casefold()


@dataclass
class CardView:
    agreement: Agreement  # the version in force that month
    month: datetime.date
    state: str
    status: str
    score: Decimal | None
    reported_on_time: bool
    lines: list[LineView] = field(default_factory=list)
    finalised_at: datetime.datetime | None = None
    recomputed_at: datetime.datetime | None = None

    @property
    def lineage(self) -> uuid.UUID:
        return self.agreement.lineage

    @property
    def live(self) -> bool:
        return self.state == State.LIVE

    @property
    def finalised(self) -> bool:
        return self.state == State.FINALISED

    @property
    def state_label(self) -> str:
        return State.LABELS[self.state]

    def line(self, key: str) -> LineView | None:
        for line in self.lines:
            if line.key == key:
                return line
        return None


Cards = dict[tuple[uuid.UUID, datetime.date], CardView]


def _computed(card: ScorecardResult, state: str) -> CardView:
    lines = [
        LineView(
            objective=line.objective,
            target=line.terms.target,
            actual=line.outcome.actual,
            attainment=quantize(line.outcome.attainment),
            status=line.outcome.status,
            reported_on_time=line.reported_on_time,
            expected_so_far=line.outcome.expected_so_far,
            projected=line.outcome.projected,
        )
        for line in card.lines
    ]
    return CardView(
        agreement=card.agreement,
        month=card.month,
        state=state,
        status=card.status,
        score=quantize(card.score),
        reported_on_time=card.reported_on_time,
        lines=lines,
    )


def _breach_of(line: ScorecardLine, scorecard: Scorecard) -> Breach | None:
    # select_related on the reverse one-to-one caches a missing breach as
    # None, so this reads no row.
    breach = getattr(line, "breach", None)
    if breach is not None and breach.agreement_id == scorecard.agreement_id:
        breach.agreement = scorecard.agreement  # in memory already: no query
    return breach


def _stored(scorecard: Scorecard, with_lines: bool) -> CardView:
    lines = []
    if with_lines:
        lines = [
            LineView(
                objective=line.objective,
                target=line.target,
                actual=line.actual,
                attainment=line.attainment,
                status=line.status,
                reported_on_time=line.reported_on_time,
                breach=_breach_of(line, scorecard),
            )
            for line in scorecard.lines.all()
        ]
    return CardView(
        agreement=scorecard.agreement,
        month=scorecard.month,
        state=State.FINALISED,
        status=scorecard.status,
        score=scorecard.score,
        reported_on_time=scorecard.reported_on_time,
        lines=lines,
        finalised_at=scorecard.finalised_at,
        recomputed_at=scorecard.recomputed_at,
    )


def state_of(month: datetime.date, now: datetime.datetime) -> str:
    """The state of a month with no stored scorecard."""
    if not periods.has_ended(month, now=now):
        return State.LIVE
    if not periods.is_locked(month, now=now):
        return State.GRACE
    return State.COMPUTED


def finalised_months(
    months: Iterable[datetime.date], *, now: datetime.datetime
) -> set[datetime.date]:
    """The locked months among ``months`` whose scorecards have been stored.

    Finalising stores a scorecard for every agreement in force, so a page
    reads those months from the store alone and computes only the rest.
    One query, none when no month is locked."""
    locked = [m for m in months if periods.is_locked(m, now=now)]
    if not locked:
        return set()
    return set(
        Scorecard.objects.filter(month__in=locked)
        .order_by()
        .values_list("month", flat=True)
        .distinct()
    )


def _attach_agreements(
    stored: list[Scorecard], versions: dict[datetime.date, list[Agreement]]
) -> None:
    """Give each stored scorecard its agreement, from the versions in memory
    already: a card is stored for the version in force, so a query is needed
    only for a version that has since stopped counting (rare)."""
    known = {v.pk: v for in_force in versions.values() for v in in_force}
    missing = {sc.agreement_id for sc in stored} - known.keys()
    if missing:
        known.update(
            Agreement.objects.select_related("provider", "consumer").in_bulk(missing)
        )
    for scorecard in stored:
        scorecard.agreement = known[scorecard.agreement_id]


def cards_for(
    months: Iterable[datetime.date],
    *,
    agreements: QuerySet[Agreement],
    now: datetime.datetime | None = None,
    lines_for: Iterable[datetime.date] | None = None,
    finalised: set[datetime.date] | None = None,
) -> Cards:
    """Every scorecard of ``agreements`` in ``months``, keyed by (lineage, month).

    ``lines_for`` names the finalised months whose stored lines the page shows
    (default: all of them); computed cards always carry their lines, they are
    in memory anyway. A (lineage, month) with no version in force is absent.
    Months that have been finalised are read from the store; only what the
    store lacks is computed.
    ``finalised`` saves the query of ``finalised_months`` when the caller has
    its answer already.
    """
    now = now or timezone.now()
    months = sorted({periods.month_of(m) for m in months})
    if finalised is None:
        finalised = finalised_months(months, now=now)
    else:
        finalised = finalised.intersection(months)
    versions = versions_in_force(months, agreements)
    stored = (
        list(
            Scorecard.objects.filter(
                month__in=finalised, agreement__in=agreements
            ).order_by("month", "agreement__version")
        )
        if finalised
        else []
    )
    _attach_agreements(stored, versions)
    # Computed: every month not finalised, and in a finalised month a version
    # signed (backdated) after the month was finalised, which has no card.
    have = {(sc.agreement.lineage, sc.month) for sc in stored}
    to_score = {
        month: [v for v in in_force if (v.lineage, month) not in have]
        for month, in_force in versions.items()
    }
    cards: Cards = {}
    for month, results in score_versions(to_score, now=now).items():
        state = state_of(month, now)
        for result in results:
            cards[(result.agreement.lineage, month)] = _computed(result, state)

    if not stored:
        return cards
    wanted = set(finalised if lines_for is None else lines_for)
    with_lines = [sc for sc in stored if sc.month in wanted]
    prefetch_related_objects(
        with_lines,
        Prefetch(
            "lines",
            queryset=ScorecardLine.objects.select_related(
                "objective", "breach"
            ).order_by("objective__position", "objective_id"),
        ),
    )
    # Ordered by month and version: of two stored versions of one lineage,
    # the later one counts.
    for scorecard in stored:
        key = (scorecard.agreement.lineage, scorecard.month)
        cards[key] = _stored(scorecard, scorecard.month in wanted)
    return cards
