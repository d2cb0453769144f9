"""Helpers the demo data shares: dates in the organisation's time zone, never
later than now, and rows written with their history as of a given moment."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

from django.db import models
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .. import periods

SEED = 20240917


def rng(name: str) -> random.Random:
    """A random source per part of the data, so that changing one part does
    not reshuffle the others."""
    return random.Random(f"{SEED}:{name}")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute`` on the organisation's clock, but never in
    the future (data for today stops a little before now)."""
    moment = dt.datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=periods.org_zone()
    )
    latest = timezone.now() - dt.timedelta(minutes=5)
    return min(moment, latest)


def month_days(month: dt.date, *, weekdays_only: bool = True) -> list[dt.date]:
    """The days of ``month`` up to today, working days only by default."""
    last = min(periods.month_end(month).date() - dt.timedelta(days=1), periods.today())
    days = []
    day = month
    while day <= last:
        if not weekdays_only or day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def stamp(instance: models.Model, *, when: dt.datetime, user, reason: str):
    """What the history row of the next save records."""
    instance._history_date = when
    instance._history_user = user
    instance._change_reason = reason
    return instance


def create_dated(model: type[models.Model], rows: Iterable[models.Model]) -> list:
    """Insert ``rows`` (each stamped) with their history, then give each its
    ``created_at`` as of its history date (the column fills itself with now)."""
    rows = list(rows)
    if not rows:
        return []
    created = bulk_create_with_history(rows, model, batch_size=500)
    for row, original in zip(created, rows, strict=True):
        row.created_at = original._history_date
    model.objects.bulk_update(created, ["created_at"], batch_size=500)
    # The history rows copied ``created_at`` before it was set: align them.
    model.history.filter(id__in=[row.pk for row in created], history_type="+").update(
        created_at=F("history_date")
    )
    return created


def save_dated(instance: models.Model, *, when: dt.datetime, user, reason: str):
    stamp(instance, when=when, user=user, reason=reason)
    instance.save()
    return instance


def backdate_last_history(instance: models.Model, when: dt.datetime) -> None:
    """Date the newest history row of ``instance`` (written by a service just
    now) to the moment the change would really have been made."""
    record = instance.history.order_by("-history_date", "-history_id").first()
    if record is not None:
        type(record).objects.filter(pk=record.pk).update(history_date=when)
