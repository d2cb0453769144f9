"""Absolute links back to the portal, for emails.

The scorecard and dashboard pages are served under ``/reports/``; their paths
are written out here, in one place, because emails must link to them whether
or not the pages' URL names are known to this module.
"""

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
    return absolute(
        f"/reports/agreements/{agreement_id}/?month={periods.format_month(month)}"
    )


def dashboard() -> str:
    return absolute("/reports/dashboard/")


def agreement(agreement_id: int) -> str:
    return absolute(reverse("agreements:detail", args=[agreement_id]))


def preferences() -> str:
    return absolute(reverse("notifications:preferences"))
