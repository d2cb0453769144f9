"""Setting up a record source: its webhook's secret, set, rotated or
turned off by a head of its team (or an administrator)."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.db import transaction

from ..history import save_with_history
from ..rules import require
from .models import (
    RecordSource,
)


def _managed(source: RecordSource, user: User) -> RecordSource:
    """The source's row, locked, for a person who may set it up."""
    require(
        user,
        "manage_record_sources",
        source,
        f"Only a head of {source.team} or an administrator can set up its sources.",
    )
    return RecordSource.objects.select_for_update().get(pk=source.pk)


@transaction.atomic
def source_webhook_secret_rotate(*, source: RecordSource, user: User) -> RecordSource:
    """Give the source a new webhook secret, turning its webhook on; the old
    secret stops working at once. A head of the source's team, or an
    administrator. The history says when and by whom, never the secret."""
    source = _managed(source, user)
    first = not source.webhook_secret
    source.webhook_secret = secrets.token_urlsafe(32)
    save_with_history(
        source,
        user=user,
        reason="webhook secret set" if first else "webhook secret rotated",
        update_fields=["webhook_secret"],
    )
    return source


@transaction.atomic
def source_webhook_off(*, source: RecordSource, user: User) -> RecordSource:
    """Turn the source's webhook off: its secret is dropped, and every signed
    request is refused until a head sets a new one."""
    source = _managed(source, user)
    if source.webhook_secret:
        source.webhook_secret = ""
        save_with_history(
            source,
            user=user,
            reason="webhook turned off",
            update_fields=["webhook_secret"],
        )
    return source
