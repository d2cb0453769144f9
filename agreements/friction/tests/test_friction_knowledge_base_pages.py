"""The knowledge base pages: pain points with their counts, filters and
reports, curated by heads (adding, editing, merging)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.friction.tests.friction_pages import body, kb, written
from agreements.models import PainPoint
from agreements.tests.builders import friction_counts
from agreements.tests.factories import (
    FrictionReportFactory,
    MembershipFactory,
    PainPointFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


@pytest.fixture
def pain_points(sales, service, marketing):
    invoices = PainPointFactory(title="Late invoices", category="billing")
    exports = PainPointFactory(title="Exports time out", category="product")
    for month, customer in [(1, "Acme"), (2, "Acme"), (3, "Globex")]:
        FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            pain_point=invoices,
            customer=customer,
            month=dt.date(2026, month, 1),
            tags="invoices",
            severity="high",
        )
    FrictionReportFactory(
        reporting_team=marketing,
        addressed_team=sales,
        pain_point=invoices,
        customer="Initech",
        status="acknowledged",
    )
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        pain_point=exports,
        customer="Umbrella",
        category="product",
        description="The export spins forever.",
    )
    return invoices, exports


def test_the_knowledge_base_counts_reports_customers_and_teams(
    client, sales_manager, pain_points
):
    client.force_login(sales_manager)
    response = client.get(kb("list"))
    rows = {
        s.pain_point.title: (s.reports, s.customers, s.teams)
        for s in response.context["summaries"]
    }
    assert rows == {"Late invoices": (4, 3, 2), "Exports time out": (1, 1, 1)}
    page = body(response)
    assert page.count('class="sp-sparkline"') == 2
    assert (
        'aria-label="Reports per month: Oct: 0, Nov: 0, Dec: 0, Jan: 1, Feb: 1, Mar: 2"'
        in page
    )
    assert "invoices <span" in page  # the tag cloud


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?category=product", {"Exports time out"}),
        ("?tag=invoices", {"Late invoices"}),
        ("?severity=high", {"Late invoices"}),
        ("?status=acknowledged", {"Late invoices"}),
        ("?q=spins", {"Exports time out"}),
        ("?q=invoices", {"Late invoices"}),
        ("?q=nothing-like-this", set()),
    ],
)
def test_the_knowledge_base_filters_and_searches(
    client, sales_manager, pain_points, query, titles
):
    client.force_login(sales_manager)
    response = client.get(kb("list") + query)
    assert {s.pain_point.title for s in response.context["summaries"]} == titles


def test_a_pain_point_lists_only_the_reports_the_person_may_read(
    client, service_head, pain_points
):
    invoices, _ = pain_points
    client.force_login(service_head)
    response = client.get(kb("detail", invoices.pk))
    assert response.status_code == 200
    assert len(response.context["reports"]) == 3
    assert response.context["hidden_reports"] == 1  # Marketing → Sales
    assert "1 more report between other teams" in body(response)


def test_knowledge_base_pages_refuse_outsiders(client, outsider, pain_points):
    invoices, _ = pain_points
    client.force_login(outsider)
    assert client.get(kb("list")).status_code == 403
    assert client.get(kb("detail", invoices.pk)).status_code == 403
    assert client.get(kb("merge", invoices.pk)).status_code == 403


def test_only_heads_curate_pain_points(
    client, sales_manager, service_head, pain_points
):
    invoices, exports = pain_points
    client.force_login(sales_manager)
    assert client.get(kb("create")).status_code == 403
    assert client.get(kb("edit", invoices.pk)).status_code == 403
    before = written()
    response = client.post(
        kb("merge", exports.pk), {"target": invoices.pk, "confirm": "True"}
    )
    assert response.status_code == 403
    assert written() == before
    client.force_login(service_head)
    assert client.get(kb("create")).status_code == 200


def test_a_head_adds_and_edits_a_pain_point(client, service_head):
    client.force_login(service_head)
    response = client.post(
        kb("create"),
        {"title": "<b>SSO</b> takes weeks", "category": "onboarding"},
    )
    pain_point = PainPoint.objects.get()
    assert response.url == kb("detail", pain_point.pk)
    assert "&lt;b&gt;SSO&lt;/b&gt; takes weeks" in body(client.get(response.url))
    client.post(
        kb("edit", pain_point.pk),
        {"title": "SSO takes weeks", "category": "onboarding", "description": "x"},
    )
    pain_point.refresh_from_db()
    assert pain_point.title == "SSO takes weeks"
    duplicate = client.post(
        kb("create"), {"title": "sso takes weeks", "category": "onboarding"}
    )
    assert "already exists" in body(duplicate)
    assert PainPoint.objects.count() == 1


def test_merging_asks_for_confirmation_then_moves_the_reports(
    client, service_head, pain_points
):
    invoices, exports = pain_points
    client.force_login(service_head)
    step = client.post(kb("merge", exports.pk), {"target": invoices.pk})
    assert step.status_code == 200
    assert step.context["confirming"]
    assert "1 report moves to it; it will then have 5." in body(step)
    exports.refresh_from_db()
    assert exports.merged_into is None  # nothing merged yet

    done = client.post(
        kb("merge", exports.pk), {"target": invoices.pk, "confirm": "True"}
    )
    assert done.url == kb("detail", invoices.pk)
    exports.refresh_from_db()
    assert exports.merged_into == invoices
    assert invoices.reports.count() == 5
    # The old page leads to the one it was merged into.
    assert client.get(kb("detail", exports.pk)).url == kb("detail", invoices.pk)


def test_merging_needs_a_target(client, service_head, pain_points):
    _, exports = pain_points
    client.force_login(service_head)
    response = client.post(kb("merge", exports.pk), {"target": ""})
    assert "Choose the pain point to merge into." in body(response)
    assert not PainPoint.objects.exclude(merged_into=None).exists()


def test_a_pain_point_cannot_be_merged_into_itself(client, service_head, pain_points):
    _, exports = pain_points
    client.force_login(service_head)
    response = client.post(kb("merge", exports.pk), {"target": exports.pk})
    assert "target" in response.context["form"].errors


def test_a_head_cannot_move_reports_addressed_to_another_team(
    client, service_head, pain_points
):
    invoices, exports = pain_points  # invoices holds a report addressed to Sales
    client.force_login(service_head)
    before = friction_counts()
    response = client.post(kb("merge", invoices.pk), {"target": exports.pk})
    assert response.status_code == 403
    assert friction_counts() == before
    page = body(client.get(kb("detail", invoices.pk)))
    assert kb("merge", invoices.pk) not in page  # no button for it either


def test_the_knowledge_base_takes_a_fixed_number_of_queries(
    client, sales_manager, sales, service
):
    client.force_login(sales_manager)
    client.get(kb("list"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(kb("list"))
        return len(captured)

    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, pain_point=PainPointFactory()
    )
    few = queries()
    for _ in range(15):
        FrictionReportFactory(
            reporting_team=sales, addressed_team=service, pain_point=PainPointFactory()
        )
    assert queries() == few


def test_a_member_who_heads_nothing_reads_but_does_not_curate(
    client, sales, pain_points
):
    member = MembershipFactory(team=sales, role="member").user
    client.force_login(member)
    page = body(client.get(kb("list")))
    assert "Late invoices" in page
    assert kb("create") not in page
