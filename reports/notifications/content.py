"""What each email says: the template context for one delivery.

Read at send time, so an email reports the state of things when it goes out:
a reminder whose figures have since been logged says nothing and is skipped.
Month-end emails read the stored, finalised scorecards, the same rows the
scorecard pages show for a locked month.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from agreements import periods
from agreements.friction.selectors import pain_point_summaries
from agreements.models import Agreement, Membership, Objective
from agreements.rules import can

from ..models import Breach, Delivery
from ..scoring import Status, expected_text
from ..selectors.cards import cards_for
from . import links
from .cards import (
    HEAT_MAP_MONTHS,
    UNITS,
    BreachView,
    TrendCell,
    colour,
    format_value,
    ink,
    party_cards,
    status_label,
    trend_cells,
)
from .figures import missing_figures, objectives_at_risk
from .recipients import PREFERENCE_OF
from .visibility import Shown, check_visible

Kind = Delivery.Kind
TOP_PAIN_POINTS = 5


def _scorecard(delivery: Delivery) -> dict | None:
    breached_only = delivery.kind == Kind.BREACH
    cards = party_cards(delivery.recipient, delivery.month, breached_only=breached_only)
    if not cards:
        return None
    label = periods.month_label(delivery.month)
    breaches = [b for card in cards for b in card.breaches]
    if breached_only:
        subject = (
            f"Breach notice, {label}: {len(breaches)} objective"
            f"{'s' if len(breaches) != 1 else ''} missed"
        )
    else:
        subject = f"Your scorecards for {label}"
        if breaches:
            subject += f": {len(breaches)} breach{'es' if len(breaches) != 1 else ''}"
    shown = Shown(breaches={b.pk for b in breaches}).add_agreements(
        c.agreement for c in cards
    )
    return {"subject": subject, "cards": cards, "breaches": breaches, "shown": shown}


# --- The executive digest ---------------------------------------------------


@dataclass
class HeatRow:
    agreement: Agreement
    cells: list[TrendCell]

    @property
    def url(self) -> str:
        return links.scorecard(self.agreement.pk, self.cells[-1].month)


@dataclass
class LateReporter:
    team: str
    items: list[str]


def digest(
    month: date,
    *,
    agreements: QuerySet[Agreement] | None = None,
    now: datetime | None = None,
) -> dict:
    """The month of ``agreements`` (default: the organisation's): heat map,
    breaches, late reporters and the most reported pain points, from the
    engine's cards (the stored ones once finalised). A fixed number of
    queries, whatever the organisation's size."""
    scope = agreements if agreements is not None else Agreement.objects.all()
    window = periods.months_between(
        periods.add_months(month, 1 - HEAT_MAP_MONTHS), month
    )
    engine = cards_for(window, agreements=scope, lines_for=[month])
    latest: dict = {}
    for (lineage, _m), card in sorted(engine.items(), key=lambda item: item[0][1]):
        latest[lineage] = card.agreement  # the latest version wins
    cells = trend_cells(engine, set(latest), window)
    heat_map = sorted(
        (HeatRow(agreement, cells[lineage]) for lineage, agreement in latest.items()),
        key=lambda row: (
            row.agreement.provider.name,
            row.agreement.consumer.name,
            row.agreement.title,
        ),
    )
    month_cards = [card for (_l, m), card in engine.items() if m == month]
    counts = Counter(card.status for card in month_cards)
    in_scope = Breach.objects.filter(agreement__in=scope)
    breaches = [
        BreachView(
            agreement=b.agreement,
            objective=b.line.objective.name,
            remedy=b.remedy,
            status=b.get_status_display(),
            pk=b.pk,
        )
        for b in in_scope.filter(month=month)
        .select_related("agreement__provider", "agreement__consumer", "line__objective")
        .order_by(
            "agreement__provider__name", "agreement__title", "line__objective__position"
        )
    ]
    older_open = in_scope.filter(month__lt=month, status=Breach.Status.OPEN).count()

    late: dict[str, list[str]] = defaultdict(list)
    for card in sorted(
        month_cards, key=lambda c: (c.agreement.provider.name, c.agreement.title)
    ):
        for line in card.lines:
            if line.reported_on_time:
                continue
            if line.actual is None:
                how = "never reported"
            elif line.actual == 0:
                how = "none logged by the deadline"
            else:
                how = "late"
            late[card.agreement.provider.name].append(
                f"{line.name} ({card.agreement.title}): {how}"
            )
    mid_month = periods.month_start(month) + timedelta(days=14)
    pain_points = sorted(
        (s for s in pain_point_summaries(months=1, now=mid_month) if s.trend[-1][1]),
        key=lambda s: (-s.trend[-1][1], -s.teams, s.pain_point.title),
    )[:TOP_PAIN_POINTS]
    return {
        "heat_map": heat_map,
        "heat_months": window,
        "counts": [
            (status_label(s), counts.get(s, 0), colour(s), ink(s), Status.ICONS[s])
            for s in Status.FINAL
        ],
        "breaches": breaches,
        "older_open_breaches": older_open,
        "late_reporters": [LateReporter(team, items) for team, items in late.items()],
        "pain_points": [
            {
                "pk": s.pain_point.pk,
                "title": s.pain_point.title,
                "category": s.pain_point.get_category_display(),
                "reports": s.trend[-1][1],
                "teams": s.teams,
            }
            for s in pain_points
        ],
    }


def digest_scope(user) -> tuple[QuerySet[Agreement], str]:
    """What a digest covers for its reader: the organisation for an
    executive, the agreements of the teams they head for a head."""
    if can(user, "view_organisation"):
        return Agreement.objects.all(), "the organisation"
    headed = Membership.objects.filter(user=user, role=Membership.Role.HEAD)
    return (
        Agreement.objects.involving_any(headed.values("team_id")),
        "the teams you head",
    )


def _digest(delivery: Delivery) -> dict | None:
    scope, scope_label = digest_scope(delivery.recipient)
    context = digest(delivery.month, agreements=scope)
    if not context["heat_map"]:
        return None  # a head whose teams have no agreement in force
    label = periods.month_label(delivery.month)
    breaches = len(context["breaches"])
    subject = f"Service levels in {label}: {len(context['heat_map'])} agreements"
    if breaches:
        subject += f", {breaches} breach{'es' if breaches != 1 else ''}"
    shown = Shown(
        breaches={b.pk for b in context["breaches"]},
        pain_points={p["pk"] for p in context["pain_points"]},
    ).add_agreements(row.agreement for row in context["heat_map"])
    return {"subject": subject, "scope_label": scope_label, "shown": shown, **context}


# --- Reminders, escalations and alerts --------------------------------------


@dataclass
class MissingTeam:
    team: str
    objectives: list[Objective]


def _missing_for(user, month: date, roles) -> list[MissingTeam]:
    teams = {
        m.team_id: m.team
        for m in Membership.objects.filter(user=user, role__in=roles).select_related(
            "team"
        )
    }
    missing = missing_figures(month, provider_ids=teams)
    return [
        MissingTeam(teams[team_id].name, objectives)
        for team_id, objectives in sorted(
            missing.items(), key=lambda item: teams[item[0]].name
        )
    ]


def _shown_objectives(teams: list[MissingTeam]) -> Shown:
    return Shown().add_agreements(o.agreement for t in teams for o in t.objectives)


def _reminder(delivery: Delivery) -> dict | None:
    month = delivery.month
    teams = _missing_for(delivery.recipient, month, Membership.LEADING_ROLES)
    if not teams:
        return None  # everything was logged since the reminder was planned
    count = sum(len(t.objectives) for t in teams)
    return {
        "subject": f"Reminder: {count} figure{'s' if count != 1 else ''} for "
        f"{periods.month_label(month)} due by {periods.due_text(month)}",
        "teams": teams,
        "due_text": periods.due_text(month),
        "shown": _shown_objectives(teams),
    }


def _escalation(delivery: Delivery) -> dict | None:
    month = delivery.month
    teams = _missing_for(delivery.recipient, month, Membership.LEADING_ROLES)
    if not teams:
        return None
    return {
        "subject": f"Escalation: figures for {periods.month_label(month)} were "
        f"missing at the deadline",
        "teams": teams,
        "due_text": periods.due_text(month),
        "shown": _shown_objectives(teams),
    }


def _at_risk(delivery: Delivery) -> dict | None:
    month = delivery.month
    objective_id = int(delivery.subject_key.removeprefix("objective-"))
    objective = (
        Objective.objects.filter(pk=objective_id).select_related("agreement").first()
    )
    if objective is None:
        return None
    now = timezone.now()
    lineage = Agreement.objects.filter(lineage=objective.agreement.lineage)
    found = [
        item
        for item in objectives_at_risk(month, now=now, agreements=lineage)
        if item.objective.pk == objective_id
    ]
    if not found:
        return None  # back on pace since the alert was planned
    item = found[0]
    outcome, unit = item.line.outcome, objective.unit
    days_left = max((periods.month_end(month) - now).days, 0)
    projected = format_value(
        None if outcome.projected is None else round(outcome.projected), unit
    )
    label = status_label(outcome.status)
    return {
        "subject": f"{label}: {objective.name} ({item.agreement.title}), at current "
        f"pace {projected} of {format_value(objective.target, unit)}",
        "agreement": item.agreement,
        "objective": objective,
        "status": outcome.status,
        "status_label": label,
        "colour": colour(outcome.status),
        "ink": ink(outcome.status),
        "actual": format_value(outcome.actual, unit),
        "expected": expected_text(outcome.actual, outcome.expected_so_far)
        + UNITS.get(unit, ""),
        "projected": projected,
        "target": format_value(objective.target, unit),
        "days_left": days_left,
        "scorecard_url": links.scorecard(item.agreement.pk, month),
        "shown": Shown().add_agreements([item.agreement]),
    }


BUILDERS = {
    Kind.DIGEST: _digest,
    Kind.SCORECARD: _scorecard,
    Kind.BREACH: _scorecard,
    Kind.REMINDER: _reminder,
    Kind.ESCALATION: _escalation,
    Kind.AT_RISK: _at_risk,
}


def context_for(delivery: Delivery) -> dict | None:
    """Everything the templates of ``delivery.kind`` need, or ``None`` when
    there is nothing to say any more."""
    context = BUILDERS[delivery.kind](delivery)
    if context is None:
        return None
    # The one check: nothing in it that its reader could not open on a page.
    check_visible(delivery.recipient, context.pop("shown"))
    return {
        **context,
        "recipient": delivery.recipient,
        "month": delivery.month,
        "month_label": periods.month_label(delivery.month),
        "kind": delivery.kind,
        "switchable": PREFERENCE_OF[delivery.kind] is not None,
        "portal_url": links.portal(),
        "dashboard_url": links.dashboard(),
        "preferences_url": links.preferences(),
    }
