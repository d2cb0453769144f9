"""The scheduled jobs and the reconcile pass: what was due gets done, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from agreements.models import Membership, Objective
from agreements.tests.factories import (
    AgreementFactory,
    MembershipFactory,
    ObjectiveFactory,
    TeamFactory,
    UserFactory,
)
from reports.models import Delivery, MonthlyRun, Scorecard
from reports.notifications import jobs
from reports.tests.builders import log_leads

from .moments import AFTER_CLOSE, JANUARY, JANUARY_CLOSE

Kind = Delivery.Kind
Status = Delivery.Status
UTC = dt.UTC
pytestmark = pytest.mark.django_db


def run(job, moment, capture, **kwargs):
    """Run ``job`` at ``moment``; queued tasks run in-process after commit.
    Returns the tasks queued, without the close's refresh of statistics."""
    with time_machine.travel(moment, tick=False), capture(execute=True) as queued:
        result = job(now=moment, **kwargs)
    return result, [task for task in queued if task is not jobs._refresh_statistics]


def inbox(mailoutbox) -> list[tuple[str, str]]:
    return sorted(
        (m.extra_headers["X-Slaportal-Kind"], m.to[0].split("<")[1].rstrip(">"))
        for m in mailoutbox
    )


# --- Month close --------------------------------------------------------------


def test_the_close_waits_for_its_time_then_sends_each_email_once(
    org, mailoutbox, django_capture_on_commit_callbacks, eager
):
    capture = django_capture_on_commit_callbacks
    before = JANUARY_CLOSE - dt.timedelta(minutes=1)
    reports, _ = run(jobs.months_close_due, before, capture)
    assert reports == [] and not Scorecard.objects.exists()

    reports, queued = run(jobs.months_close_due, JANUARY_CLOSE, capture)
    assert [r.month for r in reports] == [JANUARY]
    assert Scorecard.objects.filter(month=JANUARY).count() == 2
    # One task for the batch (SLA_EMAIL_BATCH_SIZE), one email per recipient.
    assert (len(queued), len(mailoutbox)) == (1, 8)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}

    again, queued = run(jobs.months_close_due, AFTER_CLOSE, capture)
    assert again == [] and queued == []
    assert len(mailoutbox) == 8


def test_closing_by_hand_again_adds_only_newcomers(
    org, mailoutbox, django_capture_on_commit_callbacks, eager
):
    capture = django_capture_on_commit_callbacks
    run(jobs.month_close, AFTER_CLOSE, capture, month=JANUARY)
    newcomer = UserFactory(username="new-lead")
    MembershipFactory(user=newcomer, team=org.leads.provider, role="lead")
    report, queued = run(jobs.month_close, AFTER_CLOSE, capture, month=JANUARY)
    assert len(queued) == 1
    assert report.pending == [Delivery.objects.get(recipient=newcomer).pk]
    assert len(mailoutbox) == 9


def test_reconcile_after_beat_was_down_for_months(
    org, mailoutbox, django_capture_on_commit_callbacks, eager, settings
):
    """The first agreement started in June 2025; beat never ran. On 10 May
    2026 every locked month is finalised; only the last two are emailed."""
    older = AgreementFactory(
        provider=org.leads.provider,
        consumer=org.handover.consumer,
        title="Older agreement",
        effective_from=dt.date(2025, 6, 1),
    )
    ObjectiveFactory(agreement=older, name="Leads", target=Decimal(10))
    now = dt.datetime(2026, 5, 10, 12, tzinfo=UTC)
    capture = django_capture_on_commit_callbacks
    report, _ = run(jobs.reconcile, now, capture)
    expected = [dt.date(2025, m, 1) for m in range(6, 13)] + [
        dt.date(2026, m, 1) for m in range(1, 5)
    ]
    assert report.months_closed == expected
    assert set(MonthlyRun.objects.values_list("month", flat=True)) == set(expected)
    assert list(
        MonthlyRun.objects.filter(emails_skipped=False).values_list("month", flat=True)
    ) == [dt.date(2026, 4, 1), dt.date(2026, 3, 1)]
    assert set(Delivery.objects.values_list("month", flat=True)) == {
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
    }
    sent = len(mailoutbox)
    assert sent == Delivery.objects.filter(status=Status.SENT).count() > 0

    for _ in range(2):
        report, queued = run(jobs.reconcile, now + dt.timedelta(hours=1), capture)
        assert report.months_closed == [] and report.queued == 0
        assert queued == []
    assert len(mailoutbox) == sent


def test_reconcile_three_times_sends_one_email_per_recipient(
    org, mailoutbox, django_capture_on_commit_callbacks, eager
):
    for hour in range(3):
        run(
            jobs.reconcile,
            AFTER_CLOSE + dt.timedelta(hours=hour),
            django_capture_on_commit_callbacks,
        )
    recipients = [to for _, to in inbox(mailoutbox)]
    assert len(mailoutbox) == Delivery.objects.count() == 8
    per_kind = inbox(mailoutbox)
    assert len(set(per_kind)) == len(per_kind)  # no one got one kind twice
    assert len(set(recipients)) == 6  # two heads get the digest and scorecards


def test_reconcile_requeues_emails_whose_tasks_were_lost(
    org, mailoutbox, django_capture_on_commit_callbacks, eager
):
    capture = django_capture_on_commit_callbacks
    # The close ran, but its queued tasks were lost (a broker flushed).
    with time_machine.travel(AFTER_CLOSE, tick=False):
        jobs.month_close(month=JANUARY, now=AFTER_CLOSE, enqueue=False)
    one = Delivery.objects.get(recipient__username="sales-lead")
    # And one worker died holding its claim.
    Delivery.objects.filter(pk=one.pk).update(
        status=Status.SENDING, claimed_at=AFTER_CLOSE, attempts=1
    )
    soon = AFTER_CLOSE + dt.timedelta(minutes=5)
    report, _ = run(jobs.reconcile, soon, capture)
    assert report.requeued == 0 and mailoutbox == []  # still inside the lease

    later = AFTER_CLOSE + dt.timedelta(minutes=20)
    report, _ = run(jobs.reconcile, later, capture)
    assert report.requeued == 8
    assert len(mailoutbox) == 8
    assert Delivery.objects.get(pk=one.pk).attempts == 2


def test_dry_run_briefs_write_nothing(org):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        briefs = jobs.computed_briefs(JANUARY)
    assert {b.breached for b in briefs} == {True, False}
    assert not Scorecard.objects.exists() and not Delivery.objects.exists()


# --- Reminders and escalations ------------------------------------------------


@pytest.fixture
def missing(org):
    """January: Customer Service owes an uptime figure nobody entered; Sales's
    handover had no lead, only a manager."""
    ObjectiveFactory(
        agreement=org.handover,
        name="Uptime",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(99),
    )
    service_to_sales = AgreementFactory(
        provider=org.handover.consumer,
        consumer=org.handover.provider,
        title="Onboarding",
        effective_from=JANUARY,
    )
    ObjectiveFactory(
        agreement=service_to_sales,
        name="Onboarded in 14 days",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(95),
    )
    service_lead = UserFactory(username="service-lead")
    MembershipFactory(
        user=service_lead, team=org.handover.consumer, role=Membership.Role.LEAD
    )
    return org


def test_leads_are_reminded_of_missing_figures_once(
    missing, mailoutbox, django_capture_on_commit_callbacks, eager
):
    capture = django_capture_on_commit_callbacks
    early = dt.datetime(2026, 2, 1, 7, 59, tzinfo=UTC)
    assert run(jobs.reminders_due, early, capture)[0] == []

    on_time = dt.datetime(2026, 2, 1, 8, 5, tzinfo=UTC)
    run(jobs.reminders_due, on_time, capture)
    # Sales owes Uptime (its lead is reminded, not its manager); Customer
    # Service owes Onboarded (its lead, not its head). Marketing owes nothing.
    assert inbox(mailoutbox) == [
        ("reminder", "sales-lead@example.com"),
        ("reminder", "service-lead@example.com"),
    ]
    body = mailoutbox[0].body + mailoutbox[1].body
    assert "Uptime (Customer handover" in body
    assert "Onboarded in 14 days (Onboarding" in body
    assert "They are due by Tue 3 Feb 2026, end of day" in body

    run(jobs.reminders_due, on_time + dt.timedelta(days=1), capture)
    assert len(mailoutbox) == 2


def test_a_reminder_for_figures_logged_since_is_skipped(
    missing, mailoutbox, django_capture_on_commit_callbacks
):
    from reports.notifications.ledger import delivery_send
    from reports.tests.builders import measure

    on_time = dt.datetime(2026, 2, 1, 8, 5, tzinfo=UTC)
    with time_machine.travel(on_time, tick=False):
        jobs.reminders_due(now=on_time, enqueue=False)
        uptime = Objective.objects.get(name="Uptime")
        measure(uptime, JANUARY, "99.9", at=on_time)
        delivery = Delivery.objects.get(recipient__username="sales-lead")
        assert delivery_send(delivery_id=delivery.pk).result == "skipped"
    assert mailoutbox == []


def test_heads_hear_of_figures_still_missing_at_the_close(
    missing, mailoutbox, django_capture_on_commit_callbacks, eager
):
    run(
        jobs.reminders_due,
        JANUARY_CLOSE + dt.timedelta(minutes=5),
        django_capture_on_commit_callbacks,
    )
    # Customer Service's head; Sales has no head, so its manager.
    assert inbox(mailoutbox) == [
        ("escalation", "sales-manager@example.com"),
        ("escalation", "service-head@example.com"),
    ]
    assert "were missing at the deadline" in mailoutbox[0].subject


def test_switched_off_reminders_are_not_sent(
    missing, mailoutbox, django_capture_on_commit_callbacks, eager
):
    from reports.notifications.preferences import preferences_update

    preferences_update(user=missing.people["sales-lead"], reminders=False)
    run(
        jobs.reminders_due,
        dt.datetime(2026, 2, 1, 8, 5, tzinfo=UTC),
        django_capture_on_commit_callbacks,
    )
    assert inbox(mailoutbox) == [("reminder", "service-lead@example.com")]


# --- At-risk alerts -----------------------------------------------------------


@pytest.fixture
def march(db):
    """March 2026, a live month: Marketing owes 200 leads, 100 qualified."""
    marketing = TeamFactory(name="Marketing")
    sales = TeamFactory(name="Sales")
    lead = UserFactory(username="m-lead")
    MembershipFactory(user=lead, team=marketing, role=Membership.Role.LEAD)
    member = UserFactory(username="m-member")
    MembershipFactory(user=member, team=marketing, role=Membership.Role.MEMBER)
    agreement = AgreementFactory(
        provider=marketing, consumer=sales, title="Leads", effective_from=JANUARY
    )
    delivered = ObjectiveFactory(
        agreement=agreement, name="Delivered", target=Decimal(200), position=1
    )
    qualified = ObjectiveFactory(
        agreement=agreement,
        name="Qualified",
        metric_source=Objective.Source.QUALIFIED_LEADS,
        target=Decimal(100),
        position=2,
    )
    return marketing, delivered, qualified


def test_at_risk_alerts_go_once_per_objective_from_mid_month(
    march, mailoutbox, django_capture_on_commit_callbacks, eager
):
    marketing, delivered, qualified = march
    capture = django_capture_on_commit_callbacks
    # 60 delivered and 60 qualified by 10 March: behind on one, ahead on the other.
    log_leads(marketing, dt.date(2026, 3, 10), 60, 60)
    day14 = dt.datetime(2026, 3, 14, 9, tzinfo=UTC)
    assert run(jobs.at_risk_alerts_due, day14, capture)[0] == []

    day15 = dt.datetime(2026, 3, 15, 8, 10, tzinfo=UTC)
    run(jobs.at_risk_alerts_due, day15, capture)
    assert inbox(mailoutbox) == [("at_risk", "m-lead@example.com")]
    message = mailoutbox[0]
    assert message.subject.startswith("[slaportal] Off track: Delivered (Leads)")
    # 60 in 10 of March's 22 business days: 132 at the current pace.
    assert "at current pace 132 of 200" in message.subject
    assert "https://sla.example.com/reports/agreements/" in message.body
    alert = Delivery.objects.get()
    assert alert.subject_key == f"objective-{delivered.pk}"

    # The next days: still behind, no second alert; a new one for Qualified
    # once it falls behind too.
    run(jobs.at_risk_alerts_due, day15 + dt.timedelta(days=1), capture)
    assert len(mailoutbox) == 1
    day20 = dt.datetime(2026, 3, 25, 8, 10, tzinfo=UTC)
    run(jobs.at_risk_alerts_due, day20, capture)
    assert inbox(mailoutbox) == [("at_risk", "m-lead@example.com")] * 2
    assert Delivery.objects.filter(subject_key=f"objective-{qualified.pk}").exists()


def test_the_close_refreshes_the_planners_statistics_before_the_emails(
    org, mailoutbox, django_capture_on_commit_callbacks, eager
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with (
        CaptureQueriesContext(connection) as ctx,
        time_machine.travel(AFTER_CLOSE, tick=False),
        django_capture_on_commit_callbacks(execute=True) as queued,
    ):
        jobs.month_close(month=JANUARY, now=AFTER_CLOSE)
    # First after the commit, ahead of the emails' tasks.
    assert queued[0] is jobs._refresh_statistics
    analyzed = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")
    ]
    if connection.vendor == "postgresql":
        (statement,) = analyzed
        assert (
            '"reports_breach"' in statement and '"reports_scorecardline"' in statement
        )
    else:
        assert analyzed == []
    assert len(mailoutbox) == 8


def test_reminders_reach_the_inbox_too_once(
    missing, mailoutbox, django_capture_on_commit_callbacks, eager
):
    from reports.models import Notification

    on_time = dt.datetime(2026, 2, 1, 8, 5, tzinfo=UTC)
    run(jobs.reminders_due, on_time, django_capture_on_commit_callbacks)
    rows = Notification.objects.filter(event=Notification.Event.FIGURES_MISSING)
    assert sorted(rows.values_list("recipient__username", "email")) == [
        ("sales-lead", Notification.Email.NONE),
        ("service-lead", Notification.Email.NONE),
    ]
    sales = rows.get(recipient__username="sales-lead")
    assert sales.text.startswith("Figures missing for January 2026: Uptime of")
    assert sales.url == f"/figures/{missing.handover.provider.slug}/"
    run(
        jobs.reminders_due,
        on_time + dt.timedelta(days=1),
        django_capture_on_commit_callbacks,
    )
    assert rows.count() == 2
    # The reminder emails are the emails of these entries: nothing more.
    assert len(mailoutbox) == 2

    run(
        jobs.reminders_due,
        JANUARY_CLOSE + dt.timedelta(minutes=5),
        django_capture_on_commit_callbacks,
    )
    escalated = rows.filter(key__endswith="-escalated")
    assert sorted(escalated.values_list("recipient__username", flat=True)) == [
        "sales-manager",
        "service-head",
    ]
    assert escalated.first().text.startswith("Still missing when January 2026 closed")


# --- Quiet hours --------------------------------------------------------------


def _office_hours(team):
    from agreements.calendars.models import WorkingCalendar, WorkingInterval

    calendar = WorkingCalendar.objects.create(team=team, name="Office", time_zone="UTC")
    for weekday in range(5):
        WorkingInterval.objects.create(
            calendar=calendar, weekday=weekday, start=dt.time(9), end=dt.time(17)
        )


def test_scheduled_emails_wait_for_the_reader_s_working_hours(
    missing, mailoutbox, django_capture_on_commit_callbacks, eager
):
    capture = django_capture_on_commit_callbacks
    _office_hours(missing.handover.provider)  # Sales works Mon–Fri 09–17
    sunday = dt.datetime(2026, 2, 1, 8, 5, tzinfo=UTC)
    run(jobs.reminders_due, sunday, capture)
    # Customer Service keeps no hours of its own: its lead hears at once.
    assert inbox(mailoutbox) == [("reminder", "service-lead@example.com")]
    held = Delivery.objects.get(recipient__username="sales-lead")
    monday = dt.datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    assert (held.status, held.not_before) == (Status.PENDING, monday)

    assert run(jobs.held_release, monday - dt.timedelta(minutes=1), capture)[0] == 0
    assert run(jobs.reconcile, sunday + dt.timedelta(hours=2), capture)[0].queued == 0
    assert len(mailoutbox) == 1
    run(jobs.held_release, monday, capture)
    assert inbox(mailoutbox) == [
        ("reminder", "sales-lead@example.com"),
        ("reminder", "service-lead@example.com"),
    ]
    held.refresh_from_db()
    assert held.status == Status.SENT


def test_the_month_end_emails_of_a_team_at_rest_go_when_it_starts(
    org, mailoutbox, django_capture_on_commit_callbacks, eager
):
    capture = django_capture_on_commit_callbacks
    _office_hours(org.leads.provider)  # Marketing starts at 09:00
    report, _ = run(jobs.month_close, JANUARY_CLOSE, capture, month=JANUARY)
    marketing = {"marketing-lead", "marketing-head"}
    sent = {m.to[0].split("<")[1].split("@")[0] for m in mailoutbox}
    assert sent and not sent & marketing
    assert len(report.pending) == len(mailoutbox)
    held = Delivery.objects.filter(not_before=JANUARY_CLOSE.replace(hour=9))
    assert jobs.held_month_end(JANUARY, now=JANUARY_CLOSE) == held.count()
    assert set(held.values_list("recipient__username", "kind")) == {
        ("marketing-lead", Kind.SCORECARD),
        ("marketing-head", Kind.SCORECARD),
        ("marketing-head", Kind.DIGEST),
    }

    run(jobs.held_release, JANUARY_CLOSE.replace(hour=9), capture)
    sent = {m.to[0].split("<")[1].split("@")[0] for m in mailoutbox}
    assert marketing <= sent
    assert jobs.held_month_end(JANUARY, now=JANUARY_CLOSE.replace(hour=9)) == 0
