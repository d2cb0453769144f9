"""Event notifications: one inbox entry per event and person, and its email.

``notify`` writes each event's ``Notification`` rows (at most one per
person, event and occurrence: a unique constraint), and for those emailed at
once a ``Delivery`` row (kind ``event``) in the same transaction; the send
tasks are queued when it commits. The delivery ledger then sends each email
exactly once, with its retries and its lease. Emails chosen for the daily
summary wait for ``jobs.event_summaries_due``.

Who hears of which event, and what it says, is in ``notices``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from agreements import periods

from ..bulk import rows_insert
from ..models import Delivery, Notification, NotificationPreference
from .channels.fanout import channel_deliveries_create
from .ledger import deliveries_enqueue
from .models import EmailTiming
from .quiet import people_not_before
from .recipients import PREFERENCE_OF_EVENT, preferences_for

Event = Notification.Event
Email = Notification.Email


@dataclass(frozen=True)
class Notice:
    """One event to tell people of.

    ``key`` tells apart its occurrences (``friction-12``,
    ``friction-12-status-resolved``): announcing the same occurrence again
    notifies nobody again. ``url`` is the path of the page of what it is
    about, which ``agreement_id``, ``breach_id`` or ``friction_report_id``
    name for the visibility check. ``urgent`` sends it at once even to those
    who chose a daily summary; ``critical`` sends it even outside the
    recipient's working hours (``quiet``); ``email=False`` puts it in the
    inbox only (another email already says it).
    """

    event: str
    key: str
    text: str
    url: str
    recipients: Iterable
    actor: object | None = None
    urgent: bool = False
    critical: bool = False
    email: bool = True
    agreement_id: int | None = None
    breach_id: int | None = None
    friction_report_id: int | None = None


def email_timing(
    event: str, preference: NotificationPreference | None, *, urgent: bool = False
) -> str:
    """How ``event``'s email goes to the person with ``preference``."""
    field = PREFERENCE_OF_EVENT[event]
    if field is None:
        return Email.AT_ONCE
    chosen = getattr(preference, field) if preference else EmailTiming.AT_ONCE
    if chosen == EmailTiming.OFF:
        return Email.NONE
    if urgent or chosen == EmailTiming.AT_ONCE:
        return Email.AT_ONCE
    return Email.DAILY


def notify(notices: Iterable[Notice], *, enqueue: bool = True) -> int:
    """Write the notifications of ``notices`` that do not exist yet, and the
    deliveries of those emailed at once; return how many were new.

    The actor hears nothing of their own action, nor does anybody inactive.
    Call it inside the transaction of the change it announces: the emails
    are queued when that commits. A fixed number of queries (a few more past
    ``READ_BACK`` emails at once), however many notices and people. The rows
    are written as plain values, not models: a month's close writes one per
    breach and leader.
    """
    notices = list(notices)
    now = timezone.now()
    channel_deliveries_create(notices, now=now, enqueue=enqueue)
    pairs = []
    for notice in notices:
        actor_id = getattr(notice.actor, "pk", None)
        seen: set[int] = set()
        for user in notice.recipients:
            if user is None or user.id in seen or user.id == actor_id:
                continue
            seen.add(user.id)
            if user.is_active:
                pairs.append((notice, user))
    if not pairs:
        return 0
    prefs = preferences_for({user.id for _, user in pairs})
    texts = {id(notice): clip(notice.text, 400) for notice in notices}
    rows = {
        (user.id, notice.event, notice.key): {
            "recipient_id": user.id,
            "event": notice.event,
            "key": notice.key,
            "text": texts[id(notice)],
            "url": notice.url,
            "agreement_id": notice.agreement_id,
            "breach_id": notice.breach_id,
            "friction_report_id": notice.friction_report_id,
            "email": email_timing(
                notice.event, prefs.get(user.id), urgent=notice.urgent
            )
            if notice.email
            else Email.NONE,
            "created_at": now,
        }
        for notice, user in pairs
    }
    # A notification that exists already (the same occurrence announced
    # again) is left alone by the unique constraint; the ones written now are
    # those created at this very moment. Only those emailed at once are read
    # back, for their deliveries: a month's close emails none of its own.
    count = rows_insert(Notification, list(rows.values()), ignore_conflicts=True)
    users = {user.id: user for _, user in pairs}
    emailed = {
        key
        for key, row in rows.items()
        if row["email"] == Email.AT_ONCE and users[row["recipient_id"]].email
    }
    if not emailed:
        return count
    critical = {(n.event, n.key) for n, _ in pairs if n.critical}
    _deliveries_create(
        [
            Notification(
                pk=pk,
                recipient=users[recipient_id],
                event=event,
                key=key,
                created_at=now,
            )
            for pk, recipient_id, event, key in Notification.objects.filter(
                created_at=now
            ).values_list("pk", "recipient_id", "event", "key")
            if (recipient_id, event, key) in emailed
        ],
        enqueue=enqueue,
        now=now,
        critical=critical,
    )
    return count


# Keys read back per query: well inside SQLite's parameter limit.
READ_BACK = 500


def delivery_key(notification: Notification) -> str:
    return f"notification-{notification.pk}"


def _deliveries_create(
    notifications: list[Notification],
    *,
    enqueue: bool,
    now: datetime,
    critical: set[tuple[str, str]],
) -> None:
    """One ledger row per notification, in the month it was created: a
    second writer of the same notification collides on the ledger's unique
    constraint and writes nothing. Outside the recipient's working hours a
    row that is not critical is held until they start again (``quiet``)."""
    if not notifications:
        return
    held = people_not_before(
        {n.recipient_id for n in notifications if (n.event, n.key) not in critical},
        now,
    )
    rows = [
        Delivery(
            month=periods.month_of(n.created_at),
            recipient_id=n.recipient_id,
            kind=Delivery.Kind.EVENT,
            subject_key=delivery_key(n),
            not_before=None
            if (n.event, n.key) in critical
            else held.get(n.recipient_id),
        )
        for n in notifications
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [r.subject_key for r in rows]
    ids = [
        pk
        for start in range(0, len(keys), READ_BACK)
        for pk in Delivery.objects.filter(
            kind=Delivery.Kind.EVENT,
            subject_key__in=keys[start : start + READ_BACK],
            status=Delivery.Status.PENDING,
            attempts=0,
            not_before=None,
        ).values_list("pk", flat=True)
    ]
    if enqueue:
        deliveries_enqueue(sorted(ids))


def clip(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
