"""The report page as a conversation: one comment box for either team, the
status buttons that carry it, who looks after the report and by when; the
list and the home page's waiting reports, most urgent first, with severity
in words, age and Overdue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.friction.models import COMMENT_MAX_LENGTH
from agreements.friction.services import (
    friction_comment_add,
    friction_report_assign,
    friction_report_set_due_date,
)
from agreements.friction.tests.friction_pages import body, url
from agreements.models import FrictionReport
from agreements.tests.factories import FrictionReportFactory, PainPointFactory
from agreements.tests.moments import NOW

from .conversation import written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status
Severity = FrictionReport.Severity


def label_of(page: str, field_id: str) -> str:
    match = re.search(
        rf'<label class="form-label" for="{field_id}">(.*?)</label>', page
    )
    assert match, field_id
    return match.group(1)


# --- One text box ------------------------------------------------------------------


def test_the_head_has_one_optional_comment_box_and_the_moves_as_buttons(
    client, report, service_head
):
    client.force_login(service_head)
    page = body(client.get(url("detail", report.pk)))
    assert page.count("<textarea") == 1
    assert label_of(page, "id_body") == "Comment"  # optional: no star
    assert "Note for the reporting team" not in page
    assert f'formaction="{url("status", report.pk)}"' in page
    assert 'name="status" value="acknowledged">Acknowledge</button>' in page


def test_the_reporter_has_the_same_comment_box_and_no_status_buttons(
    client, report, sales_manager
):
    client.force_login(sales_manager)
    page = body(client.get(url("detail", report.pk)))
    assert page.count("<textarea") == 1
    assert label_of(page, "id_body").startswith("Comment")
    assert url("status", report.pk) not in page
    assert 'data-testid="assign-form"' not in page


def test_an_executive_reads_the_conversation_without_a_comment_box(
    client, report, executive, service_head
):
    friction_comment_add(report=report, user=service_head, body="Which invoices?")
    client.force_login(executive)
    page = body(client.get(url("detail", report.pk)))
    assert "Which invoices?" in page
    assert "<textarea" not in page


def test_acknowledging_with_a_note_keeps_it_as_a_comment(
    client, report, service, service_head, sales_manager
):
    client.force_login(service_head)
    response = client.post(
        url("status", report.pk),
        {"status": "acknowledged", "body": "Which invoice numbers?"},
    )
    assert response.status_code == 302
    comment = report.comments.get()
    assert (comment.new_status, comment.body, comment.team) == (
        Status.ACKNOWLEDGED,
        "Which invoice numbers?",
        service,
    )


def test_the_reporter_replies_and_both_sides_are_named(
    client, report, service_head, sales_manager
):
    friction_comment_add(report=report, user=service_head, body="Which invoices?")
    client.force_login(sales_manager)
    response = client.post(url("comment", report.pk), {"body": "INV-2041"})
    assert response.status_code == 302
    page = body(client.get(url("detail", report.pk)))
    sides = re.findall(r'data-kind="comment" data-side="(\w+)"', page)
    assert sides == ["addressed", "reporting"]
    assert "(Customer Service)</span>" in page and "(Sales)</span>" in page
    assert "INV-2041" in page


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("marketing_lead", 404), ("outsider", 404), ("executive", 403)],
)
def test_nobody_outside_the_two_teams_comments(
    client, request, report, persona, expected
):
    client.force_login(request.getfixturevalue(persona))
    before = written()
    response = client.post(url("comment", report.pk), {"body": "Hello"})
    assert response.status_code == expected
    assert written() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "  "}, "Write a comment."),
        (
            {"body": "x" * (COMMENT_MAX_LENGTH + 1)},
            "A comment can be at most 4000 characters; this one has 4001.",
        ),
    ],
)
def test_a_refused_comment_comes_back_with_its_error_and_writes_nothing(
    client, report, sales_manager, data, message
):
    client.force_login(sales_manager)
    before = written()
    response = client.post(url("comment", report.pk), data)
    assert response.status_code == 200
    assert message in body(response)
    assert written() == before


def test_wont_fix_without_a_note_says_so_on_the_comment_box(
    client, report, service_head
):
    client.force_login(service_head)
    client.post(url("status", report.pk), {"status": "acknowledged"})
    before = written()
    response = client.post(url("status", report.pk), {"status": "wont_fix"})
    page = body(response)
    assert "Say why it will not be fixed" in page
    assert page.index("Say why it will not be fixed") > page.index('id="id_body"')
    assert written() == before


# --- Who and by when ---------------------------------------------------------------


def test_the_head_assigns_and_sets_a_due_date_shown_to_both_teams(
    client, report, service_head, service_member, sales_manager
):
    client.force_login(service_head)
    response = client.post(
        url("assign", report.pk),
        {"assignee": service_member.pk, "due_date": "2026-03-20"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.assigned_to, report.due_date) == (
        service_member,
        dt.date(2026, 3, 20),
    )

    client.force_login(sales_manager)
    page = body(client.get(url("detail", report.pk)))
    assert re.search(r'data-testid="assignee">Dana Reed<', page)
    assert re.search(r'data-testid="due-date">20 Mar 2026<', page)
    assert "assigned it to Dana Reed" in page
    assert "set the due date to 20 March 2026" in page
    listed = body(client.get(url("list")))
    assert "Dana Reed" in listed and "due 20 Mar 2026" in listed


def test_saving_the_same_assignment_again_writes_nothing(
    client, report, service_head, service_member
):
    client.force_login(service_head)
    data = {"assignee": service_member.pk, "due_date": "2026-03-20"}
    client.post(url("assign", report.pk), data)
    before = written()
    assert client.post(url("assign", report.pk), data).status_code == 302
    assert written() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"assignee": "sales_manager", "due_date": ""},
            "Choose a member of Customer Service: only they can be assigned it.",
        ),
        (
            {"assignee": "service_member", "due_date": "2026-03-14"},
            "14 March 2026 has passed: choose today or a later day.",
        ),
        ({"assignee": "", "due_date": "someday"}, "Enter a day like 1 Dec 2026."),
    ],
)
def test_a_refused_assignment_says_why_and_writes_nothing(
    client, request, report, service_head, service_member, data, message
):
    if data["assignee"]:
        data = {**data, "assignee": request.getfixturevalue(data["assignee"]).pk}
    client.force_login(service_head)
    before = written()
    response = client.post(url("assign", report.pk), data)
    assert response.status_code == 200
    assert message in body(response)
    report.refresh_from_db()
    # Nothing half-saved: a good assignee with a bad date is not kept either.
    assert (report.assigned_to, report.due_date) == (None, None)
    assert written() == before


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
def test_only_the_addressed_head_assigns(
    client, request, report, service_lead, persona, expected
):
    client.force_login(request.getfixturevalue(persona))
    before = written()
    response = client.post(
        url("assign", report.pk),
        {"assignee": service_lead.pk, "due_date": "2026-03-20"},
    )
    assert response.status_code == expected
    assert written() == before


# --- Overdue -----------------------------------------------------------------------


def test_an_overdue_report_shows_as_overdue_to_both_teams(
    frozen, client, report, service_head, sales_manager
):
    friction_report_set_due_date(
        report=report, user=service_head, due_date=dt.date(2026, 3, 16)
    )
    for user in (service_head, sales_manager):
        client.force_login(user)
        assert "Overdue" not in body(client.get(url("detail", report.pk)))
    frozen.move_to(dt.datetime(2026, 3, 17, 9, 0, tzinfo=dt.UTC))
    for user in (service_head, sales_manager):
        client.force_login(user)
        assert 'data-testid="overdue">Overdue' in body(
            client.get(url("detail", report.pk))
        )
        assert 'data-testid="overdue">Overdue' in body(client.get(url("list")))
    client.force_login(service_head)
    home = body(client.get(reverse("home")))
    widget = home.split('data-testid="friction-waiting"')[1].split("home-agreements")[0]
    assert "Overdue" in widget


# --- The list and the home page ----------------------------------------------------


def test_the_list_shows_severity_in_words_and_age_most_urgent_first(
    frozen, client, sales, service, sales_manager
):
    def filed(customer, severity, status=Status.NEW):
        closed = status in FrictionReport.CLOSED_STATUSES
        return FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            customer=customer,
            severity=severity,
            status=status,
            closed_at=timezone.now() if closed else None,
        )

    filed("Low Ltd", Severity.LOW)
    frozen.shift(dt.timedelta(days=1))
    filed("Closed Critical", Severity.CRITICAL, Status.RESOLVED)
    filed("Older High", Severity.HIGH)
    frozen.shift(dt.timedelta(days=2))
    filed("Newer High", Severity.HIGH)
    filed("Critical Co", Severity.CRITICAL)
    frozen.shift(dt.timedelta(days=3))

    client.force_login(sales_manager)
    page = body(client.get(url("list")))
    order = re.findall(r'class="fw-semibold" href="[^"]+">([^<]+)</a>', page)
    assert order == [
        "Critical Co",
        "Older High",
        "Newer High",
        "Low Ltd",
        "Closed Critical",
    ]
    assert 'data-severity="critical">Critical</span>' in page
    ages = re.findall(r'data-testid="age">([^<]+)<', page)
    assert ages == ["3 days", "5 days", "3 days", "6 days", "under a day"]


def test_the_heads_waiting_reports_put_the_high_one_first_with_severity_and_age(
    frozen, client, sales, service, service_head
):
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Low Ltd",
        severity=Severity.LOW,
    )
    frozen.shift(dt.timedelta(days=1))
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="High GmbH",
        severity=Severity.HIGH,
    )
    frozen.shift(dt.timedelta(days=2))
    client.force_login(service_head)
    page = body(client.get(reverse("home")))
    widget = page.split('data-testid="friction-waiting"')[1]
    assert widget.index("High GmbH") < widget.index("Low Ltd")
    assert 'data-severity="high">High</span>' in widget
    assert "waiting 2 days" in widget and "waiting 3 days" in widget


def test_the_list_takes_the_same_queries_however_many_reports(
    client,
    sales,
    service,
    sales_manager,
    service_head,
    service_member,
    django_assert_num_queries,
):
    def add(count: int) -> None:
        for _ in range(count):
            report = FrictionReportFactory(
                reporting_team=sales,
                addressed_team=service,
                pain_point=PainPointFactory(),
                created_by=sales_manager,
            )
            friction_report_assign(
                report=report, user=service_head, assignee=service_member
            )
            friction_report_set_due_date(
                report=report, user=service_head, due_date=NOW.date()
            )
            friction_comment_add(report=report, user=sales_manager, body="More?")

    add(1)
    client.force_login(sales_manager)
    client.get(url("list"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url("list")).status_code == 200
    add(12)
    with django_assert_num_queries(len(captured)):
        page = body(client.get(url("list")))
    assert page.count("Dana Reed") == 13
