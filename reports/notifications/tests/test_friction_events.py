"""Friction reports: the addressed team's head hears of a report filed, the
reporter and their lead of what became of it."""

from __future__ import annotations

import pytest

from agreements.friction.services import (
    friction_comment_add,
    friction_report_assign,
    friction_report_change_status,
    friction_report_create,
)
from agreements.models import FrictionReport, Membership
from reports.models import Delivery, Notification
from reports.notifications import notices
from reports.notifications.ledger import delivery_send
from reports.notifications.preferences import preferences_update

from .test_events import emailed, heard

Event = Notification.Event
Email = Notification.Email
Severity = FrictionReport.Severity
pytestmark = pytest.mark.django_db


@pytest.fixture
def parties(chain, sales_manager, sales_lead, service_head, service_lead):
    """Sales files to Customer Service (their handover agreement)."""


@pytest.fixture
def sent(django_capture_on_commit_callbacks, eager):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def file(user, sales, severity=Severity.MEDIUM, customer="Acme"):
    return friction_report_create(
        reporting_team=sales,
        user=user,
        customer=customer,
        category=FrictionReport.Category.BILLING,
        description="Invoices arrive twice.",
        severity=severity,
    )


def test_a_report_filed_reaches_the_addressed_head_with_its_severity(
    parties, sales, sales_manager, sent, mailoutbox
):
    report = sent(file, sales_manager, sales, Severity.HIGH)
    assert heard() == {"service-head": Email.AT_ONCE}
    note = Notification.objects.get()
    assert "high-severity" in note.text and "Acme" in note.text
    assert note.friction_report == report
    assert note.url == f"/friction/{report.pk}/"
    assert emailed(mailoutbox) == ["service-head"]
    assert "Friction report filed" in mailoutbox[0].body


def test_critical_and_high_reports_do_not_wait_for_a_summary(
    parties, sales, sales_manager, service_head, sent, mailoutbox
):
    preferences_update(user=service_head, friction_email="daily")
    sent(file, sales_manager, sales, Severity.MEDIUM, "Medium Ltd")
    sent(file, sales_manager, sales, Severity.CRITICAL, "Critical Inc")
    assert Notification.objects.get(text__contains="Medium Ltd").email == (Email.DAILY)
    assert Notification.objects.get(text__contains="Critical Inc").email == (
        Email.AT_ONCE
    )
    assert emailed(mailoutbox) == ["service-head"]
    assert "Critical Inc" in mailoutbox[0].body

    # Switched off: nothing by email, even critical; the inbox still has it.
    preferences_update(user=service_head, friction_email="off")
    sent(file, sales_manager, sales, Severity.CRITICAL, "Other Corp")
    assert Notification.objects.filter(email=Email.NONE).count() == 1
    assert len(mailoutbox) == 1


def test_a_status_change_reaches_the_reporter_and_their_lead_not_the_head(
    parties, sales, sales_manager, service_head, sent, mailoutbox
):
    report = file(sales_manager, sales)
    Notification.objects.all().delete()
    sent(
        friction_report_change_status,
        report=report,
        user=service_head,
        status=FrictionReport.Status.ACKNOWLEDGED,
        note="On it",
    )
    assert heard(Event.FRICTION_STATUS) == {
        "sales-manager": Email.AT_ONCE,
        "sales-lead": Email.AT_ONCE,
    }
    assert "“acknowledged”: “On it”" in Notification.objects.first().text
    assert emailed(mailoutbox) == ["sales-lead", "sales-manager"]

    # The same status again changes nothing, and tells nobody again.
    sent(
        friction_report_change_status,
        report=report,
        user=service_head,
        status=FrictionReport.Status.ACKNOWLEDGED,
    )
    report.refresh_from_db()
    sent(notices.on_announced, "friction_status_changed", actor=service_head,
         report=report)  # fmt: skip
    assert Notification.objects.count() == 2 and len(mailoutbox) == 2


def test_a_comment_reaches_the_other_side(
    parties, sales, sales_manager, service_head, sent, mailoutbox
):
    report = file(sales_manager, sales)
    Notification.objects.all().delete()
    sent(friction_comment_add, report=report, user=service_head, body="Which plan?")
    assert heard(Event.FRICTION_COMMENT) == {
        "sales-manager": Email.AT_ONCE,
        "sales-lead": Email.AT_ONCE,
    }
    assert "Which plan?" in Notification.objects.first().text
    # A reply from the reporting team goes to the addressed team's head.
    Notification.objects.all().delete()
    sent(friction_comment_add, report=report, user=sales_manager, body="Pro plan.")
    assert heard() == {"service-head": Email.AT_ONCE}


def test_the_person_a_report_is_assigned_to_hears_of_it_and_of_replies(
    parties, sales, sales_manager, service_head, service_lead, sent, mailoutbox
):
    report = file(sales_manager, sales)
    Notification.objects.all().delete()
    sent(
        friction_report_assign, report=report, user=service_head, assignee=service_lead
    )
    assert heard(Event.FRICTION_ASSIGNED) == {"service-lead": Email.AT_ONCE}
    assert "assigned you the medium-severity friction report" in (
        Notification.objects.get().text
    )
    # Assigned the same person again: nothing more.
    sent(
        friction_report_assign, report=report, user=service_head, assignee=service_lead
    )
    assert Notification.objects.count() == 1
    # The reporter's reply reaches the assignee too.
    Notification.objects.all().delete()
    sent(friction_comment_add, report=report, user=sales_manager, body="Any news?")
    assert set(heard(Event.FRICTION_COMMENT)) == {"service-head", "service-lead"}


def test_no_email_about_a_report_its_reader_can_no_longer_see(
    parties, sales, sales_manager, sales_lead, service_head,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    report = file(sales_manager, sales)
    with django_capture_on_commit_callbacks(execute=False):
        friction_report_change_status(
            report=report, user=service_head, status=FrictionReport.Status.ACKNOWLEDGED
        )
    Membership.objects.filter(user=sales_lead).delete()
    delivery = Delivery.objects.get(recipient=sales_lead)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "friction_reports" in delivery.last_error
    assert mailoutbox == []
