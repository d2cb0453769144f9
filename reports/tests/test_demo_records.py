"""The demo's objectives measured from records, as ``seed_demo`` leaves them:
Sales's lead follow-up from Marketing's HubSpot contacts, Customer Service's
helpdesk and status page, in business hours with a lunch break and German
public holidays; and the leads Marketing delivered, counted from the CRM as
its lead log counts them."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum

from agreements import periods
from agreements.models import Agreement, LeadLogEntry, Objective
from agreements.records.lead_csv import recognised
from agreements.records.models import (
    Incident,
    Lead,
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
    # Measured from the leads Marketing hands over: handed over → first touch.
    assert (leads.source.name, leads.source.team.slug, leads.source.kind) == (
        "HubSpot contacts",
        "marketing",
        RecordSource.Kind.LEADS,
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
    helpdesk = ServiceRequest.objects.filter(source__name="Helpdesk")
    incidents = Incident.objects.all()
    leads = Lead.objects.filter(source__name="HubSpot contacts")
    months = periods.recent_months(12)
    for month in months[:-1]:
        started = {
            "started_at__gte": periods.month_start(month),
            "started_at__lt": periods.month_end(month),
        }
        assert 30 <= helpdesk.filter(**started).count() <= 50
        assert 2 <= incidents.filter(**started).count() <= 8
    assert not ServiceRequest.objects.exclude(source__name="Helpdesk").exists()
    assert set(helpdesk.values_list("consumer__slug", flat=True)) == {"sales"}
    assert set(helpdesk.values_list("segment", flat=True)) == {"P1", "P2", "P3"}
    # Leads come in outside office hours too.
    hours = {moment.hour for moment in leads.values_list("started_at", flat=True)}
    assert hours & {7, 19, 20, 21, 22} and hours & set(range(9, 17))
    assert RequestPause.objects.filter(request__source__name="Helpdesk").count() >= 5
    # Quick to seed: the leads are as many as Marketing logged (the figures
    # set them, about 200 a month), the other records a few hundred.
    assert (
        helpdesk.count() + incidents.count() + MaintenanceWindow.objects.count() < 800
    )
    assert Lead.objects.count() < 2500

    # Nothing after now; some leads not touched yet.
    for model in (ServiceRequest, Incident, MaintenanceWindow, Lead):
        assert not model.objects.filter(updated_at__gt=NOW).exists()
    assert leads.filter(first_touch_at=None).exists()

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
    # Dated as received, not as seeded, and sent by the source's team.
    first = helpdesk.order_by("started_at").first()
    assert first.received_at == first.updated_at < periods.month_start(months[1])
    assert first.history.get().history_date == first.updated_at
    lead = leads.order_by("started_at").first()
    assert lead.first_received_at == lead.received_at == lead.updated_at
    assert lead.updated_at < periods.month_start(months[1])
    history = lead.history.get()
    assert (history.history_date, history.history_user.username) == (
        lead.updated_at,
        "marketing-lead",
    )
    assert history.history_change_reason == "received from HubSpot contacts"

    # A second run finds every source filled and sends nothing.
    models = (ServiceRequest, Incident, MaintenanceWindow, RequestPause, Lead)
    counts = [model.history.count() for model in models]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts == [model.history.count() for model in models]


def test_seed_demo_counts_marketings_leads_from_its_crm_as_logged(demo):
    """Each month, Marketing's HubSpot contacts are the leads its lead log
    counts: the scorecards count the same from either."""
    months = periods.recent_months(12)
    leads = Lead.objects.filter(source__name="HubSpot contacts")
    source = RecordSource.objects.get(name="HubSpot contacts")
    assert (source.team.slug, source.kind) == ("marketing", RecordSource.Kind.LEADS)
    assert set(leads.values_list("team__slug", flat=True)) == {"marketing"}
    assert not leads.exclude(duplicate_of=None).exists()
    logged = {
        row["month"]: (row["delivered"], row["qualified"])
        for row in LeadLogEntry.objects.filter(team=source.team)
        .values("month")
        .annotate(delivered=Sum("leads_delivered"), qualified=Sum("qualified_leads"))
    }
    assert set(logged) == set(months)
    for month in months:
        in_month = leads.filter(month=month)
        assert (in_month.count(), in_month.filter(qualified=True).count()) == (
            logged[month]
        ), month
    stored = _stored("Leads delivered")
    qualified = _stored("Qualified leads")
    assert set(stored) == set(months[:-1])
    for month in months[:-1]:
        assert stored[month][0] == leads.filter(month=month).count(), month
        assert qualified[month][0] == leads.filter(month=month, qualified=True).count()

    # The follow-up of a finished month is judged on every lead of it.
    follow_up = Agreement.objects.get(title="Lead follow-up", status="active")
    card = scorecard_for(follow_up, months[-2])
    figures = card.lines[0].records.figures
    assert figures.met + figures.breached == leads.filter(month=months[-2]).count()

    # Contacts as HubSpot exports them: one per address, owned by a Sales rep,
    # the lifecycle stage and lead status by their labels, each row kept.
    assert leads.values("email").distinct().count() == leads.count()
    assert set(leads.exclude(owner="").values_list("owner", flat=True)) >= {
        "Sam Ortega",
        "Priya Nair",
    }
    stages = set(leads.values_list("stage", flat=True))
    assert {"Lead", "Marketing Qualified Lead", "Sales Qualified Lead"} <= stages
    assert {"New", "Unqualified", "In Progress"} <= set(
        leads.values_list("status", flat=True)
    )
    campaigns = set(LeadLogEntry.objects.values_list("source", flat=True))
    for lead in leads:
        raw = lead.raw
        assert recognised(list(raw)) == "HubSpot contacts export"
        assert (raw["Record ID"], raw["Email"], raw["Lifecycle Stage"]) == (
            lead.external_id,
            lead.email,
            lead.stage,
        )
        assert raw["Original Source Drill-Down 1"] in campaigns
        # Qualified as the import's default rule reads the row.
        assert lead.qualified == bool(raw["Became a Marketing Qualified Lead Date"])
        assert lead.qualified == (lead.qualified_at is not None)
        assert lead.name == f"{raw['First Name']} {raw['Last Name']}"
        if lead.first_touch_at is not None:
            assert lead.started_at <= lead.owner_assigned_at <= lead.first_touch_at


def test_seed_demo_flags_marketings_leads_passed_on_again(demo):
    """Customer Service passes upsell leads on to Sales from its Salesforce;
    two are people Marketing had handed over, flagged and not counted."""
    upsells = Lead.objects.filter(source__name="Salesforce upsell leads")
    assert set(upsells.values_list("team__slug", flat=True)) == {"customer-service"}
    assert 10 <= upsells.count() <= 40
    flagged = upsells.exclude(duplicate_of=None).select_related("duplicate_of__source")
    assert len(flagged) == 2
    for lead in flagged:
        first = lead.duplicate_of
        assert (first.source.name, first.email) == ("HubSpot contacts", lead.email)
        assert first.started_at < lead.started_at
    assert Lead.objects.counted().filter(
        source__name="Salesforce upsell leads"
    ).count() == (upsells.count() - 2)
    assert {recognised(list(lead.raw)) for lead in upsells} == {
        "Salesforce leads report"
    }
