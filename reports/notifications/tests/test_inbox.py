"""The inbox in the portal: the bell, the list, following and marking read,
and forgetting old notifications."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Membership
from agreements.tests.factories import AgreementFactory
from reports.models import Notification
from reports.notifications.inbox import notifications_clear_old

pytestmark = pytest.mark.django_db
INBOX = "/notifications/"


def note(user, n: int = 0, *, agreement=None, read: bool = False, **fields):
    return Notification.objects.create(
        recipient=user,
        event=Notification.Event.AGREEMENT_ACTIVE,
        key=f"test-{n}",
        text=fields.pop("text", f"Agreement number {n} is active."),
        url=f"/agreements/{agreement.pk}/" if agreement else "/",
        agreement=agreement,
        read_at=timezone.now() if read else None,
        **fields,
    )


@pytest.fixture
def agreement(marketing, sales):
    return AgreementFactory(provider=marketing, consumer=sales, title="Leads")


def bell(page: str) -> str:
    found = re.search(r'data-testid="bell"\s+aria-label="([^"]+)"', page)
    assert found, "no bell on the page"
    return found.group(1)


def test_the_bell_says_how_many_are_unread(client, sales_lead, agreement, outsider):
    for n in range(3):
        note(sales_lead, n, agreement=agreement)
    note(sales_lead, 9, agreement=agreement, read=True)
    note(outsider, 1)
    client.force_login(sales_lead)
    page = client.get(reverse("home")).content.decode()
    assert bell(page) == "Notifications, 3 unread"
    client.force_login(outsider)
    assert bell(client.get(reverse("home")).content.decode()) == (
        "Notifications, 1 unread"
    )


def test_the_bell_costs_a_page_one_count(client, sales_lead, agreement):
    note(sales_lead, agreement=agreement)
    client.force_login(sales_lead)
    client.get(reverse("agreements:list"))  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("agreements:list")).status_code == 200
    touching = [q["sql"] for q in queries if "reports_notification" in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("SELECT COUNT(*)")


def test_the_inbox_needs_a_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_inbox_lists_my_notifications_newest_first_unread_marked(
    client, sales_lead, service_head, agreement, django_assert_max_num_queries
):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)):
        note(sales_lead, 1, agreement=agreement, read=True)
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)):
        note(sales_lead, 2, agreement=agreement)
    note(service_head, 3, text="Somebody else's news")
    client.force_login(sales_lead)
    with django_assert_max_num_queries(10):
        response = client.get(INBOX)
    page = response.content.decode()
    assert page.index("Agreement number 2") < page.index("Agreement number 1")
    assert "Somebody else" not in page
    # Unread is said in words, not by colour alone.
    assert page.count(">Unread</span>") == 1
    assert "Mark all read" in page


def test_following_a_notification_opens_its_object_and_marks_it_read(
    client, sales_lead, agreement
):
    mine = note(sales_lead, agreement=agreement)
    client.force_login(sales_lead)
    response = client.get(f"/notifications/{mine.pk}/open/")
    assert response.status_code == 302
    assert response.url == f"/agreements/{agreement.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert bell(client.get(INBOX).content.decode()) == "Notifications, 0 unread"


def test_nobody_opens_or_marks_another_persons_notification(
    client, sales_lead, outsider, agreement
):
    theirs = note(sales_lead, agreement=agreement)
    client.force_login(outsider)
    assert client.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_link_elsewhere_is_never_followed(client, sales_lead):
    odd = note(sales_lead)
    Notification.objects.filter(pk=odd.pk).update(url="https://evil.example.com/")
    client.force_login(sales_lead)
    response = client.get(f"/notifications/{odd.pk}/open/")
    assert response.url == INBOX


def test_mark_all_read_is_a_post_and_only_mine(client, sales_lead, outsider, agreement):
    for n in range(2):
        note(sales_lead, n, agreement=agreement)
    theirs = note(outsider, 5)
    client.force_login(sales_lead)
    assert client.get("/notifications/read-all/").status_code == 405
    assert Notification.objects.unread().count() == 3
    response = client.post("/notifications/read-all/", follow=True)
    assert "2 notifications marked as read." in response.content.decode()
    assert not Notification.objects.filter(recipient=sales_lead, read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_needs_the_csrf_token(sales_lead, agreement):
    from django.test import Client

    note(sales_lead, agreement=agreement)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(sales_lead)
    assert strict.post("/notifications/read-all/").status_code == 403
    assert Notification.objects.unread().count() == 1


def test_a_notification_about_what_i_can_no_longer_see_shows_no_text(
    client, sales_lead, agreement
):
    note(sales_lead, agreement=agreement, text="Leads for sales is active")
    Membership.objects.filter(user=sales_lead).delete()
    client.force_login(sales_lead)
    page = client.get(INBOX).content.decode()
    assert "Leads for sales is active" not in page
    assert "About something you can no longer open." in page
    assert bell(page) == "Notifications, 1 unread"


def test_notifications_are_kept_ninety_days(sales_lead):
    now = dt.datetime(2026, 6, 1, 3, 50, tzinfo=dt.UTC)
    for n, days in enumerate((91, 90, 10)):
        note(sales_lead, n, created_at=now - dt.timedelta(days=days, seconds=1))
    assert notifications_clear_old(now=now) == 2
    assert list(Notification.objects.values_list("key", flat=True)) == ["test-2"]
    assert notifications_clear_old(now=now) == 0
