"""Which team channels hear of each notice: one ``ChannelDelivery`` per
channel, event and occurrence, written in the transaction of the change and
posted when it commits.

A channel of a team hears of a notice when it chose the notice's event, the
notice's object belongs to the team (a party of the agreement or of the
breached agreement, the reporting or addressed team of a friction report:
what every member of the team may open on its pages), and the notice was
meant for people of that team. Outside the team's working hours a notice
that is not critical waits for the next working period.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from agreements.models import Agreement, FrictionReport, Membership

from ...models import Breach, Notification
from ..quiet import next_working, team_calendars
from .models import ChannelDelivery, TeamChannel

Event = Notification.Event

# The events a channel may hear of. Those that speak to one person ("assigned
# you", "which you proposed") are not posted to a team's channel.
CHANNEL_EVENTS = (
    Event.FRICTION_FILED,
    Event.FRICTION_STATUS,
    Event.FRICTION_COMMENT,
    Event.SIGNATURE_AWAITED,
    Event.AGREEMENT_ACTIVE,
    Event.AGREEMENT_RETIRED,
    Event.REVIEW_DUE,
    Event.BREACH_OPENED,
    Event.BREACH_ACKNOWLEDGED,
    Event.BREACH_RESOLVED,
    Event.FIGURES_MISSING,
)


def event_choices() -> list[tuple[str, str]]:
    return [(event.value, event.label) for event in CHANNEL_EVENTS]


def teams_of_objects(notices: list[Any]) -> dict[tuple[str, int], set[int]]:
    """The teams each notice's object belongs to, keyed ``(kind, pk)``; three
    queries at most."""
    found: dict[tuple[str, int], set[int]] = {}
    agreement_ids = {n.agreement_id for n in notices if n.agreement_id}
    for pk, provider, consumer in Agreement.objects.filter(
        pk__in=agreement_ids
    ).values_list("pk", "provider_id", "consumer_id"):
        found["agreement", pk] = {provider, consumer}
    breach_ids = {n.breach_id for n in notices if n.breach_id}
    for pk, provider, consumer in Breach.objects.filter(pk__in=breach_ids).values_list(
        "pk", "agreement__provider_id", "agreement__consumer_id"
    ):
        found["breach", pk] = {provider, consumer}
    report_ids = {n.friction_report_id for n in notices if n.friction_report_id}
    for pk, reporting, addressed in FrictionReport.objects.filter(
        pk__in=report_ids
    ).values_list("pk", "reporting_team_id", "addressed_team_id"):
        found["friction", pk] = {reporting, addressed}
    return found


def object_of(notice: Any) -> tuple[str, int] | None:
    if notice.breach_id:
        return ("breach", notice.breach_id)
    if notice.friction_report_id:
        return ("friction", notice.friction_report_id)
    if notice.agreement_id:
        return ("agreement", notice.agreement_id)
    return None


def channel_deliveries_create(
    notices: Iterable[Any], *, now: datetime, enqueue: bool = True
) -> list[int]:
    """Write the channel deliveries of ``notices`` that do not exist yet and
    queue those due now; return the ids written. One query when no channel
    hears of any of them."""
    notices = [n for n in notices if n.event in CHANNEL_EVENTS and object_of(n)]
    if not notices:
        return []
    wanted = {n.event for n in notices}
    channels = [
        c
        for c in TeamChannel.objects.all()
        if any(event in c.events for event in wanted)
    ]
    if not channels:
        return []
    objects = teams_of_objects(notices)
    recipient_ids = {u.pk for n in notices for u in n.recipients if u is not None}
    teams_of: dict[int, set[int]] = defaultdict(set)
    for user_id, team_id in Membership.objects.filter(
        user_id__in=recipient_ids
    ).values_list("user_id", "team_id"):
        teams_of[user_id].add(team_id)
    calendars = team_calendars({c.team_id for c in channels})
    starts = {pk: next_working(cal, now) for pk, cal in calendars.items()}

    rows = []
    for notice in notices:
        owners = objects.get(object_of(notice), set())  # type: ignore[arg-type]
        meant_for = {
            team for u in notice.recipients if u is not None for team in teams_of[u.pk]
        }
        for channel in channels:
            if not channel.hears(notice.event):
                continue
            if channel.team_id not in owners or channel.team_id not in meant_for:
                continue
            start = starts.get(channel.team_id)
            held = not notice.critical and start is not None and start > now
            rows.append(
                ChannelDelivery(
                    channel=channel,
                    event=notice.event,
                    key=notice.key,
                    text=notice.text[:400],
                    url=notice.url,
                    agreement_id=notice.agreement_id,
                    breach_id=notice.breach_id,
                    friction_report_id=notice.friction_report_id,
                    not_before=start if held else None,
                )
            )
    if not rows:
        return []
    ChannelDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = {(r.channel.pk, r.event, r.key) for r in rows}
    written = [
        (pk, not_before)
        for pk, channel_id, event, key, not_before in ChannelDelivery.objects.filter(
            channel__in=channels,
            key__in={r.key for r in rows},
            status=ChannelDelivery.Status.PENDING,
            attempts=0,
        ).values_list("pk", "channel_id", "event", "key", "not_before")
        if (channel_id, event, key) in keys
    ]
    if enqueue:
        channel_deliveries_enqueue(sorted(pk for pk, held in written if held is None))
    return sorted(pk for pk, _ in written)


def channel_deliveries_enqueue(ids: Iterable[int], *, countdown: float = 0.0) -> int:
    """One task per channel delivery, sent once the transaction commits."""
    from ..ledger import _send_task  # the same broker-down handling as emails
    from ..tasks import deliver_to_channel

    queue = settings.SLA_TASK_QUEUE or None
    count = 0
    for pk in ids:
        transaction.on_commit(
            functools.partial(
                _send_task, deliver_to_channel, (pk,), queue=queue, countdown=countdown
            )
        )
        count += 1
    return count
