"""Helpers for the friction and knowledge base page tests: the pages'
addresses, the report form's POST body, and a count of what the pages can
write."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse

from agreements.models import FrictionComment, FrictionReport, PainPoint


def url(name: str, *args: Any) -> str:
    return reverse(f"friction:{name}", args=args)


def kb(name: str, *args: Any) -> str:
    return reverse(f"knowledge:{name}", args=args)


def written() -> tuple:
    return (
        FrictionReport.objects.count(),
        FrictionReport.history.count(),
        FrictionComment.objects.count(),
        PainPoint.objects.count(),
        PainPoint.history.count(),
    )


def report_data(sales, service, **overrides: Any) -> dict[str, str]:
    data = {
        "reporting_team": str(sales.pk),
        "addressed_team": str(service.pk),
        "month": "2026-03",
        "customer": "Acme GmbH",
        "category": "billing",
        "severity": "high",
        "description": "Invoices arrive two weeks late.",
        "business_impact": "Renewal at risk.",
        "suggested_action": "Send invoices on the 1st.",
        "tags": "Billing, late invoices",
        "client_token": str(uuid.uuid4()),
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def body(response) -> str:
    return response.content.decode()
