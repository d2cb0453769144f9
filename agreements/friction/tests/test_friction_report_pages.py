"""A friction report's pages: who may open and act on them, and the report's
life from new to resolved (moves, comments, edits, withdrawal, pain points,
corrections of a locked month)."""

from __future__ import annotations

import datetime as dt

import pytest

from agreements.friction.tests.friction_pages import body, kb, report_data, url, written
from agreements.models import FrictionComment, FrictionReport
from agreements.tests.factories import FrictionReportFactory, PainPointFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status
PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
]


@pytest.fixture
def report(sales, service, sales_manager, service_head):
    return FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        addressed_to=service_head,
        created_by=sales_manager,
        customer="Acme GmbH",
    )


# --- Permission matrix ------------------------------------------------------------
# A report from Sales to Customer Service: read by both teams and executives;
# changed by Sales' leads while new; moved on by Customer Service's head.
READERS = {"sales_lead", "sales_manager", "service_head", "executive"}


def page_expectation(persona: str, page: str) -> int:
    if page in ("list", "kb_list"):
        return 403 if page == "kb_list" and persona == "outsider" else 200
    if page == "create":
        # Leads of a team with a signed agreement may file.
        return (
            200
            if persona
            in {"marketing_lead", "sales_lead", "sales_manager", "service_head"}
            else 403
        )
    if persona not in READERS:
        return 404
    if page == "edit":
        return 200 if persona in {"sales_lead", "sales_manager"} else 403
    return 200


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", ["list", "create", "detail", "edit", "kb_list"])
def test_page_matrix(client, request, report, persona, page):
    client.force_login(request.getfixturevalue(persona))
    address = {
        "list": url("list"),
        "create": url("create"),
        "detail": url("detail", report.pk),
        "edit": url("edit", report.pk),
        "kb_list": kb("list"),
    }[page]
    response = client.get(address)
    assert response.status_code == page_expectation(persona, page)
    if page == "list":
        shown = url("detail", report.pk) in body(response)
        assert shown is (persona in READERS)


ACTIONS = {
    # action: (data, who may, what changes)
    "status": (
        {"status": "acknowledged", "body": "On it"},
        {"service_head"},
        lambda r: r.status == Status.ACKNOWLEDGED,
    ),
    "comment": (
        {"body": "Which invoices?"},
        {"service_head", "sales_lead", "sales_manager"},
        lambda r: r.comments.filter(body="Which invoices?").exists(),
    ),
    "assign": (
        {"assignee": "", "due_date": "2026-03-31"},
        {"service_head"},
        lambda r: r.due_date == dt.date(2026, 3, 31),
    ),
    "link": (
        {"new_title": "Late invoices", "new_category": "billing"},
        {"service_head"},
        lambda r: r.pain_point is not None,
    ),
    "edit": (
        None,
        {"sales_lead", "sales_manager"},
        lambda r: r.customer == "Globex",
    ),
    "delete": (
        {},
        {"sales_lead", "sales_manager"},
        lambda r: not FrictionReport.objects.filter(pk=r.pk).exists(),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_matrix(client, request, report, sales, service, persona, action):
    data, allowed, changed = ACTIONS[action]
    if data is None:
        data = report_data(sales, service, customer="Globex")
    client.force_login(request.getfixturevalue(persona))
    before = written()

    response = client.post(url(action, report.pk), data)

    if persona in allowed:
        assert response.status_code == 302
        if FrictionReport.objects.filter(pk=report.pk).exists():
            report.refresh_from_db()
        assert changed(report)
    else:
        assert response.status_code == (403 if persona in READERS else 404)
        assert written() == before


@pytest.mark.parametrize("action", ["status", "comment", "assign", "link"])
def test_report_actions_are_post_only(client, service_head, report, action):
    client.force_login(service_head)
    assert client.get(url(action, report.pk)).status_code == 405


# --- The report's life ------------------------------------------------------------


def test_the_head_moves_the_report_on_and_the_reporter_sees_it(
    client, report, service_head, sales_manager
):
    client.force_login(service_head)
    page = client.get(url("detail", report.pk))
    assert page.context["status_actions"] == [(Status.ACKNOWLEDGED, "Acknowledge")]
    client.post(url("status", report.pk), {"status": "acknowledged", "body": ""})
    client.post(
        url("status", report.pk),
        {"status": "in_progress", "body": "Finance is on it <today>"},
    )
    client.post(url("comment", report.pk), {"body": "Fixed for <b>March</b> invoices"})

    client.force_login(sales_manager)
    response = client.get(url("detail", report.pk))
    page = body(response)
    assert 'data-status="in_progress"' in page
    kinds = [event.kind for event in response.context["timeline"]]
    assert kinds == ["filed", "status", "status", "comment"]
    assert "Finance is on it &lt;today&gt;" in page
    assert "Fixed for &lt;b&gt;March&lt;/b&gt; invoices" in page
    assert response.context["status_actions"] == []
    assert url("status", report.pk) not in page
    listed = body(client.get(url("list") + "?box=filed"))
    assert 'data-status="in_progress"' in listed


def test_a_move_the_workflow_does_not_allow_is_explained(client, report, service_head):
    client.force_login(service_head)
    response = client.post(
        url("status", report.pk), {"status": "resolved", "body": ""}, follow=True
    )
    assert "can move to “acknowledged”, not to “resolved”" in body(response)
    report.refresh_from_db()
    assert report.status == Status.NEW


def test_wont_fix_needs_a_note(client, report, service_head):
    client.force_login(service_head)
    client.post(url("status", report.pk), {"status": "acknowledged"})
    response = client.post(
        url("status", report.pk), {"status": "wont_fix", "body": ""}, follow=True
    )
    assert "Say why it will not be fixed" in body(response)
    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED


def test_an_empty_comment_writes_nothing(client, report, service_head):
    client.force_login(service_head)
    client.post(url("comment", report.pk), {"body": "   "})
    assert not FrictionComment.objects.exists()


def test_an_acknowledged_report_can_no_longer_be_edited(
    client, report, service_head, sales_manager, sales, service
):
    client.force_login(service_head)
    client.post(url("status", report.pk), {"status": "acknowledged"})
    client.force_login(sales_manager)
    assert (
        "Edit"
        not in body(client.get(url("detail", report.pk)))
        .split('data-testid="actions"')[1]
        .split("</div>")[0]
    )
    before = written()
    response = client.post(
        url("edit", report.pk), report_data(sales, service, customer="Globex")
    )
    assert response.status_code == 200
    assert "has already acknowledged this report" in body(response)
    assert written() == before


def test_a_report_is_withdrawn_after_confirming(client, report, sales_manager):
    client.force_login(sales_manager)
    assert 'data-testid="confirm-delete"' in body(client.get(url("delete", report.pk)))
    assert FrictionReport.objects.exists()
    client.post(url("delete", report.pk))
    assert not FrictionReport.objects.exists()


def test_a_head_files_a_report_under_an_existing_pain_point(
    client, report, service_head
):
    pain_point = PainPointFactory(title="Late invoices")
    client.force_login(service_head)
    client.post(url("link", report.pk), {"pain_point": pain_point.pk})
    report.refresh_from_db()
    assert report.pain_point == pain_point
    timeline = body(client.get(url("detail", report.pk)))
    assert "filed under pain point “Late invoices”" in timeline
    # And takes it out again.
    client.post(url("link", report.pk), {"pain_point": ""})
    report.refresh_from_db()
    assert report.pain_point is None


def test_a_new_pain_point_with_a_taken_title_links_nothing(
    client, report, service_head
):
    PainPointFactory(title="Late invoices")
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("link", report.pk),
        {"new_title": "late invoices", "new_category": "billing"},
        follow=True,
    )
    assert "already exists" in body(response)
    assert written() == before


def test_a_locked_reports_correction_is_for_the_reporting_teams_head(
    client, sales, service, sales_manager, sales_head
):
    report = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=dt.date(2026, 2, 1)
    )
    client.force_login(sales_manager)
    assert client.get(url("correct", report.pk)).status_code == 403
    client.force_login(sales_head)
    response = client.post(
        url("correct", report.pk),
        {
            "action": "change",
            **{
                f"change-{k}": v
                for k, v in report_data(sales, service, customer="Initech").items()
            },
            "change-reason": "Wrong customer",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.customer == "Initech"
    timeline = body(client.get(url("detail", report.pk)))
    assert "Correction" in timeline and "Wrong customer" in timeline


def test_heads_see_reports_waiting_for_a_pain_point(client, service_head, report):
    client.force_login(service_head)
    page = body(client.get(kb("list")))
    assert 'data-testid="unfiled"' in page
    assert url("detail", report.pk) in page
