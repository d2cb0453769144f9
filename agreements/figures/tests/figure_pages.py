"""Helpers for the figures page tests: the pages' addresses, the forms' POST
bodies, the personas of the permission matrices, and a count of what the
pages can write."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse

from agreements.models import ClosedCustomer, LeadLogEntry, Measurement


def url(name: str, *args: Any) -> str:
    return reverse(f"figures:{name}", args=args)


def written() -> tuple:
    """Every row and history row the figures pages can write."""
    return (
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
        Measurement.objects.count(),
        Measurement.history.count(),
    )


def lead_data(**overrides: Any) -> dict[str, str]:
    data = {
        "date": "2026-03-14",
        "leads_delivered": "40",
        "qualified_leads": "12",
        "source": "Spring webinar",
        "note": "",
        "client_token": str(uuid.uuid4()),
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def customer_data(**overrides: Any) -> dict[str, str]:
    data = {
        "customer": "Acme GmbH",
        "closed_on": "2026-03-14",
        "deal_value": "12000.50",
        "handover_notes": "Wants a kick-off call.",
        "client_token": str(uuid.uuid4()),
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def measurement_data(of, **overrides: Any) -> dict[str, str]:
    data = {
        "objective": str(of.pk),
        "month": "2026-03",
        "value": "99.5",
        "note": "From the status page.",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def body(response) -> str:
    return response.content.decode()


def prefixed(data: dict[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}-{k}": v for k, v in data.items() if k != "client_token"}
