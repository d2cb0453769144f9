"""Who hears of each event, and what it says.

The agreements services announce their events (``agreements.events``) and
``on_announced`` turns each into notices; the breach services and the daily
review job call the functions here directly. Every recipient is a lead,
manager or head of a team the object belongs to, so each may open it on its
page; the inbox and the emails check again when they show it, in case a
membership changed since.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from agreements import events, periods
from agreements.models import (
    Agreement,
    FrictionComment,
    FrictionReport,
    Membership,
    Team,
)
from agreements.services._common import day_label

from ..models import Breach, Notification, ScorecardLine
from .events import Notice, clip, notify
from .recipients import first_in_line, leaders_of

Event = Notification.Event
Role = Membership.Role

# "The head" of a team: its heads, or its managers when it has none.
HEADS = (Role.HEAD, Role.MANAGER)
# "The lead" of a team: its leads, else its managers, else its heads.
LEADS = (Role.LEAD, Role.MANAGER, Role.HEAD)

# How many days late a review date is still announced (beat was down).
REVIEW_CATCH_UP_DAYS = 7


def people(teams: Iterable[Team], roles: tuple[str, ...] | None = None) -> list:
    """Each team's first in line of ``roles`` (``HEADS``, ``LEADS``), or
    everyone who may sign for it (lead, manager or head) without; one query."""
    ids = {team.pk for team in teams}
    leaders = leaders_of(ids)
    found: dict[int, Any] = {}
    for team_id in sorted(ids):
        members = leaders.get(team_id, [])
        chosen = (
            first_in_line(members, roles) if roles else [user for user, _ in members]
        )
        for user in chosen:
            found.setdefault(user.pk, user)
    return list(found.values())


def _name(user) -> str:
    return user.get_full_name() or user.username


def _parties(agreement: Agreement) -> str:
    return f"“{agreement.title}” ({agreement.provider} → {agreement.consumer})"


# --- Agreements -------------------------------------------------------------


def _agreement_url(agreement: Agreement) -> str:
    return reverse("agreements:detail", args=[agreement.pk])


def _proposal(agreement: Agreement) -> str:
    stamp = int(agreement.proposed_at.timestamp()) if agreement.proposed_at else 0
    return f"agreement-{agreement.pk}-proposal-{stamp}"


def agreement_proposed(*, agreement: Agreement, actor) -> list[Notice]:
    """Both parties' signers: neither has signed yet."""
    return [
        Notice(
            event=Event.SIGNATURE_AWAITED,
            key=f"{_proposal(agreement)}-team-{team.pk}",
            text=f"{_name(actor)} proposed {_parties(agreement)}: the signature of "
            f"{team} is awaited.",
            url=_agreement_url(agreement),
            recipients=people([team]),
            actor=actor,
            agreement_id=agreement.pk,
        )
        for team in (agreement.provider, agreement.consumer)
    ]


def agreement_signed(*, agreement: Agreement, actor, team: Team) -> list[Notice]:
    """Once both signed: the agreement is active. Before: the other party's
    signers, whose signature is now all it waits for."""
    if agreement.status == Agreement.Status.ACTIVE:
        return agreement_active(agreement=agreement, actor=actor)
    other = (
        agreement.consumer if team.pk == agreement.provider_id else agreement.provider
    )
    return [
        Notice(
            event=Event.SIGNATURE_AWAITED,
            key=f"{_proposal(agreement)}-team-{other.pk}-after-{team.pk}",
            text=f"{team} signed {_parties(agreement)}: only the signature of "
            f"{other} is awaited now.",
            url=_agreement_url(agreement),
            recipients=people([other]),
            actor=actor,
            agreement_id=agreement.pk,
        )
    ]


def agreement_active(*, agreement: Agreement, actor) -> list[Notice]:
    replaces = (
        f" Version {agreement.version} replaces version {agreement.version - 1}."
        if agreement.supersedes_id
        else ""
    )
    return [
        Notice(
            event=Event.AGREEMENT_ACTIVE,
            key=f"agreement-{agreement.pk}-active",
            text=f"{_parties(agreement)} is active: both parties signed.{replaces}",
            url=_agreement_url(agreement),
            recipients=people([agreement.provider, agreement.consumer], HEADS),
            actor=actor,
            agreement_id=agreement.pk,
        )
    ]


def agreement_retired(*, agreement: Agreement, actor, note: str = "") -> list[Notice]:
    why = f" “{clip(note, 200)}”" if note.strip() else ""
    return [
        Notice(
            event=Event.AGREEMENT_RETIRED,
            key=f"agreement-{agreement.pk}-retired",
            text=f"{_name(actor)} retired {_parties(agreement)}.{why}",
            url=_agreement_url(agreement),
            recipients=people([agreement.provider, agreement.consumer], HEADS),
            actor=actor,
            agreement_id=agreement.pk,
        )
    ]


def proposer_of(agreement: Agreement):
    """Who proposed the agreement last, from its history; its author when
    the history does not say."""
    record = (
        agreement.history.filter(history_change_reason="proposed for signature")
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is not None and record.history_user is not None:
        return record.history_user
    return agreement.created_by


def agreement_changes_requested(
    *, agreement: Agreement, actor, note: str = ""
) -> list[Notice]:
    why = f": “{clip(note, 200)}”" if note.strip() else "."
    return [
        Notice(
            event=Event.CHANGES_REQUESTED,
            # Each request moves the draft on (``edit_count``).
            key=f"agreement-{agreement.pk}-changes-{agreement.edit_count}",
            text=f"{_name(actor)} requested changes to {_parties(agreement)}, "
            f"which you proposed; it is a draft again{why}",
            url=_agreement_url(agreement),
            recipients=[proposer_of(agreement)],
            actor=actor,
            agreement_id=agreement.pk,
        )
    ]


def reviews_due(*, now: datetime | None = None, enqueue: bool = True) -> int:
    """Tell both parties' heads of every active agreement whose review date
    has come (up to ``REVIEW_CATCH_UP_DAYS`` late); once per review date."""
    today = periods.today(now)
    due = list(
        Agreement.objects.active()
        .filter(
            review_on__lte=today,
            review_on__gt=today - timedelta(days=REVIEW_CATCH_UP_DAYS),
        )
        .select_related("provider", "consumer")
    )
    heads = leaders_of({a.provider_id for a in due} | {a.consumer_id for a in due})
    notices = [
        Notice(
            event=Event.REVIEW_DUE,
            key=f"agreement-{agreement.pk}-review-{agreement.review_on.isoformat()}",
            text=f"{_parties(agreement)} is due for review: its review date is "
            f"{agreement.review_on:%-d %B %Y}.",
            url=_agreement_url(agreement),
            recipients=[
                user
                for team_id in (agreement.provider_id, agreement.consumer_id)
                for user in first_in_line(heads.get(team_id, []), HEADS)
            ],
            agreement_id=agreement.pk,
        )
        for agreement in due
    ]
    return notify(notices, enqueue=enqueue)


def figures_missing(
    *,
    month,
    missing: dict[int, list],
    roles: tuple[str, ...],
    escalated: bool = False,
    enqueue: bool = True,
) -> int:
    """The inbox entries and channel posts beside the reminder emails: one
    per agreement with ``month``'s figures missing (``missing``:
    ``{provider_team_id: [objectives]}``), to the people the reminder or the
    escalation goes to. Their emails are the reminders themselves."""
    leaders = leaders_of(missing)
    label = periods.month_label(month)
    notices = []
    for team_id, objectives in missing.items():
        by_agreement: dict[int, list] = {}
        for objective in objectives:
            by_agreement.setdefault(objective.agreement_id, []).append(objective)
        recipients = first_in_line(leaders.get(team_id, []), roles)
        for agreement_id, owed in by_agreement.items():
            agreement = owed[0].agreement
            names = ", ".join(o.name for o in owed)
            text = (
                f"Still missing when {label} closed: {names} of {_parties(agreement)}."
                if escalated
                else f"Figures missing for {label}: {names} of "
                f"{_parties(agreement)}. Due by {periods.due_text(month)}."
            )
            notices.append(
                Notice(
                    event=Event.FIGURES_MISSING,
                    key=f"agreement-{agreement_id}-missing-{month:%Y-%m}"
                    + ("-escalated" if escalated else ""),
                    text=text,
                    url=reverse("figures:team", args=[agreement.provider.slug]),
                    recipients=recipients,
                    email=False,
                    agreement_id=agreement_id,
                )
            )
    return notify(notices, enqueue=enqueue)


# --- Friction reports -------------------------------------------------------


def _friction_url(report: FrictionReport) -> str:
    return reverse("friction:detail", args=[report.pk])


def _addressed_side(report: FrictionReport) -> list:
    return [
        *people([report.addressed_team], HEADS),
        report.addressed_to,
        *([report.assigned_to] if report.assigned_to_id else []),
    ]


def _reporting_side(report: FrictionReport) -> list:
    return [report.created_by, *people([report.reporting_team], LEADS)]


def friction_filed(*, report: FrictionReport, actor) -> list[Notice]:
    """The addressed team's head; critical and high severity at once."""
    severity = report.get_severity_display().lower()
    return [
        Notice(
            event=Event.FRICTION_FILED,
            key=f"friction-{report.pk}",
            text=f"{report.reporting_team} filed a {severity}-severity friction "
            f"report to {report.addressed_team} about {report.customer} "
            f"({report.get_category_display().lower()}).",
            url=_friction_url(report),
            recipients=_addressed_side(report),
            actor=actor,
            urgent=report.severity
            in (FrictionReport.Severity.CRITICAL, FrictionReport.Severity.HIGH),
            critical=report.severity == FrictionReport.Severity.CRITICAL,
            friction_report_id=report.pk,
        )
    ]


def friction_status_changed(
    *, report: FrictionReport, actor, note: str = ""
) -> list[Notice]:
    """The reporter and the reporting team's lead."""
    status = report.get_status_display().lower()
    why = f": “{clip(note, 200)}”" if note.strip() else "."
    return [
        Notice(
            event=Event.FRICTION_STATUS,
            key=f"friction-{report.pk}-status-{report.status}",
            text=f"{report.addressed_team} marked the friction report about "
            f"{report.customer} “{status}”{why}",
            url=_friction_url(report),
            recipients=_reporting_side(report),
            actor=actor,
            friction_report_id=report.pk,
        )
    ]


def friction_commented(*, comment: FrictionComment, actor) -> list[Notice]:
    """The other side of the conversation: the reporter and the reporting
    team's lead hear of a comment from anyone else, the addressed team's
    head of one from the reporting team."""
    report = comment.report
    # The comment keeps the team its author spoke for.
    from_reporters = comment.team_id == report.reporting_team_id
    recipients = _addressed_side(report) if from_reporters else _reporting_side(report)
    return [
        Notice(
            event=Event.FRICTION_COMMENT,
            key=f"friction-comment-{comment.pk}",
            text=f"{_name(actor)} commented on the friction report about "
            f"{report.customer}: “{clip(comment.body, 200)}”",
            url=_friction_url(report),
            recipients=recipients,
            actor=actor,
            friction_report_id=report.pk,
        )
    ]


def friction_assigned(*, report: FrictionReport, actor) -> list[Notice]:
    """The person the report was assigned to."""
    due = f", due {day_label(report.due_date)}" if report.due_date else ""
    severity = report.get_severity_display().lower()
    return [
        Notice(
            event=Event.FRICTION_ASSIGNED,
            key=f"friction-{report.pk}-assigned-{report.assigned_to_id}",
            text=f"{_name(actor)} assigned you the {severity}-severity friction report"
            f" from {report.reporting_team} about "
            f"{report.customer}{due}.",
            url=_friction_url(report),
            recipients=[report.assigned_to] if report.assigned_to_id else [],
            actor=actor,
            friction_report_id=report.pk,
        )
    ]


# --- Breaches ---------------------------------------------------------------


# Stands in for a breach's id in its page's address, reversed once for many.
URL_SLOT = 987654321


def _breach_url(breach: Breach) -> str:
    return reverse("reports:breach", args=[breach.pk])


def breaches_opened(breaches: QuerySet[Breach], *, email: bool = True) -> int:
    """The provider's head and lead of each of ``breaches``, with the remedy
    owed. ``email=False`` when the month-end emails are still to go out and
    carry the breach notice. Four queries and ``notify``'s, however many;
    the breaches are read as plain values, as a month's close opens
    thousands. Their agreements and teams are read on their own: breaches
    just opened are not yet in the planner's statistics, which takes them
    for one row and joined those tables to them by a scan per breach (half
    a second for a month's 3,000)."""
    rows = list(
        breaches.order_by("pk").values_list(
            "pk", "month", "remedy", "line__objective__name", "agreement_id"
        )
    )
    if not rows:
        return 0
    agreements = {
        pk: (title, provider_id, consumer_id)
        for pk, title, provider_id, consumer_id in Agreement.objects.filter(
            pk__in={row[4] for row in rows}
        )
        .order_by()
        .values_list("pk", "title", "provider_id", "consumer_id")
    }
    rows = [(*row[:4], *agreements[row[4]]) for row in rows]
    providers = {provider_id for _, provider_id, _ in agreements.values()}
    names = dict(
        Team.objects.filter(
            pk__in=providers | {consumer_id for *_, consumer_id in agreements.values()}
        ).values_list("pk", "name")
    )
    leaders = leaders_of(providers)
    people = {
        team_id: [*first_in_line(members, HEADS), *first_in_line(members, LEADS)]
        for team_id, members in leaders.items()
    }
    labels = {month: periods.month_label(month) for month in {row[1] for row in rows}}
    # One address reversed, each breach's written into it.
    url = reverse("reports:breach", args=[URL_SLOT]).replace(str(URL_SLOT), "{}")
    notices = [
        Notice(
            event=Event.BREACH_OPENED,
            key=f"breach-{pk}-opened",
            text=f"Breach: “{objective}” of “{title}” ({names[provider_id]} → "
            f"{names[consumer_id]}) was missed in {labels[month]}. "
            f"{names[provider_id]} owes: {clip(remedy, 200)}",
            url=url.format(pk),
            recipients=people.get(provider_id, []),
            urgent=True,
            critical=True,
            email=email,
            breach_id=pk,
        )
        for pk, month, remedy, objective, title, provider_id, consumer_id in rows
    ]
    return notify(notices)


def breaches_cleared(breaches: list[Breach]) -> int:
    """A correction brought the objective of each of ``breaches`` back on
    target: the consumer's head hears it is resolved, and the provider's
    head and lead that nothing is owed any more."""
    if not breaches:
        return 0
    agreements = {
        a.pk: a
        for a in Agreement.objects.filter(
            pk__in={b.agreement_id for b in breaches}
        ).select_related("provider", "consumer")
    }
    leaders = leaders_of(
        {a.provider_id for a in agreements.values()}
        | {a.consumer_id for a in agreements.values()}
    )
    names = dict(
        ScorecardLine.objects.filter(pk__in={b.line_id for b in breaches}).values_list(
            "pk", "objective__name"
        )
    )
    notices = []
    for breach in breaches:
        agreement = agreements[breach.agreement_id]
        provider = leaders.get(agreement.provider_id, [])
        notices.append(
            Notice(
                event=Event.BREACH_RESOLVED,
                key=f"breach-{breach.pk}-{Breach.Status.RESOLVED}",
                text=f"Cleared: a correction brought “{names[breach.line_id]}” of "
                f"{_parties(agreement)} back on target for "
                f"{periods.month_label(breach.month)}. The breach is resolved; "
                "nothing is owed.",
                url=_breach_url(breach),
                recipients=[
                    *first_in_line(leaders.get(agreement.consumer_id, []), HEADS),
                    *first_in_line(provider, HEADS),
                    *first_in_line(provider, LEADS),
                ],
                breach_id=breach.pk,
            )
        )
    return notify(notices)


def _breach_moved(breach: Breach, actor, event: str, done: str) -> int:
    agreement = breach.agreement
    return notify(
        [
            Notice(
                event=event,
                key=f"breach-{breach.pk}-{breach.status}",
                text=f"{_name(actor)} {done} the breach of "
                f"“{breach.line.objective.name}” of {_parties(agreement)} "
                f"({periods.month_label(breach.month)}).",
                url=_breach_url(breach),
                recipients=people([agreement.consumer], HEADS),
                actor=actor,
                breach_id=breach.pk,
            )
        ]
    )


def breach_acknowledged(*, breach: Breach, actor) -> int:
    """The consumer's head: the provider has seen what it owes."""
    return _breach_moved(breach, actor, Event.BREACH_ACKNOWLEDGED, "acknowledged")


def breach_resolved(*, breach: Breach, actor) -> int:
    """The consumer's head: the remedy was delivered."""
    return _breach_moved(breach, actor, Event.BREACH_RESOLVED, "resolved")


# --- From the agreements app ------------------------------------------------

ANNOUNCED = {
    events.AGREEMENT_PROPOSED: agreement_proposed,
    events.AGREEMENT_SIGNED: agreement_signed,
    events.AGREEMENT_CHANGES_REQUESTED: agreement_changes_requested,
    events.AGREEMENT_RETIRED: agreement_retired,
    events.FRICTION_FILED: friction_filed,
    events.FRICTION_STATUS_CHANGED: friction_status_changed,
    events.FRICTION_COMMENTED: friction_commented,
    events.FRICTION_ASSIGNED: friction_assigned,
}


def on_announced(event: str, *, actor: Any, **details: Any) -> None:
    """Listens to ``agreements.events``: notifies whoever should hear."""
    notify(ANNOUNCED[event](actor=actor, **details))
