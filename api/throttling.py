"""Request rates per person and per anonymous client.

Counted in the default cache, which all processes share. Clients are told
apart by ``slaportal.net.client_ip``, which trusts X-Forwarded-For only as far
as our own proxies: DRF's default reads the header as the client sent it, so
any client could reset its own counter.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from slaportal.net import client_ip


class _SettingsRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        # DRF copies the rates into a class attribute at import; reading them
        # here lets settings (and tests) change them at run time.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request: Request) -> str:
        return client_ip(request) or "unknown"


class AnonThrottle(_SettingsRateMixin, AnonRateThrottle):
    """Requests without credentials, per client address."""


class UserThrottle(_SettingsRateMixin, UserRateThrottle):
    """Requests of a signed-in person or token, per person."""
