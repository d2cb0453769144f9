"""Friction reports after filing, through /api/v1/: reading and filtering
them like the friction page, the reporting team changing or withdrawing
one, and the addressed team's head moving it along and commenting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from agreements.friction.knowledge import friction_report_link, pain_point_create
from agreements.friction.services import friction_report_change_status
from agreements.friction.tests.friction_api import REPORTS, _queries, file, post
from agreements.models import FrictionComment, FrictionReport
from agreements.tests.builders import friction_counts
from agreements.tests.factories import FrictionReportFactory, PainPointFactory
from agreements.tests.moments import LOCKED_MONTH, NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status


def report_url(report: FrictionReport, action: str = "detail") -> str:
    return reverse(f"api:v1:friction-report-{action}", args=[report.pk])


@pytest.fixture
def report(sales, sales_manager, service_head) -> FrictionReport:
    """Sales → Customer Service, new, this month."""
    return file(sales, sales_manager)


def test_each_person_lists_the_reports_of_their_teams(
    api_client,
    marketing,
    sales,
    marketing_lead,
    sales_lead,
    service_head,
    executive,
    outsider,
    report,
):
    to_sales = file(marketing, marketing_lead, addressed_team=sales, customer="Beta")
    expected = {
        marketing_lead: {to_sales.pk},
        sales_lead: {report.pk, to_sales.pk},
        service_head: {report.pk},
        executive: {report.pk, to_sales.pk},
        outsider: set(),
    }
    for user, ids in expected.items():
        api_client.force_login(user)
        listed = api_client.get(REPORTS).json()
        assert {r["id"] for r in listed["results"]} == ids, user
        assert listed["count"] == len(ids)
    api_client.force_login(outsider)
    response = api_client.get(report_url(report))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    api_client.force_login(marketing_lead)
    assert api_client.get(report_url(report)).status_code == 404


def test_the_list_filters_like_the_friction_page(
    api_client, marketing, sales, service, marketing_lead, sales_lead, service_head
):
    acme = file(sales, sales_lead, customer="Acme", tags="billing")
    beta = file(
        sales,
        sales_lead,
        customer="Beta",
        category="product",
        severity="low",
        tags="billing-run, exports",
        description="Exports time out for large accounts.",
    )
    gamma = file(
        marketing,
        marketing_lead,
        customer="Gamma",
        addressed_team=sales,
        severity="critical",
    )
    friction_report_change_status(
        report=beta, user=service_head, status=Status.ACKNOWLEDGED
    )
    pain_point = pain_point_create(
        user=service_head, title="Late invoices", category="billing"
    )
    friction_report_link(report=acme, pain_point=pain_point, user=service_head)
    api_client.force_login(sales_lead)

    def customers(**params: Any) -> set[str]:
        response = api_client.get(REPORTS, params)
        assert response.status_code == 200, response.content
        return {r["customer"] for r in response.json()["results"]}

    assert customers() == {"Acme", "Beta", "Gamma"}
    assert customers(category="product") == {"Beta"}
    assert customers(status="acknowledged") == {"Beta"}
    assert customers(severity="critical") == {"Gamma"}
    # A tag matches exactly: "billing" is not "billing-run".
    assert customers(tag="billing") == {"Acme", "Gamma"}
    assert customers(tag="Exports") == {"Beta"}
    assert customers(team=marketing.pk) == {"Gamma"}
    assert customers(team=sales.pk) == {"Acme", "Beta", "Gamma"}
    assert customers(team=service.pk) == {"Acme", "Beta"}
    assert customers(reporting_team=sales.pk) == {"Acme", "Beta"}
    assert customers(addressed_team=sales.pk) == {"Gamma"}
    assert customers(pain_point=pain_point.pk) == {"Acme"}
    assert customers(q="large accounts") == {"Beta"}
    assert customers(month_after="2026-03", month_before="2026-03") == {
        "Acme",
        "Beta",
        "Gamma",
    }
    assert customers(month_before="2026-02") == set()
    assert customers(category="product", team=sales.pk, severity="low") == {"Beta"}
    assert {gamma.customer} == customers(ordering="-customer", severity="critical")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"status": "closed"}, "status"),
        ({"severity": "1"}, "severity"),
        ({"team": "sales"}, "team"),
        ({"month_after": "2026-13"}, "month_after"),
        ({"pain_point": "0"}, "pain_point"),
        ({"tag": "x" * 41}, "tag"),
    ],
)
def test_a_filter_that_is_not_valid_is_a_400(api_client, sales_lead, params, field):
    api_client.force_login(sales_lead)
    response = api_client.get(REPORTS, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_pages_never_repeat_or_skip_a_report(api_client, sales, sales_lead):
    for customer in ["Same"] * 4 + ["Acme", "Beta", "Gamma"]:
        file(sales, sales_lead, customer=customer)
    api_client.force_login(sales_lead)
    seen: list[int] = []
    url: str | None = f"{REPORTS}?ordering=customer&page_size=2"
    while url:
        body = api_client.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(FrictionReport.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 7
    customers = [FrictionReport.objects.get(pk=pk).customer for pk in seen]
    assert customers == sorted(customers)


def test_each_report_says_what_the_person_may_do_with_it(
    api_client, report, sales_manager, service_head, executive
):
    expected = {
        sales_manager: {
            "change": True,
            "status": [],
            "comment": True,
            "assign": False,
        },
        service_head: {
            "change": False,
            "status": ["acknowledged"],
            "comment": True,
            "assign": True,
        },
        executive: {"change": False, "status": [], "comment": False, "assign": False},
    }
    for user, actions in expected.items():
        api_client.force_login(user)
        assert api_client.get(report_url(report)).json()["actions"] == actions
        assert api_client.get(REPORTS).json()["results"][0]["actions"] == actions


# --- Changing and withdrawing -------------------------------------------------------


def test_the_reporting_team_changes_a_new_report(api_client, report, sales_manager):
    api_client.force_login(sales_manager)
    response = api_client.patch(
        report_url(report),
        {"customer": "Globex", "tags": ["exports"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["customer"], response.json()["tags"]) == (
        "Globex",
        ["exports"],
    )
    record = report.history.order_by("-history_id").first()
    assert record.history_user == sales_manager
    assert record.history_change_reason.startswith(
        "edited: customer Acme GmbH → Globex"
    )


def test_once_acknowledged_a_report_can_no_longer_be_changed_or_withdrawn(
    api_client, report, sales_manager, service_head
):
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED
    )
    api_client.force_login(sales_manager)
    before = friction_counts()
    changed = api_client.patch(report_url(report), {"customer": "X"}, format="json")
    deleted = api_client.delete(report_url(report))
    for response in (changed, deleted):
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "not_new"
        assert "Customer Service has already acknowledged" in error["message"]
    assert friction_counts() == before


def test_a_report_of_a_locked_month_is_corrected_on_the_pages(
    api_client, sales, sales_manager, frozen
):
    frozen.move_to(dt.datetime(2026, 2, 20, 12, tzinfo=dt.UTC))
    old = file(sales, sales_manager)
    frozen.move_to(NOW)
    assert old.month == LOCKED_MONTH
    api_client.force_login(sales_manager)
    before = friction_counts()
    response = api_client.patch(report_url(old), {"customer": "X"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "locked"
    assert friction_counts() == before


def test_the_reporting_team_withdraws_a_new_report(api_client, report, sales_lead):
    api_client.force_login(sales_lead)
    assert api_client.delete(report_url(report)).status_code == 204
    assert not FrictionReport.objects.exists()
    deleted = FrictionReport.history.order_by("-history_id").first()
    assert (deleted.history_type, deleted.history_user) == ("-", sales_lead)


# --- The addressed team's head ----------------------------------------------------


def test_the_head_moves_a_report_through_its_workflow(
    api_client, report, service_head, sales_manager
):
    api_client.force_login(service_head)
    steps = [
        ("acknowledged", "On it", 200),
        ("in_progress", "", 200),
        ("resolved", "Invoices go out on the 1st now.", 200),
    ]
    for status, note, code in steps:
        response = post(
            api_client, report_url(report, "status"), {"status": status, "note": note}
        )
        assert response.status_code == code, response.content
        assert response.json()["status"] == status
    body = response.json()
    assert body["closed_at"] and body["acknowledged_at"]
    assert [(c["new_status"], c["body"]) for c in body["comments"]] == [
        ("acknowledged", "On it"),
        ("in_progress", ""),
        ("resolved", "Invoices go out on the 1st now."),
    ]
    assert body["actions"]["status"] == []
    record = report.history.filter(history_type="~").earliest("history_date")
    assert (record.history_user, record.history_change_reason) == (
        service_head,
        "status “new” → “acknowledged”: On it",
    )
    # Final: a problem that returns is a new report.
    before = friction_counts()
    again = post(api_client, report_url(report, "status"), {"status": "in_progress"})
    assert again.status_code == 422
    assert "which is final" in again.json()["error"]["fields"]["status"][0]
    assert friction_counts() == before
    # The reporting team reads what became of it.
    api_client.force_login(sales_manager)
    assert api_client.get(report_url(report)).json()["comments"][-1]["body"] == (
        "Invoices go out on the 1st now."
    )


def test_posting_the_status_a_report_has_writes_nothing(
    api_client, report, service_head
):
    api_client.force_login(service_head)
    before = friction_counts()
    response = post(api_client, report_url(report, "status"), {"status": "new"})
    assert response.status_code == 200
    assert response.json()["status"] == "new"
    assert friction_counts() == before


def test_the_reporting_team_cannot_move_its_own_report(
    api_client, report, sales_manager
):
    api_client.force_login(sales_manager)
    before = friction_counts()
    response = post(api_client, report_url(report, "status"), {"status": "resolved"})
    assert response.status_code == 403
    assert "Only a head of the addressed team" in response.json()["error"]["message"]
    assert friction_counts() == before


def test_the_head_comments_and_the_comment_is_part_of_the_report(
    api_client, report, service_head, sales_lead
):
    api_client.force_login(service_head)
    response = post(
        api_client,
        report_url(report, "comments"),
        {"body": "  Which invoices?  "},
        **{"Idempotency-Key": "comment-1"},
    )
    replay = post(
        api_client,
        report_url(report, "comments"),
        {"body": "  Which invoices?  "},
        **{"Idempotency-Key": "comment-1"},
    )
    assert response.status_code == replay.status_code == 201
    comment = response.json()
    assert (comment["body"], comment["new_status"]) == ("Which invoices?", None)
    assert comment["author"]["username"] == service_head.username
    assert FrictionComment.objects.count() == 1
    record = FrictionComment.history.get()
    assert (record.history_user, record.history_change_reason) == (
        service_head,
        "commented",
    )
    api_client.force_login(sales_lead)
    assert api_client.get(report_url(report)).json()["comments"] == [comment]


def test_the_report_list_queries_do_not_grow_with_rows(
    api_client, sales, service, sales_lead, django_assert_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            report = FrictionReportFactory(
                reporting_team=sales,
                addressed_team=service,
                pain_point=PainPointFactory(),
            )
            FrictionReportFactory.create(
                reporting_team=service, addressed_team=sales, tags="a,b"
            )
            FrictionComment.objects.create(
                report=report, author=sales_lead, team=sales, body="x"
            )

    add(1)
    api_client.force_login(sales_lead)
    _queries(api_client, REPORTS)  # the first request also starts the throttle
    few = _queries(api_client, REPORTS)
    add(10)
    with django_assert_num_queries(few):
        assert api_client.get(REPORTS).json()["count"] == 22
