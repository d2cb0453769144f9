"""The ledger in the Django admin: read-only, filterable, with a retry action."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from agreements.tests.factories import UserFactory
from reports.models import Delivery
from reports.notifications.jobs import month_close

from .moments import AFTER_CLOSE, JANUARY

Status = Delivery.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
    return client


def test_failed_deliveries_are_listed_and_filterable(admin_client):
    Delivery.objects.filter(recipient__username="sales-lead").update(
        status=Status.FAILED, attempts=5, last_error="Attempt 5: 451 mailbox busy"
    )
    url = reverse("admin:reports_delivery_changelist")
    page = admin_client.get(url, {"status__exact": "failed"}).content.decode()
    assert "sales-lead" in page and "Attempt 5: 451 mailbox busy" in page
    assert "marketing-lead" not in page
    assert "Retry the selected emails" in page


def test_the_ledger_cannot_be_edited_by_hand(admin_client):
    delivery = Delivery.objects.first()
    change = reverse("admin:reports_delivery_change", args=[delivery.pk])
    response = admin_client.post(change, {"status": "sent"})
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert admin_client.get(reverse("admin:reports_delivery_add")).status_code == 403


def test_the_retry_action_sends_a_failed_email(
    admin_client, mailoutbox, django_capture_on_commit_callbacks, eager
):
    failed = Delivery.objects.get(recipient__username="sales-lead")
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, attempts=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:reports_delivery_changelist"),
            {"action": "retry", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert "1 email queued again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.SENT, 1)
    assert len(mailoutbox) == 1
