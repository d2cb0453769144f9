"""The delivery ledger: each email claimed, sent and marked, exactly once.

Not wrapped in a transaction, on purpose: the claim must be committed before
the message goes to the mail server, and the mark after, so that a worker
killed in between leaves a ``sending`` row whose lease tells the next worker
it may take over. Every write is a conditional UPDATE on the row's state.
A batch claims its deliveries together (``SLA_EMAIL_BATCH_SIZE`` at a time)
and marks each as it is sent.
"""

from __future__ import annotations

import functools
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from agreements.rules import know_users, scorecard_team_ids

from ..bulk import collection_paused
from ..models import Delivery, NotificationPreference
from .cards import trend_shared
from .recipients import preferences_for, wants
from .render import Composer, message_id
from .tasks import deliver, deliver_batch
from .visibility import NotVisible

logger = logging.getLogger(__name__)
Status = Delivery.Status
# The emails whose bodies read their readers' teams' trend cards.
SHARED_TREND_KINDS = (
    Delivery.Kind.DIGEST,
    Delivery.Kind.SCORECARD,
    Delivery.Kind.BREACH,
)


class Result(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a temporary failure: try again after ``countdown``
    FAILED = "failed"
    SKIPPED = "skipped"
    BUSY = "busy"  # nothing to do: sent already, failed or skipped
    # Claimed by a worker that may still be sending it. Look again once its
    # lease is over: if that worker died (its task is redelivered after a
    # SIGKILLed child), the delivery is taken over then.
    IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class Outcome:
    result: Result
    countdown: float = 0.0


def lease() -> timedelta:
    return timedelta(seconds=float(settings.SLA_EMAIL_LEASE_SECONDS))


def max_attempts() -> int:
    return int(settings.SLA_EMAIL_MAX_ATTEMPTS)


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 30 s, 1 min, 2 min, 4 min by
    default, all well inside the broker's visibility timeout."""
    return float(settings.SLA_EMAIL_RETRY_SECONDS) * 2 ** max(attempts - 1, 0)


def _claimable(now: datetime) -> Q:
    # A row held for the recipient's working hours (``not_before``) waits.
    due = Q(not_before=None) | Q(not_before__lte=now)
    return (Q(status=Status.PENDING) & due) | Q(
        status=Status.SENDING, claimed_at__lt=now - lease()
    )


def _take(deliveries: QuerySet[Delivery], now: datetime) -> int:
    """Claim those of ``deliveries`` that may go out at ``now``, in one
    UPDATE; returns how many."""
    return deliveries.filter(_claimable(now)).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )


def _is_permanent(exc: Exception) -> bool:
    """A 5xx reply will not change on retry (no such mailbox, refused)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


@dataclass(frozen=True)
class Batch:
    """What a batch of deliveries reads once for all of them: its recipients
    by id, who they are already known (``know_users``), and their choices of
    emails (``preferences_for``)."""

    readers: dict[int, Any]
    preferences: dict[int, NotificationPreference]


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> Outcome:
    """Claim the delivery, render it, hand it to the mail server, mark it sent.

    Returns ``BUSY`` without doing anything when the row is sent, failed or
    skipped, and ``IN_FLIGHT`` with the time left on its lease when another
    worker holds the claim. A temporary SMTP
    error puts it back to ``pending`` and asks for a retry after a backoff;
    after ``SLA_EMAIL_MAX_ATTEMPTS`` attempts, or on a permanent error, it is
    ``failed`` and logged.
    """
    now = now or timezone.now()
    if not _take(Delivery.objects.filter(pk=delivery_id), now):
        return _not_claimed(delivery_id, now)
    delivery = Delivery.objects.select_related("recipient").get(pk=delivery_id)
    return _deliver(delivery, claimed_at=now)


def _deliver(
    delivery: Delivery,
    *,
    claimed_at: datetime,
    composer: Composer | None = None,
    connection=None,
    batch: Batch | None = None,
) -> Outcome:
    """Send ``delivery``, which this worker claimed at ``claimed_at``.

    In a batch, ``composer`` builds each distinct body once,
    ``connection`` (an open mail connection) carries every message and
    ``batch`` has the recipients and their choices, read once for all."""

    def mine() -> QuerySet[Delivery]:
        # Every write is conditional on still holding this claim. Built only
        # where needed: a query's filter is not free, and a sent email is
        # marked by ``_mark_sent``.
        return Delivery.objects.filter(
            pk=delivery.pk, status=Status.SENDING, claimed_at=claimed_at
        )

    if batch is not None and delivery.recipient_id in batch.readers:
        delivery.recipient = batch.readers[delivery.recipient_id]
    user = delivery.recipient
    preferences = batch.preferences if batch is not None else preferences_for([user.pk])
    if skip := _not_for(delivery, preferences):
        mine().update(status=Status.SKIPPED, last_error=skip)
        return Outcome(Result.SKIPPED)
    try:
        message = (composer or Composer()).message(delivery)
    except NotVisible as exc:
        # Never sent: it would show what its reader may not open on a page.
        mine().update(status=Status.FAILED, last_error=f"Withheld: {exc}")
        return Outcome(Result.FAILED)
    except Exception as exc:
        # A rendering bug does not heal by retrying: fail it where an admin
        # sees it, and let the other deliveries go on.
        logger.exception("Could not render delivery %s", delivery.pk)
        mine().update(status=Status.FAILED, last_error=f"Rendering failed: {exc!r}")
        return Outcome(Result.FAILED)
    if message is None:
        mine().update(status=Status.SKIPPED, last_error="Nothing to report any more.")
        return Outcome(Result.SKIPPED)

    message.connection = connection
    try:
        if connection is not None:
            connection.open()  # once per batch: then it is open already
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        if connection is not None:
            connection.close()  # the next message opens a fresh one
        return _attempt_failed(delivery, mine(), exc)

    if not _mark_sent(delivery, claimed_at=claimed_at, email=user.email):
        # Only if this worker stalled past the lease and another took over.
        logger.warning("Delivery %s was sent after its claim expired", delivery.pk)
    return Outcome(Result.SENT)


def _mark_sent(delivery: Delivery, *, claimed_at: datetime, email: str) -> bool:
    """Mark ``delivery`` sent, if this worker still holds the claim it made
    at ``claimed_at``: what ``Delivery.objects.filter(pk=..., status=SENDING,
    claimed_at=...).update(status=SENT, ...)`` does, as one statement
    written once (``_mark_sent_sql``) rather than a query built per email,
    which cost a tenth of a month-end sender's time."""
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        Status.SENT.value,
        adapt(timezone.now()),
        email,
        message_id(delivery),
        "",
        delivery.pk,
        Status.SENDING.value,
        adapt(claimed_at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_mark_sent_sql(connection.vendor), params)
        return cursor.rowcount == 1


@functools.cache
def _mark_sent_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    meta = Delivery._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    sets = ", ".join(
        f"{column(name)} = %s"
        for name in ("status", "sent_at", "email", "message_id", "last_error")
    )
    where = " AND ".join(
        f"{column(name)} = %s" for name in ("id", "status", "claimed_at")
    )
    # Names from the model's metadata; every value is a parameter.
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {where}"  # noqa: S608


def _not_for(delivery: Delivery, preferences: dict[int, NotificationPreference]) -> str:
    """Why ``delivery`` is not to be sent to its recipient, or ``""``."""
    user = delivery.recipient
    if not user.is_active or not user.email:
        return "No active user with an address."
    if not wants(preferences.get(user.pk), delivery.kind):
        return "Switched off by the recipient."
    return ""


def _claim(ids: list[int], now: datetime) -> dict[int, Delivery]:
    """Claim every delivery of ``ids`` that may go out now, in one UPDATE,
    and read back the ones this worker holds (claimed at ``now``), by id."""
    _take(Delivery.objects.filter(pk__in=ids), now)
    return Delivery.objects.filter(
        pk__in=ids, status=Status.SENDING, claimed_at=now
    ).in_bulk()


def _extend(held: dict[int, Delivery], since: datetime, now: datetime) -> None:
    """Renew the claim on the deliveries of ``held`` claimed at ``since``
    to ``now``; drop from ``held`` any this worker no longer holds."""
    Delivery.objects.filter(
        pk__in=list(held), status=Status.SENDING, claimed_at=since
    ).update(claimed_at=now)
    kept = set(
        Delivery.objects.filter(
            pk__in=list(held), status=Status.SENDING, claimed_at=now
        ).values_list("pk", flat=True)
    )
    for pk in set(held) - kept:
        del held[pk]


def _not_claimed(delivery_id: int, now: datetime) -> Outcome:
    claimed_at = (
        Delivery.objects.filter(pk=delivery_id, status=Status.SENDING)
        .values_list("claimed_at", flat=True)
        .first()
    )
    if claimed_at is None:
        return Outcome(Result.BUSY)
    left = (claimed_at + lease() - now).total_seconds()
    return Outcome(Result.IN_FLIGHT, countdown=max(left, 0.0) + 1.0)


def _attempt_failed(delivery: Delivery, mine, exc: Exception) -> Outcome:
    error = f"Attempt {delivery.attempts}: {exc!r}"[:2000]
    if _is_permanent(exc) or delivery.attempts >= max_attempts():
        mine.update(status=Status.FAILED, last_error=error)
        logger.error(
            "Email %s to %s failed after %s attempt(s): %s",
            delivery,
            delivery.recipient.email,
            delivery.attempts,
            exc,
        )
        return Outcome(Result.FAILED)
    mine.update(status=Status.PENDING, last_error=error)
    logger.warning("Email %s: temporary failure, will retry: %s", delivery, exc)
    return Outcome(Result.RETRY, countdown=backoff(delivery.attempts))


def deliveries_enqueue(ids: Iterable[int], *, countdown: float = 0.0) -> int:
    """One task per delivery, sent once the current transaction commits, so
    that no worker looks for a row that is not there yet; and one per
    recipient, so that a bad address never holds up the others."""
    queue = settings.SLA_TASK_QUEUE or None
    count = 0
    for pk in ids:
        transaction.on_commit(
            functools.partial(
                _send_task, deliver, (pk,), queue=queue, countdown=countdown
            )
        )
        count += 1
    return count


def deliveries_enqueue_batches(ids: list[int]) -> int:
    """Tasks of ``SLA_EMAIL_BATCH_SIZE`` deliveries each, sent once the
    current transaction commits: the month end fans out to every worker, and
    each worker sends its batch over one mail connection. A delivery that
    fails for a while leaves its batch and is retried on its own."""
    queue = settings.SLA_TASK_QUEUE or None
    size = max(1, int(settings.SLA_EMAIL_BATCH_SIZE))
    batches = [ids[n : n + size] for n in range(0, len(ids), size)]
    for batch in batches:
        transaction.on_commit(
            functools.partial(
                _send_task, deliver_batch, (batch,), queue=queue, countdown=0.0
            )
        )
    return len(batches)


def _send_task(task, args: tuple, *, queue: str | None, countdown: float) -> None:
    """Hand one task to the broker. With the broker down the rows stay
    pending and nothing is lost: the reconcile task requeues rows nobody is
    working on (``deliveries_requeue_stuck``)."""
    try:
        # One try: a broker that is down fails at once (within the connection
        # timeout) instead of holding the job through retries.
        task.apply_async(args=args, queue=queue, countdown=countdown, retry=False)
    except (BrokerError, OSError):
        logger.warning(
            "Could not queue delivery %s (broker unavailable); the reconcile "
            "task will send it",
            args[0],
            exc_info=True,
        )


def deliveries_send_batch(
    ids: list[int], *, progress: Callable[[int, int, Outcome], None] | None = None
) -> dict[Result, int]:
    """Send ``ids`` one after another in this process, over one mail
    connection, each distinct body built once. A delivery that fails for a
    while, or that another worker holds, is handed to the queue on its own
    with its backoff."""
    connection = get_connection()
    try:
        rows = list(
            Delivery.objects.filter(pk__in=ids).values_list(
                "month", "kind", "recipient_id"
            )
        )
        readers = get_user_model().objects.in_bulk({person for *_, person in rows})
        know_users(readers.values())
        with trend_shared(*_batch_teams(rows, readers)):
            return _send_each(
                ids,
                Composer(),
                connection,
                Batch(readers, preferences_for(readers)),
                progress,
            )
    finally:
        connection.close()


def _batch_teams(
    rows: list[tuple[date, str, int]], readers: dict[int, Any]
) -> tuple[date | None, set[int]]:
    """The month of a batch of month-end emails, from its deliveries' (month,
    kind, recipient), and every team their readers lead or head, whose
    agreements' trend cards the batch reads once."""
    shared = [
        (month, person) for month, kind, person in rows if kind in SHARED_TREND_KINDS
    ]
    months = {month for month, _ in shared}
    if len(months) != 1:
        return None, set()
    return months.pop(), {
        team for _, person in shared for team in scorecard_team_ids(readers[person])
    }


def _send_each(
    ids: list[int],
    composer: Composer,
    connection,
    batch: Batch,
    progress: Callable[[int, int, Outcome], None] | None,
) -> dict[Result, int]:
    counts: dict[Result, int] = dict.fromkeys(Result, 0)
    size = max(1, int(settings.SLA_EMAIL_BATCH_SIZE))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        # Claimed together, in one UPDATE; a claim as old as half the lease
        # is renewed, so that no other worker takes over what is still to go.
        claimed_at = timezone.now()
        held = _claim(chunk, claimed_at)
        for delivery in held.values():
            if delivery.recipient_id in batch.readers:
                delivery.recipient = batch.readers[delivery.recipient_id]
        # What each standing's emails of the chunk show is checked together.
        composer.expect(
            d
            for d in held.values()
            if d.recipient_id in batch.readers and not _not_for(d, batch.preferences)
        )
        # What an email builds is freed by reference counting: the garbage
        # collector waits for the end of each batch's worth of emails.
        with collection_paused():
            for done, pk in enumerate(chunk, start=start + 1):
                now = timezone.now()
                if pk in held and now - claimed_at > lease() / 2:
                    _extend(held, claimed_at, now)
                    claimed_at = now
                delivery = held.pop(pk, None)
                if delivery is None:
                    outcome = _not_claimed(pk, now)
                else:
                    outcome = _deliver(
                        delivery,
                        claimed_at=claimed_at,
                        composer=composer,
                        connection=connection,
                        batch=batch,
                    )
                counts[outcome.result] += 1
                if outcome.result in (Result.RETRY, Result.IN_FLIGHT):
                    deliveries_enqueue([pk], countdown=outcome.countdown)
                if progress:
                    progress(done, len(ids), outcome)
    return counts


@transaction.atomic
def deliveries_retry(*, ids: Iterable[int]) -> int:
    """Give failed (or skipped) deliveries another round of attempts, from the
    admin: back to ``pending`` with the attempts reset, and queued."""
    ids = list(ids)
    retried = list(
        Delivery.objects.filter(
            pk__in=ids, status__in=[Status.FAILED, Status.SKIPPED, Status.PENDING]
        ).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=retried).exclude(status=Status.PENDING).update(
        status=Status.PENDING, attempts=0, claimed_at=None
    )
    deliveries_enqueue(retried)
    return len(retried)


@transaction.atomic
def deliveries_resend(*, month, kinds: Iterable[str]) -> list[int]:
    """Send ``month``'s already-sent deliveries of ``kinds`` again: a new
    round of attempts under a new Message-ID, counted in ``resends``."""
    rows = Delivery.objects.filter(
        month=month, kind__in=list(kinds), status=Status.SENT
    )
    ids = list(rows.values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids, status=Status.SENT).update(
        status=Status.PENDING,
        attempts=0,
        claimed_at=None,
        resends=F("resends") + 1,
    )
    logger.info("Resending %s deliveries of %s", len(ids), month)
    return ids
