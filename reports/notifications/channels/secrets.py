"""A channel's webhook address: checked, encrypted at rest, never shown again.

The key is ``SLA_CHANNEL_KEY`` (a Fernet key) when set, otherwise derived
from ``SECRET_KEY`` with HKDF, so that a database copy alone does not give
away the addresses. Changing either key makes the stored addresses
unreadable: each channel must then be connected again.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError

SLACK_HOSTS = ("hooks.slack.com",)
# Power Automate "When a Teams webhook request is received" addresses.
TEAMS_HOST_ENDINGS = (".logic.azure.com", ".api.powerplatform.com")
RETIRED_TEAMS_ENDINGS = (".webhook.office.com", "outlook.office.com")
LOCAL_HOSTS = ("127.0.0.1",)


def _fernet() -> Fernet:
    key = getattr(settings, "SLA_CHANNEL_KEY", "") or ""
    if key:
        return Fernet(key.encode() if isinstance(key, str) else key)
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"slaportal-team-channels",
        info=b"webhook addresses",
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(url: str) -> str:
    return _fernet().encrypt(url.encode()).decode()


class Unreadable(Exception):
    """The stored address cannot be decrypted: the key changed."""


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise Unreadable(
            "The webhook address cannot be read (the key changed): connect the "
            "channel again."
        ) from exc


def local_allowed() -> bool:
    """http://127.0.0.1 (a local sink) in development and the tests only."""
    return bool(settings.DEBUG or getattr(settings, "SLA_CHANNEL_ALLOW_LOCAL", False))


def check_webhook(kind: str, url: str) -> str:
    """The address, stripped, if it is one a channel of ``kind`` may post
    to; ``ValidationError`` saying why not otherwise."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise ValidationError("This is not a web address.") from exc
    if parts.scheme == "http" and host in LOCAL_HOSTS and local_allowed():
        return url
    if parts.scheme != "https" or not host:
        raise ValidationError("The webhook address must start with https://.")
    if parts.username or parts.password:
        raise ValidationError("The webhook address may not carry a user or password.")
    if kind == "slack":
        if host not in SLACK_HOSTS or not parts.path.startswith("/services/"):
            raise ValidationError(
                "A Slack incoming webhook starts with "
                "https://hooks.slack.com/services/."
            )
    elif kind == "teams":
        if host.endswith(RETIRED_TEAMS_ENDINGS) or host == "outlook.office.com":
            raise ValidationError(
                "Office 365 connectors (webhook.office.com) are retired by "
                "Microsoft: create a Workflows webhook in Teams (“When a Teams "
                "webhook request is received”) and paste its address."
            )
        if not host.endswith(TEAMS_HOST_ENDINGS):
            raise ValidationError(
                "A Teams Workflows webhook is on logic.azure.com or "
                "api.powerplatform.com."
            )
    else:
        raise ValidationError("Choose Slack or Microsoft Teams.")
    return url
