"""Helpers for the agreements API tests: addresses, request bodies, the
error envelope and the row counts a write would change."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from agreements.models import (
    Agreement,
    ClosedCustomer,
    LeadLogEntry,
    Measurement,
    Objective,
    Signature,
)
from agreements.records.models import Incident, MaintenanceWindow, ServiceRequest
from agreements.tests.builders import friction_counts
from api.models import IdempotencyKey
from reports.models import Breach

LIST = reverse("api:v1:agreement-list")


def detail(agreement: Agreement, action: str | None = None) -> str:
    name = "detail" if action is None else action
    return reverse(f"api:v1:agreement-{name}", args=[agreement.pk])


def new_agreement(provider, consumer, **fields: Any) -> dict[str, Any]:
    return {
        "provider": provider.pk,
        "consumer": consumer.pk,
        "title": "Qualified leads for Sales",
        "effective_from": "2026-01-01",
        "compensation_clause": "Make up the shortfall next month.",
        "objectives": [
            {
                "name": "Qualified leads",
                "metric_source": "qualified_leads",
                "target": "200",
            }
        ],
        **fields,
    }


def error(response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    assert body["error"]["message"]
    return body["error"]


def database_state() -> tuple[int, ...]:
    """Row counts a write would change, history included."""
    return (
        Agreement.objects.count(),
        Objective.objects.count(),
        Signature.objects.count(),
        Agreement.history.count(),
        Objective.history.count(),
        Signature.history.count(),
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
        Measurement.objects.count(),
        Measurement.history.count(),
        Breach.history.count(),
        *friction_counts(),
        *(
            manager.count()
            for model in (ServiceRequest, Incident, MaintenanceWindow)
            for manager in (model.objects, model.history)
        ),
        IdempotencyKey.objects.count(),
    )
