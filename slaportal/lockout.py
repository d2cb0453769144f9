"""Log-in throttling, on top of django-axes.

- **Per username, from any address** (axes): after ``AXES_FAILURE_LIMIT``
  failures a username is locked, wherever the guesses come from; each
  lock-out in the last day doubles the next cool-off (``cool_off``), up to a
  day.
- **Per address, across usernames** (here): ``LOGIN_ADDRESS_FAILURE_LIMIT``
  failures from one address within ``LOGIN_ADDRESS_WINDOW_MINUTES`` block
  further log-ins from it, so spraying one guess at many usernames stops too.
  Higher than the per-username limit: an office behind one address is many
  people.

Both count in stores every process shares (the database, the cache).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from .net import client_ip

logger = logging.getLogger("slaportal.security")
MAX_COOL_OFF = timedelta(days=1)


def _base_cool_off() -> timedelta:
    return timedelta(minutes=float(settings.LOGIN_COOLOFF_MINUTES))


def _username(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    credentials = getattr(request, "axes_credentials", None) or {}
    name = credentials.get("username") or request.POST.get("username", "")
    return str(name)[:150]


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """The cool-off of a locked username: the base, doubled for each time it
    was locked out in the last day (``AXES_COOLOFF_TIME``)."""
    base = _base_cool_off()
    username = _username(request)
    if not username:
        return base
    from axes.models import AccessFailureLog

    since = timezone.now() - timedelta(days=1)
    lockouts = AccessFailureLog.objects.filter(
        username=username, locked_out=True, attempt_time__gte=since
    ).count()
    return min(base * (2 ** max(lockouts - 1, 0)), MAX_COOL_OFF)


def _address_key(address: str) -> str:
    return f"login-failures:{address}"


@receiver(user_login_failed)
def _count_address_failure(sender, credentials, request=None, **kwargs) -> None:
    address = client_ip(request) if request is not None else None
    if not address:
        return
    key = _address_key(address)
    window = int(float(settings.LOGIN_ADDRESS_WINDOW_MINUTES) * 60)
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)


def address_blocked(request: HttpRequest) -> bool:
    address = client_ip(request)
    if not address:
        return False
    failures = cache.get(_address_key(address)) or 0
    return failures >= int(settings.LOGIN_ADDRESS_FAILURE_LIMIT)


class LoginAddressThrottleMiddleware:
    """Refuses log-in attempts from an address that failed too often."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._paths: set[str] | None = None

    def _login_paths(self) -> set[str]:
        if self._paths is None:
            self._paths = {reverse("login"), reverse("admin:login")}
        return self._paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.path in self._login_paths()
            and address_blocked(request)
        ):
            logger.warning(
                "login refused: too many failures from one address",
                extra={"event": "login_address_blocked", "path": request.path},
            )
            return render(
                request,
                "registration/locked_out.html",
                {"by_address": True},
                status=429,
            )
        return self.get_response(request)
