"""Writes of the reports app: finalised scorecards and the month's totals,
breaches, heartbeats."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from agreements import periods
from agreements.history import save_with_history
from agreements.models import Agreement
from agreements.rules import require
from slaportal.freshness import months_moved

from .bulk import collection_paused, rows_insert
from .history import history_snapshot
from .models import (
    Breach,
    MonthlyRun,
    MonthTotals,
    Scorecard,
    ScorecardLine,
    WorkerHeartbeat,
)
from .notifications import notices
from .scoring import quantize
from .selectors import ScorecardResult, scorecards_for_months
from .selectors.overview import month_totals_values

HEARTBEAT_KEEP = timedelta(days=7)


@transaction.atomic
def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Record that a worker ran a task, and drop heartbeats older than a week."""
    WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - HEARTBEAT_KEEP).delete()
    beat = WorkerHeartbeat(hostname=hostname[:255])
    beat.full_clean()
    beat.save()
    return beat


@dataclass
class FinaliseReport:
    month: datetime.date
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    breaches_opened: int = 0
    breaches_cleared: int = 0


CARD_FIELDS = ["status", "score", "met_count", "objective_count", "reported_on_time"]
LINE_FIELDS = ["target", "actual", "attainment", "status", "reported_on_time"]


def _remedy_for(agreement) -> str:
    remedy = agreement.remedy_text
    clause = agreement.compensation_clause.strip()
    return ". ".join(part for part in (remedy, clause) if part)


def _card_values(card: ScorecardResult) -> dict:
    return {
        "status": card.status,
        "score": quantize(card.score),
        "met_count": card.met_count,
        "objective_count": len(card.lines),
        "reported_on_time": card.reported_on_time,
    }


def _line_values(line) -> dict:
    return {
        "target": quantize(line.terms.target, "0.01"),
        "actual": quantize(line.outcome.actual, "0.01"),
        "attainment": quantize(line.outcome.attainment),
        "status": line.outcome.status,
        "reported_on_time": line.reported_on_time,
    }


def _differs(instance, values: dict) -> bool:
    return any(getattr(instance, k) != v for k, v in values.items())


@collection_paused()
@transaction.atomic
def scorecards_finalise(
    *, month: datetime.date, now=None, reason: str = ""
) -> FinaliseReport:
    """Store the month's scorecards and open a breach for each missed objective.

    Idempotent: a second run with the same figures writes nothing. After a
    correction it updates what changed, keeping the earlier values in history,
    and clears breaches the correction made good. A fixed number of queries,
    whatever the size of the organisation.
    """
    now = now or timezone.now()
    month = periods.month_of(month)
    if not periods.is_locked(month, now=now):
        raise ValidationError(
            f"{periods.month_label(month)} is not locked yet: it locks at "
            f"{timezone.localtime(periods.deadline(month)):%d %b %Y %H:%M}.",
            code="not_locked",
        )
    report = FinaliseReport(month=month)
    why = reason or "recomputed after a correction"
    # Its rows are written in bulk, without history's signals: the pages
    # that keep this month's judgement are told here (when it commits).
    months_moved([month])
    cards = scorecards_for_months([month], now=now)[month]

    # 1. One scorecard per agreement in force.
    # Unordered reads (``order_by()``): the default orderings join the teams.
    stored = {
        sc.agreement_id: sc for sc in Scorecard.objects.filter(month=month).order_by()
    }
    new_cards: list[dict] = []
    changed_cards = []
    for card in cards:
        values = _card_values(card)
        scorecard = stored.get(card.agreement.id)
        if scorecard is None:
            new_cards.append(
                {
                    "agreement_id": card.agreement.id,
                    "month": month,
                    "finalised_at": now,
                    **values,
                }
            )
        elif _differs(scorecard, values):
            for k, v in values.items():
                setattr(scorecard, k, v)
            scorecard.recomputed_at = now
            changed_cards.append(scorecard)
    card_ids = {sc.agreement_id: sc.pk for sc in stored.values()}
    if new_cards:
        rows_insert(Scorecard, new_cards)
        card_ids = dict(
            Scorecard.objects.filter(month=month)
            .order_by()
            .values_list("agreement_id", "pk")
        )
        history_snapshot(
            Scorecard,
            Scorecard.objects.filter(month=month),
            reason=reason or "finalised",
            when=now,
        )
    if changed_cards:
        bulk_update_with_history(
            changed_cards,
            Scorecard,
            [*CARD_FIELDS, "recomputed_at"],
            default_change_reason=why,
        )

    # 2. One line per objective. Lines belong to the scorecards stored
    # before: at a month's first close there are none to read.
    lines = (
        {
            (line.scorecard_id, line.objective_id): line
            for line in ScorecardLine.objects.filter(scorecard__month=month)
            .select_related("breach")
            .order_by()
        }
        if stored
        else {}
    )
    new_lines: list[dict] = []
    changed_lines = []
    touched_cards: set[int] = {sc.pk for sc in changed_cards}
    agreement_of: dict[int, Agreement] = {}  # scorecard id -> agreement
    for card in cards:
        scorecard_id = card_ids[card.agreement.id]
        agreement_of[scorecard_id] = card.agreement
        for result in card.lines:
            values = _line_values(result)
            line = lines.get((scorecard_id, result.row.id))
            if line is None:
                new_lines.append(
                    {
                        "scorecard_id": scorecard_id,
                        "objective_id": result.row.id,
                        **values,
                    }
                )
            elif _differs(line, values):
                for k, v in values.items():
                    setattr(line, k, v)
                changed_lines.append(line)
                touched_cards.add(scorecard_id)
    missed_new: list[tuple[int, int]] = []  # (line id, scorecard id)
    if new_lines:
        rows_insert(ScorecardLine, new_lines)
        # The ids of the missed lines only: a breach is opened for each.
        line_ids = {
            (scorecard_id, objective_id): pk
            for pk, scorecard_id, objective_id in ScorecardLine.objects.filter(
                scorecard__month=month, status=Scorecard.Status.MISSED
            )
            .order_by()
            .values_list("pk", "scorecard_id", "objective_id")
        }
        missed_new = [
            (line_ids[row["scorecard_id"], row["objective_id"]], row["scorecard_id"])
            for row in new_lines
            if row["status"] == Scorecard.Status.MISSED
        ]
        history_snapshot(
            ScorecardLine,
            ScorecardLine.objects.filter(scorecard__month=month),
            reason=reason or "finalised",
            when=now,
        )
    if changed_lines:
        bulk_update_with_history(
            changed_lines, ScorecardLine, LINE_FIELDS, default_change_reason=why
        )

    # 3. A breach for each missed line; a correction that makes good clears it.
    remedies: dict[int, str] = {}
    new_breaches: list[dict] = []
    cleared = []
    opened_at = timezone.now()

    def owe(line_id: int, scorecard_id: int) -> None:
        agreement = agreement_of.get(scorecard_id)
        if agreement is None:
            return  # no longer in force for this month: nothing owed
        if agreement.id not in remedies:
            remedies[agreement.id] = _remedy_for(agreement)
        new_breaches.append(
            {
                "line_id": line_id,
                "agreement_id": agreement.id,
                "month": month,
                "remedy": remedies[agreement.id],
                "opened_at": opened_at,
            }
        )

    for line in lines.values():
        breach = getattr(line, "breach", None)
        missed = line.status == Scorecard.Status.MISSED
        if missed and breach is None:
            owe(line.pk, line.scorecard_id)
        elif (
            not missed
            and breach is not None
            and breach.status != Breach.Status.RESOLVED
        ):
            breach.status = Breach.Status.RESOLVED
            breach.resolved_at = now
            breach.note = (breach.note + "\n" if breach.note else "") + (
                "Cleared: a correction brought the objective back on target."
            )
            cleared.append(breach)
    for line_id, scorecard_id in missed_new:
        owe(line_id, scorecard_id)
    if new_breaches:
        rows_insert(Breach, new_breaches)
        history_snapshot(
            Breach, Breach.objects.filter(month=month), reason="opened", when=now
        )
        _breaches_announce(month, opened_at=opened_at, now=now)
    if cleared:
        bulk_update_with_history(
            cleared,
            Breach,
            ["status", "resolved_at", "note"],
            default_change_reason="cleared by a correction",
        )
        run = MonthlyRun.objects.filter(month=month).first()
        if _announces(month, now=now, run=run):
            notices.breaches_cleared(cleared)

    # 4. The month's totals, as the dashboard shows them.
    _month_totals_store(month=month, now=now)

    report.created = len(new_cards)
    report.updated = len(touched_cards)
    report.unchanged = len(cards) - report.created - report.updated
    report.breaches_opened = len(new_breaches)
    report.breaches_cleared = len(cleared)
    return report


def _announces(
    month: datetime.date, *, now: datetime.datetime, run: MonthlyRun | None
) -> bool:
    """Whether what happens to ``month``'s breaches is told to people: not
    for a month closed too long after the fact to email, whose emails are
    skipped too (``run``: the month's ``MonthlyRun``)."""
    oldest = periods.add_months(
        periods.current_month(now), -int(settings.SLA_EMAIL_CATCH_UP_MONTHS)
    )
    return month >= oldest and not (run is not None and run.emails_skipped)


def _breaches_announce(
    month: datetime.date, *, opened_at: datetime.datetime, now: datetime.datetime
) -> None:
    """Tell each new breach's provider what it owes. At the month's close
    the month-end emails (planned right after) carry the breach notice, so
    these wait in the inbox; a breach that a later correction opens is
    emailed at once. A month closed too long after the fact to email tells
    nobody, as its emails are skipped too."""
    run = MonthlyRun.objects.filter(month=month).first()
    if not _announces(month, now=now, run=run):
        return
    emailed = run is not None and run.deliveries_planned_at is not None
    notices.breaches_opened(
        # The breaches just inserted: a list of their ids could pass SQLite's
        # parameter limit.
        Breach.objects.filter(month=month, opened_at=opened_at),
        email=emailed,
    )


def _month_totals_store(*, month: datetime.date, now: datetime.datetime) -> None:
    """Store the organisation's totals of a finalised ``month`` from its
    stored scorecards and breaches (``MonthTotals``), in the transaction of
    ``scorecards_finalise``, which runs on every correction too. Three reads
    and one upsert."""
    values = {**month_totals_values(month), "computed_at": now}
    totals = MonthTotals(month=month, **values)
    totals.full_clean(validate_unique=False, validate_constraints=False)
    MonthTotals.objects.bulk_create(
        [totals],
        update_conflicts=True,
        unique_fields=["month"],
        update_fields=list(values),
    )


def _count_breach_move(month: datetime.date, was: str, now: str) -> None:
    """Move one of ``month``'s breaches from status ``was`` to ``now`` in its
    stored totals: one conditional update, whatever runs beside it."""
    MonthTotals.objects.filter(month=month).update(
        **{
            f"breaches_{was}": F(f"breaches_{was}") - 1,
            f"breaches_{now}": F(f"breaches_{now}") + 1,
        }
    )


def _breach_guard(breach: Breach, user) -> Breach:
    current = (
        Breach.objects.select_for_update()
        .select_related("agreement__provider", "agreement__consumer", "line__objective")
        .get(pk=breach.pk)
    )
    require(
        user,
        "act_on_breach",
        current,
        "Only a lead, manager or head of a party team can act on this breach.",
    )
    return current


@transaction.atomic
def breach_acknowledge(*, breach: Breach, user: User, note: str = "") -> Breach:
    current = _breach_guard(breach, user)
    if current.status != Breach.Status.OPEN:
        raise ValidationError(
            f"This breach is already {current.get_status_display().lower()}."
        )
    current.status = Breach.Status.ACKNOWLEDGED
    current.acknowledged_by = user
    current.acknowledged_at = timezone.now()
    note = note.strip()
    if note:
        current.note = (current.note + "\n" if current.note else "") + note
    current.full_clean()
    save_with_history(current, user=user, reason="acknowledged")
    _count_breach_move(current.month, Breach.Status.OPEN, current.status)
    notices.breach_acknowledged(breach=current, actor=user)
    return current


@transaction.atomic
def breach_resolve(*, breach: Breach, user: User, note: str) -> Breach:
    current = _breach_guard(breach, user)
    if current.status == Breach.Status.RESOLVED:
        raise ValidationError("This breach is already resolved.")
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Say how the remedy was delivered."})
    was = current.status
    current.status = Breach.Status.RESOLVED
    current.resolved_by = user
    current.resolved_at = timezone.now()
    current.note = (current.note + "\n" if current.note else "") + note
    current.full_clean()
    save_with_history(current, user=user, reason="resolved")
    _count_breach_move(current.month, was, current.status)
    notices.breach_resolved(breach=current, actor=user)
    return current
