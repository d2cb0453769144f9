"""The delivery ledger: each email once, retried with backoff, then failed."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import smtplib

import pytest
import time_machine

from reports.models import Delivery
from reports.notifications import ledger
from reports.notifications.jobs import month_close
from reports.notifications.ledger import (
    Result,
    deliveries_resend,
    deliveries_retry,
    deliveries_send_batch,
    delivery_send,
)
from reports.notifications.preferences import preferences_update
from reports.notifications.render import message_id
from reports.notifications.tasks import deliver

from .backends import FlakyBackend
from .moments import AFTER_CLOSE, JANUARY

Kind = Delivery.Kind
Status = Delivery.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(org):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
    return org


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "reports.notifications.tests.backends.FlakyBackend"
    FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection closed")
    yield FlakyBackend
    FlakyBackend.failures = 0


def a_delivery(closed, username="sales-lead", kind=Kind.SCORECARD) -> Delivery:
    return Delivery.objects.get(recipient__username=username, kind=kind)


def test_sending_twice_sends_once(closed, mailoutbox):
    delivery = a_delivery(closed)
    assert delivery_send(delivery_id=delivery.pk).result == Result.SENT
    assert delivery_send(delivery_id=delivery.pk).result == Result.BUSY
    assert len(mailoutbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.attempts == 1
    assert delivery.sent_at is not None
    assert delivery.email == "sales-lead@example.com"
    assert delivery.message_id == mailoutbox[0].extra_headers["Message-ID"]


def test_every_planned_email_goes_out_once(closed, mailoutbox):
    ids = list(Delivery.objects.values_list("pk", flat=True))
    for _ in range(2):
        for pk in ids:
            delivery_send(delivery_id=pk)
    assert len(mailoutbox) == len(ids) == 8  # 3 digests, 5 scorecards
    assert sorted(m.to[0].split("<")[1].rstrip(">") for m in mailoutbox) == sorted(
        Delivery.objects.values_list("recipient__email", flat=True)
    )


def test_the_collector_waits_for_the_end_of_each_batch_of_emails(
    closed, mailoutbox, settings, monkeypatch
):
    """What an email builds is freed by reference counting; the garbage
    collector runs between batches of ``SLA_EMAIL_BATCH_SIZE``, not during."""
    settings.SLA_EMAIL_BATCH_SIZE = 3
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    collecting = []
    real = ledger._deliver
    monkeypatch.setattr(
        ledger,
        "_deliver",
        lambda *a, **kw: collecting.append(gc.isenabled()) or real(*a, **kw),
    )
    with time_machine.travel(AFTER_CLOSE, tick=False):
        counts = deliveries_send_batch(ids)
    assert gc.isenabled()
    assert counts[Result.SENT] == len(ids) == len(mailoutbox) == 8
    assert collecting == [False] * 8


def test_a_batch_claims_its_deliveries_in_one_update_and_leaves_others_alone(
    closed, mailoutbox, settings
):
    """The batch's claim is one UPDATE for every delivery of a batch of
    ``SLA_EMAIL_BATCH_SIZE``, each then marked as it is sent; one another
    worker holds is left to it, and asked for again when its lease ends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SLA_EMAIL_BATCH_SIZE = 3
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    held = dt.datetime(2026, 2, 4, 8, 50, tzinfo=dt.UTC)  # 10 minutes before
    Delivery.objects.filter(pk=ids[4]).update(
        status=Status.SENDING, claimed_at=held, attempts=1
    )
    table = Delivery._meta.db_table
    with (
        time_machine.travel(dt.datetime(2026, 2, 4, 9, 0, tzinfo=dt.UTC), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        counts = deliveries_send_batch(ids)
    claims = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(f'UPDATE "{table}"') and "attempts" in q["sql"]
    ]
    assert len(claims) == 3  # 8 deliveries, 3 to a batch
    assert counts[Result.SENT] == len(mailoutbox) == len(ids) - 1
    assert counts[Result.IN_FLIGHT] == 1
    other = Delivery.objects.get(pk=ids[4])
    assert (other.status, other.claimed_at, other.attempts) == (
        Status.SENDING,
        held,
        1,
    )
    sent = Delivery.objects.exclude(pk=ids[4])
    assert set(sent.values_list("status", "attempts")) == {(Status.SENT, 1)}


def test_a_long_batch_renews_its_claim_before_another_worker_may_take_over(
    closed, mailoutbox, settings, monkeypatch
):
    """Each message of this batch takes 40 s of a 60 s lease: without
    renewal, another worker would take the third over and send it twice."""
    from reports.notifications.render import Composer

    settings.SLA_EMAIL_BATCH_SIZE = 3
    settings.SLA_EMAIL_LEASE_SECONDS = 60
    ids = sorted(Delivery.objects.values_list("pk", flat=True))[:3]
    start = dt.datetime(2026, 2, 4, 9, 0, tzinfo=dt.UTC)
    real_message = Composer.message
    taken_over = []

    with time_machine.travel(start, tick=False) as clock:

        def slow_message(self, delivery):
            clock.shift(40)
            # Another worker tries the batch's last delivery meanwhile.
            outcome = delivery_send(delivery_id=ids[-1])
            taken_over.append(outcome.result)
            return real_message(self, delivery)

        monkeypatch.setattr(Composer, "message", slow_message)
        counts = deliveries_send_batch(ids)
    assert counts[Result.SENT] == 3
    # The other worker was told to wait each time, and sent nothing.
    assert taken_over == [Result.IN_FLIGHT] * 3
    assert len(mailoutbox) == 3
    assert set(
        Delivery.objects.filter(pk__in=ids).values_list("status", "attempts")
    ) == {(Status.SENT, 1)}


def test_a_stale_claim_is_taken_over_and_a_live_one_is_not(closed, mailoutbox):
    delivery = a_delivery(closed)
    claimed_at = dt.datetime(2026, 2, 4, 8, 0, tzinfo=dt.UTC)
    # A worker claimed it at 08:00 and died before marking it sent.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, claimed_at=claimed_at, attempts=1
    )
    within_lease = claimed_at + dt.timedelta(minutes=14)
    outcome = delivery_send(delivery_id=delivery.pk, now=within_lease)
    # Another worker may still be at it: look again when the lease is over.
    assert (outcome.result, outcome.countdown) == (Result.IN_FLIGHT, 61)
    assert mailoutbox == []
    after_lease = claimed_at + dt.timedelta(minutes=16)
    assert delivery_send(delivery_id=delivery.pk, now=after_lease).result == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)
    assert len(mailoutbox) == 1


def test_a_worker_that_lost_its_claim_does_not_overwrite_the_new_owner(
    closed, mailoutbox, monkeypatch
):
    delivery = a_delivery(closed)
    from reports.notifications.render import Composer

    real_message = Composer.message

    def slow_message(self, d):
        # While this worker renders, its lease runs out and another claims it.
        Delivery.objects.filter(pk=d.pk).update(
            claimed_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        )
        return real_message(self, d)

    monkeypatch.setattr(Composer, "message", slow_message)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.SENDING  # left to the owner of the claim


def test_temporary_failures_back_off_then_fail_after_five_attempts(
    closed, flaky, mailoutbox, caplog
):
    delivery = a_delivery(closed)
    flaky.failures = 99
    countdowns = []
    for _ in range(4):
        outcome = delivery_send(delivery_id=delivery.pk)
        assert outcome.result == Result.RETRY
        countdowns.append(outcome.countdown)
        delivery.refresh_from_db()
        assert delivery.status == Status.PENDING
    assert countdowns == [30, 60, 120, 240]  # well below the 1 h visibility timeout
    with caplog.at_level(logging.ERROR, logger="reports.notifications.ledger"):
        assert delivery_send(delivery_id=delivery.pk).result == Result.FAILED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 5)
    assert "Attempt 5" in delivery.last_error
    assert "Connection closed" in delivery.last_error
    assert "failed after 5 attempt(s)" in caplog.text
    # Failed stays failed: nothing claims it again by itself.
    assert delivery_send(delivery_id=delivery.pk).result == Result.BUSY
    assert mailoutbox == []


def test_a_permanent_refusal_fails_at_once(closed, flaky, mailoutbox):
    flaky.failures = 1
    flaky.error = smtplib.SMTPRecipientsRefused(
        {"sales-lead@example.com": (550, b"5.1.1 No such user")}
    )
    delivery = a_delivery(closed)
    assert delivery_send(delivery_id=delivery.pk).result == Result.FAILED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)


def test_a_4xx_refusal_is_retried(closed, flaky, mailoutbox):
    flaky.failures = 1
    flaky.error = smtplib.SMTPRecipientsRefused(
        {"sales-lead@example.com": (451, b"4.3.0 Try again later")}
    )
    delivery = a_delivery(closed)
    assert delivery_send(delivery_id=delivery.pk).result == Result.RETRY
    assert delivery_send(delivery_id=delivery.pk).result == Result.SENT
    assert len(mailoutbox) == 1


def test_the_task_asks_celery_to_retry_after_the_backoff(
    closed, flaky, mailoutbox, monkeypatch
):
    from celery.exceptions import Retry

    asked = []

    def retry(countdown):
        asked.append(countdown)
        return Retry()

    monkeypatch.setattr(deliver, "retry", retry)
    flaky.failures = 2
    delivery = a_delivery(closed)
    for _ in range(2):
        with pytest.raises(Retry):
            deliver(delivery.pk)
    assert deliver(delivery.pk) == "sent"
    assert asked == [30, 60]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 3)
    assert len(mailoutbox) == 1


def test_a_redelivered_task_waits_for_the_lease_of_a_claimed_delivery(
    closed, mailoutbox, monkeypatch
):
    """A worker process killed mid-send: its task comes back (acks_late,
    reject_on_worker_lost) while the row is still claimed."""
    from celery.exceptions import Retry

    asked = []
    monkeypatch.setattr(
        deliver, "retry", lambda countdown: asked.append(countdown) or Retry()
    )
    delivery = a_delivery(closed)
    claimed_at = dt.datetime(2026, 2, 4, 9, 0, tzinfo=dt.UTC)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, claimed_at=claimed_at, attempts=1
    )
    soon = claimed_at + dt.timedelta(seconds=10)
    with time_machine.travel(soon, tick=False), pytest.raises(Retry):
        deliver(delivery.pk)
    assert asked == [891.0]  # the 15-minute lease, less 10 s, plus a second
    with time_machine.travel(claimed_at + dt.timedelta(seconds=901), tick=False):
        assert deliver(delivery.pk) == "sent"
    assert len(mailoutbox) == 1


def test_in_process_a_failed_attempt_waits_for_the_next_run(
    closed, flaky, mailoutbox, eager
):
    flaky.failures = 1
    delivery = a_delivery(closed)
    assert deliver.apply(args=(delivery.pk,)).get() == "retry"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert deliver.apply(args=(delivery.pk,)).get() == "sent"


def test_the_send_tasks_are_acked_late_and_requeued_if_the_worker_dies():
    from reports.notifications import tasks

    for task in (
        tasks.deliver,
        tasks.month_close_due,
        tasks.reminders_due,
        tasks.at_risk_alerts_due,
        tasks.reconcile,
    ):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True


def test_an_email_switched_off_after_planning_is_skipped(closed, mailoutbox):
    delivery = a_delivery(closed, "executive", Kind.DIGEST)
    preferences_update(user=delivery.recipient, digest=False)
    assert delivery_send(delivery_id=delivery.pk).result == Result.SKIPPED
    delivery.refresh_from_db()
    assert delivery.status == Status.SKIPPED
    assert mailoutbox == []


def test_the_message_id_is_stable_across_attempts_and_new_on_resend(
    closed, flaky, mailoutbox
):
    delivery = a_delivery(closed)
    first = message_id(delivery)
    flaky.failures = 1
    delivery_send(delivery_id=delivery.pk)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.message_id == first == message_id(delivery)
    assert first.startswith(f"<slaportal.scorecard.2026-01.{delivery.recipient_id}.")
    assert first.endswith(".r0@sla.example.com>")

    assert deliveries_resend(month=JANUARY, kinds=[Kind.SCORECARD]) != []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.resends, delivery.attempts) == (
        Status.PENDING,
        1,
        0,
    )
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.message_id.endswith(".r1@sla.example.com>")
    assert len(mailoutbox) == 2
    assert mailoutbox[1].extra_headers["Message-ID"] != first


def test_retry_gives_a_failed_delivery_another_round(
    closed, mailoutbox, django_capture_on_commit_callbacks, eager
):
    delivery = a_delivery(closed)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, attempts=5, last_error="Attempt 5: refused"
    )
    sent = a_delivery(closed, "executive", Kind.DIGEST)
    delivery_send(delivery_id=sent.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_retry(ids=[delivery.pk, sent.pk]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)
    assert len(mailoutbox) == 2  # the digest was not sent twice
