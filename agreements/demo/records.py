"""A year of records behind the demo's objectives measured from them: the
contacts Marketing hands over to Sales in HubSpot, the requests Sales sends
Customer Service's helpdesk, and the status page's incidents and maintenance
windows; and the working calendar whose business hours the requests (and the
leads' follow-up) count in. Customer Service also passes upsell leads on to
Sales from its Salesforce: nothing is measured from them, but two are people
Marketing had handed over already, flagged as such.

The calendar and the sources come first (the agreements name them); the
records are sent through ``records_upsert``, as a feed would send them, once
the agreements exist, then dated as received when the feed sent them. A
source that has records already is left alone: the rows depend on the
moment the seed runs (nothing is recorded after it), so a second run a few
minutes later would otherwise answer a request that was still open.

What each source sends, month by month, is ``feeds``' and ``crm``'s to say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from .. import periods
from ..calendars.models import (
    ROUND_THE_CLOCK_NAME,
    Holiday,
    WorkingCalendar,
    WorkingInterval,
)
from ..calendars.services import (
    calendar_create,
    calendar_holidays_seed,
    calendar_interval_add,
)
from ..calendars.time import CalendarSnapshot
from ..history import save_with_history
from ..models import ClosedCustomer, LeadLogEntry, Team
from ..records.models import (
    Incident,
    Lead,
    MaintenanceWindow,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from ..records.services import records_upsert
from ..services._common import validate
from .common import at
from .crm import LoggedDay, Person, hubspot_rows, returning_rows, upsell_rows
from .feeds import HELPDESK_REQUESTS, as_sent, request_rows, status_page_rows

Kind = RecordSource.Kind

CALENDAR = "Office hours (demo)"
# Monday to Friday, with an hour for lunch.
OFFICE_HOURS = ((dt.time(9), dt.time(12, 30)), (dt.time(13, 30), dt.time(17, 30)))
HOLIDAYS_OF = "DE"

HUBSPOT = "HubSpot contacts"
HELPDESK = "Helpdesk"
STATUS_PAGE = "Status page"
UPSELLS = "Salesforce upsell leads"
# name, the team that owns it, kind, the person who set it up
SOURCES = (
    (HUBSPOT, "marketing", Kind.LEADS, "marketing-lead"),
    (UPSELLS, "customer-service", Kind.LEADS, "service-head"),
    (HELPDESK, "customer-service", Kind.REQUESTS, "service-head"),
    (STATUS_PAGE, "customer-service", Kind.INCIDENTS, "service-head"),
)
# How many of Marketing's contacts who became customers come back through
# support as upsell leads (flagged: Marketing handed them over first).
RETURNING = 2


@dataclass
class RecordSetup:
    """The calendars and sources the demo's measures name, by name."""

    calendars: dict[str, WorkingCalendar]
    sources: dict[str, RecordSource]
    created: int = 0

    def resolve(self, row: dict[str, Any]) -> dict[str, Any]:
        """An objective row with its measure's source and calendar names
        turned into the rows (a row without a measure as it is)."""
        spec = row.get("measure")
        if not spec:
            return row
        return {
            **row,
            "measure": {
                **spec,
                "source": self.sources[spec["source"]],
                "calendar": self.calendars[spec["calendar"]],
            },
        }


def requests_measure(source: str, minutes: int, **extra: Any) -> dict[str, Any]:
    """An objective row's measure (see ``RecordSetup.resolve``): the first
    response (a lead's first touch) within ``minutes`` of the demo's office
    hours."""
    return {
        "source": source,
        "calendar": CALENDAR,
        "event": "first_response",
        "target": minutes,
        **extra,
    }


def availability_measure(source: str) -> dict[str, Any]:
    """Round the clock, maintenance left out, a partial outage half down."""
    return {
        "source": source,
        "calendar": ROUND_THE_CLOCK_NAME,
        "partial_weight": Decimal("0.5"),
        "exclude_maintenance": True,
    }


def _setup_moment() -> dt.datetime:
    """Three weeks before the demo's first month: before the agreements that
    name the calendar and the sources were drafted."""
    first = periods.recent_months(12)[0]
    return at(first - dt.timedelta(days=21), 10, 0)


def _office_calendar(user) -> tuple[WorkingCalendar, int]:
    calendar = WorkingCalendar.objects.filter(team=None, name=CALENDAR).first()
    created = 0
    if calendar is None:
        calendar = calendar_create(
            name=CALENDAR, time_zone=settings.TIME_ZONE, user=user
        )
        for weekday in range(5):
            for start, end in OFFICE_HOURS:
                calendar_interval_add(
                    calendar=calendar, weekday=weekday, start=start, end=end, user=user
                )
        created = 1
    # The years of the records, and the next one for requests still open at
    # the turn of the year; those the calendar has are skipped.
    first = periods.recent_months(12)[0].year
    years = range(first, periods.today().year + 2)
    added = calendar_holidays_seed(
        calendar=calendar, country=HOLIDAYS_OF, years=years, user=user
    )
    if created:
        when = _setup_moment()
        WorkingCalendar.objects.filter(pk=calendar.pk).update(
            created_at=when, updated_at=when
        )
        for history in (
            WorkingCalendar.history.filter(id=calendar.pk),
            WorkingInterval.history.filter(calendar_id=calendar.pk),
            Holiday.history.filter(calendar_id=calendar.pk),
        ):
            history.update(history_date=when)
    return calendar, created + len(added)


def _round_the_clock(user) -> WorkingCalendar:
    """The organisation's 24/7 calendar (migration 0007 makes it)."""
    calendar = WorkingCalendar.objects.filter(
        team=None, name=ROUND_THE_CLOCK_NAME
    ).first()
    if calendar is None:
        calendar = calendar_create(
            name=ROUND_THE_CLOCK_NAME, time_zone="UTC", always=True, user=user
        )
    return calendar


def seed_record_setup(teams: dict[str, Team], users: dict) -> RecordSetup:
    """The demo's business-hours calendar and its three record sources (each
    looked up by name first)."""
    office, created = _office_calendar(users["admin"])
    setup = RecordSetup(
        calendars={
            CALENDAR: office,
            ROUND_THE_CLOCK_NAME: _round_the_clock(users["admin"]),
        },
        sources={},
        created=created,
    )
    for name, team_slug, kind, username in SOURCES:
        team = teams[team_slug]
        source = RecordSource.objects.filter(team=team, name=name).first()
        if source is None:
            source = RecordSource(team=team, name=name, kind=kind)
            validate(source)
            save_with_history(source, user=users[username], reason="created")
            when = _setup_moment()
            RecordSource.objects.filter(pk=source.pk).update(created_at=when)
            source.history.update(history_date=when)
            setup.created += 1
        setup.sources[name] = source
    return setup


# --- Writing ------------------------------------------------------------------


def _date_received(source: RecordSource) -> None:
    """Each record, and its history, as received when the source last
    changed it (the seed writes them all at once)."""
    for model in (ServiceRequest, Incident, MaintenanceWindow):
        model.objects.filter(source=source).update(received_at=F("updated_at"))
        model.history.filter(source_id=source.pk).update(
            received_at=F("updated_at"), history_date=F("updated_at")
        )
    # A lead is sent once, as it stands: first received when last changed.
    received = {"received_at": F("updated_at"), "first_received_at": F("updated_at")}
    Lead.objects.filter(source=source).update(**received)
    Lead.history.filter(source_id=source.pk).update(
        **received, history_date=F("updated_at")
    )
    requests = ServiceRequest.objects.filter(source=source)
    RequestPause.history.filter(request_id__in=requests.values("pk")).update(
        history_date=Subquery(
            requests.filter(pk=OuterRef("request_id")).values("updated_at")[:1]
        )
    )


def _send(source: RecordSource, rows: list[dict[str, Any]], user) -> int:
    if not rows:
        return 0
    # A year of feeds replayed as they were sent, each month's records while
    # it was open: the rule for locked months is about records arriving now.
    report = records_upsert(source=source, rows=rows, user=user, enforce_lock=False)
    _date_received(source)
    return report.created


def _has_records(source: RecordSource) -> bool:
    return (
        source.requests.exists()
        or source.incidents.exists()
        or source.maintenance_windows.exists()
        or source.leads.exists()
    )


def _lead_log(team: Team) -> dict[dt.date, list[LoggedDay]]:
    """The team's lead log by month: what its CRM holds, day by day."""
    logged: dict[dt.date, list[LoggedDay]] = {}
    for month, day, delivered, qualified, campaign in (
        LeadLogEntry.objects.filter(team=team)
        .order_by("date", "pk")
        .values_list("month", "date", "leads_delivered", "qualified_leads", "source")
    ):
        logged.setdefault(month, []).append(
            LoggedDay(day, delivered, qualified, campaign)
        )
    return logged


def _upsells(
    setup: RecordSetup,
    months: list[dt.date],
    office: CalendarSnapshot,
    cut: dt.datetime,
) -> list[dict[str, Any]]:
    """Customer Service's upsell leads of the year, at the customers Sales
    had closed by each month, and a few of Marketing's contacts again."""
    taken = set(Lead.objects.values_list("email", flat=True))
    closed = list(
        ClosedCustomer.objects.order_by("month", "customer").values_list(
            "month", "customer"
        )
    )
    rows = []
    for month in months:
        customers = [customer for closed_in, customer in closed if closed_in < month]
        if customers:
            rows += upsell_rows(
                month, customers=customers, calendar=office, cut=cut, taken=taken
            )
    # The earliest to have become customers, in the year's first half.
    contacts = [
        (Person(*lead.name.split(" ", 1), lead.company, lead.email), lead.updated_at)
        for lead in Lead.objects.filter(
            source=setup.sources[HUBSPOT],
            stage="Customer",
            month__lt=months[len(months) // 2],
        ).order_by("updated_at", "pk")[:RETURNING]
    ]
    return rows + returning_rows(contacts, calendar=office, cut=cut)


def seed_records(setup: RecordSetup, users: dict) -> int:
    """A year of each source's records, up to a few minutes ago; returns how
    many were created."""
    months = periods.recent_months(12)
    cut = timezone.now() - dt.timedelta(minutes=5)
    office = setup.calendars[CALENDAR].snapshot()
    created = 0
    source = setup.sources[HUBSPOT]
    if not _has_records(source):
        # Marketing's contacts, one for each lead it logged: the months count
        # the same from the CRM as from the log.
        logged = _lead_log(source.team)
        taken: set[str] = set()
        rows = [
            row
            for index, month in enumerate(months)
            for row in hubspot_rows(
                month,
                index,
                logged.get(month, []),
                calendar=office,
                cut=cut,
                taken=taken,
            )
        ]
        created += _send(source, rows, users["marketing-lead"])
    source = setup.sources[HELPDESK]
    if not _has_records(source):
        rows = [
            row
            for index, month in enumerate(months)
            for row in request_rows(
                HELPDESK_REQUESTS, month=month, index=index, calendar=office, cut=cut
            )
        ]
        created += _send(source, rows, users["service-head"])
    source = setup.sources[UPSELLS]
    if not _has_records(source):
        created += _send(
            source, _upsells(setup, months, office, cut), users["service-head"]
        )
    source = setup.sources[STATUS_PAGE]
    if not _has_records(source):
        # The status page writes local times: the night's outage on a
        # month's last day runs into the next month where the months turn.
        zone = periods.org_zone()
        rows = [
            row
            for index, month in enumerate(months)
            for row in status_page_rows(month, index, zone)
        ]
        created += _send(source, as_sent(rows, cut), users["service-head"])
    return created
