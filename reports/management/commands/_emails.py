"""Shared by the email commands: printing a plan and sending with progress."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from agreements import periods
from reports.models import Delivery
from reports.notifications.ledger import (
    Outcome,
    Result,
    deliveries_enqueue_batches,
    deliveries_send_batch,
)
from reports.notifications.recipients import Plan


def describe_user(user) -> str:
    name = user.get_full_name() or user.username
    return f"{name} <{user.email}>" if user.email else name


def print_plan(command: BaseCommand, plan: Plan) -> None:
    """Who would get what; what the ledger says already went out."""
    ledger = {
        (month, recipient, kind, key): status
        for month, recipient, kind, key, status in Delivery.objects.filter(
            month__in={p.month for p in plan.deliveries},
            recipient_id__in={p.recipient.pk for p in plan.deliveries},
        ).values_list("month", "recipient_id", "kind", "subject_key", "status")
    }
    new = 0
    for p in plan.deliveries:
        status = ledger.get((p.month, p.recipient.pk, p.kind, p.subject_key))
        new += status is None
        state = f"already {status}" if status else "would send"
        command.stdout.write(
            f"  {state:<16} {Delivery.Kind(p.kind).label:<17} "
            f"{periods.format_month(p.month)}  {describe_user(p.recipient)}"
            f"  ({p.note})"
        )
    for user, kind, why in plan.left_out:
        command.stdout.write(
            f"  {'left out':<16} {Delivery.Kind(kind).label:<17} "
            f"{'':7}  {describe_user(user)}  ({why})"
        )
    command.stdout.write(
        f"Dry run: {new} email(s) would be sent, "
        f"{len(plan.deliveries) - new} are in the ledger already, "
        f"{len(plan.left_out)} left out. Nothing was written."
    )


def send_with_progress(command: BaseCommand, ids: list[int]) -> dict[Result, int]:
    if not ids:
        command.stdout.write("Nothing to send.")
        return dict.fromkeys(Result, 0)
    total = len(ids)
    step = max(1, total // 20)
    counts: dict[Result, int] = dict.fromkeys(Result, 0)

    def progress(done: int, total: int, outcome: Outcome) -> None:
        counts[outcome.result] += 1
        if outcome.result not in (Result.SENT, Result.BUSY):
            command.stdout.write(f"  delivery {ids[done - 1]}: {outcome.result.value}")
        if done % step == 0 or done == total:
            command.stdout.write(progress_line(counts, total))

    deliveries_send_batch(ids, progress=progress)
    return counts


def progress_line(counts: dict[Result, int], total: int) -> str:
    """ "412/601 sent (3 failed)"."""
    others = ", ".join(
        f"{n} {result.value}"
        for result, n in counts.items()
        if n and result != Result.SENT
    )
    return f"{counts[Result.SENT]}/{total} sent" + (f" ({others})" if others else "")


FINISHED = {
    Delivery.Status.SENT: Result.SENT,
    Delivery.Status.FAILED: Result.FAILED,
    Delivery.Status.SKIPPED: Result.SKIPPED,
}


def send_through_workers(
    command: BaseCommand, ids: list[int], *, patience: float, poll: float = 1.0
) -> dict[Result, int]:
    """Hand ``ids`` to the Celery workers in batches, then follow the ledger
    until every one is sent, failed or skipped. Gives up (the emails stay
    queued) when nothing has moved for ``patience`` seconds."""
    counts: dict[Result, int] = dict.fromkeys(Result, 0)
    if not ids:
        command.stdout.write("Nothing to send.")
        return counts
    total = len(ids)
    batches = deliveries_enqueue_batches(ids)
    command.stdout.write(
        f"{total} email(s) handed to the workers in {batches} batch(es); "
        "following the ledger:"
    )
    last, moved = None, time.monotonic()
    while True:
        by_status = dict(
            Delivery.objects.filter(pk__in=ids)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        counts = dict.fromkeys(Result, 0)
        for status, result in FINISHED.items():
            counts[result] = by_status.get(status, 0)
        finished = sum(counts.values())
        state = tuple(sorted(by_status.items()))
        if state != last:
            last, moved = state, time.monotonic()
            command.stdout.write(progress_line(counts, total))
        if finished == total:
            return counts
        if time.monotonic() - moved > patience:
            raise CommandError(
                f"Nothing has moved for {patience:.0f} s; {total - finished} "
                "email(s) are still queued. Is a worker running (make worker)? "
                "They go out when one takes them; the reconcile task queues "
                "again any that were lost."
            )
        time.sleep(poll)
