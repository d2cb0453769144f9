"""Connecting, changing and removing a team's channels: its heads only
(``manage_team_channels``), each change in the channel's history."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from agreements.history import delete_with_history, save_with_history
from agreements.models import Team
from agreements.rules import require

from .fanout import CHANNEL_EVENTS
from .models import TeamChannel
from .secrets import check_webhook, encrypt

logger = logging.getLogger(__name__)


def _check_events(events: list[str]) -> list[str]:
    unknown = set(events) - set(CHANNEL_EVENTS)
    if unknown:
        raise ValidationError(
            {"events": f"Unknown events: {', '.join(sorted(unknown))}"}
        )
    return [event.value for event in CHANNEL_EVENTS if event in events]


def _require(user, team: Team) -> None:
    require(
        user,
        "manage_team_channels",
        team,
        f"Only a head of {team} connects its channels.",
    )


@transaction.atomic
def channel_add(
    *, team: Team, user, kind: str, name: str, webhook_url: str, events: list[str]
) -> TeamChannel:
    """Connect a channel. The address is checked (``check_webhook``), kept
    encrypted, and never shown again but for its last four characters."""
    _require(user, team)
    try:
        url = check_webhook(kind, webhook_url)
    except ValidationError as exc:
        raise ValidationError({"webhook_url": exc.messages}) from None
    channel = TeamChannel(
        team=team,
        kind=kind,
        name=name.strip(),
        events=_check_events(events),
        webhook_encrypted=encrypt(url),
        webhook_end=url[-4:],
        created_by=user,
    )
    channel.full_clean()
    save_with_history(channel, user=user, reason="connected")
    logger.info("Team %s connected channel %s (%s)", team.pk, channel.pk, kind)
    return channel


@transaction.atomic
def channel_events_update(
    *, channel: TeamChannel, user, events: list[str]
) -> TeamChannel:
    _require(user, channel.team)
    channel = TeamChannel.objects.select_for_update().get(pk=channel.pk)
    channel.events = _check_events(events)
    channel.full_clean()
    save_with_history(channel, user=user, reason="events chosen")
    return channel


@transaction.atomic
def channel_remove(*, channel: TeamChannel, user) -> None:
    """Disconnect the channel; its messages not yet posted are dropped."""
    _require(user, channel.team)
    delete_with_history(channel, user=user, reason="removed")
