"""The scheduled jobs: month close, reminders and escalations, at-risk alerts,
and the reconcile pass that redoes whatever the others missed.

Each job works out what was due at ``now`` (``schedule``), writes the ledger
rows that should exist (a unique constraint makes a second write a no-op) and
queues one send task per pending row after commit. So running a job twice,
late, or from the reconcile pass sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from agreements import periods
from agreements.models import Agreement, Membership

from ..models import (
    Breach,
    Delivery,
    MonthlyRun,
    MonthTotals,
    Notification,
    Scorecard,
    ScorecardLine,
)
from ..scoring import Status
from ..selectors import scorecards_for_months
from ..services import FinaliseReport, scorecards_finalise
from . import schedule
from .channels.fanout import channel_deliveries_enqueue
from .channels.models import ChannelDelivery
from .figures import missing_figures, objectives_at_risk
from .ledger import deliveries_enqueue, deliveries_enqueue_batches, lease
from .notices import figures_missing, reviews_due
from .quiet import people_not_before
from .recipients import (
    AgreementBrief,
    Plan,
    Planned,
    plan_at_risk,
    plan_missing_figures,
    plan_month_emails,
)

logger = logging.getLogger(__name__)
Kind = Delivery.Kind
Role = Membership.Role
MONTH_END_KINDS = (Kind.DIGEST, Kind.SCORECARD, Kind.BREACH)
REMINDER_ROLES = (Role.LEAD, Role.MANAGER, Role.HEAD)
ESCALATION_ROLES = (Role.HEAD, Role.MANAGER)


def deliveries_create(plan: Plan, *, now: datetime) -> list[int]:
    """Write the plan's ledger rows that do not exist yet; return the ids of
    those due at ``now``.

    A person gets one month-end email about their agreements, a scorecard or
    a breach notice, whichever was planned first: changing preferences in
    between does not send them both. Nothing scheduled is critical: a row
    for someone outside their working hours is held until they start again
    (``quiet``; ``held_release`` queues it then). Rows an earlier run left
    unsent are the reconcile pass's business (``deliveries_requeue_stuck``).
    """
    if not plan.deliveries:
        return []
    months = {p.month for p in plan.deliveries}
    existing = Delivery.objects.filter(
        month__in=months, recipient_id__in={p.recipient.pk for p in plan.deliveries}
    ).values_list("month", "recipient_id", "kind", "subject_key")
    taken = set(existing)
    party = (Kind.SCORECARD, Kind.BREACH)
    had_party = {(m, r) for m, r, kind, _ in taken if kind in party}
    new = [
        p
        for p in plan.deliveries
        if (p.month, p.recipient.pk, p.kind, p.subject_key) not in taken
        and (p.kind not in party or (p.month, p.recipient.pk) not in had_party)
    ]
    if not new:
        return []
    held = people_not_before({p.recipient.pk for p in new}, now)
    # ignore_conflicts: a concurrent run may have written some of them since.
    Delivery.objects.bulk_create(
        [
            Delivery(
                month=p.month,
                recipient=p.recipient,
                kind=p.kind,
                subject_key=p.subject_key,
                not_before=held.get(p.recipient.pk),
            )
            for p in new
        ],
        ignore_conflicts=True,
    )
    keys = {(p.month, p.recipient.pk, p.kind, p.subject_key) for p in new}
    rows = (
        Delivery.objects.filter(
            month__in=months,
            kind__in={p.kind for p in new},
            recipient_id__in={p.recipient.pk for p in new},
            status=Delivery.Status.PENDING,
        )
        .due(now=now)
        .values_list("pk", "month", "recipient_id", "kind", "subject_key")
    )
    return sorted(pk for pk, *key in rows if tuple(key) in keys)


def pending_month_end(month: date, *, now: datetime) -> list[int]:
    """Every month-end delivery of ``month`` waiting to be sent and due at
    ``now``: those held for their recipient's working hours wait.

    Team by team (a person by the first team they are in; people in none
    last), each person's emails together: a batch of these then covers a
    few teams, whose agreements' trend cards it reads once for all its
    emails (``trend_shared``), rather than one team per email."""
    first_team = (
        Membership.objects.filter(user=OuterRef("recipient"))
        .order_by("team_id")
        .values("team_id")[:1]
    )
    return list(
        Delivery.objects.filter(
            month=month, kind__in=MONTH_END_KINDS, status=Delivery.Status.PENDING
        )
        .due(now=now)
        .annotate(first_team=Subquery(first_team))
        .order_by(F("first_team").asc(nulls_last=True), "recipient__username", "kind")
        .values_list("pk", flat=True)
    )


def held_month_end(month: date, *, now: datetime) -> int:
    """How many of ``month``'s month-end emails wait for working hours."""
    return (
        Delivery.objects.filter(
            month=month,
            kind__in=MONTH_END_KINDS,
            status=Delivery.Status.PENDING,
            not_before__gt=now,
        )
    ).count()


# --- Month close ------------------------------------------------------------


def stored_briefs(month: date) -> list[AgreementBrief]:
    """The agreements of ``month``'s finalised scorecards, and which were
    breached. Two queries."""
    breached = set(
        Breach.objects.filter(month=month).values_list("agreement_id", flat=True)
    )
    return [
        AgreementBrief(agreement_id, provider_id, consumer_id, agreement_id in breached)
        for agreement_id, provider_id, consumer_id in Scorecard.objects.filter(
            month=month
        ).values_list(
            "agreement_id", "agreement__provider_id", "agreement__consumer_id"
        )
    ]


def computed_briefs(
    month: date, *, now: datetime | None = None
) -> list[AgreementBrief]:
    """The same as ``stored_briefs``, computed without writing (``--dry-run``)."""
    cards = scorecards_for_months([month], now=now)[month]
    return [
        AgreementBrief(
            card.agreement.pk,
            card.agreement.provider_id,
            card.agreement.consumer_id,
            any(line.status == Status.MISSED for line in card.lines),
        )
        for card in cards
    ]


@dataclass
class CloseReport:
    month: date
    finalised: FinaliseReport | None = None
    pending: list[int] = field(default_factory=list)
    emails_skipped: bool = False
    already_done: bool = False


@transaction.atomic
def month_close(
    *,
    month: date,
    now: datetime | None = None,
    emails: bool = True,
    enqueue: bool = True,
    unless_done: bool = False,
) -> CloseReport:
    """Finalise ``month``'s scorecards, plan its month-end emails and queue them.

    The month's ``MonthlyRun`` row is locked throughout, so two runs for one
    month (beat and reconcile, two beat processes) take turns. With
    ``unless_done`` a month already closed is left alone (reconcile); without
    it, finalising picks up corrections and planning adds only people who had
    no email yet (``send_scorecards`` by hand). ``emails=False`` finalises
    without emailing (a month too old to catch up).
    """
    now = now or timezone.now()
    month = periods.month_of(month)
    report = CloseReport(month=month)
    MonthlyRun.objects.get_or_create(month=month)
    run = MonthlyRun.objects.select_for_update().get(month=month)
    if unless_done and (run.deliveries_planned_at or run.emails_skipped):
        report.already_done = True
        return report
    report.finalised = scorecards_finalise(month=month, now=now)
    transaction.on_commit(_refresh_statistics)
    run.finalised_at = run.finalised_at or now
    if emails:
        deliveries_create(plan_month_emails(month, stored_briefs(month)), now=now)
        report.pending = pending_month_end(month, now=now)
        run.deliveries_planned_at = run.deliveries_planned_at or now
        if enqueue:
            deliveries_enqueue_batches(report.pending)
    elif run.deliveries_planned_at is None:
        run.emails_skipped = report.emails_skipped = True
    run.save()
    return report


# The tables a month's close fills, and every email of the month reads.
CLOSED_TABLES = (Scorecard, ScorecardLine, Breach, MonthTotals)


def _refresh_statistics() -> None:
    """Tell PostgreSQL's planner about the rows the close has just written,
    before the emails read them. Autovacuum analyses a table only once a
    tenth of it has changed, which a year on a month's rows are not: without
    this the planner takes the new month for empty and reads its breaches and
    lines by whole-table scans, ten times slower (measured on the benchmark
    organisation). Runs after the commit, ahead of the emails' tasks."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in CLOSED_TABLES
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def first_month() -> date | None:
    """The earliest month any signed agreement is scored for: its start, or
    the first month still open when both parties signed it, whichever is
    later (``Agreement.is_in_force``). Months before it owe nothing, so the
    catch-up never reaches further back, however early an agreement says it
    started. One query."""
    earliest = None
    for effective_from, activated_at in Agreement.objects.signed().values_list(
        "effective_from", "activated_at"
    ):
        month = periods.month_of(effective_from)
        if activated_at is not None:
            month = max(month, periods.first_open_month(activated_at))
        earliest = month if earliest is None else min(earliest, month)
    return earliest


def months_close_due(*, now: datetime | None = None) -> list[CloseReport]:
    """Close every month since the first agreement whose close was due and
    has not happened. Only the latest ``SLA_EMAIL_CATCH_UP_MONTHS`` of them are
    emailed: nobody wants last year's scorecards on the day the portal opens."""
    now = now or timezone.now()
    first = first_month()
    if first is None:
        return []
    due = schedule.months_due_for_close(first, now)
    done = set(
        MonthlyRun.objects.filter(month__in=due)
        .exclude(deliveries_planned_at=None, emails_skipped=False)
        .values_list("month", flat=True)
    )
    latest = int(settings.SLA_EMAIL_CATCH_UP_MONTHS)
    catch_up = set(due[-latest:]) if latest > 0 else set()
    reports = []
    for month in due:
        if month in done:
            continue
        report = month_close(
            month=month, now=now, emails=month in catch_up, unless_done=True
        )
        if not report.already_done:
            logger.info(
                "Closed %s: %s emails queued%s",
                periods.format_month(month),
                len(report.pending),
                " (too old to email)" if report.emails_skipped else "",
            )
            reports.append(report)
    return reports


# --- Reminders, escalations, alerts -----------------------------------------


def _missing_due(now: datetime) -> list[tuple[date, dict, str, tuple[str, ...]]]:
    """The figures missing that someone should hear of at ``now``: per month,
    the missing objectives per team, the email kind and who gets it."""
    due = [
        (month, missing_figures(month), Kind.REMINDER, REMINDER_ROLES)
        for month in schedule.reminder_months(now)
    ]
    month = schedule.escalation_month(now)
    if month is not None and periods.is_locked(month, now):
        due.append((month, missing_figures(month), Kind.ESCALATION, ESCALATION_ROLES))
    return due


def plan_reminders(now: datetime, due: list | None = None) -> Plan:
    """Leads of teams with figures missing in a month whose deadline is near;
    heads of teams whose figures were still missing when the month closed."""
    plan = Plan()
    for month, missing, kind, roles in _missing_due(now) if due is None else due:
        plan.extend(plan_missing_figures(month, missing, kind=kind, roles=roles))
    return plan


def plan_alerts(now: datetime) -> Plan:
    """The provider's leads of every objective behind pace this month."""
    month = schedule.at_risk_month(now)
    if month is None:
        return Plan()
    found = objectives_at_risk(month, now=now)
    return plan_at_risk(month, [f.objective for f in found])


@transaction.atomic
def reminders_due(*, now: datetime | None = None, enqueue: bool = True) -> list[int]:
    """Write and queue the reminders and escalations due at ``now``, with
    their inbox entries and channel posts."""
    now = now or timezone.now()
    due = _missing_due(now)
    pending = deliveries_create(plan_reminders(now, due), now=now)
    for month, missing, kind, roles in due:
        figures_missing(
            month=month,
            missing=missing,
            roles=roles,
            escalated=kind == Kind.ESCALATION,
            enqueue=enqueue,
        )
    if enqueue:
        deliveries_enqueue(pending)
    return pending


@transaction.atomic
def at_risk_alerts_due(
    *, now: datetime | None = None, enqueue: bool = True
) -> list[int]:
    """Write and queue the at-risk alerts due at ``now``, once per objective
    and month."""
    now = now or timezone.now()
    pending = deliveries_create(plan_alerts(now), now=now)
    if enqueue:
        deliveries_enqueue(pending)
    return pending


# --- Daily summaries of event notifications ---------------------------------

# How many days back a summary missed (beat or the workers were down) is
# still sent.
SUMMARY_CATCH_UP_DAYS = 3


def plan_event_summaries(now: datetime) -> Plan:
    """A summary of each of the last days for everyone who had notifications
    that day they chose to read in a summary. One query."""
    today = periods.today(now)
    days = [today - timedelta(days=n) for n in range(1, SUMMARY_CATCH_UP_DAYS + 1)]
    start = periods.day_start(days[-1])
    rows = (
        Notification.objects.filter(
            email=Notification.Email.DAILY,
            created_at__gte=start,
            created_at__lt=periods.day_start(today),
            recipient__is_active=True,
        )
        .select_related("recipient")
        .order_by("recipient__username", "created_at")
    )
    per_day: dict[tuple[date, int], tuple[object, int]] = {}
    for n in rows:
        day = periods.today(n.created_at)
        user, count = per_day.get((day, n.recipient_id), (n.recipient, 0))
        per_day[day, n.recipient_id] = (user, count + 1)
    plan = Plan()
    for (day, _), (user, count) in per_day.items():
        plan.add(
            Planned(
                user,
                Kind.SUMMARY,
                periods.month_of(day),
                subject_key=f"summary-{day.isoformat()}",
                note=f"{count} notification{'s' if count != 1 else ''}",
            ),
            {},
        )
    return plan


@transaction.atomic
def event_summaries_due(
    *, now: datetime | None = None, enqueue: bool = True
) -> list[int]:
    """Write and queue yesterday's summaries (and those of the days before it
    that were missed), once per person and day."""
    now = now or timezone.now()
    pending = deliveries_create(plan_event_summaries(now), now=now)
    if enqueue:
        deliveries_enqueue(pending)
    return pending


# --- Reconcile --------------------------------------------------------------


@dataclass
class ReconcileReport:
    months_closed: list[date] = field(default_factory=list)
    queued: int = 0
    requeued: int = 0


def deliveries_requeue_stuck(*, now: datetime | None = None) -> int:
    """Queue again every delivery nobody is working on: its task was lost
    (worker killed, broker flushed) or its worker died holding the claim."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.stuck(now=now, lease=lease()).values_list("pk", flat=True)
    )
    return deliveries_enqueue(ids)


def held_release(*, now: datetime | None = None) -> int:
    """Queue the emails and channel messages held for quiet hours whose
    working period has begun (beat, every few minutes). Queuing one twice
    sends it once: the ledgers' claims see to that."""
    now = now or timezone.now()
    emails = list(Delivery.objects.released(now=now).values_list("pk", flat=True))
    posts = list(ChannelDelivery.objects.released(now=now).values_list("pk", flat=True))
    return deliveries_enqueue(emails) + channel_deliveries_enqueue(posts)


def channel_deliveries_requeue_stuck(*, now: datetime | None = None) -> int:
    """The channel messages' ``deliveries_requeue_stuck``."""
    now = now or timezone.now()
    ids = list(
        ChannelDelivery.objects.stuck(now=now, lease=lease()).values_list(
            "pk", flat=True
        )
    )
    return channel_deliveries_enqueue(ids)


def reconcile(*, now: datetime | None = None) -> ReconcileReport:
    """Do whatever should have happened by ``now`` and did not. Running it
    again changes nothing."""
    now = now or timezone.now()
    report = ReconcileReport()
    for closed in months_close_due(now=now):
        report.months_closed.append(closed.month)
        report.queued += len(closed.pending)
    report.queued += len(reminders_due(now=now))
    report.queued += len(at_risk_alerts_due(now=now))
    report.queued += len(event_summaries_due(now=now))
    reviews_due(now=now)
    report.requeued = deliveries_requeue_stuck(now=now)
    report.requeued += channel_deliveries_requeue_stuck(now=now)
    if report.months_closed or report.queued or report.requeued:
        logger.info(
            "Reconcile: closed %s, queued %s, requeued %s",
            [periods.format_month(m) for m in report.months_closed],
            report.queued,
            report.requeued,
        )
    return report
