"""Absolute links back to the portal, for emails, in one place."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.urls import reverse

from agreements import periods


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def portal() -> str:
    return absolute(reverse("home"))


def scorecard(agreement_id: int, month: date) -> str:
    path = reverse("reports:scorecard", args=[agreement_id])
    return absolute(f"{path}?month={periods.format_month(month)}")


def dashboard() -> str:
    return absolute(reverse("reports:dashboard"))


def agreement(agreement_id: int) -> str:
    return absolute(reverse("agreements:detail", args=[agreement_id]))


def preferences() -> str:
    return absolute(reverse("notifications:preferences"))


def inbox() -> str:
    return absolute(reverse("notifications:inbox"))


def notification(pk: int) -> str:
    """Opens the notification's object and marks it read."""
    return absolute(reverse("notifications:open", args=[pk]))
