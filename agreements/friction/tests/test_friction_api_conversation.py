"""The friction conversation through /api/v1/: comments from both teams,
assigning a report and setting its due date, the order reports are listed
in, and what a report says about its assignee, due date, age and overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from agreements.friction.models import COMMENT_MAX_LENGTH
from agreements.friction.services import (
    friction_report_change_status,
    friction_report_set_due_date,
)
from agreements.friction.tests.friction_api import REPORTS, file, post
from agreements.models import FrictionReport
from agreements.tests.factories import FrictionReportFactory

from .conversation import written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status


def report_url(report: FrictionReport, action: str = "detail") -> str:
    return reverse(f"api:v1:friction-report-{action}", args=[report.pk])


@pytest.fixture
def report(sales, sales_manager, service_head) -> FrictionReport:
    return file(sales, sales_manager)


# --- Comments ----------------------------------------------------------------------


def test_the_reporter_replies_and_each_comment_names_its_team(
    api_client, report, sales, service, sales_member, service_head
):
    api_client.force_login(service_head)
    asked = post(api_client, report_url(report, "comments"), {"body": "Which?"})
    api_client.force_login(sales_member)
    answered = post(api_client, report_url(report, "comments"), {"body": "March"})
    assert asked.status_code == answered.status_code == 201
    assert asked.json()["team"]["id"] == service.pk
    assert answered.json()["team"]["id"] == sales.pk
    comments = api_client.get(report_url(report)).json()["comments"]
    assert [(c["author"]["username"], c["team"]["name"]) for c in comments] == [
        ("service-head", "Customer Service"),
        ("sales-member", "Sales"),
    ]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("marketing_lead", 404), ("outsider", 404), ("executive", 403)],
)
def test_nobody_outside_the_two_teams_comments(
    api_client, request, report, persona, expected
):
    api_client.force_login(request.getfixturevalue(persona))
    before = written()
    response = post(api_client, report_url(report, "comments"), {"body": "Hi"})
    assert response.status_code == expected
    assert written() == before


@pytest.mark.parametrize(
    "body", ["", "   ", "x" * (COMMENT_MAX_LENGTH + 1)], ids=["empty", "blank", "long"]
)
def test_an_empty_or_too_long_comment_is_a_400_and_writes_nothing(
    api_client, report, sales_manager, body
):
    api_client.force_login(sales_manager)
    before = written()
    response = post(api_client, report_url(report, "comments"), {"body": body})
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]
    assert written() == before


def test_a_status_note_too_long_is_a_400_and_moves_nothing(
    api_client, report, service_head
):
    api_client.force_login(service_head)
    before = written()
    response = post(
        api_client,
        report_url(report, "status"),
        {"status": "acknowledged", "note": "x" * (COMMENT_MAX_LENGTH + 1)},
    )
    assert response.status_code == 400
    assert written() == before


# --- Assignee and due date ---------------------------------------------------------


def test_the_head_assigns_and_sets_a_due_date(
    api_client, report, service_head, service_member, sales_manager
):
    api_client.force_login(service_head)
    response = post(
        api_client,
        report_url(report, "assign"),
        {"assignee": service_member.pk},
        **{"Idempotency-Key": "assign-1"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["assigned_to"]["name"] == "Dana Reed"
    response = post(
        api_client, report_url(report, "due-date"), {"due_date": "2026-03-20"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["due_date"] == "2026-03-20"

    api_client.force_login(sales_manager)
    shown = api_client.get(report_url(report)).json()
    assert (shown["assigned_to"]["username"], shown["due_date"], shown["overdue"]) == (
        "service-member",
        "2026-03-20",
        False,
    )
    reasons = list(
        report.history.order_by("history_id").values_list(
            "history_change_reason", flat=True
        )
    )
    assert reasons[1:] == [
        "assigned it to Dana Reed",
        "set the due date to 20 March 2026",
    ]


def test_null_takes_the_assignee_and_the_due_date_away(
    api_client, report, service_head, service_member
):
    api_client.force_login(service_head)
    post(api_client, report_url(report, "assign"), {"assignee": service_member.pk})
    post(api_client, report_url(report, "due-date"), {"due_date": "2026-03-20"})
    post(api_client, report_url(report, "assign"), {"assignee": None})
    response = post(api_client, report_url(report, "due-date"), {"due_date": None})
    assert (response.json()["assigned_to"], response.json()["due_date"]) == (None, None)


@pytest.mark.parametrize(
    ("action", "data", "status", "field"),
    [
        ("assign", {"assignee": "sales_manager"}, 422, "assignee"),
        ("assign", {"assignee": 999_999}, 422, "assignee"),
        ("assign", {}, 400, "assignee"),
        ("due-date", {"due_date": "2026-03-14"}, 422, "due_date"),
        ("due-date", {"due_date": "soon"}, 400, "due_date"),
    ],
)
def test_bad_input_says_which_field_and_writes_nothing(
    api_client, request, report, service_head, action, data, status, field
):
    if isinstance(data.get("assignee"), str):
        data = {"assignee": request.getfixturevalue(data["assignee"]).pk}
    api_client.force_login(service_head)
    before = written()
    response = post(api_client, report_url(report, action), data)
    assert response.status_code == status, response.content
    assert field in response.json()["error"]["fields"]
    assert written() == before


@pytest.mark.parametrize("action", ["assign", "due-date"])
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("sales_manager", 403),
        ("service_lead", 403),
        ("executive", 403),
        ("marketing_lead", 404),
        ("outsider", 404),
    ],
)
def test_only_the_addressed_head_assigns_or_sets_the_due_date(
    api_client, request, report, service_lead, persona, expected, action
):
    data = {"assignee": service_lead.pk, "due_date": "2026-03-20"}
    api_client.force_login(request.getfixturevalue(persona))
    before = written()
    response = post(api_client, report_url(report, action), data)
    assert response.status_code == expected
    assert written() == before


def test_a_closed_report_is_a_409(api_client, report, service_head, service_lead):
    for status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        friction_report_change_status(report=report, user=service_head, status=status)
    api_client.force_login(service_head)
    before = written()
    response = post(
        api_client, report_url(report, "assign"), {"assignee": service_lead.pk}
    )
    assert response.status_code == 409
    assert "no longer takes an assignee" in response.json()["error"]["message"]
    assert api_client.get(report_url(report)).json()["actions"]["assign"] is False
    assert written() == before


# --- Order, age and overdue -------------------------------------------------------


def test_reports_are_listed_most_urgent_first_with_age_and_overdue(
    frozen, api_client, sales, service, service_head
):
    def filed(customer, severity):
        return FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            customer=customer,
            severity=severity,
        )

    filed("Low Ltd", FrictionReport.Severity.LOW)
    frozen.shift(dt.timedelta(days=1))
    late = filed("High GmbH", FrictionReport.Severity.HIGH)
    friction_report_set_due_date(
        report=late, user=service_head, due_date=dt.date(2026, 3, 17)
    )
    frozen.shift(dt.timedelta(days=2))
    filed("Critical Co", FrictionReport.Severity.CRITICAL)
    api_client.force_login(service_head)
    rows = api_client.get(REPORTS).json()["results"]
    assert [(r["customer"], r["age_days"], r["overdue"]) for r in rows] == [
        ("Critical Co", 0, False),
        ("High GmbH", 2, True),
        ("Low Ltd", 3, False),
    ]
    by_severity = api_client.get(REPORTS, {"ordering": "-severity"}).json()
    assert [r["customer"] for r in by_severity["results"]] == [
        "Low Ltd",
        "High GmbH",
        "Critical Co",
    ]
