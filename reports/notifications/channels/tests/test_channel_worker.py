"""A team channel's post through the real stack: a friction report filed
in this process, its post queued on commit to a Celery worker on Redis, and
a loopback HTTP server standing in for Slack that answers 500 first: the
worker tries again after its backoff and the message arrives once."""

from __future__ import annotations

import json
import time

import pytest

from agreements.friction.services import friction_report_create
from agreements.models import FrictionReport
from conftest import ARTIFACTS
from reports.models import ChannelDelivery, Notification

from .test_channels import _channel

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    return predicate()


def test_a_post_refused_once_by_the_channel_is_delivered_once_by_the_worker(
    chain, sales, service, sales_manager, service_head, sink, celery_worker_factory,
    settings,
):  # fmt: skip
    worker = celery_worker_factory(
        extra_env={
            "SLA_CHANNEL_ALLOW_LOCAL": "True",
            "SLA_EMAIL_RETRY_SECONDS": "1",
            "SITE_URL": "https://sla.example.com",
        }
    )
    from slaportal.celery import app

    app.conf.task_always_eager = False  # the worker sends it (restored after)
    settings.SLA_TASK_QUEUE = worker.queue
    _channel(
        service, service_head, sink.url, events=(Notification.Event.FRICTION_FILED,)
    )
    sink.answers = [500]
    report = friction_report_create(
        reporting_team=sales,
        user=sales_manager,
        customer="Acme",
        category=FrictionReport.Category.BILLING,
        description="Invoices arrive twice.",
        severity=FrictionReport.Severity.HIGH,
    )
    delivery = wait_for(
        lambda: ChannelDelivery.objects.filter(
            status=ChannelDelivery.Status.SENT
        ).first()
    )
    assert delivery is not None, f"not delivered; see {worker.log}"
    assert delivery.attempts == 2
    assert delivery.friction_report_id == report.pk
    time.sleep(2)  # nothing more arrives
    assert len(sink.received) == 2  # the refused one and the one that went through
    assert sink.received[0] == sink.received[1]
    text = sink.received[1]["text"]
    assert "high-severity friction report" in text and "Acme" in text
    assert f"https://sla.example.com/friction/{report.pk}/" in text
    assert ChannelDelivery.objects.count() == 1
    # What the channel received, for a person to read.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "slack-post.json").write_text(json.dumps(sink.received[1], indent=1))
