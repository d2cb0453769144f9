"""send_scorecards and run_reminders: the same services, by hand."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from reports.models import Delivery, MonthlyRun, Scorecard
from reports.notifications.preferences import preferences_update

from .moments import AFTER_CLOSE

Status = Delivery.Status
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]


def command(*args, at=AFTER_CLOSE) -> str:
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command(*args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_who_would_get_what_and_writes_nothing(org, mailoutbox):
    preferences_update(user=org.people["service-head"], digest=False)
    out = command("send_scorecards", "--month", "2026-01", "--dry-run")
    assert "would send       Executive digest  2026-01  " in out
    assert "sales-lead@example.com>  (2 agreements)" in out
    assert "left out         Executive digest" in out and "(switched off)" in out
    assert "Dry run: 7 email(s) would be sent" in out
    assert "sales-member" not in out and "outsider" not in out
    assert not Scorecard.objects.exists()
    assert not Delivery.objects.exists()
    assert not MonthlyRun.objects.exists()
    assert mailoutbox == []


def test_send_finalises_sends_with_progress_and_never_twice(org, mailoutbox):
    out = command("send_scorecards", "--month", "2026-01")
    assert "January 2026 finalised: 2 scorecard(s) created" in out
    assert "1 breach(es) opened" in out
    assert "8/8 sent" in out
    assert "Done: 8 sent" in out
    assert len(mailoutbox) == 8

    out = command("send_scorecards", "--month", "2026-01")
    assert "Nothing to send." in out
    assert len(mailoutbox) == 8

    dry = command("send_scorecards", "--month", "2026-01", "--dry-run")
    assert dry.count("already sent") == 8


def test_resend_sends_the_month_again_as_a_recorded_new_attempt(org, mailoutbox):
    command("send_scorecards", "--month", "2026-01")
    out = command("send_scorecards", "--month", "2026-01", "--resend")
    assert "8 email(s) already sent will be sent again." in out
    assert "8/8 sent" in out
    assert len(mailoutbox) == 16
    assert set(Delivery.objects.values_list("resends", "status")) == {(1, Status.SENT)}
    first = {m.extra_headers["Message-ID"] for m in mailoutbox[:8]}
    again = {m.extra_headers["Message-ID"] for m in mailoutbox[8:]}
    assert not first & again


def test_progress_is_shown_in_steps_on_long_runs(org, mailoutbox):
    from agreements.tests.factories import MembershipFactory, UserFactory

    for n in range(40):
        MembershipFactory(
            user=UserFactory(username=f"lead-{n}"), team=org.leads.provider, role="lead"
        )
    out = command("send_scorecards", "--month", "2026-01")
    assert "2/48 sent" in out and "48/48 sent" in out
    assert "1/48 sent" not in out  # every twentieth, not every line


def test_a_month_not_locked_yet_is_refused(org):
    with pytest.raises(CommandError, match="not locked yet"):
        command("send_scorecards", "--month", "2026-02")
    with pytest.raises(CommandError, match="is not a month"):
        command("send_scorecards", "--month", "February")
    assert not Delivery.objects.exists()


def test_run_reminders_dry_run_then_for_real(org, mailoutbox):
    from decimal import Decimal

    from agreements.models import Objective
    from agreements.tests.factories import ObjectiveFactory

    ObjectiveFactory(
        agreement=org.handover,
        name="Uptime",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(99),
    )
    at = dt.datetime(2026, 2, 1, 8, 5, tzinfo=dt.UTC)
    out = command("run_reminders", "--dry-run", at=at)
    assert "would send       Reminder" in out and "sales-lead" in out
    assert not Delivery.objects.exists()
    out = command("run_reminders", at=at)
    assert "1/1 sent" in out
    assert len(mailoutbox) == 1
    out = command("run_reminders", at=at)
    assert "Nothing to send." in out
