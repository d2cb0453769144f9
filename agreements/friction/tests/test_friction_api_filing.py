"""Filing friction reports through /api/v1/: once per Idempotency-Key and
client token, HTML kept as text, and only by those who may. Who may call
what is the permission matrix (api/tests); bad input is in
test_agreement_api_bad_input."""

from __future__ import annotations

import pytest

from agreements.friction.tests.friction_api import REPORTS, post
from agreements.models import FrictionReport
from agreements.tests.builders import friction_counts
from agreements.tests.moments import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


def test_filing_with_an_idempotency_key_files_one_report(
    api_client, sales, service, sales_manager, service_head
):
    api_client.force_login(sales_manager)
    body = {
        "reporting_team": sales.pk,
        "customer": "Acme GmbH",
        "category": "billing",
        "severity": "critical",
        "description": "Invoices arrive two weeks late.",
        "tags": ["Billing", "late invoices", "billing"],
    }
    first = post(api_client, REPORTS, body, **{"Idempotency-Key": "file-acme-1"})
    again = post(api_client, REPORTS, body, **{"Idempotency-Key": "file-acme-1"})

    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    filed = first.json()
    # Addressed by the service's default: the one customer service partner.
    assert filed["addressed_team"]["id"] == service.pk
    assert filed["addressed_to"]["username"] == service_head.username
    assert (filed["status"], filed["month"]) == ("new", "2026-03")
    assert filed["tags"] == ["billing", "late-invoices"]
    assert filed["comments"] == []
    report = FrictionReport.objects.get()
    assert report.pk == filed["id"]
    record = report.history.get()
    assert (record.history_user, record.history_change_reason) == (
        sales_manager,
        "filed",
    )
    assert record.history_date == NOW


def test_a_new_key_with_the_same_client_token_still_files_once(
    api_client, sales, sales_manager
):
    api_client.force_login(sales_manager)
    body = {
        "reporting_team": sales.pk,
        "customer": "Acme",
        "category": "product",
        "description": "Exports time out.",
        "client_token": "6f1c1f0e-7a52-4d59-9f38-6d1f1f4b6a01",
    }
    first = post(api_client, REPORTS, body)
    second = post(api_client, REPORTS, body, **{"Idempotency-Key": "other"})
    assert second.json()["id"] == first.json()["id"]
    assert FrictionReport.objects.count() == 1


def test_html_is_kept_as_text_and_answered_as_json(api_client, sales, sales_manager):
    api_client.force_login(sales_manager)
    script = "<script>alert('x')</script> & <b>bold</b>"
    response = post(
        api_client,
        REPORTS,
        {
            "reporting_team": sales.pk,
            "customer": "<i>Acme</i>",
            "category": "product",
            "description": script,
        },
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["description"] == script
    assert FrictionReport.objects.get().customer == "<i>Acme</i>"


def test_a_member_who_leads_nothing_cannot_file(api_client, sales, sales_member):
    api_client.force_login(sales_member)
    before = friction_counts()
    response = post(
        api_client,
        REPORTS,
        {
            "reporting_team": sales.pk,
            "customer": "Acme",
            "category": "product",
            "description": "Exports time out.",
        },
    )
    assert response.status_code == 403
    assert (
        "Only a lead, manager or head of Sales" in response.json()["error"]["message"]
    )
    assert friction_counts() == before
