"""Monthly emails through the real path: PostgreSQL, Redis, a Celery worker
process and an SMTP server on loopback. Faults: a SIGKILLed worker, a server
that refuses with 4xx, reconcile run over and over. Each test prints its
figures (sent, lost, duplicates) for the record; run with ``-s`` to see them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import signal
import subprocess
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from agreements import periods
from agreements.models import Membership, Objective, Team
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MeasurementFactory,
    ObjectiveFactory,
    TeamFactory,
)
from reports.models import Delivery, MonthlyRun
from reports.notifications import jobs, schedule
from reports.notifications.tasks import reconcile

from .smtp_sink import SmtpSink

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
MONTH_END = {"digest", "scorecard", "breach"}
Status = Delivery.Status


def wait_for(predicate, timeout: float = 90.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


def due_month() -> dt.date:
    """The latest month whose close is due by the real clock: the worker
    runs on it, so the test cannot freeze time."""
    return schedule.months_due_for_close(dt.date(2000, 1, 1), timezone.now())[-1]


@pytest.fixture
def email_worker(celery_worker_factory, sink, settings):
    """A worker that sends to the sink, retries after 0.3 s (doubling) and
    takes over a dead worker's claim after 3 s; tasks queued by this test
    process go to it."""
    extra = {
        "EMAIL_URL": sink.url,
        "SLA_EMAIL_RETRY_SECONDS": "0.3",
        "SLA_EMAIL_LEASE_SECONDS": "3",
        "TIME_ZONE": settings.TIME_ZONE,
    }

    def start(concurrency: int = 2):
        worker = celery_worker_factory(extra_env=extra, concurrency=concurrency)
        settings.SLA_TASK_QUEUE = worker.queue
        return worker

    return start


def leads_for(month: dt.date, teams: list[Team], per_team: int) -> list:
    """``per_team`` extra leads in each team: more recipients, one email each."""
    User = get_user_model()
    password = make_password("x")
    users = User.objects.bulk_create(
        [
            User(
                username=f"{team.slug}-lead-{n}",
                email=f"{team.slug}-lead-{n}@example.com",
                password=password,
            )
            for team in teams
            for n in range(per_team)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(user=user, team=team, role=Membership.Role.LEAD)
            for user, team in zip(
                users, [t for t in teams for _ in range(per_team)], strict=True
            )
        ]
    )
    return users


def small_org(month: dt.date, *, per_team: int) -> None:
    """Two agreements that start in ``month`` (so that no earlier month is
    due), with figures, and ``per_team`` leads in each of three teams."""
    a, b, c = (TeamFactory(name=n) for n in ("Alpha", "Beta", "Gamma"))
    for provider, consumer in ((a, b), (b, c)):
        agreement = AgreementFactory(
            provider=provider, consumer=consumer, effective_from=month
        )
        ObjectiveFactory(agreement=agreement, name="Leads", target=Decimal(100))
        LeadLogEntryFactory(
            team=provider, date=month.replace(day=10), month=month, leads_delivered=90
        )
    leads_for(month, [a, b, c], per_team)


def month_end_received(sink: SmtpSink, month: dt.date) -> list:
    """Month-end emails of ``month`` the sink accepted (a worker's reconcile
    may also send reminders or alerts of the real current month)."""
    tag = f".{periods.format_month(month)}."
    return [m for m in sink.messages() if m.kind in MONTH_END and tag in m.message_id]


def figures(sink: SmtpSink, month: dt.date) -> dict[str, int]:
    expected = {
        (rcpt.lower(), kind)
        for rcpt, kind in Delivery.objects.filter(
            month=month, kind__in=MONTH_END
        ).values_list("recipient__email", "kind")
    }
    got = Counter((m.rcpt.lower(), m.kind) for m in month_end_received(sink, month))
    return {
        "expected": len(expected),
        "received": sum(got.values()),
        "lost": len(expected - set(got)),
        "duplicates": sum(n - 1 for n in got.values() if n > 1),
        "unexpected": len(set(got) - expected),
    }


def report(record_property, name: str, **values) -> None:
    for key, value in values.items():
        record_property(key, value)
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in values.items()))


def all_sent(month: dt.date) -> bool:
    rows = Delivery.objects.filter(month=month, kind__in=MONTH_END)
    return rows.exists() and not rows.exclude(status=Status.SENT).exists()


# --- The tests ----------------------------------------------------------------


def test_a_month_of_a_demo_organisation_is_sent_by_the_worker(
    email_worker, sink, record_property
):
    # The demo closes its past months itself; here it must leave the emails
    # to the worker, so it finalises without sending any.
    with override_settings(SLA_EMAIL_CATCH_UP_MONTHS=0):
        call_command("seed_demo", stdout=io.StringIO())
    month = due_month()
    teams = list(Team.objects.order_by("slug"))
    for team in teams:
        LeadLogEntryFactory(team=team, date=month.replace(day=9), month=month)
        ClosedCustomerFactory(team=team, closed_on=month.replace(day=9), month=month)
    for objective in Objective.objects.filter(
        metric_source=Objective.Source.MANUAL, agreement__status="active"
    ).exclude(measurements__month=month):
        MeasurementFactory(objective=objective, month=month, value=Decimal("99.2"))
    leads_for(month, teams, per_team=5)
    email_worker()
    started = time.monotonic()
    report_ = jobs.month_close(month=month)  # queues one task per recipient
    expected = len(report_.pending)
    assert wait_for(
        lambda: all_sent(month) and len(month_end_received(sink, month)) >= expected
    )
    elapsed = time.monotonic() - started
    result = figures(sink, month)
    report(record_property, "demo month", seconds=round(elapsed, 2), **result)
    assert expected == result["expected"] == 3 + 4 + 15  # digests, demo leads, extra
    assert result["received"] == expected
    assert result["lost"] == result["duplicates"] == result["unexpected"] == 0


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    email_worker, sink, record_property
):
    """SIGKILL the whole worker while both its processes wait for the mail
    server to accept their messages, then restart it. What the two
    interrupted batches had claimed and not yet sent is left ``sending``;
    once its lease is over the reconcile pass queues it again. Every
    recipient gets exactly one email."""
    month = due_month()
    small_org(month, per_team=15)
    sink.handler.delay = 0.05
    worker = email_worker(concurrency=2)
    jobs.month_close(month=month)
    expected = Delivery.objects.filter(month=month).count()
    assert wait_for(lambda: sink.count() >= 10)
    sink.hold()
    assert wait_for(lambda: sink.holding == 2, timeout=20), "both sends in flight"
    worker.kill()
    in_flight = set(
        Delivery.objects.filter(month=month, status=Status.SENDING).values_list(
            "pk", flat=True
        )
    )
    time.sleep(0.5)  # the server sees the connections drop
    sink.release()
    received_at_kill = len(month_end_received(sink, month))

    worker.start()
    # The restarted worker drains the queue; the interrupted batches'
    # deliveries wait for their lease (3 s), then reconcile hands them out.
    time.sleep(3.5)
    reconcile.apply_async(queue=worker.queue)
    assert wait_for(lambda: all_sent(month), timeout=60)
    assert wait_for(
        lambda: len(month_end_received(sink, month)) >= expected, timeout=10
    )
    time.sleep(1)  # let any duplicate arrive before counting
    result = figures(sink, month)
    report(
        record_property,
        "kill mid-batch",
        received_at_kill=received_at_kill,
        in_flight_at_kill=len(in_flight),
        **result,
    )
    # Two batches held, each of at most SLA_EMAIL_BATCH_SIZE (25).
    assert 2 <= len(in_flight) <= 50
    assert received_at_kill < expected  # the kill did land mid-batch
    assert result["received"] == expected
    assert result["lost"] == result["duplicates"] == 0
    assert_taken_over_once(month, in_flight)


def test_a_killed_worker_process_is_replaced_and_its_emails_sent_once(
    email_worker, sink, record_property
):
    """SIGKILL only the pool processes, as the kernel's OOM killer would: the
    worker's main process survives, and with reject_on_worker_lost their
    messages go back to the queue. The redelivered tasks find the deliveries
    claimed, wait for the lease, then take them over; no reconcile needed."""
    month = due_month()
    small_org(month, per_team=15)
    sink.handler.delay = 0.05
    worker = email_worker(concurrency=2)
    jobs.month_close(month=month)
    expected = Delivery.objects.filter(month=month).count()
    assert wait_for(lambda: sink.count() >= 10)
    sink.hold()
    assert wait_for(lambda: sink.holding == 2, timeout=20), "both sends in flight"
    in_flight = set(
        Delivery.objects.filter(month=month, status=Status.SENDING).values_list(
            "pk", flat=True
        )
    )
    children = subprocess.run(
        ["pgrep", "-P", str(worker.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    time.sleep(0.5)
    sink.release()
    received_at_kill = len(month_end_received(sink, month))
    assert wait_for(lambda: all_sent(month), timeout=60)
    time.sleep(1)
    result = figures(sink, month)
    report(
        record_property,
        "pool processes killed",
        processes_killed=len(children),
        received_at_kill=received_at_kill,
        **result,
    )
    assert len(children) == 2
    assert received_at_kill < expected
    assert result["received"] == expected
    assert result["lost"] == result["duplicates"] == 0
    assert_taken_over_once(month, in_flight)


def assert_taken_over_once(month, in_flight: set[int]) -> None:
    """The deliveries the killed processes held were each taken over once
    (a second attempt); every other went out at its first."""
    assert in_flight
    attempts = dict(Delivery.objects.filter(month=month).values_list("pk", "attempts"))
    assert {pk for pk, n in attempts.items() if n == 2} == in_flight
    assert {n for pk, n in attempts.items() if pk not in in_flight} == {1}


def test_a_kill_at_a_random_moment_loses_nothing(email_worker, sink, record_property):
    """The same kill at no chosen moment. Nothing is lost. A kill that lands
    in the instant between the server's 250 and the ledger's update leaves a
    message the server accepted marked ``sending``, and it is sent again: at
    most one duplicate per process, carrying the same Message-ID for the
    receiving side to drop. No protocol closes that window; it is small."""
    month = due_month()
    small_org(month, per_team=15)
    sink.handler.delay = 0.05
    worker = email_worker(concurrency=2)
    jobs.month_close(month=month)
    expected = Delivery.objects.filter(month=month).count()
    assert wait_for(lambda: sink.count() >= 10)
    time.sleep(random.uniform(0, 0.3))  # about two messages' time, per process
    worker.kill()
    received_at_kill = len(month_end_received(sink, month))
    worker.start()
    time.sleep(3.5)
    reconcile.apply_async(queue=worker.queue)
    assert wait_for(lambda: all_sent(month), timeout=60)
    time.sleep(1)
    result = figures(sink, month)
    report(record_property, "random kill", received_at_kill=received_at_kill, **result)
    assert result["lost"] == 0
    assert result["duplicates"] <= 2
    ids = Counter(m.message_id for m in month_end_received(sink, month))
    assert len(ids) == expected  # duplicates, if any, share the Message-ID


def test_a_recipient_refused_three_times_gets_the_email_once(
    email_worker, sink, record_property
):
    month = due_month()
    small_org(month, per_team=3)
    unlucky = "beta-lead-1@example.com"
    sink.handler.fail_first[unlucky] = 3
    email_worker()
    jobs.month_close(month=month)
    expected = Delivery.objects.filter(month=month).count()
    assert wait_for(lambda: all_sent(month), timeout=60)
    result = figures(sink, month)
    delivery = Delivery.objects.get(month=month, recipient__email=unlucky)
    report(
        record_property,
        "4xx three times",
        refused=sink.handler.refused[unlucky],
        attempts=delivery.attempts,
        **result,
    )
    assert sink.handler.refused[unlucky] == 3
    assert delivery.attempts == 4
    assert [m.rcpt for m in sink.messages()].count(unlucky) == 1
    assert result["received"] == expected
    assert result["lost"] == result["duplicates"] == 0


def test_reconcile_three_times_for_a_month_sends_one_email_per_recipient(
    email_worker, sink, record_property
):
    month = due_month()
    small_org(month, per_team=4)
    worker = email_worker(concurrency=2)
    for _ in range(3):  # two at once (two processes), then the third
        reconcile.apply_async(queue=worker.queue)
    assert wait_for(lambda: all_sent(month), timeout=60)
    time.sleep(1)
    result = figures(sink, month)
    report(
        record_property,
        "reconcile x3",
        months_closed=MonthlyRun.objects.count(),
        **result,
    )
    assert MonthlyRun.objects.filter(month=month).count() == 1
    assert result["expected"] == 12 + 0  # 4 leads in each of 3 teams, no heads
    assert result["received"] == result["expected"]
    assert result["lost"] == result["duplicates"] == 0


def test_send_scorecards_hands_the_month_to_the_workers_and_follows_the_ledger(
    email_worker, sink, record_property
):
    """By hand, with workers running: the command finalises, queues the
    emails in batches, each sent over one SMTP connection, and follows the
    ledger until every one is out."""
    month = due_month()
    small_org(month, per_team=10)  # 30 leads: two batches of at most 25
    email_worker(concurrency=2)
    out = io.StringIO()
    call_command("send_scorecards", "--month", periods.format_month(month), stdout=out)
    expected = Delivery.objects.filter(month=month).count()
    assert wait_for(lambda: len(month_end_received(sink, month)) >= expected)
    time.sleep(0.5)  # let any duplicate arrive before counting
    result = figures(sink, month)
    connections = {m.peer for m in month_end_received(sink, month)}
    report(record_property, "send_scorecards", connections=len(connections), **result)
    text = out.getvalue()
    assert f"{expected} email(s) handed to the workers in 2 batch(es)" in text
    assert f"{expected}/{expected} sent" in text
    assert all_sent(month)
    assert result["received"] == expected == 30
    assert result["lost"] == result["duplicates"] == 0
    assert len(connections) == 2  # one per batch
