"""Writes of the API app: making and revoking personal API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agreements.rules import require

from .models import ApiToken

# Marks a string as a slaportal token, for people and for secret scanners.
TOKEN_PREFIX = "slp_"  # noqa: S105 - a label, not a secret
# Enough to tell a person's tokens apart, far too few to guess the rest.
VISIBLE_CHARS = len(TOKEN_PREFIX) + 6
MAX_ACTIVE_TOKENS = 20


def token_digest(raw: str) -> str:
    """SHA-256 of the token. A salt or a slow hash adds nothing here: the
    token is 256 random bits, not a password a person chose."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for ``user``. Returns the stored row and the token itself,
    which is not stored and must be shown to the person now."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. what uses it."})
    # Lock the person's row so that two requests at once cannot pass the limit.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user).active().count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            f"You have {MAX_ACTIVE_TOKENS} active tokens, the most one person can "
            "have. Revoke one you no longer use first."
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=raw[:VISIBLE_CHARS], digest=token_digest(raw)
    )
    token.full_clean()
    token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    """Revoke one of the person's own tokens; revoking twice changes nothing."""
    require(user, "revoke_api_token", token, "You can only revoke your own tokens.")
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    return token
