"""The in-portal inbox: reading, marking read, and forgetting old entries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.functional import cached_property

from ..models import Notification
from .visibility import Shown, not_visible


class UnreadCount:
    """The bell's count, counted (one COUNT) only if a page shows the bell."""

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def count(self) -> int:
        return Notification.objects.filter(recipient=self.user, read_at=None).count()


def shown_by(notifications: Iterable[Notification]) -> Shown:
    """What the notifications' texts show."""
    shown = Shown()
    for n in notifications:
        if n.agreement_id:
            shown.agreements.add(n.agreement_id)
        if n.breach_id:
            shown.breaches.add(n.breach_id)
        if n.friction_report_id:
            shown.friction_reports.add(n.friction_report_id)
    return shown


def hidden_from(user, notifications: list[Notification]) -> set[int]:
    """The notifications about something ``user`` may no longer open (they
    left its team): their text is not shown. Three queries at most."""
    missing = not_visible(user, shown_by(notifications))
    if not missing:
        return set()
    return {
        n.pk
        for n in notifications
        if n.agreement_id in missing.get("agreements", ())
        or n.breach_id in missing.get("breaches", ())
        or n.friction_report_id in missing.get("friction_reports", ())
    }


@dataclass
class Entry:
    notification: Notification
    hidden: bool


def entries(user, notifications: list[Notification]) -> list[Entry]:
    hidden = hidden_from(user, notifications)
    return [Entry(n, n.pk in hidden) for n in notifications]


def notification_read(*, notification: Notification, now: datetime | None = None):
    """Mark it read, if it was not: a conditional update, no lost writes."""
    Notification.objects.filter(pk=notification.pk, read_at=None).update(
        read_at=now or timezone.now()
    )


@transaction.atomic
def notifications_read_all(*, user, now: datetime | None = None) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).update(
        read_at=now or timezone.now()
    )


def notifications_clear_old(*, now: datetime | None = None) -> int:
    """Forget notifications older than ``Notification.KEEP_DAYS`` days."""
    cutoff = (now or timezone.now()) - timedelta(days=Notification.KEEP_DAYS)
    deleted, _ = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted
