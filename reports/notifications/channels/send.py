"""Posting to a channel: the message in Slack's or Teams' format, the HTTP
request, and the ledger's claim and mark around it (exactly once, retried
with a backoff on a 5xx answer or a network failure, failed at once on a
4xx answer with the reason shown on the channel page).

Not wrapped in a transaction, like the email ledger: the claim is committed
before the request goes out and the mark after it.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone

from ..ledger import Outcome, Result, backoff, lease, max_attempts
from .models import ChannelDelivery, TeamChannel
from .secrets import Unreadable, check_webhook, decrypt

logger = logging.getLogger(__name__)
Status = ChannelDelivery.Status
TIMEOUT_SECONDS = 10


# --- The message ------------------------------------------------------------


def link(url: str) -> str:
    """The portal address of a page path."""
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(text: str, url: str) -> dict:
    """One line and a link back: ``{"text": ...}`` in Slack's mrkdwn."""
    return {"text": f"{_slack_escape(text)} <{link(url)}|Open in the portal>"}


def teams_payload(text: str, url: str) -> dict:
    """An Adaptive Card as a Teams Workflows webhook takes it."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": text, "wrap": True}],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "Open in the portal",
                            "url": link(url),
                        }
                    ],
                },
            }
        ],
    }


PAYLOADS = {
    TeamChannel.Kind.SLACK: slack_payload,
    TeamChannel.Kind.TEAMS: teams_payload,
}


def payload(channel: TeamChannel, text: str, url: str) -> dict:
    return PAYLOADS[TeamChannel.Kind(channel.kind)](text, url)


# --- The request ------------------------------------------------------------


class PostFailed(Exception):
    """The channel refused the message, or could not be reached.
    ``permanent``: trying again will not help (a 4xx answer)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answers where it was asked: following a redirect could take
    the message to an address nobody checked (``check_webhook``)."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(channel: TeamChannel, body: dict) -> None:
    """POST ``body`` as JSON to the channel's webhook. The address is read
    here and never logged nor put in an error."""
    try:
        url = check_webhook(channel.kind, decrypt(channel.webhook_encrypted))
    except Unreadable as exc:
        raise PostFailed(str(exc), permanent=True) from None
    except ValidationError:
        raise PostFailed(
            "The stored webhook address is no longer accepted.", permanent=True
        ) from None
    # check_webhook allowed only https (and http to 127.0.0.1 locally).
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        answer = exc.read(200).decode(errors="replace").strip()
        reason = f"The channel answered {exc.code} {exc.reason}" + (
            f": {answer}" if answer else ""
        )
        # A 4xx (or a redirect) will not change by trying again.
        raise PostFailed(reason[:500], permanent=exc.code < 500) from None
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", None) or exc.__class__.__name__
        raise PostFailed(
            f"The channel could not be reached: {why}"[:500], permanent=False
        ) from None


# --- The ledger -------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    due = Q(not_before=None) | Q(not_before__lte=now)
    return (Q(status=Status.PENDING) & due) | Q(
        status=Status.SENDING, claimed_at__lt=now - lease()
    )


def visible_to_team(delivery: ChannelDelivery, team_id: int) -> bool:
    """Whether every member of the team may open what the message is about:
    the same rules as the pages' for a member who is no executive."""
    if delivery.breach_id:
        from ...models import Breach

        return (
            Breach.objects.filter(pk=delivery.breach_id)
            .filter(
                Q(agreement__provider_id=team_id) | Q(agreement__consumer_id=team_id)
            )
            .exists()
        )
    if delivery.friction_report_id:
        from agreements.models import FrictionReport

        return (
            FrictionReport.objects.filter(pk=delivery.friction_report_id)
            .filter(Q(reporting_team_id=team_id) | Q(addressed_team_id=team_id))
            .exists()
        )
    if delivery.agreement_id:
        from agreements.models import Agreement

        return (
            Agreement.objects.filter(pk=delivery.agreement_id)
            .filter(Q(provider_id=team_id) | Q(consumer_id=team_id))
            .exists()
        )
    return False  # about nothing we can check: send less


def channel_delivery_send(*, delivery_id: int, now: datetime | None = None) -> Outcome:
    """Claim the channel delivery, post it, mark it sent: once."""
    now = now or timezone.now()
    claimed = (
        ChannelDelivery.objects.filter(pk=delivery_id)
        .filter(_claimable(now))
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return Outcome(Result.BUSY)
    delivery = ChannelDelivery.objects.select_related("channel").get(pk=delivery_id)
    mine = ChannelDelivery.objects.filter(
        pk=delivery_id, status=Status.SENDING, claimed_at=now
    )
    channel = delivery.channel
    if not channel.hears(delivery.event):
        mine.update(status=Status.SKIPPED, last_error="The channel no longer hears it.")
        return Outcome(Result.SKIPPED)
    if not visible_to_team(delivery, channel.team_id):
        mine.update(
            status=Status.FAILED,
            last_error="Withheld: not every member of the team may see it.",
        )
        return Outcome(Result.FAILED)
    try:
        post(channel, payload(channel, delivery.text, delivery.url))
    except PostFailed as exc:
        error = f"Attempt {delivery.attempts}: {exc}"[:2000]
        if exc.permanent or delivery.attempts >= max_attempts():
            mine.update(status=Status.FAILED, last_error=error)
            TeamChannel.objects.filter(pk=channel.pk).update(
                last_error=str(exc)[:500], last_error_at=now
            )
            logger.error(
                "Channel %s: message %s failed: %s", channel.pk, delivery_id, exc
            )
            return Outcome(Result.FAILED)
        mine.update(status=Status.PENDING, last_error=error)
        logger.warning("Channel %s: temporary failure, will retry: %s", channel.pk, exc)
        return Outcome(Result.RETRY, countdown=backoff(delivery.attempts))
    mine.update(status=Status.SENT, sent_at=timezone.now(), last_error="")
    return Outcome(Result.SENT)


@dataclass(frozen=True)
class TestResult:
    ok: bool
    error: str = ""


def channel_test_post(channel: TeamChannel, *, user) -> TestResult:
    """Post a test message now, outside the ledger; say how it went."""
    name = user.get_full_name() or user.username
    text = (
        f"A test message from the SLA portal, sent by {name}: "
        f"{channel.name} is connected."
    )
    try:
        post(channel, payload(channel, text, "/"))
    except PostFailed as exc:
        TeamChannel.objects.filter(pk=channel.pk).update(
            last_error=str(exc)[:500], last_error_at=timezone.now()
        )
        return TestResult(False, str(exc))
    TeamChannel.objects.filter(pk=channel.pk).update(last_error="", last_error_at=None)
    return TestResult(True)
