"""Event notifications: who hears of what, on which channel, exactly once,
as each person chose; never the actor; never what they may not see."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import Agreement, Membership
from agreements.services import (
    agreement_request_changes,
    agreement_retire,
    agreement_sign,
)
from agreements.tests.builders import active, proposed
from agreements.tests.factories import AgreementFactory
from reports.models import Breach, Delivery, Notification
from reports.notifications import jobs, notices
from reports.notifications.ledger import delivery_send
from reports.notifications.preferences import preferences_update
from reports.services import breach_acknowledge, breach_resolve

from .moments import AFTER_CLOSE, JANUARY, JANUARY_CLOSE

Event = Notification.Event
Email = Notification.Email
pytestmark = pytest.mark.django_db


def heard(event: str | None = None) -> dict[str, str]:
    """``{username: how it is emailed}`` of the notifications of ``event``."""
    rows = Notification.objects.all()
    if event:
        rows = rows.filter(event=event)
    return dict(rows.values_list("recipient__username", "email"))


def emailed(mailoutbox) -> list[str]:
    return sorted(m.to[0].split("<")[1].split("@")[0] for m in mailoutbox)


@pytest.fixture
def sent(django_capture_on_commit_callbacks, eager):
    """Run ``action`` and send what it queued, in-process."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


# --- Agreements ---------------------------------------------------------------


def test_a_proposal_awaits_the_signature_of_both_parties_but_not_the_proposer(
    marketing, sales, marketing_lead, marketing_head, sales_lead, sales_member,
    sent, mailoutbox,
):  # fmt: skip
    agreement = sent(proposed, user=marketing_lead, provider=marketing, consumer=sales)
    assert heard(Event.SIGNATURE_AWAITED) == {
        "marketing-head": Email.AT_ONCE,
        "sales-lead": Email.AT_ONCE,
    }
    assert emailed(mailoutbox) == ["marketing-head", "sales-lead"]
    mail = mailoutbox[0]
    assert "Leads for sales" in mail.subject
    assert mail.extra_headers["X-Slaportal-Kind"] == "event"
    note = Notification.objects.get(recipient=sales_lead)
    assert note.url == f"/agreements/{agreement.pk}/" and note.agreement == agreement
    assert f"/notifications/{note.pk}/open/" in mail.body

    # One party signs: the other is told only its signature is awaited now.
    mailoutbox.clear()
    sent(agreement_sign, agreement=agreement, user=marketing_lead, team=marketing)
    texts = Notification.objects.filter(recipient=sales_lead).values_list(
        "text", flat=True
    )
    assert any("only the signature of Sales is awaited" in t for t in texts)
    assert emailed(mailoutbox) == ["sales-lead"]


def test_an_agreement_signed_by_both_tells_both_heads(
    marketing, sales, marketing_lead, marketing_head, sales_lead, sales_head,
    sent, mailoutbox,
):  # fmt: skip
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    agreement_sign(agreement=agreement, user=marketing_lead, team=marketing)
    sent(agreement_sign, agreement=agreement, user=sales_lead, team=sales)
    assert heard(Event.AGREEMENT_ACTIVE) == {
        "marketing-head": Email.AT_ONCE,
        "sales-head": Email.AT_ONCE,
    }
    assert emailed(mailoutbox) == ["marketing-head", "sales-head"]
    assert "is active: both parties signed" in mailoutbox[0].body


def test_changes_requested_tell_the_proposer(
    marketing, sales, marketing_lead, sales_lead, sent, mailoutbox
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    Notification.objects.all().delete()
    sent(
        agreement_request_changes,
        agreement=agreement,
        user=sales_lead,
        note="Target too low",
    )
    assert heard() == {"marketing-lead": Email.AT_ONCE}
    assert "Target too low" in Notification.objects.get().text
    assert emailed(mailoutbox) == ["marketing-lead"]


def test_retiring_tells_both_heads_but_not_the_head_who_retired_it(
    marketing, sales, marketing_lead, marketing_head, sales_lead, sales_head, sent,
    mailoutbox,
):  # fmt: skip
    agreement = active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )
    Notification.objects.all().delete()
    sent(agreement_retire, agreement=agreement, user=marketing_head, note="Merged")
    assert heard() == {"sales-head": Email.AT_ONCE}
    assert emailed(mailoutbox) == ["sales-head"]


def test_an_event_announced_twice_notifies_nobody_twice(
    marketing, sales, marketing_lead, marketing_head, sales_lead, sent, mailoutbox
):
    agreement = sent(proposed, user=marketing_lead, provider=marketing, consumer=sales)
    deliveries = Delivery.objects.count()
    again = notices.agreement_proposed(agreement=agreement, actor=marketing_lead)
    assert sent(notices.notify, again) == 0
    assert Notification.objects.count() == 2
    assert Delivery.objects.count() == deliveries == 2
    assert len(mailoutbox) == 2
    # The ledger sends each delivery once, however often its task runs.
    for delivery in Delivery.objects.all():
        assert delivery_send(delivery_id=delivery.pk).result == "busy"
    assert len(mailoutbox) == 2


# --- Preferences ----------------------------------------------------------------


def test_a_daily_summary_instead_of_an_email_at_once(
    marketing, sales, marketing_lead, marketing_head, sales_lead, sent, mailoutbox
):
    preferences_update(user=sales_lead, agreement_email="daily")
    preferences_update(user=marketing_head, agreement_email="off")
    moment = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        sent(proposed, user=marketing_lead, provider=marketing, consumer=sales)
    assert heard() == {"sales-lead": Email.DAILY, "marketing-head": Email.NONE}
    assert mailoutbox == [] and not Delivery.objects.exists()

    # Not the same day; the next morning, once.
    sent(jobs.event_summaries_due, now=moment + dt.timedelta(hours=1))
    assert mailoutbox == []
    next_morning = dt.datetime(2026, 3, 11, 8, 15, tzinfo=dt.UTC)
    sent(jobs.event_summaries_due, now=next_morning)
    sent(jobs.event_summaries_due, now=next_morning + dt.timedelta(hours=1))
    assert emailed(mailoutbox) == ["sales-lead"]
    summary = mailoutbox[0]
    assert summary.extra_headers["X-Slaportal-Kind"] == "summary"
    assert "10 March 2026: 1 notification" in summary.subject
    assert "Leads for sales" in summary.body
    assert Delivery.objects.get().subject_key == "summary-2026-03-10"


def test_new_breaches_cannot_wait_for_a_summary(
    org, sent, mailoutbox, django_capture_on_commit_callbacks
):
    preferences_update(user=org.people["marketing-head"], breach_email="off")
    jobs.month_close(month=JANUARY, now=JANUARY_CLOSE, enqueue=False)
    breach = Breach.objects.get()
    Notification.objects.all().delete()
    sent(notices.breaches_opened, Breach.objects.all())
    assert heard(Event.BREACH_OPENED) == {
        "marketing-head": Email.AT_ONCE,
        "marketing-lead": Email.AT_ONCE,
    }
    assert emailed(mailoutbox) == ["marketing-head", "marketing-lead"]
    assert "Marketing makes up the shortfall" in mailoutbox[0].body
    assert Notification.objects.filter(breach=breach).count() == 2


# --- Breaches -------------------------------------------------------------------


def test_the_month_close_puts_new_breaches_in_the_inbox_beside_its_emails(org):
    with time_machine.travel(JANUARY_CLOSE, tick=False):
        jobs.month_close(month=JANUARY, now=JANUARY_CLOSE, enqueue=False)
    breach = Breach.objects.get()
    # The month-end email carries the breach notice: no second email.
    assert heard(Event.BREACH_OPENED) == {
        "marketing-head": Email.NONE,
        "marketing-lead": Email.NONE,
    }
    note = Notification.objects.filter(event=Event.BREACH_OPENED).first()
    assert note.url == f"/reports/breaches/{breach.pk}/"
    assert "Qualified leads" in note.text and "January 2026" in note.text
    assert not Delivery.objects.filter(kind=Delivery.Kind.EVENT).exists()
    # Closing again opens nothing new.
    jobs.month_close(month=JANUARY, now=AFTER_CLOSE, enqueue=False)
    assert Notification.objects.filter(event=Event.BREACH_OPENED).count() == 2


def test_breaches_told_in_the_inbox_only_are_counted_without_reading_them_back(
    org,
):
    jobs.month_close(month=JANUARY, now=JANUARY_CLOSE, enqueue=False)
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        told = notices.breaches_opened(Breach.objects.all(), email=False)
    assert told == 2 == Notification.objects.count()
    notification = Notification._meta.db_table
    reads = [q["sql"] for q in ctx if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if f'FROM "{notification}"' in sql]
    # Told again: nothing new, and so counted.
    assert notices.breaches_opened(Breach.objects.all(), email=False) == 0
    assert Notification.objects.count() == 2


def test_the_consumer_head_hears_a_breach_acknowledged_then_resolved(
    org, sales_head, sent, mailoutbox
):
    jobs.month_close(month=JANUARY, now=JANUARY_CLOSE, enqueue=False)
    breach = Breach.objects.get()
    lead = org.people["marketing-lead"]
    sent(breach_acknowledge, breach=breach, user=lead)
    assert heard(Event.BREACH_ACKNOWLEDGED) == {"sales-head": Email.AT_ONCE}
    preferences_update(user=sales_head, breach_email="daily")
    sent(breach_resolve, breach=breach, user=lead, note="Made up in February")
    assert heard(Event.BREACH_RESOLVED) == {"sales-head": Email.DAILY}
    assert emailed(mailoutbox) == ["sales-head"]
    assert "acknowledged the breach" in mailoutbox[0].body


# --- Review dates -----------------------------------------------------------------


def test_a_review_date_tells_both_heads_once(
    marketing, sales, marketing_head, sales_head, sales_lead, sent, mailoutbox
):
    due = AgreementFactory(
        provider=marketing, consumer=sales, review_on=dt.date(2026, 5, 4)
    )
    AgreementFactory(
        provider=marketing,
        consumer=sales,
        review_on=dt.date(2026, 5, 4),
        status=Agreement.Status.RETIRED,
    )
    AgreementFactory(provider=marketing, consumer=sales, review_on=dt.date(2026, 5, 5))
    day_before = dt.datetime(2026, 5, 3, 8, 20, tzinfo=dt.UTC)
    assert sent(notices.reviews_due, now=day_before) == 0
    on_the_day = dt.datetime(2026, 5, 4, 8, 20, tzinfo=dt.UTC)
    assert sent(notices.reviews_due, now=on_the_day) == 2
    assert sent(notices.reviews_due, now=on_the_day + dt.timedelta(hours=1)) == 0
    assert heard(Event.REVIEW_DUE) == {
        "marketing-head": Email.AT_ONCE,
        "sales-head": Email.AT_ONCE,
    }
    assert set(Notification.objects.values_list("agreement", flat=True)) == {due.pk}
    assert emailed(mailoutbox) == ["marketing-head", "sales-head"]


# --- Visibility -------------------------------------------------------------------


def test_no_email_shows_what_its_reader_can_no_longer_see(
    marketing, sales, marketing_lead, sales_lead, django_capture_on_commit_callbacks,
    mailoutbox,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        proposed(user=marketing_lead, provider=marketing, consumer=sales)
    # Moved to another team before the email went out.
    Membership.objects.filter(user=sales_lead).delete()
    delivery = Delivery.objects.get(recipient=sales_lead)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith("Withheld")
    assert mailoutbox == []


def test_a_breach_cleared_by_a_correction_tells_both_sides_once(org, sent, mailoutbox):
    from agreements.figures import kinds
    from agreements.figures.models import LeadLogEntry
    from agreements.figures.services import figure_correct
    from reports.services import scorecards_finalise

    jobs.month_close(month=JANUARY, now=JANUARY_CLOSE, enqueue=False)
    breach = Breach.objects.get()
    entry = LeadLogEntry.objects.get(date=dt.date(2026, 1, 25))
    with time_machine.travel(AFTER_CLOSE, tick=False):
        sent(
            figure_correct,
            kinds.LEADS,
            user=org.people["marketing-head"],
            reason="The CRM export missed the webinar leads",
            row=entry,
            qualified_leads=80,
        )
        sent(scorecards_finalise, month=JANUARY, reason="correction")
        sent(scorecards_finalise, month=JANUARY, reason="correction")
    breach.refresh_from_db()
    assert breach.status == Breach.Status.RESOLVED
    # The consumer's head (Sales has a manager for one) and the provider's
    # head and lead, each once however many times the month is finalised.
    told = heard(Event.BREACH_RESOLVED)
    assert told == {
        "sales-manager": Email.AT_ONCE,
        "marketing-head": Email.AT_ONCE,
        "marketing-lead": Email.AT_ONCE,
    }
    note = Notification.objects.filter(event=Event.BREACH_RESOLVED).first()
    assert note.text.startswith("Cleared: a correction brought “Qualified leads”")
    assert note.url == f"/reports/breaches/{breach.pk}/"
    assert emailed(mailoutbox) == ["marketing-head", "marketing-lead", "sales-manager"]
