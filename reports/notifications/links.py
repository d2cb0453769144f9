"""Absolute links back to the portal, for emails, in one place."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from agreements import periods


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def portal() -> str:
    return absolute(reverse("home"))


def scorecard(agreement_id: int, month: date) -> str:
    path = _path("reports:scorecard", agreement_id, get_script_prefix(), _urlconf())
    return absolute(f"{path}?month={periods.format_month(month)}")


def dashboard() -> str:
    return absolute(reverse("reports:dashboard"))


def agreement(agreement_id: int) -> str:
    return absolute(
        _path("agreements:detail", agreement_id, get_script_prefix(), _urlconf())
    )


def _urlconf() -> str:
    """The URLconf ``reverse`` would use now: the thread's, else the
    settings' (which a test may override)."""
    return get_urlconf() or settings.ROOT_URLCONF


@lru_cache(maxsize=8192)
def _path(name: str, pk: int, prefix: str, urlconf: str) -> str:
    """``reverse(name, args=[pk])``, worked out once for each object: a
    month end's emails link the same agreements' pages some 9,000 times.
    The script prefix and URLconf in force are part of the key, so a
    cached path is only ever one that ``reverse`` would give now."""
    return reverse(name, args=[pk], urlconf=urlconf)


def preferences() -> str:
    return absolute(reverse("notifications:preferences"))


def inbox() -> str:
    return absolute(reverse("notifications:inbox"))


def notification(pk: int) -> str:
    """Opens the notification's object and marks it read."""
    return absolute(reverse("notifications:open", args=[pk]))
