"""The knowledge base through /api/v1/: the same counts and filters as its
page, and merging duplicate pain points by the addressed team's head."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from agreements.friction.knowledge import pain_point_create
from agreements.friction.tests.friction_api import _queries, file, post
from agreements.models import FrictionReport, PainPoint
from agreements.tests.builders import friction_counts
from agreements.tests.factories import FrictionReportFactory, PainPointFactory
from agreements.tests.moments import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

PAIN_POINTS = reverse("api:v1:pain-point-list")


def pain_point_url(pain_point: PainPoint, action: str = "detail") -> str:
    return reverse(f"api:v1:pain-point-{action}", args=[pain_point.pk])


@pytest.fixture
def pain_points(sales, service, marketing, marketing_lead, sales_lead, service_head):
    """Late invoices: three reports (two from Sales, one from Marketing);
    exports: one report."""
    invoices = pain_point_create(
        user=service_head, title="Late invoices", category="billing"
    )
    exports = pain_point_create(
        user=service_head,
        title="Exports time out",
        category="product",
        description="Large accounts cannot export.",
    )
    rows = [
        (sales, sales_lead, {"customer": "Acme"}, invoices),
        (sales, sales_lead, {"customer": "Beta", "severity": "low"}, invoices),
        (
            marketing,
            marketing_lead,
            {"customer": "acme", "addressed_team": sales},
            invoices,
        ),
        (sales, sales_lead, {"customer": "Gamma", "tags": "exports"}, exports),
    ]
    for team, user, fields, pain_point in rows:
        report = file(team, user, **fields)
        # The addressed team's head files it under the pain point.
        FrictionReport.objects.filter(pk=report.pk).update(pain_point=pain_point)
    return invoices, exports


def test_the_knowledge_base_counts_like_its_page(api_client, pain_points, sales_lead):
    invoices, exports = pain_points
    api_client.force_login(sales_lead)
    body = api_client.get(PAIN_POINTS).json()
    assert body["count"] == 2
    first, second = body["results"]
    assert (first["id"], first["reports"], first["customers"], first["teams"]) == (
        invoices.pk,
        3,
        2,  # "Acme" and "acme" are one customer
        2,
    )
    assert first["trend"][-1] == {"month": "2026-03", "reports": 3}
    assert len(first["trend"]) == 6
    assert (second["id"], second["reports"]) == (exports.pk, 1)


def test_the_knowledge_base_filters_narrow_the_counts(
    api_client, pain_points, sales_lead
):
    invoices, exports = pain_points
    api_client.force_login(sales_lead)

    def listed(**params: Any) -> list[tuple[int, int]]:
        response = api_client.get(PAIN_POINTS, params)
        assert response.status_code == 200, response.content
        return [(p["id"], p["reports"]) for p in response.json()["results"]]

    assert listed(category="product") == [(exports.pk, 1)]
    assert listed(severity="low") == [(invoices.pk, 1)]
    assert listed(tag="exports") == [(exports.pk, 1)]
    assert listed(status="resolved") == []
    assert listed(q="cannot export") == [(exports.pk, 1)]
    assert listed(ordering="reports") == [(exports.pk, 1), (invoices.pk, 3)]
    assert api_client.get(PAIN_POINTS, {"category": "weather"}).status_code == 400
    severity_low = api_client.get(PAIN_POINTS, {"severity": "low"}).json()
    assert severity_low["results"][0]["trend"][-1]["reports"] == 1


def test_the_knowledge_base_is_for_members_of_a_team(
    api_client, pain_points, outsider, executive
):
    invoices, _ = pain_points
    api_client.force_login(outsider)
    for url in (PAIN_POINTS, pain_point_url(invoices)):
        response = api_client.get(url)
        assert response.status_code == 403
        assert response.json()["error"]["message"] == (
            "The knowledge base is for members of a team."
        )
    api_client.force_login(executive)
    assert api_client.get(PAIN_POINTS).json()["count"] == 2


def test_a_head_merges_a_duplicate(api_client, pain_points, service_head, sales):
    invoices, exports = pain_points
    # Only reports addressed to Customer Service, which service_head heads.
    FrictionReport.objects.filter(addressed_team=sales).update(pain_point=None)
    api_client.force_login(service_head)
    response = post(
        api_client,
        pain_point_url(exports, "merge"),
        {"target": invoices.pk},
        **{"Idempotency-Key": "merge-1"},
    )
    assert response.status_code == 200, response.content
    merged = response.json()
    assert (merged["id"], merged["reports"]) == (invoices.pk, 3)
    assert merged["merged"] == [{"id": exports.pk, "title": "Exports time out"}]
    assert len(merged["trend"]) == 12
    exports.refresh_from_db()
    assert exports.merged_into == invoices
    record = exports.history.order_by("-history_id").first()
    assert (record.history_user, record.history_change_reason) == (
        service_head,
        "pain point “Exports time out” merged into “Late invoices”",
    )
    assert record.history_date == NOW
    # The merged one is still readable and says where its reports went; it
    # is no longer listed.
    old = api_client.get(pain_point_url(exports)).json()
    assert old["merged_into"] == {"id": invoices.pk, "title": "Late invoices"}
    assert [p["id"] for p in api_client.get(PAIN_POINTS).json()["results"]] == [
        invoices.pk
    ]
    # Merging it again is about its state, not the request.
    before = friction_counts()
    again = post(api_client, pain_point_url(exports, "merge"), {"target": invoices.pk})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "merged"
    assert friction_counts() == before


def test_a_lead_cannot_merge(api_client, pain_points, sales_lead):
    invoices, exports = pain_points
    api_client.force_login(sales_lead)
    before = friction_counts()
    response = post(
        api_client, pain_point_url(exports, "merge"), {"target": invoices.pk}
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Only an executive, or the head of every team its reports were addressed "
        "to, can merge a pain point."
    )
    assert friction_counts() == before
    exports.refresh_from_db()
    assert exports.merged_into is None


def test_a_head_cannot_merge_reports_addressed_to_another_team(
    api_client, pain_points, service_head, executive
):
    """ "Late invoices" holds a report Marketing addressed to Sales: the head
    of Customer Service may not move it; an executive may."""
    invoices, exports = pain_points
    before = friction_counts()
    api_client.force_login(service_head)
    response = post(
        api_client, pain_point_url(invoices, "merge"), {"target": exports.pk}
    )
    assert response.status_code == 403
    assert friction_counts() == before
    api_client.force_login(executive)
    response = post(
        api_client, pain_point_url(invoices, "merge"), {"target": exports.pk}
    )
    assert response.status_code == 200


def test_an_unknown_pain_point_is_a_404(api_client, sales_lead, service_head):
    api_client.force_login(service_head)
    missing = reverse("api:v1:pain-point-merge", args=[999999])
    assert post(api_client, missing, {"target": 1}).status_code == 404
    assert (
        api_client.get(reverse("api:v1:pain-point-detail", args=[999999])).status_code
        == 404
    )


def test_the_pain_point_list_queries_do_not_grow_with_rows(
    api_client, sales, service, sales_lead, django_assert_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            pain_point = PainPointFactory()
            FrictionReportFactory.create_batch(
                2, reporting_team=sales, addressed_team=service, pain_point=pain_point
            )

    add(1)
    api_client.force_login(sales_lead)
    _queries(api_client, PAIN_POINTS)
    few = _queries(api_client, PAIN_POINTS)
    add(10)
    with django_assert_num_queries(few):
        assert api_client.get(PAIN_POINTS).json()["count"] == 11
