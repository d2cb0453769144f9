"""Scorecards as emails show them: formatted values, attainment bars, the
trend of the last months, breaches and the remedy owed. Read from the stored,
finalised scorecards, the same rows the scorecard pages show for a locked
month."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q

from agreements import periods
from agreements.models import Agreement, Membership

from ..models import Scorecard, ScorecardLine
from ..scoring import Status
from . import links

# The site's status colours (static/css/site.css), written out because mail
# clients ignore CSS variables.
COLOURS = {
    Status.MET: "#2e7d32",
    Status.AT_RISK: "#ed8b00",
    Status.MISSED: "#c62828",
    Status.NO_DATA: "#9e9e9e",
}
EMPTY = "#e3e7ed"
UNITS = {"count": "", "money": "", "percent": " %", "hours": " h"}
TREND_MONTHS = 6
HEAT_MAP_MONTHS = 12


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
    return COLOURS.get(status, EMPTY) if status else EMPTY


def last_entry_day(month: date) -> date:
    """The last day figures can be entered: the day before the deadline."""
    return (periods.deadline(month) - timedelta(days=1)).date()


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
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def text(self) -> str:
        return "—" if self.score is None else f"{self.score:.0f}"


@dataclass
class BreachView:
    agreement: Agreement
    objective: str
    remedy: str
    status: str


@dataclass
class LineView:
    name: str
    promise: str
    actual: str
    attainment: str
    bar: int
    status: str
    reported_on_time: bool
    breach: BreachView | None

    @property
    def colour(self) -> str:
        return colour(self.status)

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class CardView:
    agreement: Agreement
    month: date
    your_side: str
    status: str
    score: Decimal | None
    reported_on_time: bool
    lines: list[LineView] = field(default_factory=list)
    trend: list[TrendCell] = field(default_factory=list)

    @property
    def colour(self) -> str:
        return colour(self.status)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def score_text(self) -> str:
        return "—" if self.score is None else f"{self.score:.1f}"

    @property
    def breaches(self) -> list[BreachView]:
        return [line.breach for line in self.lines if line.breach]

    @property
    def url(self) -> str:
        return links.scorecard(self.agreement.pk, self.month)

    @property
    def agreement_url(self) -> str:
        return links.agreement(self.agreement.pk)


def _line_view(line: ScorecardLine, agreement: Agreement) -> LineView:
    objective = line.objective
    breach = getattr(line, "breach", None)
    attainment = line.attainment
    return LineView(
        name=objective.name,
        promise=objective.describe,
        actual=format_value(line.actual, objective.unit),
        attainment=format_percent(attainment),
        bar=0 if attainment is None else int(min(max(attainment, 0), 100)),
        status=line.status,
        reported_on_time=line.reported_on_time,
        breach=BreachView(
            agreement=agreement,
            objective=objective.name,
            remedy=breach.remedy,
            status=breach.get_status_display(),
        )
        if breach
        else None,
    )


def trends(lineages: set, month: date, count: int) -> dict[Any, list[TrendCell]]:
    """Each lineage's stored status and score over the ``count`` months up to
    ``month``; one query. Months without a finalised scorecard stay blank."""
    window = periods.months_between(periods.add_months(month, 1 - count), month)
    found = {
        (row["agreement__lineage"], row["month"]): row
        for row in Scorecard.objects.filter(
            agreement__lineage__in=lineages, month__in=window
        ).values("agreement__lineage", "month", "status", "score")
    }
    result = {}
    for lineage in lineages:
        cells = []
        for m in window:
            row = found.get((lineage, m))
            cells.append(
                TrendCell(m, row["status"] if row else None, row and row["score"])
            )
        result[lineage] = cells
    return result


def party_cards(user, month: date, *, breached_only: bool = False) -> list[CardView]:
    """The finalised scorecards of ``month`` of every agreement a team the user
    leads, manages or heads is a party to. Four queries."""
    teams = set(
        Membership.objects.leading().filter(user=user).values_list("team_id", flat=True)
    )
    scorecards = (
        Scorecard.objects.filter(month=month)
        .filter(
            Q(agreement__provider_id__in=teams) | Q(agreement__consumer_id__in=teams)
        )
        .select_related("agreement__provider", "agreement__consumer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ScorecardLine.objects.select_related(
                    "objective", "breach"
                ).order_by("objective__position", "objective_id"),
            )
        )
        .order_by(
            "agreement__provider__name", "agreement__consumer__name", "agreement__title"
        )
    )
    if breached_only:
        scorecards = scorecards.filter(agreement__breaches__month=month).distinct()
    scorecards = list(scorecards)
    trend = trends({sc.agreement.lineage for sc in scorecards}, month, TREND_MONTHS)
    cards = []
    for sc in scorecards:
        agreement = sc.agreement
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
                status=sc.status,
                score=sc.score,
                reported_on_time=sc.reported_on_time,
                lines=[_line_view(line, agreement) for line in sc.lines.all()],
                trend=trend[agreement.lineage],
            )
        )
    return cards
