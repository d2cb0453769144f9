"""The demo's objectives measured from records, as ``seed_demo`` leaves them:
Sales's lead follow-up from the CRM, Customer Service's helpdesk and status
page, in business hours with a lunch break and German public holidays."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from agreements import periods
from agreements.models import Agreement, Objective
from agreements.records.models import (
    Incident,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from agreements.tests.moments import NOW
from reports.models import ScorecardLine
from reports.selectors.engine import scorecard_for

pytestmark = pytest.mark.django_db

LEADS = "Leads first touched within 4 business hours"
UPTIME = "Portal uptime"
HELPDESK = "Requested information within 3 business hours"


@pytest.fixture
def demo():
    """The demo seeded on Sunday 15 March 2026 at noon: April 2025 to
    February 2026 finalised, March running."""
    with time_machine.travel(NOW, tick=False) as traveller:
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield traveller


def _measure(name: str) -> RecordMeasure:
    return RecordMeasure.objects.select_related(
        "objective__agreement__provider", "source__team", "calendar"
    ).get(objective__name=name, objective__agreement__status="active")


def _stored(name: str) -> dict[dt.date, tuple[Decimal, str]]:
    return {
        month: (actual, status)
        for month, actual, status in ScorecardLine.objects.filter(
            objective__name=name
        ).values_list("scorecard__month", "actual", "status")
    }


def test_seed_demo_measures_three_objectives_from_records(demo, settings):
    leads = _measure(LEADS)
    assert leads.objective.agreement.title == "Lead follow-up"
    assert (leads.objective.metric_source, leads.objective.target) == (
        Objective.Source.REQUEST_TIMES,
        Decimal(90),
    )
    assert (leads.source.name, leads.source.team.slug, leads.source.kind) == (
        "CRM lead hand-overs",
        "sales",
        RecordSource.Kind.REQUESTS,
    )
    assert (leads.event, leads.target, leads.share) == (
        "first_response",
        dt.timedelta(minutes=240),
        Decimal(90),
    )
    office = leads.calendar
    assert (office.name, office.team, office.time_zone) == (
        "Office hours (demo)",
        None,
        settings.TIME_ZONE,  # the organisation's
    )
    assert [(i.weekday, i.start, i.end) for i in office.intervals.all()] == [
        (day, start, end)
        for day in range(5)
        for start, end in (
            (dt.time(9), dt.time(12, 30)),
            (dt.time(13, 30), dt.time(17, 30)),
        )
    ]
    holidays = set(office.holidays.values_list("start", "name"))
    assert (dt.date(2025, 10, 3), "German Unity Day") in holidays
    assert (dt.date(2026, 4, 3), "Good Friday") in holidays

    uptime = _measure(UPTIME)
    assert uptime.objective.agreement.title == "Onboarding and uptime"
    assert uptime.objective.metric_source == Objective.Source.AVAILABILITY
    assert (uptime.objective.target, uptime.objective.warning_threshold) == (
        Decimal(99),
        Decimal("99.5"),
    )
    assert (uptime.source.name, uptime.source.kind, uptime.calendar.name) == (
        "Status page",
        RecordSource.Kind.INCIDENTS,
        "24/7",
    )
    assert uptime.exclude_maintenance and uptime.partial_weight == Decimal("0.5")

    helpdesk = _measure(HELPDESK)
    assert helpdesk.objective.agreement_id == uptime.objective.agreement_id
    assert (helpdesk.source.name, helpdesk.source.team.slug) == (
        "Helpdesk",
        "customer-service",
    )
    assert (helpdesk.target, helpdesk.share, helpdesk.calendar) == (
        dt.timedelta(minutes=180),
        Decimal(95),
        office,
    )
    assert helpdesk.segment_goals == [{"segment": "P1", "target_minutes": 60}]
    # The manual objectives they replace are gone.
    active = Objective.objects.filter(agreement__status=Agreement.Status.ACTIVE)
    assert not active.filter(name="Median hours to first contact").exists()
    assert not active.filter(name=UPTIME, metric_source="manual").exists()


def test_seed_demo_records_make_months_met_and_missed(demo):
    months = periods.recent_months(12)
    finished = months[:-1]
    leads = _stored(LEADS)
    assert set(leads) == set(finished)
    assert {status for _, status in leads.values()} == {"met", "missed"}
    assert all(
        (actual < 90) == (status == "missed") for actual, status in leads.values()
    )

    uptime = _stored(UPTIME)
    assert set(uptime) == set(finished)
    assert any(actual < 99 for actual, _ in uptime.values())
    assert {"met", "close_call", "missed"} <= {status for _, status in uptime.values()}

    helpdesk = _stored(HELPDESK)
    assert {"met", "missed"} <= {status for _, status in helpdesk.values()}

    # The engine's figures behind a finished helpdesk month: a count of
    # requests, each judged against its segment's target.
    agreement = Agreement.objects.get(title="Onboarding and uptime", status="active")
    card = scorecard_for(agreement, months[-2])
    line = next(line for line in card.lines if line.objective.name == HELPDESK)
    figures = line.records.figures
    assert 30 <= figures.met + figures.breached <= 50
    assert figures.pending == 0 and not figures.insufficient
    targets = {(row.segment, row.target) for row in figures.evidence}
    assert ("P1", dt.timedelta(minutes=60)) in targets
    assert ("P3", dt.timedelta(minutes=180)) in targets

    # This month so far: a lead handed over on Friday afternoon is still
    # waiting for Monday, and counts for nothing yet.
    follow_up = Agreement.objects.get(title="Lead follow-up", status="active")
    card = scorecard_for(follow_up, months[-1])
    assert card.lines[0].records.figures.pending >= 1


def test_seed_demo_sends_a_year_of_realistic_records(demo):
    crm = ServiceRequest.objects.filter(source__name="CRM lead hand-overs")
    helpdesk = ServiceRequest.objects.filter(source__name="Helpdesk")
    incidents = Incident.objects.all()
    months = periods.recent_months(12)
    for month in months[:-1]:
        started = {
            "started_at__gte": periods.month_start(month),
            "started_at__lt": periods.month_end(month),
        }
        assert 25 <= crm.filter(**started).count() <= 40
        assert 30 <= helpdesk.filter(**started).count() <= 50
        assert 2 <= incidents.filter(**started).count() <= 8
    assert set(crm.values_list("consumer__slug", flat=True)) == {"marketing"}
    assert set(helpdesk.values_list("consumer__slug", flat=True)) == {"sales"}
    assert set(helpdesk.values_list("segment", flat=True)) == {"P1", "P2", "P3"}
    # Leads come in outside office hours too.
    hours = {moment.hour for moment in crm.values_list("started_at", flat=True)}
    assert hours & {7, 19, 20, 21, 22} and hours & set(range(9, 17))
    assert RequestPause.objects.filter(request__source__name="Helpdesk").count() >= 5
    total = crm.count() + helpdesk.count() + incidents.count()
    assert total + MaintenanceWindow.objects.count() < 1500

    # Nothing after now; some requests not answered yet.
    for model in (ServiceRequest, Incident, MaintenanceWindow):
        assert not model.objects.filter(updated_at__gt=NOW).exists()
    assert crm.filter(first_response_at=None).exists()

    # The status page's awkward cases: planned maintenance with a reason,
    # partial outages, two incidents at once, one across a month's end.
    assert MaintenanceWindow.objects.exclude(reason="").count() >= 1
    assert incidents.filter(impact="partial").exists()
    rows = list(incidents.order_by("started_at"))
    assert any(
        later.started_at < earlier.ended_at
        for earlier, later in itertools.pairwise(rows)
    )
    assert any(
        periods.month_of(i.started_at) != periods.month_of(i.ended_at) for i in rows
    )
    # Dated as received, not as seeded.
    first = crm.order_by("started_at").first()
    assert first.received_at == first.updated_at < periods.month_start(months[1])
    assert first.history.get().history_date == first.updated_at

    # A second run finds every source filled and sends nothing.
    counts = [
        model.history.count()
        for model in (ServiceRequest, Incident, MaintenanceWindow, RequestPause)
    ]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts == [
        model.history.count()
        for model in (ServiceRequest, Incident, MaintenanceWindow, RequestPause)
    ]
