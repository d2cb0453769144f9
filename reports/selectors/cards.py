"""Scorecards as the pages show them: the stored snapshot for a finalised
month, the engine's computed result for every other month.

A page asks for a set of months and a set of agreements and gets one
``CardView`` per (lineage, month) in a fixed number of queries: the engine's
six, one for the stored scorecards, and one for their lines when a page needs
them. Versions of one agreement share a lineage, so a page about an agreement
follows it across revisions.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Objective, WorkingCalendar
from agreements.models.agreements import AgreementQuerySet
from agreements.records import measure

from ..bulk import instances
from ..models import Breach, Scorecard, ScorecardLine
from ..scoring import Status, expected_text, quantize
from .engine import ScorecardResult, score_versions, versions_in_force
from .records import RecordResult, record_results, records_summary

MonthState = periods.MonthState


class State:
    """Where a scorecard's month stands: the calendar's word for a month not
    finalised (``periods.MonthState``), or finalised once its stored
    scorecard exists."""

    RUNNING = MonthState.RUNNING  # judged on pace
    CLOSING = MonthState.CLOSING  # over; figures due by the deadline
    LOCKED = MonthState.LOCKED  # locked, not finalised yet: computed
    FINALISED = "finalised"  # locked and stored

    LABELS = {
        RUNNING: "Running",
        CLOSING: "Closing",
        LOCKED: "Locked, not finalised yet",
        FINALISED: "Finalised",
    }
    CHOICES = list(LABELS)


@dataclass(frozen=True)
class LineView:
    objective: Objective
    target: Decimal
    actual: Decimal | None
    attainment: Decimal | None
    status: str
    reported_on_time: bool
    expected_so_far: Decimal | None = None  # running or closing month only
    projected: Decimal | None = None  # running or closing month only
    breach: Breach | None = None  # finalised months only
    entries: int | None = None  # computed months only: rows behind the figure
    records: RecordResult | None = None  # computed months only: from records

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

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.status]

    @property
    def shows_pace(self) -> bool:
        """A pace is worth showing once it decides the status: not while it
        is too early to tell, nor for a count already met."""
        return self.expected_so_far is not None and self.status in (
            Status.ON_TRACK,
            Status.AT_RISK,
            Status.OFF_TRACK,
        )

    @property
    def expected_text(self) -> str:
        """“38” in “38 of 50 expected by now”, as precise as the status needs."""
        return expected_text(self.actual, self.expected_so_far)

    @property
    def projected_text(self) -> str:
        return "" if self.projected is None else f"{self.projected:,.0f}"

    @property
    def missing(self) -> bool:
        """Nothing reported: no value measured, or not one row logged. A
        figure from records is missing only when there is nothing to count."""
        if self.from_records:
            return self.actual is None
        return self.actual is None or self.entries == 0

    @property
    def from_records(self) -> bool:
        return self.objective.metric_source in Objective.RECORD_SOURCES

    @property
    def breached_requests(self) -> int | None:
        """How many requests breached, when the figure is computed from
        requests (a finalised month's snapshot does not keep it)."""
        figures = self.records.figures if self.records else None
        return getattr(figures, "breached", None)

    @property
    def evidence_outcome(self) -> str:
        """Which requests the evidence link opens on: the breached ones,
        when there are any (or the month was missed)."""
        if self.objective.metric_source != Objective.Source.REQUEST_TIMES:
            return ""
        if self.breached_requests or (
            self.breached_requests is None and self.status == Status.MISSED
        ):
            return "breached"
        return ""

    @property
    def evidence_label(self) -> str:
        if self.breached_requests:
            return f"{self.breached_requests} breached: see which"
        if self.evidence_outcome:
            return "See the breached requests"
        return "See the records"

    @property
    def printed_evidence(self) -> PrintedEvidence | None:
        """The records a printed scorecard lists under the line: the
        requests that breached, or the incidents and maintenance windows
        with their minutes (the first ``PRINTED_EVIDENCE``)."""
        figures = self.records.figures if self.records else None
        if isinstance(figures, measure.RequestFigures):
            rows: list = sorted(
                (r for r in figures.evidence if r.outcome == measure.Outcome.BREACHED),
                key=lambda r: r.started_at,
            )
        elif isinstance(figures, measure.AvailabilityFigures):
            rows = sorted(
                [*figures.incidents, *figures.maintenance], key=lambda r: r.started_at
            )
        else:
            return None
        assert self.records is not None
        return PrintedEvidence(
            requests=isinstance(figures, measure.RequestFigures),
            rows=rows[:PRINTED_EVIDENCE],
            more=max(len(rows) - PRINTED_EVIDENCE, 0),
            calendar=self.records.measure.calendar,
        )

    @property
    def records_text(self) -> str:
        """What the figure from records rests on, in a line."""
        if self.records is None:
            return ""
        text = records_summary(self.records.figures)
        now = self.records.value
        if (
            self.actual is not None
            and now is not None
            and now.quantize(Decimal("0.01")) != self.actual.quantize(Decimal("0.01"))
        ):
            # A finalised snapshot, and records that changed since.
            text = f"the records now give {quantize(now)} % · " + text
        return text


# The most records a printed scorecard lists under one line; the evidence
# page and its CSV have them all.
PRINTED_EVIDENCE = 25


@dataclass(frozen=True)
class PrintedEvidence:
    requests: bool  # breached requests; otherwise incidents and maintenance
    rows: list
    more: int
    calendar: WorkingCalendar


@dataclass
class CardView:
    agreement: Agreement  # the version in force that month
    month: datetime.date
    state: str
    status: str
    score: Decimal | None  # weighted attainment, finished months only
    reported_on_time: bool
    met_count: int
    objective_count: int
    lines: list[LineView] = field(default_factory=list)
    finalised_at: datetime.datetime | None = None
    recomputed_at: datetime.datetime | None = None

    @property
    def lineage(self) -> uuid.UUID:
        return self.agreement.lineage

    @property
    def live(self) -> bool:
        """Running or closing: judged on pace, figures still open."""
        return self.state in (State.RUNNING, State.CLOSING)

    @property
    def running(self) -> bool:
        return self.state == State.RUNNING

    @property
    def closing(self) -> bool:
        return self.state == State.CLOSING

    @property
    def final(self) -> bool:
        return not self.live

    @property
    def finalised(self) -> bool:
        return self.state == State.FINALISED

    @property
    def state_label(self) -> str:
        return State.LABELS[self.state]

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.status]

    @property
    def headline(self) -> str:
        """“Missed · 2 of 3 objectives met”."""
        n = self.objective_count
        noun = "objective" if n == 1 else "objectives"
        done = "met" if self.final else "on track or met"
        return f"{self.met_count} of {n} {noun} {done}"

    @property
    def due_text(self) -> str:
        return periods.due_text(self.month)

    def line(self, key: str) -> LineView | None:
        for line in self.lines:
            if line.key == key:
                return line
        return None


Cards = dict[tuple[uuid.UUID, datetime.date], CardView]


def _computed(card: ScorecardResult) -> CardView:
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
            entries=line.entries,
            records=line.records,
        )
        for line in card.lines
    ]
    return CardView(
        agreement=card.agreement,
        month=card.month,
        state=card.state,
        status=card.status,
        score=quantize(card.score),
        reported_on_time=card.reported_on_time,
        met_count=card.met_count,
        objective_count=len(card.lines),
        lines=lines,
    )


def _breach_of(line: ScorecardLine, scorecard: Scorecard) -> Breach | None:
    # select_related on the reverse one-to-one caches a missing breach as
    # None, so this reads no row.
    breach = getattr(line, "breach", None)
    if breach is not None and breach.agreement_id == scorecard.agreement_id:
        breach.agreement = scorecard.agreement  # in memory already: no query
    return breach


def _stored(scorecard: Scorecard, stored_lines: list[ScorecardLine] | None) -> CardView:
    """The card of a stored ``scorecard``; with its ``stored_lines`` where
    the page shows them (``None``: it does not)."""
    lines = []
    if stored_lines is not None:
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
            for line in stored_lines
        ]
    return CardView(
        agreement=scorecard.agreement,
        month=scorecard.month,
        state=State.FINALISED,
        status=scorecard.status,
        score=scorecard.score,
        reported_on_time=scorecard.reported_on_time,
        met_count=scorecard.met_count,
        objective_count=scorecard.objective_count,
        lines=lines,
        finalised_at=scorecard.finalised_at,
        recomputed_at=scorecard.recomputed_at,
    )


def finalised_months(
    months: Iterable[datetime.date], *, now: datetime.datetime
) -> set[datetime.date]:
    """The locked months among ``months`` whose scorecards have been stored.

    Finalising stores a scorecard for every agreement in force, so a page
    reads those months from the store alone and computes only the rest.
    One query, none when no month is locked."""
    locked = sorted({m for m in months if periods.is_locked(m, now=now)})
    if not locked:
        return set()
    # One index probe per month (the first month stored from it on, in the
    # index's order), not every scorecard of the months read for their
    # distinct months, which grows with the organisation. (An EXISTS on the
    # month lets the planner scan the table until the month's first row.)
    ops = connection.ops
    table = ops.quote_name(Scorecard._meta.db_table)
    column = ops.quote_name(Scorecard._meta.get_field("month").column)
    probe = (
        f"(SELECT {column} FROM {table} WHERE {column} >= %s "  # noqa: S608
        f"ORDER BY {column} LIMIT 1) = %s"
    )
    params = []
    for month in locked:
        params += [ops.adapt_datefield_value(month)] * 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join([probe] * len(locked)), params)
        found = cursor.fetchone()
    return {month for month, stored in zip(locked, found, strict=True) if stored}


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
    agreements: AgreementQuerySet,
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
        instances(
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
        for result in results:
            cards[(result.agreement.lineage, month)] = _computed(result)

    if not stored:
        return cards
    wanted = set(finalised if lines_for is None else lines_for)
    lines = _stored_lines([sc for sc in stored if sc.month in wanted])
    # Ordered by month and version: of two stored versions of one lineage,
    # the later one counts.
    for scorecard in stored:
        key = (scorecard.agreement.lineage, scorecard.month)
        shown = lines.get(scorecard.pk, []) if scorecard.month in wanted else None
        cards[key] = _stored(scorecard, shown)
    return cards


line_of_breach = Breach._meta.get_field("line")
breach_of_line: Any = ScorecardLine._meta.get_field("breach")  # the relation


def _stored_lines(scorecards: list[Scorecard]) -> dict[int, list[ScorecardLine]]:
    """The stored lines of ``scorecards``, by scorecard id, in the order of
    their objectives, each with its objective and its breach (or none) in
    place: one query, as ``select_related`` gives them, but each instance
    built from its row's values (``bulk.instances``). A batch of month-end
    emails reads the lines of hundreds of cards."""
    if not scorecards:
        return {}
    found: dict[int, list[ScorecardLine]] = {sc.pk: [] for sc in scorecards}
    for line in instances(
        ScorecardLine.objects.filter(scorecard_id__among=list(found)).order_by(
            "scorecard_id", "objective__position", "objective_id"
        ),
        "objective",
        "breach",
    ):
        breach = breach_of_line.get_cached_value(line)
        if breach is not None:
            line_of_breach.set_cached_value(breach, line)  # as select_related
        found[line.scorecard_id].append(line)
    return found


def team_lines(team, months: Iterable[datetime.date]) -> dict:
    """The lines of every objective ``team`` provides in ``months``, keyed by
    (objective id, month): what the figures pages show (``agreements.standing``)."""
    cards = cards_for(months, agreements=Agreement.objects.filter(provider=team))
    return {
        (line.objective.pk, month): line
        for (_lineage, month), card in cards.items()
        for line in card.lines
    }


def with_records(card: CardView, *, now: datetime.datetime) -> CardView:
    """A finalised card whose lines measured from records say again what
    they rest on (the stored snapshot keeps the figure, not the records):
    computed from the records as they are now, which the evidence page
    compares with the snapshot."""
    pairs = [
        (card.agreement, line.objective) for line in card.lines if line.from_records
    ]
    if not pairs:
        return card
    found = record_results({card.month: pairs}, now=now)
    card.lines = [
        dataclasses.replace(line, records=found.get((card.month, line.objective.pk)))
        if line.from_records
        else line
        for line in card.lines
    ]
    return card
