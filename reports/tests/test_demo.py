"""The demo organisation as ``seed_demo`` leaves it: what a VP sees first."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from agreements import periods
from reports.models import Scorecard, ScorecardLine

pytestmark = pytest.mark.django_db


def test_seed_demo_scores_every_month_in_force_with_a_mix_of_results():
    call_command("seed_demo")
    months = periods.recent_months(12)
    stored = Scorecard.objects.all()
    # Every finished month of the year has its figures: none is "no data",
    # and nothing is scored before the figures begin.
    assert set(stored.values_list("month", flat=True)) <= set(months)
    assert not ScorecardLine.objects.filter(status="no_data").exists()
    statuses = set(stored.values_list("status", flat=True))
    assert {"met", "close_call", "missed"} <= statuses


def test_the_demo_inboxes_hold_the_latest_news_and_what_still_waits():
    """Each notice is dated when its event happened, and read a day later,
    but for the latest close's news and signatures still awaited: nobody
    starts with a pile of unread notices about long-settled months."""
    from django.db.models import Max
    from django.utils import timezone

    from agreements.models import Agreement
    from reports.notifications import schedule
    from reports.notifications.models import Notification

    call_command("seed_demo")
    latest = Scorecard.objects.aggregate(month=Max("month"))["month"]
    news_since = schedule.close_due_at(latest)
    notices = list(Notification.objects.select_related("agreement", "breach"))
    assert notices
    assert all(n.created_at <= timezone.now() for n in notices)
    assert any(n.created_at < news_since and n.read_at for n in notices)
    for notice in notices:
        if notice.read_at is not None:
            assert notice.created_at < news_since
            assert notice.read_at >= notice.created_at
            continue
        awaited = notice.event == Notification.Event.SIGNATURE_AWAITED and (
            notice.agreement.status
            not in (Agreement.Status.ACTIVE, Agreement.Status.RETIRED)
        )
        assert awaited or notice.created_at >= news_since, (
            notice.event,
            notice.created_at,
        )
    for notice in notices:
        if notice.event == Notification.Event.BREACH_OPENED:
            assert notice.created_at == notice.breach.opened_at
