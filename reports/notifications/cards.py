"""Scorecards as emails show them: formatted values, the
trend of the last months, breaches and the remedy owed.

The cards come from the scorecard engine (``reports.selectors.cards_for``),
the same ones the scorecard pages show; this module only formats them, in
the one vocabulary of ``reports.scoring.Status``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.utils import dateformat
from django.utils.translation import get_language

from agreements import periods
from agreements.models import Agreement
from agreements.rules import scorecard_team_ids

from ..scoring import Status
from ..selectors.cards import CardView as EngineCard
from ..selectors.cards import cards_for
from . import links

T = TypeVar("T")
EMPTY = "#e3e7ed"
UNITS = {"count": "", "money": "", "percent": " %", "hours": " h"}
TREND_MONTHS = 6
# Final statuses, the one most in need of attention first.
WORST_FIRST = {
    status: rank
    for rank, status in enumerate(
        (Status.MISSED, Status.NO_DATA, Status.CLOSE_CALL, Status.MET)
    )
}


def format_value(value: Decimal | None, unit: str = "count") -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    if value == value.to_integral_value():
        text = f"{value:,.0f}"
    else:
        text = f"{value.normalize():,f}"
    return text + UNITS.get(unit, "")


def format_percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value):,.1f} %"


def status_label(status: str | None) -> str:
    return Status.LABELS.get(status, "Not scored") if status else "Not scored"


def colour(status: str | None) -> str:
    return Status.COLOURS.get(status, EMPTY) if status else EMPTY


def ink(status: str | None) -> str:
    return Status.INK.get(status, "#6c757d") if status else "#6c757d"


def icon(status: str | None) -> str:
    return Status.ICONS.get(status, "") if status else ""


@cache
def _month_title(month: date, language: str | None) -> str:
    """``month`` as the templates' ``date:"F Y"`` writes it in ``language``
    (the one active), worked out once: a scorecard email has a hundred
    cells, and formatting a date is most of a cell's cost."""
    return dateformat.format(month, "F Y")


@dataclass
class TrendCell:
    month: date
    status: str | None
    score: Decimal | None

    @property
    def label(self) -> str:
        return f"{self.month:%b}"

    @property
    def colour(self) -> str:
        return colour(self.status)

    @property
    def ink(self) -> str:
        return ink(self.status)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def title(self) -> str:
        """What the cell says when pointed at: "June 2026: Missed"."""
        return f"{_month_title(self.month, get_language())}: {self.status_label}"

    @property
    def text(self) -> str:
        """The cell's icon and weighted attainment: never the colour alone."""
        if self.status is None:
            return "—"
        if self.score is None:
            return icon(self.status)
        return f"{icon(self.status)} {self.score:.0f}"


@dataclass
class BreachView:
    agreement: Agreement
    objective: str
    remedy: str
    status: str
    pk: int | None = None


@dataclass
class LineView:
    name: str
    promise: str
    actual: str
    attainment: str
    status: str
    reported_on_time: bool
    breach: BreachView | None

    @property
    def colour(self) -> str:
        return colour(self.status)

    @property
    def ink(self) -> str:
        return ink(self.status)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def icon(self) -> str:
        return icon(self.status)


@dataclass
class CardView:
    agreement: Agreement
    month: date
    your_side: str
    status: str
    score: Decimal | None
    reported_on_time: bool
    headline: str = ""
    lines: list[LineView] = field(default_factory=list)
    trend: list[TrendCell] = field(default_factory=list)

    @property
    def colour(self) -> str:
        return colour(self.status)

    @property
    def ink(self) -> str:
        return ink(self.status)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def icon(self) -> str:
        return icon(self.status)

    @property
    def score_text(self) -> str:
        return "—" if self.score is None else f"{self.score:.1f} %"

    @property
    def breaches(self) -> list[BreachView]:
        return [line.breach for line in self.lines if line.breach]

    @property
    def url(self) -> str:
        return links.scorecard(self.agreement.pk, self.month)

    @property
    def agreement_url(self) -> str:
        return links.agreement(self.agreement.pk)

    @property
    def met(self) -> bool:
        """Every objective met: the email says so in one row."""
        return self.status == Status.MET


def _line_view(line, agreement: Agreement) -> LineView:
    objective = line.objective
    breach = line.breach
    attainment = line.attainment
    return LineView(
        name=objective.name,
        promise=objective.describe,
        actual=format_value(line.actual, objective.unit),
        attainment=format_percent(attainment),
        status=line.status,
        reported_on_time=line.reported_on_time,
        breach=BreachView(
            agreement=agreement,
            objective=objective.name,
            remedy=breach.remedy,
            status=breach.get_status_display(),
            pk=breach.pk,
        )
        if breach
        else None,
    )


def trend_cells(
    cards: dict[tuple[Any, date], EngineCard], lineages, window: list[date]
) -> dict[Any, list[TrendCell]]:
    """Each lineage's status and weighted attainment over ``window``, from
    the engine's cards; months it was not in force stay blank."""
    result = {}
    for lineage in lineages:
        cells = []
        for m in window:
            card = cards.get((lineage, m))
            cells.append(
                TrendCell(m, card.status, card.score)
                if card
                else TrendCell(m, None, None)
            )
        result[lineage] = cells
    return result


class SharedTrend:
    """The trend cards of one month for every agreement of some teams, read
    once for a batch of emails and shared out: a hundred heads' digests and
    scorecards each read a handful of agreements, and the engine's fixed cost
    per read, not its rows, was most of an email's time. Also keeps what is
    the same for every reader of the batch (``batch_once``)."""

    def __init__(self, month: date, teams: set[int]) -> None:
        self.month = month
        self.teams = frozenset(teams)
        self._cards: list[tuple[Any, Any]] | None = None
        # Each team's cards, as their positions in ``_cards``.
        self._by_team: dict[int, list[int]] = defaultdict(list)
        self.kept: dict[Hashable, Any] = {}

    def covers(self, month: date, teams: frozenset[int]) -> bool:
        return month == self.month and teams <= self.teams

    def cards(self, teams: frozenset[int]) -> dict:
        """The engine's cards (as ``cards_for`` gives them, in its order) of
        the agreements a team of ``teams`` is party to."""
        if self._cards is None:
            self._cards = list(
                cards_for(
                    trend_window(self.month),
                    agreements=Agreement.objects.involving_any(self.teams),
                    lines_for=[self.month],
                ).items()
            )
            for position, (_key, card) in enumerate(self._cards):
                self._by_team[card.agreement.provider_id].append(position)
                if card.agreement.consumer_id != card.agreement.provider_id:
                    self._by_team[card.agreement.consumer_id].append(position)
        positions = sorted({p for team in teams for p in self._by_team.get(team, ())})
        return dict(self._cards[p] for p in positions)


_shared: ContextVar[SharedTrend | None] = ContextVar("shared_trend", default=None)


@contextmanager
def trend_shared(month: date, teams: set[int]) -> Iterator[None]:
    """Within the block, trend cards of ``month`` for agreements of
    ``teams`` come from one read (``SharedTrend``)."""
    token = _shared.set(SharedTrend(month, teams) if teams else None)
    try:
        yield
    finally:
        _shared.reset(token)


def batch_once(key: Hashable, build: Callable[[], T]) -> T:
    """``build()``, once per batch of emails for ``key``: what every reader
    of the batch is told alike (the month's top pain points). Outside a
    batch, built every time."""
    shared = _shared.get()
    if shared is None:
        return build()
    if key not in shared.kept:
        shared.kept[key] = build()
    return shared.kept[key]


def batch_teams(month: date, teams: frozenset[int]) -> frozenset[int] | None:
    """The teams whose cards of ``month`` the current batch of emails reads
    once (``trend_shared``), when they take in every team of ``teams``."""
    shared = _shared.get()
    if shared is not None and shared.covers(month, teams):
        return shared.teams
    return None


def trend_window(month: date) -> list[date]:
    return periods.months_between(periods.add_months(month, 1 - TREND_MONTHS), month)


def team_trend(month: date, teams: frozenset[int]) -> dict:
    """``cards_for`` the trend window of ``month`` for the agreements a team
    of ``teams`` is party to, with the month's lines: from the batch's shared
    read when one covers them."""
    shared = _shared.get()
    if shared is not None and shared.covers(month, teams):
        return shared.cards(teams)
    return cards_for(
        trend_window(month),
        agreements=Agreement.objects.involving_any(teams),
        lines_for=[month],
    )


def party_cards(
    user,
    month: date,
    *,
    breached_only: bool = False,
    teams: frozenset[int] | None = None,
) -> list[CardView]:
    """The scorecards of ``month`` of every agreement a team the user leads,
    manages or heads (or of ``teams``) is a party to, with their last months'
    trend: the engine's cards (stored once finalised), formatted for an
    email, worst first."""
    if teams is None:
        teams = scorecard_team_ids(user)
    if not teams:
        return []
    window = trend_window(month)
    engine = team_trend(month, teams)
    chosen = sorted(
        (card for (_lineage, m), card in engine.items() if m == month),
        key=lambda c: (
            WORST_FIRST.get(c.status, len(WORST_FIRST)),
            c.agreement.provider.name,
            c.agreement.consumer.name,
            c.agreement.title,
        ),
    )
    if breached_only:
        chosen = [c for c in chosen if any(line.breach for line in c.lines)]
    trend = trend_cells(engine, {c.lineage for c in chosen}, window)
    cards = []
    for card in chosen:
        agreement = card.agreement
        sides = []
        if agreement.provider_id in teams:
            sides.append(f"{agreement.provider.name} provides")
        if agreement.consumer_id in teams:
            sides.append(f"{agreement.consumer.name} receives")
        cards.append(
            CardView(
                agreement=agreement,
                month=month,
                your_side=" and ".join(sides),
                status=card.status,
                score=card.score,
                reported_on_time=card.reported_on_time,
                headline=card.headline,
                lines=[_line_view(line, agreement) for line in card.lines],
                trend=trend[card.lineage],
            )
        )
    return cards
