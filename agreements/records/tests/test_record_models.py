"""What the database itself refuses, and how an objective's record measure
checks its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements.calendars.models import WorkingCalendar
from agreements.models import Objective
from agreements.records.models import (
    Incident,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from agreements.tests.factories import AgreementFactory, ObjectiveFactory

START = datetime(2026, 6, 1, 9, tzinfo=UTC)
EARLIER = START - timedelta(hours=1)


def refused(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def request(source, **fields):
    values = {
        "source": source,
        "external_id": "R-1",
        "provider": source.team,
        "started_at": START,
        "updated_at": START,
    }
    values.update(fields)
    return ServiceRequest.objects.create(**values)


def test_a_request_id_is_unique_per_source(helpdesk, service):
    request(helpdesk)
    refused(lambda: request(helpdesk))
    other = RecordSource.objects.create(team=service, name="Mail", kind="requests")
    request(other)


@pytest.mark.parametrize("field", ["first_response_at", "resolved_at"])
def test_a_request_cannot_stop_before_it_starts(helpdesk, field):
    refused(lambda: request(helpdesk, **{field: EARLIER}))
    request(helpdesk, **{field: START})


def test_a_request_needs_an_id(helpdesk):
    refused(lambda: request(helpdesk, external_id=""))


def test_a_pause_cannot_end_before_it_starts(helpdesk):
    parent = request(helpdesk)
    refused(
        lambda: RequestPause.objects.create(
            request=parent, started_at=START, ended_at=EARLIER
        )
    )
    RequestPause.objects.create(request=parent, started_at=START, ended_at=None)


def incident(source, **fields):
    values = {
        "source": source,
        "external_id": "I-1",
        "impact": "major",
        "started_at": START,
        "updated_at": START,
    }
    values.update(fields)
    return Incident.objects.create(**values)


def test_incident_rules(status_page):
    refused(lambda: incident(status_page, ended_at=EARLIER))
    refused(lambda: incident(status_page, impact="total"))
    incident(status_page)
    refused(lambda: incident(status_page))


def test_maintenance_rules(status_page):
    def window(**fields):
        values = {
            "source": status_page,
            "external_id": "M-1",
            "started_at": START,
            "ended_at": START + timedelta(hours=1),
            "reason": "Upgrade",
            "updated_at": START,
        }
        values.update(fields)
        return MaintenanceWindow.objects.create(**values)

    refused(lambda: window(reason=""))
    refused(lambda: window(ended_at=EARLIER))
    window()
    refused(lambda: window())


def test_a_source_name_is_unique_per_team(helpdesk, service):
    refused(
        lambda: RecordSource.objects.create(
            team=service, name="Helpdesk", kind="incidents"
        )
    )
    refused(lambda: RecordSource.objects.create(team=service, name="X", kind="emails"))


# --- Record measures --------------------------------------------------------


@pytest.fixture
def office(db) -> WorkingCalendar:
    return WorkingCalendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin"
    )


def objective(source: str, provider):
    return ObjectiveFactory(
        agreement=AgreementFactory(provider=provider),
        metric_source=source,
        unit=Objective.Unit.PERCENT,
        target=Decimal("95"),
    )


def errors_of(measure: RecordMeasure) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        measure.full_clean()
    return caught.value.message_dict


def test_record_sources_can_be_chosen_for_an_objective(service):
    for source in (Objective.Source.REQUEST_TIMES, Objective.Source.AVAILABILITY):
        chosen = objective(source, service)
        chosen.full_clean()


def test_a_request_measure_is_complete(helpdesk, office, service):
    measure = RecordMeasure(
        objective=objective(Objective.Source.REQUEST_TIMES, service),
        source=helpdesk,
        calendar=office,
        event="first_response",
        target=timedelta(hours=3),
        share=Decimal("95"),
        segment_goals=[{"segment": "P1", "target_minutes": 60}],
    )
    measure.full_clean()
    measure.save()
    assert measure.goals[0].target == timedelta(hours=1)


def test_a_request_measure_names_what_it_lacks(helpdesk, office, service):
    measure = RecordMeasure(
        objective=objective(Objective.Source.REQUEST_TIMES, service),
        source=helpdesk,
        calendar=office,
        segment_goals=[{"segment": "P1", "target_minutes": -5}],
        partial_weight=Decimal("0.5"),
        component="API",
    )
    errors = errors_of(measure)
    assert set(errors) == {
        "event",
        "target",
        "share",
        "segment_goals",
        "partial_weight",
        "component",
    }
    assert errors["segment_goals"] == [
        "Goal 1 (P1) needs a target above zero, in minutes, at most 527,040 (a year)."
    ]


def test_an_availability_measure_refuses_request_settings(status_page, office, service):
    measure = RecordMeasure(
        objective=objective(Objective.Source.AVAILABILITY, service),
        source=status_page,
        calendar=office,
        event="resolution",
        share=Decimal("90"),
        segment_goals=[{"segment": "P1", "target_minutes": 5}],
    )
    assert set(errors_of(measure)) == {"event", "share", "segment_goals"}
    measure.event, measure.share, measure.segment_goals = "", None, []
    measure.partial_weight = Decimal("0.5")
    measure.full_clean()


def test_a_measure_reads_the_right_kind_of_source(
    helpdesk, status_page, office, service
):
    measure = RecordMeasure(
        objective=objective(Objective.Source.AVAILABILITY, service),
        source=helpdesk,
        calendar=office,
    )
    assert errors_of(measure)["source"] == [
        f"Helpdesk (Customer Service) sends requests; “{measure.objective}” needs "
        "a source of incidents and maintenance."
    ]


def test_a_measure_needs_an_objective_measured_from_records(
    status_page, office, service
):
    measure = RecordMeasure(
        objective=objective(Objective.Source.MANUAL, service),
        source=status_page,
        calendar=office,
    )
    assert "not from request or incident records" in errors_of(measure)["objective"][0]


def test_a_measure_uses_the_providers_or_an_organisation_wide_calendar(
    status_page, service, sales
):
    theirs = WorkingCalendar.objects.create(
        name="Sales hours", time_zone="Europe/Berlin", team=sales
    )
    measure = RecordMeasure(
        objective=objective(Objective.Source.AVAILABILITY, service),
        source=status_page,
        calendar=theirs,
    )
    assert errors_of(measure)["calendar"] == [
        "Sales hours belongs to Sales: use an organisation-wide calendar or one "
        "of Customer Service's."
    ]


def test_the_database_keeps_a_measures_numbers_in_range(status_page, office, service):
    chosen = objective(Objective.Source.AVAILABILITY, service)

    def measure(**fields):
        return RecordMeasure.objects.create(
            objective=chosen, source=status_page, calendar=office, **fields
        )

    refused(lambda: measure(partial_weight=Decimal("1.5")))
    refused(lambda: measure(share=Decimal("0")))
    refused(lambda: measure(target=timedelta(0)))
    refused(lambda: measure(event="lunch"))
    measure(partial_weight=Decimal("1"))


@pytest.mark.django_db
def test_the_agreement_editor_writes_and_shows_how_an_objective_is_measured(
    client, service_lead, service, sales, helpdesk, office
):
    from django.urls import reverse

    from agreements.models import Agreement
    from agreements.tests.agreement_pages import editor_data

    row = {
        "name": "Answers within 3 business hours",
        "metric_source": "request_times",
        "unit": "percent",
        "target": "95",
        "measure_source": helpdesk.pk,
        "measure_calendar": office.pk,
        "measure_event": "first_response",
        "measure_target_minutes": "180",
    }
    client.force_login(service_lead)
    url = reverse("agreements:create")

    missing = client.post(
        url,
        editor_data(
            provider=service,
            consumer=sales,
            objectives=[{**row, "measure_source": ""}],
        ),
    )
    assert missing.status_code == 200
    assert "source: This field cannot be null." in missing.content.decode()
    assert not Agreement.objects.exists()

    client.post(url, editor_data(provider=service, consumer=sales, objectives=[row]))
    agreement = Agreement.objects.get()
    measure = agreement.objectives.get().record_measure
    assert (measure.source, measure.calendar, measure.event, measure.share) == (
        helpdesk,
        office,
        "first_response",
        Decimal(95),
    )
    assert measure.target == timedelta(hours=3)

    detail = client.get(agreement.get_absolute_url()).content.decode()
    assert "First response within 3 h of business time" in detail
    edit = client.get(reverse("agreements:edit", args=[agreement.pk])).content.decode()
    assert f'<option value="{helpdesk.pk}" selected>' in edit
    assert 'value="180"' in edit


def test_who_may_send_records_and_set_up_sources(
    helpdesk, service_lead, service_head, sales_lead, executive, outsider
):
    from django.contrib.auth import get_user_model

    from agreements.rules import can

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    answers = {
        who.username: (
            can(who, "send_records", helpdesk),
            can(who, "send_late_records", helpdesk),
            can(who, "manage_record_sources", helpdesk),
        )
        for who in (service_lead, service_head, sales_lead, executive, outsider, admin)
    }
    assert answers == {
        service_lead.username: (True, False, False),
        service_head.username: (True, True, True),
        sales_lead.username: (False, False, False),
        executive.username: (False, False, False),
        outsider.username: (False, False, False),
        "root": (False, True, True),
    }
