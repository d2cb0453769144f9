"""Figures of a locked month through the services: corrections by a head or
an administrator, with a reason; and when a month locks in the
organisation's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agreements.figures.kinds import LEADS
from agreements.figures.services import figure_correct, figure_update
from agreements.figures.tests.figure_services import TODAY, _log, _written
from agreements.models import LeadLogEntry
from agreements.tests.factories import LeadLogEntryFactory
from agreements.tests.moments import LOCKED_MONTH, THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


@pytest.fixture
def locked_entry(marketing):
    return LeadLogEntryFactory(
        team=marketing,
        date=dt.date(2026, 2, 10),
        leads_delivered=40,
        qualified_leads=12,
    )


def test_a_head_corrects_a_locked_month_with_a_reason(
    marketing_head, marketing_lead, locked_entry
):
    figure_correct(
        LEADS,
        row=locked_entry,
        user=marketing_head,
        reason="webinar leads were counted twice",
        leads_delivered=30,
    )
    locked_entry.refresh_from_db()
    assert locked_entry.leads_delivered == 30
    # The clock is frozen: order by id, not by time.
    previous, record = locked_entry.history.order_by("history_id")
    assert record.history_user == marketing_head
    assert record.history_change_reason == (
        "correction: webinar leads were counted twice (leads delivered 40 → 30)"
    )
    delta = record.diff_against(previous, excluded_fields=["updated_at"])
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("leads_delivered", 40, 30)
    ]


def test_an_administrator_may_correct_without_being_in_the_team(
    admin_user, locked_entry
):
    figure_correct(
        LEADS, row=locked_entry, user=admin_user, reason="typo", qualified_leads=10
    )
    locked_entry.refresh_from_db()
    assert locked_entry.qualified_leads == 10


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_needs_a_reason(marketing_head, locked_entry, reason):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        figure_correct(
            LEADS,
            row=locked_entry,
            user=marketing_head,
            reason=reason,
            leads_delivered=1,
        )
    assert "Say why" in caught.value.message_dict["reason"][0]
    assert _written() == before


def test_a_lead_cannot_correct_a_locked_month(marketing_lead, executive, locked_entry):
    before = _written()
    for user in (marketing_lead, executive):
        with pytest.raises(PermissionDenied):
            figure_correct(
                LEADS, row=locked_entry, user=user, reason="typo", leads_delivered=1
            )
    assert _written() == before


def test_an_open_month_is_edited_not_corrected(marketing, marketing_head):
    entry = _log(marketing, marketing_head)
    with pytest.raises(ValidationError) as caught:
        figure_correct(
            LEADS, row=entry, user=marketing_head, reason="typo", leads_delivered=1
        )
    assert caught.value.code == "not_locked"
    assert (
        "March 2026 is still open: figures due by Fri 3 Apr 2026, end of day"
        in (caught.value.messages[0])
    )


def test_a_correction_is_validated_like_an_entry(marketing_head, locked_entry):
    with pytest.raises(ValidationError) as caught:
        figure_correct(
            LEADS, row=locked_entry, user=marketing_head, reason="x", qualified_leads=99
        )
    assert "qualified_leads" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        figure_correct(
            LEADS,
            row=locked_entry,
            user=marketing_head,
            reason="x",
            date=dt.date(2026, 4, 1),
        )
    assert caught.value.error_dict["date"][0].code == "future_month"
    locked_entry.refresh_from_db()
    assert locked_entry.qualified_leads == 12
    assert locked_entry.history.count() == 1


def test_a_correction_may_delete_an_entry(marketing_head, locked_entry):
    figure_correct(
        LEADS,
        row=locked_entry,
        user=marketing_head,
        reason="duplicate row",
        delete=True,
    )
    assert not LeadLogEntry.objects.exists()
    gone = LeadLogEntry.history.first()
    assert gone.history_type == "-"
    assert gone.history_change_reason == "correction: duplicate row (deleted)"


def test_a_correction_may_add_a_missing_entry(marketing, marketing_head):
    entry = figure_correct(
        LEADS,
        team=marketing,
        user=marketing_head,
        reason="trade fair leads arrived late",
        date=dt.date(2026, 2, 20),
        leads_delivered=25,
        qualified_leads=5,
    )
    assert entry.month == LOCKED_MONTH
    assert entry.history.get().history_change_reason == (
        "correction: trade fair leads arrived late (added late)"
    )


def test_a_missing_entry_for_an_open_month_is_logged_normally(
    marketing, marketing_head
):
    with pytest.raises(ValidationError) as caught:
        figure_correct(
            LEADS,
            team=marketing,
            user=marketing_head,
            reason="late",
            date=TODAY,
            leads_delivered=25,
        )
    assert caught.value.code == "not_locked"
    assert not LeadLogEntry.objects.exists()


# --- Month boundaries in the organisation's time zone --------------------------


def test_in_berlin_the_last_second_of_march_still_logs_march(
    settings, frozen, marketing, marketing_lead
):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    frozen.move_to(dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=berlin))
    assert _log(marketing, marketing_lead, date=dt.date(2026, 3, 31)).month == (
        THIS_MONTH
    )
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 4, 1))
    assert caught.value.error_dict["date"][0].code == "future_month"
    frozen.move_to(dt.datetime(2026, 4, 1, 0, 0, 0, tzinfo=berlin))
    assert _log(marketing, marketing_lead, date=dt.date(2026, 4, 1)).month == (
        dt.date(2026, 4, 1)
    )


def test_in_berlin_march_locks_at_local_midnight_after_its_grace(
    settings, frozen, marketing, marketing_lead, marketing_head
):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    frozen.move_to(dt.datetime(2026, 4, 3, 23, 59, 59, tzinfo=berlin))
    entry = _log(marketing, marketing_lead, date=dt.date(2026, 3, 31))
    frozen.move_to(dt.datetime(2026, 4, 4, 0, 0, 0, tzinfo=berlin))
    with pytest.raises(ValidationError):
        figure_update(row=entry, user=marketing_lead, note="x")
    figure_correct(
        LEADS, row=entry, user=marketing_head, reason="late count", leads_delivered=41
    )
    entry.refresh_from_db()
    assert entry.leads_delivered == 41


def test_in_new_york_october_locks_three_calendar_days_after_the_clocks_go_back(
    settings, frozen, marketing, marketing_lead
):
    # Summer time ends on 1 November 2026: October's grace period lasts 73
    # hours and ends at midnight, New York time (05:00 UTC on 4 November).
    settings.TIME_ZONE = "America/New_York"
    frozen.move_to(dt.datetime(2026, 11, 4, 4, 59, 59, tzinfo=dt.UTC))
    _log(marketing, marketing_lead, date=dt.date(2026, 10, 31))
    frozen.move_to(dt.datetime(2026, 11, 4, 5, 0, 0, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 10, 31))
    assert "due by Tue 3 Nov 2026, end of day" in caught.value.messages[0]
    assert LeadLogEntry.objects.count() == 1
