"""What each email says: the template context for one delivery.

Read at send time, so an email reports the state of things when it goes out:
a reminder whose figures have since been logged says nothing and is skipped.
Month-end emails read the stored, finalised scorecards, the same rows the
scorecard pages show for a locked month.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agreements import periods
from agreements.friction.selectors import pain_point_summaries
from agreements.models import Agreement, Membership, Objective
from agreements.rules import can, digest_team_ids, scorecard_team_ids

from ..models import Breach, Delivery, Notification
from ..scoring import Status, expected_text
from ..selectors.cards import cards_for
from . import links
from .cards import (
    UNITS,
    WORST_FIRST,
    BreachView,
    TrendCell,
    batch_once,
    batch_teams,
    colour,
    format_value,
    ink,
    party_cards,
    status_label,
    team_trend,
    trend_cells,
    trend_window,
)
from .figures import missing_figures, objectives_at_risk
from .inbox import hidden_from, shown_by
from .recipients import PREFERENCE_OF, PREFERENCE_OF_EVENT
from .visibility import Shown, check_visible

Kind = Delivery.Kind
TOP_PAIN_POINTS = 5


SCORECARD_ROWS = 20  # agreements in a scorecard email's table, worst first
SCORECARD_DETAILS = 6  # agreements not met whose objectives it details
DIGEST_AGREEMENTS = 10  # the worst agreements a digest lists
DIGEST_BREACHES = 15
DIGEST_LATE_TEAMS = 10
LATE_ITEMS = 3  # figures listed per late team


def _scorecard(delivery: Delivery) -> dict | None:
    breached_only = delivery.kind == Kind.BREACH
    cards = party_cards(
        delivery.recipient,
        delivery.month,
        breached_only=breached_only,
        teams=scorecard_team_ids(delivery.recipient),
    )
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
    return {"subject": subject, **_scorecard_lists(cards)}


def _scorecard_lists(
    cards: list, rows: int = SCORECARD_ROWS, details: int = SCORECARD_DETAILS
) -> dict:
    """The reader's cards (worst first) in a table of ``rows``, with the
    objectives of the first ``details`` not met; ``shrink`` gives the same
    with fewer, for a body that would not fit in an inbox."""
    shown_rows = cards[:rows]
    not_met = [card for card in cards if not card.met]
    detailed = not_met[:details]
    breaches = [b for card in cards for b in card.breaches]
    shown = Shown(breaches={b.pk for card in detailed for b in card.breaches})
    shown.add_agreements(c.agreement for c in shown_rows + detailed)
    smaller = (max(rows // 2, 1), max(details // 2, 0))
    return {
        "cards": cards,
        "rows": shown_rows,
        "more_rows": len(cards) - len(shown_rows),
        "details": detailed,
        "more_details": len(not_met) - len(detailed),
        "breaches": breaches,
        "counts": status_counts(Counter(card.status for card in cards)),
        "shown": shown,
        "shrink": None
        if smaller == (rows, details)
        else lambda: _scorecard_lists(cards, *smaller),
    }


def status_counts(counts: Counter) -> list[tuple]:
    """(label, count, colour, ink, icon) of each final status, for badges."""
    return [
        (status_label(s), counts.get(s, 0), colour(s), ink(s), Status.ICONS[s])
        for s in Status.FINAL
    ]


# --- The executive digest ---------------------------------------------------


@dataclass
class HeatRow:
    agreement: Agreement
    cells: list[TrendCell]

    @property
    def url(self) -> str:
        return links.scorecard(self.agreement.pk, self.cells[-1].month)

    @property
    def now(self) -> TrendCell:
        return self.cells[-1]

    @property
    def before(self) -> TrendCell:
        return self.cells[-2]


@dataclass
class LateReporter:
    team: str
    items: list[str]
    more: int = 0


@dataclass
class Movement:
    """How the agreements' statuses changed since the month before."""

    previous_month: date
    improved: int = 0
    worsened: int = 0
    unchanged: int = 0
    new: int = 0


def _movement(rows: list[HeatRow], previous_month: date) -> Movement:
    movement = Movement(previous_month)
    for row in rows:
        now, before = row.now.status, row.before.status
        if now is None:
            continue
        if before is None:
            movement.new += 1
            continue
        change = WORST_FIRST.get(now, 0) - WORST_FIRST.get(before, 0)
        if change > 0:
            movement.improved += 1
        elif change < 0:
            movement.worsened += 1
        else:
            movement.unchanged += 1
    return movement


def _month_breaches(month_cards) -> list[BreachView]:
    """The first breaches of the month by provider, agreement and objective,
    from the stored lines of its cards, which carry their breaches (a query
    joining six tables for a page of them cost the database more to plan
    than to run)."""
    found = sorted(
        (
            (card.agreement, line)
            for card in month_cards
            for line in card.lines
            if line.breach is not None
        ),
        key=lambda pair: (
            pair[0].provider.name,
            pair[0].title,
            pair[1].objective.position,
            pair[0].pk,
            pair[1].objective.pk,
        ),
    )
    return [
        BreachView(
            agreement=agreement,
            objective=line.name,
            remedy=line.breach.remedy,
            status=line.breach.get_status_display(),
            pk=line.breach.pk,
        )
        for agreement, line in found[:DIGEST_BREACHES]
    ]


def _late_reporters(month_cards) -> list[LateReporter]:
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
    return [
        LateReporter(team, items[:LATE_ITEMS], len(items) - LATE_ITEMS)
        for team, items in sorted(late.items(), key=lambda item: -len(item[1]))
    ]


def digest(
    month: date,
    *,
    agreements: QuerySet[Agreement] | None = None,
    now: datetime | None = None,
    teams: frozenset[int] | None = None,
) -> dict:
    """The month of ``agreements`` (default: the organisation's), summarised:
    status counts and their movement since the month before, the agreements
    most in need of attention with their last months, the month's breaches,
    late reporters and the most reported pain points, from the engine's
    cards (the stored ones once finalised). Every list is capped, so the
    email's size does not grow with the organisation; the dashboard has the
    rest. A fixed number of queries, whatever the organisation's size.
    ``teams``, when ``agreements`` are those of these teams, lets a batch of
    emails share one read of their cards (``team_trend``)."""
    scope = agreements if agreements is not None else Agreement.objects.all()
    window = trend_window(month)
    if teams is not None:
        engine = team_trend(month, teams)
    else:
        engine = cards_for(window, agreements=scope, lines_for=[month])
    latest: dict = {}
    for (lineage, _m), card in sorted(engine.items(), key=lambda item: item[0][1]):
        latest[lineage] = card.agreement  # the latest version wins
    cells = trend_cells(engine, set(latest), window)
    rows = sorted(
        (HeatRow(agreement, cells[lineage]) for lineage, agreement in latest.items()),
        key=lambda row: (
            row.agreement.provider.name,
            row.agreement.consumer.name,
            row.agreement.title,
        ),
    )
    in_month = [row for row in rows if row.now.status is not None]
    attention = sorted(
        (row for row in in_month if row.now.status != Status.MET),
        key=lambda row: (
            WORST_FIRST.get(row.now.status, 0),
            row.now.score if row.now.score is not None else Decimal(-1),
        ),
    )
    month_cards = [card for (_l, m), card in engine.items() if m == month]
    counts = Counter(card.status for card in month_cards)
    breaches = _month_breaches(month_cards)
    breach_total, older_open = _breach_totals(month, scope, teams)
    late = _late_reporters(month_cards)
    # The organisation's, the same in every digest of the month.
    pain_points = batch_once(("pain_points", month), lambda: _top_pain_points(month))
    return {
        "heat_map": rows,
        "agreement_total": len(in_month),
        "attention": attention[:DIGEST_AGREEMENTS],
        "attention_total": len(attention),
        "trend_months": window,
        "movement": _movement(in_month, window[-2]),
        "counts": status_counts(counts),
        "breaches": breaches,
        "breach_total": breach_total,
        "more_breaches": breach_total - len(breaches),
        "older_open_breaches": older_open,
        "late_reporters": late[:DIGEST_LATE_TEAMS],
        "more_late_teams": max(len(late) - DIGEST_LATE_TEAMS, 0),
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


def _breach_totals(
    month: date, scope: QuerySet[Agreement], teams: frozenset[int] | None
) -> tuple[int, int]:
    """How many breaches ``scope`` has of ``month``, and of earlier months
    still open. When ``scope`` is the agreements of ``teams`` and the batch
    of emails shares their cards, from one read for the whole batch of each
    agreement's counts, added up here for the agreements ``teams`` are
    party to: a hundred heads' digests, one query."""
    still_open = Q(month__lt=month, status=Breach.Status.OPEN)
    wanted = Q(month=month) | still_open
    counts = {
        "of_month": Count("pk", filter=Q(month=month)),
        "older_open": Count("pk", filter=still_open),
    }
    if teams is None or (shared := batch_teams(month, teams)) is None:
        totals = Breach.objects.filter(wanted, agreement__in=scope).aggregate(**counts)
        return totals["of_month"], totals["older_open"]
    per_agreement = batch_once(
        ("breach_totals", month),
        lambda: list(
            Breach.objects.filter(
                wanted, agreement__in=Agreement.objects.involving_any(shared)
            )
            .order_by()
            .values("agreement_id", "agreement__provider_id", "agreement__consumer_id")
            .annotate(**counts)
            .values_list(
                "agreement__provider_id",
                "agreement__consumer_id",
                "of_month",
                "older_open",
            )
        ),
    )
    ours = [
        (of_month, older)
        for provider, consumer, of_month, older in per_agreement
        if provider in teams or consumer in teams
    ]
    return sum(n for n, _ in ours), sum(n for _, n in ours)


def _top_pain_points(month: date) -> list:
    """The pain points reported most in ``month``."""
    mid_month = periods.month_start(month) + timedelta(days=14)
    return sorted(
        (s for s in pain_point_summaries(months=1, now=mid_month) if s.trend[-1][1]),
        key=lambda s: (-s.trend[-1][1], -s.teams, s.pain_point.title),
    )[:TOP_PAIN_POINTS]


def digest_scope(user) -> tuple[QuerySet[Agreement], str, Hashable]:
    """What a digest covers for its reader: the organisation for an
    executive, the agreements of the teams they head for a head; and a key
    that is the same for every reader of the same digest."""
    if can(user, "view_organisation"):
        return Agreement.objects.all(), "the organisation", "organisation"
    headed = digest_team_ids(user)
    return Agreement.objects.involving_any(headed), "the teams you head", headed


def _digest(delivery: Delivery) -> dict | None:
    scope, scope_label, key = digest_scope(delivery.recipient)
    teams = key if isinstance(key, frozenset) else None
    context = digest(delivery.month, agreements=scope, teams=teams)
    if not context["agreement_total"]:
        return None  # a head whose teams have no agreement in force
    label = periods.month_label(delivery.month)
    breaches = context["breach_total"]
    subject = f"Service levels in {label}: {context['agreement_total']} agreements"
    if breaches:
        subject += f", {breaches} breach{'es' if breaches != 1 else ''}"
    shown = Shown(
        breaches={b.pk for b in context["breaches"]},
        pain_points={p["pk"] for p in context["pain_points"]},
    ).add_agreements(
        [row.agreement for row in context["attention"]]
        + [b.agreement for b in context["breaches"]]
    )
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


# --- Events -----------------------------------------------------------------

PREFERENCE_LABELS = {
    "friction_email": "friction reports",
    "agreement_email": "agreements",
    "breach_email": "breach updates",
}


def _event(delivery: Delivery) -> dict | None:
    pk = int(delivery.subject_key.removeprefix("notification-"))
    notification = Notification.objects.filter(
        pk=pk, recipient_id=delivery.recipient_id
    ).first()
    if notification is None:
        return None  # forgotten (older than the inbox keeps them)
    preference = PREFERENCE_OF_EVENT[notification.event]
    return {
        "subject": clip_subject(notification.text),
        "notification": notification,
        "event_label": notification.get_event_display(),
        "url": links.notification(notification.pk),
        "preference_label": PREFERENCE_LABELS.get(preference or "", ""),
        "switchable": preference is not None,
        "shown": shown_by([notification]),
    }


def clip_subject(text: str, length: int = 120) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def summary_day(delivery: Delivery) -> date:
    return date.fromisoformat(delivery.subject_key.removeprefix("summary-"))


def _summary(delivery: Delivery) -> dict | None:
    """The day's notifications its reader chose to have in a summary; any
    about what they may no longer open left out."""
    day = summary_day(delivery)
    start = datetime(day.year, day.month, day.day, tzinfo=periods.org_zone())
    found = list(
        Notification.objects.filter(
            recipient_id=delivery.recipient_id,
            email=Notification.Email.DAILY,
            created_at__gte=start,
            created_at__lt=start + timedelta(days=1),
        ).order_by("created_at", "pk")
    )
    hidden = hidden_from(delivery.recipient, found)
    items = [
        {
            "notification": n,
            "event_label": n.get_event_display(),
            "url": links.notification(n.pk),
        }
        for n in found
        if n.pk not in hidden
    ]
    if not items:
        return None
    return {
        "subject": f"Your day in slaportal, {day:%-d %B %Y}: {len(items)} "
        f"notification{'s' if len(items) != 1 else ''}",
        "day": day,
        "items": items,
        "inbox_url": links.inbox(),
        "switchable": True,
        "shown": shown_by(item["notification"] for item in items),
    }


BUILDERS = {
    Kind.DIGEST: _digest,
    Kind.SCORECARD: _scorecard,
    Kind.BREACH: _scorecard,
    Kind.REMINDER: _reminder,
    Kind.ESCALATION: _escalation,
    Kind.AT_RISK: _at_risk,
    Kind.EVENT: _event,
    Kind.SUMMARY: _summary,
}


# Written where the greeting goes, and replaced by each reader's, so that one
# rendered body serves every reader of the same email.
GREETING = "\u2063greeting\u2063"


def audience(delivery: Delivery) -> Hashable | None:
    """A key shared by every delivery whose email says the same thing to a
    different person, or ``None`` when the body is the reader's own."""
    if delivery.kind == Kind.DIGEST:
        return (delivery.kind, delivery.month, digest_scope(delivery.recipient)[2])
    if delivery.kind in (Kind.SCORECARD, Kind.BREACH):
        return (delivery.kind, delivery.month, scorecard_team_ids(delivery.recipient))
    return None


def greeting(user) -> str:
    return f"Hello {user.first_name or user.username},"


def body_context(delivery: Delivery) -> dict | None:
    """Everything the templates of ``delivery.kind`` need, with what the email
    shows under ``shown`` and the greeting left to fill in; ``None`` when
    there is nothing to say any more."""
    context = BUILDERS[delivery.kind](delivery)
    if context is None:
        return None
    return {
        "switchable": PREFERENCE_OF[delivery.kind] is not None,
        **context,
        "greeting": GREETING,
        "month": delivery.month,
        "month_label": periods.month_label(delivery.month),
        "kind": delivery.kind,
        "portal_url": links.portal(),
        "dashboard_url": links.dashboard(),
        "preferences_url": links.preferences(),
    }


def context_for(delivery: Delivery) -> dict | None:
    """``body_context``, checked against what its reader may see."""
    context = body_context(delivery)
    if context is None:
        return None
    # The one check: nothing in it that its reader could not open on a page.
    check_visible(delivery.recipient, context.pop("shown"))
    return {**context, "greeting": greeting(delivery.recipient)}
