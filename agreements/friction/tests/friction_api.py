"""Helpers for the friction API tests: the reports' address, a JSON POST,
filing a report through the service, and counting a request's queries."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.friction.services import friction_report_create
from agreements.models import FrictionReport

REPORTS = reverse("api:v1:friction-report-list")


def post(client, url: str, body: Any, **headers: str):
    return client.post(
        url, json.dumps(body), content_type="application/json", headers=headers
    )


def file(team, user, **fields: Any) -> FrictionReport:
    values = {
        "customer": "Acme GmbH",
        "category": "billing",
        "severity": "high",
        "description": "Invoices arrive two weeks late.",
        "tags": "billing, late invoices",
        **fields,
    }
    return friction_report_create(reporting_team=team, user=user, **values)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
