"""The client's address, trusting X-Forwarded-For only as far as our proxies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Address of the client, for login throttling.

    With ``TRUSTED_PROXY_COUNT = n`` (n proxies in front of the portal, each
    appending to X-Forwarded-For), the client is the n-th address from the
    right: entries further left were written by the client and can be forged.
    With 0, the header is ignored and the connection's address is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]
