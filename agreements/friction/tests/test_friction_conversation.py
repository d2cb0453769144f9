"""A friction report as a conversation between the two teams: comments from
either side, the assignee and due date the addressed team's heads set, the
order reports are listed in, and when a report is overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agreements import periods
from agreements.friction.models import COMMENT_MAX_LENGTH
from agreements.friction.selectors import friction_report_list
from agreements.friction.services import (
    friction_comment_add,
    friction_report_assign,
    friction_report_change_status,
    friction_report_set_due_date,
)
from agreements.models import FrictionReport
from agreements.selectors import friction_timeline
from agreements.tests.factories import FrictionReportFactory
from agreements.tests.moments import NOW

from .conversation import written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status
Severity = FrictionReport.Severity
TODAY = NOW.date()


# --- Comments from both sides ----------------------------------------------------


def test_both_teams_comment_and_each_comment_records_its_side(
    report, sales, service, sales_manager, sales_member, service_head, service_lead
):
    asked = friction_comment_add(report=report, user=service_head, body="Which?")
    answered = friction_comment_add(report=report, user=sales_manager, body="March")
    also = friction_comment_add(report=report, user=sales_member, body="And April")
    by_lead = friction_comment_add(report=report, user=service_lead, body="Noted")

    assert [(c.team, c.author) for c in (asked, answered, also, by_lead)] == [
        (service, service_head),
        (sales, sales_manager),
        (sales, sales_member),
        (service, service_lead),
    ]
    record = answered.history.get()
    assert (record.history_user, record.history_change_reason) == (
        sales_manager,
        "commented",
    )
    events = [
        (e.kind, e.who, e.team, e.text)
        for e in friction_timeline(report)
        if e.kind == "comment"
    ]
    assert events == [
        ("comment", service_head, service, "Which?"),
        ("comment", sales_manager, sales, "March"),
        ("comment", sales_member, sales, "And April"),
        ("comment", service_lead, service, "Noted"),
    ]


def test_a_third_team_and_executives_do_not_comment(
    report, marketing_lead, executive, outsider
):
    before = written()
    for user in (marketing_lead, executive, outsider):
        with pytest.raises(PermissionDenied):
            friction_comment_add(report=report, user=user, body="Hi")
    assert written() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   ", "Write a comment."),
        ("x" * (COMMENT_MAX_LENGTH + 1), "at most 4000 characters"),
    ],
)
def test_an_empty_or_too_long_comment_writes_nothing(
    report, sales_manager, body, message
):
    before = written()
    with pytest.raises(ValidationError) as caught:
        friction_comment_add(report=report, user=sales_manager, body=body)
    assert message in caught.value.message_dict["body"][0]
    assert written() == before


def test_a_comment_of_the_longest_length_is_kept(report, sales_manager):
    body = "x" * COMMENT_MAX_LENGTH
    assert friction_comment_add(report=report, user=sales_manager, body=body).pk


def test_a_status_note_too_long_moves_nothing(report, service_head):
    before = written()
    with pytest.raises(ValidationError) as caught:
        friction_report_change_status(
            report=report,
            user=service_head,
            status=Status.ACKNOWLEDGED,
            note="x" * (COMMENT_MAX_LENGTH + 1),
        )
    assert "note" in caught.value.message_dict
    report.refresh_from_db()
    assert report.status == Status.NEW
    assert written() == before


def test_an_acknowledgement_without_a_note_is_kept_as_the_heads_side(
    report, service, service_head
):
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED
    )
    comment = report.comments.get()
    assert (comment.body, comment.new_status, comment.team) == (
        "",
        Status.ACKNOWLEDGED,
        service,
    )


def test_the_other_side_may_still_comment_on_a_closed_report(
    report, service_head, sales_manager
):
    for status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        friction_report_change_status(report=report, user=service_head, status=status)
    friction_comment_add(report=report, user=sales_manager, body="Thanks!")
    assert report.comments.filter(body="Thanks!").exists()


# --- Assignee and due date --------------------------------------------------------


def test_the_head_assigns_a_member_and_sets_a_due_date(
    report, service, service_head, service_member
):
    friction_report_assign(report=report, user=service_head, assignee=service_member)
    friction_report_set_due_date(
        report=report, user=service_head, due_date=dt.date(2026, 3, 20)
    )
    friction_report_set_due_date(
        report=report, user=service_head, due_date=dt.date(2026, 3, 25)
    )
    friction_report_assign(report=report, user=service_head, assignee=service_head)
    friction_report_assign(report=report, user=service_head, assignee=None)
    friction_report_set_due_date(report=report, user=service_head, due_date=None)

    report.refresh_from_db()
    assert (report.assigned_to, report.due_date) == (None, None)
    reasons = list(
        report.history.order_by("history_date", "history_id").values_list(
            "history_user__username", "history_change_reason"
        )
    )[1:]
    assert reasons == [
        ("service-head", "assigned it to Dana Reed"),
        ("service-head", "set the due date to 20 March 2026"),
        ("service-head", "moved the due date from 20 March 2026 to 25 March 2026"),
        ("service-head", f"assigned it to {service_head.get_full_name()}"),
        ("service-head", f"removed the assignee ({service_head.get_full_name()})"),
        ("service-head", "removed the due date (25 March 2026)"),
    ]
    timeline = [(e.kind, e.team, e.text) for e in friction_timeline(report)][1:]
    assert timeline[0] == ("changed", service, "assigned it to Dana Reed")
    assert all(kind == "changed" and team == service for kind, team, _ in timeline)
    assert all(not e.changes for e in friction_timeline(report))


def test_the_same_assignee_or_due_date_again_writes_nothing(
    report, service_head, service_member
):
    friction_report_assign(report=report, user=service_head, assignee=service_member)
    friction_report_set_due_date(report=report, user=service_head, due_date=TODAY)
    before = written()
    friction_report_assign(report=report, user=service_head, assignee=service_member)
    friction_report_set_due_date(report=report, user=service_head, due_date=TODAY)
    assert written() == before


def test_only_the_addressed_teams_heads_assign_and_set_due_dates(
    report, service_lead, sales_manager, sales_head, executive, outsider
):
    before = written()
    for user in (service_lead, sales_manager, sales_head, executive, outsider):
        with pytest.raises(PermissionDenied):
            friction_report_assign(report=report, user=user, assignee=service_lead)
        with pytest.raises(PermissionDenied):
            friction_report_set_due_date(report=report, user=user, due_date=TODAY)
    assert written() == before


@pytest.mark.parametrize("assignee", ["sales_manager", "marketing_lead", "executive"])
def test_a_report_is_assigned_only_to_a_member_of_the_addressed_team(
    request, report, service_head, assignee
):
    person = request.getfixturevalue(assignee)
    before = written()
    with pytest.raises(ValidationError) as caught:
        friction_report_assign(report=report, user=service_head, assignee=person)
    assert (
        "is not a member of Customer Service"
        in (caught.value.message_dict["assignee"][0])
    )
    report.refresh_from_db()
    assert report.assigned_to is None
    assert written() == before


def test_a_due_date_in_the_past_is_refused_and_today_is_fine(report, service_head):
    before = written()
    with pytest.raises(ValidationError) as caught:
        friction_report_set_due_date(
            report=report, user=service_head, due_date=TODAY - dt.timedelta(days=1)
        )
    assert caught.value.message_dict["due_date"] == [
        "14 March 2026 has passed: choose today or a later day."
    ]
    assert written() == before
    friction_report_set_due_date(report=report, user=service_head, due_date=TODAY)
    report.refresh_from_db()
    assert report.due_date == TODAY


def test_a_closed_report_takes_no_assignee_nor_due_date(
    report, service_head, service_lead
):
    for status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        friction_report_change_status(report=report, user=service_head, status=status)
    before = written()
    with pytest.raises(ValidationError, match=r"resolved.*no longer takes"):
        friction_report_assign(report=report, user=service_head, assignee=service_lead)
    with pytest.raises(ValidationError, match=r"resolved.*no longer takes"):
        friction_report_set_due_date(report=report, user=service_head, due_date=TODAY)
    assert written() == before


# --- Overdue, age and order -------------------------------------------------------


def test_a_report_is_overdue_the_day_after_its_due_date_until_resolved(
    frozen, report, service_head
):
    friction_report_set_due_date(
        report=report, user=service_head, due_date=dt.date(2026, 3, 17)
    )
    report.refresh_from_db()
    assert not report.is_overdue
    # Days in the organisation's time zone, whatever it is.
    zone = periods.org_zone()
    frozen.move_to(dt.datetime(2026, 3, 17, 23, 59, tzinfo=zone))
    assert not report.is_overdue
    frozen.move_to(dt.datetime(2026, 3, 18, 0, 0, tzinfo=zone))
    assert report.is_overdue
    for status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        report = friction_report_change_status(
            report=report, user=service_head, status=status
        )
    assert not report.is_overdue


def test_a_reports_age_counts_whole_days_until_it_closes(frozen, report, service_head):
    assert (report.age_days, report.age_text) == (0, "under a day")
    frozen.shift(dt.timedelta(days=1))
    assert (report.age_days, report.age_text) == (1, "1 day")
    frozen.shift(dt.timedelta(days=2))
    assert report.age_text == "3 days"
    for status in (Status.ACKNOWLEDGED, Status.WONT_FIX):
        report = friction_report_change_status(
            report=report, user=service_head, status=status, note="Not ours"
        )
    frozen.shift(dt.timedelta(days=30))
    assert report.age_text == "3 days"


def test_reports_are_listed_open_first_most_severe_then_oldest(
    frozen, sales, service, sales_manager
):
    def filed(customer: str, severity: str, status: str = Status.NEW):
        frozen.shift(dt.timedelta(hours=1))
        return FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            customer=customer,
            severity=severity,
            status=status,
        )

    filed("old low", Severity.LOW)
    filed("resolved critical", Severity.CRITICAL, Status.RESOLVED)
    filed("old high", Severity.HIGH)
    filed("medium", Severity.MEDIUM)
    filed("new critical", Severity.CRITICAL)
    filed("new high", Severity.HIGH)
    listed = [r.customer for r in friction_report_list(user=sales_manager)]
    assert listed == [
        "new critical",
        "old high",
        "new high",
        "medium",
        "old low",
        "resolved critical",
    ]
