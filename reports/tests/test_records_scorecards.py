"""Objectives measured from records on the scorecard: written into the
agreement with how they are measured, computed by the one engine from
requests and incidents, against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements.calendars.services import (
    calendar_create,
    calendar_holiday_add,
    calendar_interval_add,
)
from agreements.models import Objective
from agreements.records.models import RecordMeasure, RecordSource
from agreements.records.services import records_upsert
from agreements.services.agreements import agreement_revise
from agreements.tests.builders import active, draft, objective_row
from reports.scoring import Status
from reports.selectors.engine import scorecard_for, scorecards_for_months

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
START = date(2026, 1, 1)
# 10 July 2026: June is over and locked.
AFTER_JUNE = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
# 2 July 2026: June is over, still in its grace period; its records are sent.
JUNE_CLOSING = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)
BERLIN_OFFSET = "+02:00"  # summer time


@pytest.fixture
def office(service):
    """Mon–Fri 09:00–17:00 in Berlin."""
    calendar = calendar_create(name="Berlin office", time_zone="Europe/Berlin")
    for weekday in range(5):
        calendar_interval_add(
            calendar=calendar, weekday=weekday, start=time(9), end=time(17)
        )
    return calendar


@pytest.fixture
def around_the_clock():
    return calendar_create(
        name="Always, Berlin", time_zone="Europe/Berlin", always=True
    )


@pytest.fixture
def helpdesk(service):
    return RecordSource.objects.create(
        team=service, name="Helpdesk", kind=RecordSource.Kind.REQUESTS
    )


@pytest.fixture
def status_page(service):
    return RecordSource.objects.create(
        team=service, name="Status page", kind=RecordSource.Kind.INCIDENTS
    )


def signed(**kwargs):
    """An agreement in force since January, signed by both in May."""
    with time_machine.travel(datetime(2026, 5, 20, 9, 0, tzinfo=UTC)):
        return active(effective_from=START, **kwargs)


def sent_while_open(**kwargs):
    """Records sent while June still takes them from the team's leads."""
    with time_machine.travel(JUNE_CLOSING, tick=False):
        return records_upsert(**kwargs)


def answers_row(**measure):
    return objective_row(
        "Answers within 3 business hours",
        metric_source="request_times",
        unit="percent",
        target=Decimal(90),
        measure={"event": "first_response", "target": 180, **measure},
    )


def uptime_row(**measure):
    return objective_row(
        "Portal uptime",
        metric_source="availability",
        unit="percent",
        target=Decimal(99),
        measure={"partial_weight": Decimal("0.5"), **measure},
    )


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-06-{day:02d}T{hour:02d}:{minute:02d}:00{BERLIN_OFFSET}"


def request(number: int, started: str, answered: str | None, **fields):
    return {
        "external_id": f"R-{number}",
        "started_at": started,
        "first_response_at": answered,
        "updated_at": answered or started,
        **fields,
    }


@pytest.fixture
def june_requests(helpdesk, service_lead, marketing):
    """Eight answered within the hour (one without a consumer), one after five
    business hours, one still open from the month's last hour, one asked by
    another team."""
    rows = [
        request(n, at(n + 1, 10), at(n + 1, 11), consumer="sales") for n in range(1, 8)
    ]
    rows.append(request(8, at(9, 10), at(9, 11)))  # no consumer recorded
    # Started Wednesday 10 June 14:00, answered Thursday 11:00: 3 h + 2 h.
    rows.append(request(9, at(10, 14), at(11, 11), consumer="sales"))
    # Open since Tuesday 30 June 16:00: one business hour gone at month end.
    rows.append(request(10, at(30, 16), None, consumer="sales"))
    rows.append(request(11, at(12, 10), at(15, 10), consumer="marketing"))
    sent_while_open(source=helpdesk, rows=rows, user=service_lead)


def test_time_to_answer_is_computed_from_the_requests(
    service_lead, sales_lead, service, sales, office, helpdesk, june_requests
):
    agreement = signed(
        user=service_lead,
        other_signer=sales_lead,
        provider=service,
        consumer=sales,
        objectives=[answers_row(source=helpdesk, calendar=office)],
    )

    card = scorecard_for(agreement, JUNE, now=AFTER_JUNE)

    (line,) = card.lines
    figures = line.records.figures
    assert (figures.met, figures.breached, figures.pending) == (8, 1, 1)
    assert line.outcome.actual == Decimal(800) / Decimal(9)  # 88.9 %
    assert line.status == Status.MISSED
    assert figures.p50 == timedelta(hours=1)
    assert figures.p90 == timedelta(hours=5)
    assert line.reported_on_time  # nobody had to report it
    breached = [r.external_id for r in figures.evidence if r.outcome == "breached"]
    assert breached == ["R-9"]
    assert "R-11" not in {r.external_id for r in figures.evidence}
    assert figures.insufficient  # 9 counted, under 10


def test_availability_is_computed_from_incidents_and_maintenance(
    service_lead, sales_lead, service, sales, around_the_clock, status_page
):
    sent_while_open(
        source=status_page,
        rows=[
            # 10:00–11:00 and 10:30–11:30 overlap: 90 minutes down.
            {
                "external_id": "I-1",
                "impact": "major",
                "started_at": at(10, 10),
                "ended_at": at(10, 11),
                "updated_at": at(10, 11),
            },
            {
                "external_id": "I-2",
                "impact": "major",
                "started_at": at(10, 10, 30),
                "ended_at": at(10, 11, 30),
                "updated_at": at(10, 12),
            },
            # Two hours degraded, counting half: 60 minutes.
            {
                "external_id": "I-3",
                "impact": "partial",
                "started_at": at(20, 8),
                "ended_at": at(20, 10),
                "updated_at": at(20, 10),
            },
            # From 30 June 23:30 to 1 July 00:45: 30 minutes in June.
            {
                "external_id": "I-4",
                "impact": "major",
                "started_at": at(30, 23, 30),
                "ended_at": "2026-07-01T00:45:00+02:00",
                "updated_at": "2026-07-01T01:00:00+02:00",
            },
            {
                "type": "maintenance",
                "external_id": "M-1",
                "started_at": at(14, 2),
                "ended_at": at(14, 2, 30),
                "reason": "Database upgrade",
                "updated_at": at(1, 9),
            },
        ],
        user=service_lead,
    )
    agreement = signed(
        user=service_lead,
        other_signer=sales_lead,
        provider=service,
        consumer=sales,
        objectives=[uptime_row(source=status_page, calendar=around_the_clock)],
    )

    (line,) = scorecard_for(agreement, JUNE, now=AFTER_JUNE).lines

    figures = line.records.figures
    assert figures.window_minutes == 30 * 24 * 60
    assert figures.maintenance_minutes == 30
    assert figures.downtime_minutes == 90 + 60 + 30
    expected = Decimal(43200 - 30 - 180) / Decimal(43200 - 30) * 100
    assert line.outcome.actual == expected  # 99.58 %
    assert line.status == Status.MET
    assert [row.minutes for row in figures.incidents] == [60, 60, 120, 30]


def test_the_engine_reads_records_in_the_same_queries_for_any_number_of_objectives(
    service_lead,
    sales_lead,
    marketing_lead,
    service,
    sales,
    marketing,
    office,
    around_the_clock,
    helpdesk,
    status_page,
    june_requests,
    django_assert_num_queries,
):
    def agreement_with(consumer, signer, title):
        return signed(
            user=service_lead,
            other_signer=signer,
            provider=service,
            consumer=consumer,
            title=title,
            objectives=[
                answers_row(source=helpdesk, calendar=office),
                uptime_row(source=status_page, calendar=around_the_clock),
            ],
        )

    agreement_with(sales, sales_lead, "Answers for sales")
    scorecards_for_months([JUNE], now=AFTER_JUNE)  # warm caches
    with django_assert_num_queries(9) as one:
        scorecards_for_months([JUNE], now=AFTER_JUNE)
    agreement_with(marketing, marketing_lead, "Answers for marketing")
    with django_assert_num_queries(len(one.captured_queries)):
        cards = scorecards_for_months([JUNE], now=AFTER_JUNE)[JUNE]
    counted = {c.agreement.consumer.slug: c.lines[0].records.figures for c in cards}
    assert counted["sales"].counted == 9
    assert counted["marketing"].counted == 2  # its own, and R-8 (no consumer)


def test_an_objective_from_records_says_how_it_is_measured(
    service_lead, service, sales, helpdesk, status_page, office, marketing
):
    def refused(row) -> str:
        with pytest.raises(ValidationError) as raised:
            draft(user=service_lead, provider=service, consumer=sales, objectives=[row])
        return " ".join(raised.value.messages)

    no_measure = objective_row(
        "Answers", metric_source="request_times", unit="percent", target=90
    )
    assert "Say how it is measured" in refused(no_measure)
    assert "needs a source of requests" in refused(
        answers_row(source=status_page, calendar=office)
    )
    theirs = RecordSource.objects.create(
        team=marketing, name="Their desk", kind=RecordSource.Kind.REQUESTS
    )
    assert "is Marketing's feed" in refused(answers_row(source=theirs, calendar=office))
    assert "measured from records is a share of requests or of time: use %" in refused(
        {**answers_row(source=helpdesk, calendar=office), "unit": "count"}
    )
    assert "objective's target" in refused(
        answers_row(source=helpdesk, calendar=office, share=95)
    )
    assert "at most" in refused(
        answers_row(source=helpdesk, calendar=office, target=10**7)
    )
    manual_with_measure = objective_row(
        "Typed", metric_source="manual", unit="percent", target=90
    )
    manual_with_measure["measure"] = {"source": helpdesk.pk}
    assert "only an objective measured from records" in refused(manual_with_measure)
    assert not Objective.objects.exists()
    assert not RecordMeasure.objects.exists()


def test_a_revision_keeps_the_measure_and_its_history(
    service_lead, sales_lead, service, sales, office, helpdesk
):
    agreement = active(
        user=service_lead,
        other_signer=sales_lead,
        provider=service,
        consumer=sales,
        effective_from=START,
        objectives=[answers_row(source=helpdesk, calendar=office)],
    )
    revision = agreement_revise(agreement=agreement, user=service_lead)

    old, new = (a.objectives.get().record_measure for a in (agreement, revision))
    assert old.pk != new.pk
    assert (new.source, new.calendar, new.target, new.share) == (
        helpdesk,
        office,
        timedelta(minutes=180),
        Decimal(90),
    )
    assert new.history.get().history_user == service_lead


# --- Pages: from the scorecard to the records behind a figure ---------------


@pytest.fixture
def answers(service_lead, sales_lead, service, sales, office, helpdesk, june_requests):
    return signed(
        user=service_lead,
        other_signer=sales_lead,
        provider=service,
        consumer=sales,
        objectives=[answers_row(source=helpdesk, calendar=office)],
    )


def page(client, user, url):
    client.force_login(user)
    with time_machine.travel(AFTER_JUNE, tick=False):
        return client.get(url)


def test_the_scorecard_links_a_missed_figure_to_the_requests_that_breached(
    client, answers, sales_lead
):
    url = reverse("reports:scorecard", args=[answers.pk]) + "?month=2026-06"
    html = page(client, sales_lead, url).content.decode()

    assert "8 met, 1 breached, 1 not due yet · p50 1 h 00 min · p90 5 h 00 min" in (
        html
    )
    assert "insufficient data (fewer than 10 requests)" in html
    objective = answers.objectives.get()
    evidence = reverse("reports:evidence", args=[answers.pk, objective.pk])
    assert f'href="{evidence}?month=2026-06&amp;outcome=breached"' in html
    assert "1 breached: see which" in html

    response = page(client, sales_lead, f"{evidence}?month=2026-06&outcome=breached")
    assert response.status_code == 200
    shown = response.content.decode()
    assert 'data-request="R-9"' in shown
    assert 'data-request="R-1"' not in shown
    assert "A request belongs to the month it started in, in Europe/Berlin" in shown
    assert "Berlin office" in shown
    assert "5 h 00 min" in shown  # R-9's business time
    assert "10 Jun 2026, 14:00" in shown  # its start, in the calendar's zone


def test_the_printed_scorecard_lists_the_requests_that_breached(
    client, answers, sales_lead
):
    url = reverse("reports:scorecard_print", args=[answers.pk]) + "?month=2026-06"
    html = page(client, sales_lead, url).content.decode()

    printed = html[html.index('data-testid="printed-evidence"') :]
    assert "the requests that breached" in printed
    assert "<td>R-9</td>" in printed and "<td>R-1</td>" not in printed
    assert "5 h 00 min" in printed  # its business time, against 3 h 00 min
    assert "Berlin office" in printed
    objective = answers.objectives.get()
    csv_url = reverse("reports:evidence_csv", args=[answers.pk, objective.pk])
    assert f"http://testserver{csv_url}?month=2026-06" in printed


def test_the_evidence_comes_as_a_csv(client, answers, sales_lead):
    objective = answers.objectives.get()
    url = reverse("reports:evidence_csv", args=[answers.pk, objective.pk])
    response = page(client, sales_lead, f"{url}?month=2026-06")

    lines = response.content.decode().splitlines()
    assert lines[0] == (
        "request,segment,started_at,stopped_at,business_minutes,target_minutes,"
        "due_at,outcome,calendar"
    )
    assert lines[1].startswith("R-9,,2026-06-10T14:00:00+02:00,")
    assert ",300.0,180.0," in lines[1]
    assert lines[1].endswith(",breached,Berlin office")
    assert len(lines) == 1 + 10  # R-11 is Marketing's


def test_availability_evidence_shows_the_minutes_of_each_record(
    client, service_lead, sales_lead, service, sales, around_the_clock, status_page
):
    sent_while_open(
        source=status_page,
        rows=[
            {
                "external_id": "I-4",
                "impact": "major",
                "started_at": at(30, 23, 30),
                "ended_at": "2026-07-01T00:45:00+02:00",
                "updated_at": "2026-07-01T01:00:00+02:00",
            },
            {
                "type": "maintenance",
                "external_id": "M-1",
                "started_at": at(14, 2),
                "ended_at": at(14, 2, 30),
                "reason": "Database upgrade",
                "updated_at": at(1, 9),
            },
        ],
        user=service_lead,
    )
    agreement = signed(
        user=service_lead,
        other_signer=sales_lead,
        provider=service,
        consumer=sales,
        objectives=[uptime_row(source=status_page, calendar=around_the_clock)],
    )
    objective = agreement.objectives.get()
    url = reverse("reports:evidence", args=[agreement.pk, objective.pk])

    html = page(client, sales_lead, f"{url}?month=2026-06").content.decode()

    assert 'data-incident="I-4"' in html
    assert "43,200 min" in html  # W
    assert "Database upgrade" in html
    assert "30 min" in html  # I-4's part in June, and the window
    july = page(client, sales_lead, f"{url}?month=2026-07").content.decode()
    assert "45 min" in july  # I-4's part in July

    printable = reverse("reports:scorecard_print", args=[agreement.pk])
    printed = page(client, sales_lead, f"{printable}?month=2026-06").content.decode()
    printed = printed[printed.index('data-testid="printed-evidence"') :]
    assert "<td>I-4</td><td>major outage</td>" in printed
    assert "maintenance: Database upgrade" in printed


@pytest.mark.parametrize(
    "query", ["?month=2026-06&outcome=lost", "?month=2999-01", "?month=June"]
)
def test_bad_evidence_addresses_are_not_found(client, answers, sales_lead, query):
    objective = answers.objectives.get()
    url = reverse("reports:evidence", args=[answers.pk, objective.pk])
    assert page(client, sales_lead, url + query).status_code == 404


def test_evidence_is_shown_only_to_those_who_may_see_the_agreement(
    client, answers, outsider, marketing_lead, sales_lead, marketing, sales
):
    objective = answers.objectives.get()
    url = reverse("reports:evidence", args=[answers.pk, objective.pk])
    assert page(client, outsider, url + "?month=2026-06").status_code == 404
    other = signed(
        user=marketing_lead,
        other_signer=sales_lead,
        provider=marketing,
        consumer=sales,
        title="Leads",
    )
    # An objective of another agreement, or one not measured from records.
    mismatched = reverse("reports:evidence", args=[other.pk, objective.pk])
    typed = reverse("reports:evidence", args=[other.pk, other.objectives.get().pk])
    for address in (mismatched, typed):
        assert page(client, sales_lead, address + "?month=2026-06").status_code == 404


def test_a_finalised_month_says_what_it_rested_on_and_when_records_changed_since(
    client, answers, sales_lead, office
):
    from reports.services import scorecards_finalise

    with time_machine.travel(AFTER_JUNE, tick=False):
        scorecards_finalise(month=JUNE)
    url = reverse("reports:scorecard", args=[answers.pk]) + "?month=2026-06"
    html = page(client, sales_lead, url).content.decode()
    assert "8 met, 1 breached, 1 not due yet" in html
    assert "the records now give" not in html

    # The calendar learns that 10 June was a holiday: R-9 took two business
    # hours (Thursday 09:00-11:00), not five.
    calendar_holiday_add(
        calendar=office, name="Office closed", start=JUNE.replace(day=10)
    )
    html = page(client, sales_lead, url).content.decode()
    assert "88.9 %" in html  # the snapshot stands
    assert "the records now give 100.0 % · 9 met, 0 breached" in html
    objective = answers.objectives.get()
    evidence = reverse("reports:evidence", args=[answers.pk, objective.pk])
    shown = page(client, sales_lead, evidence + "?month=2026-06").content.decode()
    assert 'data-testid="changed"' in shown


def test_a_head_applies_changed_records_to_a_finalised_month_with_a_reason(
    client, answers, sales_lead, service_head, office
):
    from reports.models import ScorecardLine
    from reports.services import scorecards_finalise

    with time_machine.travel(AFTER_JUNE, tick=False):
        scorecards_finalise(month=JUNE)
    calendar_holiday_add(
        calendar=office, name="Office closed", start=JUNE.replace(day=10)
    )
    objective = answers.objectives.get()
    evidence = reverse("reports:evidence", args=[answers.pk, objective.pk])
    apply = reverse("reports:evidence_apply", args=[answers.pk, objective.pk])
    line = ScorecardLine.objects.get(objective=objective)

    def post(user, reason):
        client.force_login(user)
        with time_machine.travel(AFTER_JUNE, tick=False):
            return client.post(f"{apply}?month=2026-06", {"reason": reason})

    assert 'data-testid="apply"' not in (
        page(client, sales_lead, evidence + "?month=2026-06").content.decode()
    )
    assert post(sales_lead, "The office was closed").status_code == 403
    post(service_head, "   ")
    line.refresh_from_db()
    assert line.actual.quantize(Decimal("0.1")) == Decimal("88.9")

    assert 'data-testid="apply"' in (
        page(client, service_head, evidence + "?month=2026-06").content.decode()
    )
    response = post(service_head, "The office was closed")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.actual == Decimal(100)
    assert line.history.first().history_change_reason == (
        "records applied: The office was closed"
    )


# --- Follow-up measured from leads -------------------------------------------


@pytest.fixture
def crm(marketing):
    """Marketing's CRM: the leads it hands over to Sales."""
    return RecordSource.objects.create(
        team=marketing, name="HubSpot", kind=RecordSource.Kind.LEADS
    )


def handed_over(number: int, started: str, touched: str | None, **fields):
    return {
        "external_id": f"L-{number}",
        "started_at": started,
        "first_touch_at": touched,
        "updated_at": touched or started,
        **fields,
    }


def test_sales_follow_up_is_measured_from_marketings_leads(
    client, sales_lead, marketing_lead, sales, marketing, service, office, crm
):
    # Ten leads touched within the hour, one after 5 business hours
    # (Wednesday 16:00 → Thursday 13:00: 1 h + 4 h), one not touched yet and
    # not due (handed over at month end), one of another team's.
    rows = [handed_over(n, at(2 + n, 10), at(2 + n, 10, 45)) for n in range(1, 11)]
    rows += [
        handed_over(11, at(3, 16), at(4, 13)),
        handed_over(12, at(30, 16, 30), None),
    ]
    sent_while_open(source=crm, rows=rows, user=marketing_lead)
    follow_up = signed(
        user=sales_lead,
        other_signer=marketing_lead,
        provider=sales,
        consumer=marketing,
        objectives=[
            objective_row(
                "Leads first touched within 4 business hours",
                metric_source="request_times",
                unit="percent",
                target=Decimal(90),
                measure={
                    "source": crm,
                    "calendar": office,
                    "event": "first_response",
                    "target": 240,
                },
            )
        ],
    )
    with time_machine.travel(AFTER_JUNE, tick=False):
        line = scorecard_for(follow_up, JUNE).lines[0]
    figures = line.records.figures
    assert (figures.met, figures.breached, figures.pending) == (10, 1, 1)
    assert line.outcome.actual.quantize(Decimal("0.01")) == Decimal("90.91")
    assert line.status == Status.MET

    # The evidence names the lead that breached, as a request's would be.
    objective = follow_up.objectives.get()
    evidence = reverse("reports:evidence", args=[follow_up.pk, objective.pk])
    shown = page(client, marketing_lead, f"{evidence}?month=2026-06&outcome=breached")
    assert shown.status_code == 200
    assert 'data-request="L-11"' in shown.content.decode()


def test_a_leads_source_measures_only_its_teams_agreements(
    sales_lead, marketing_lead, service_lead, sales, marketing, service, office, crm
):
    row = objective_row(
        "Leads first touched within 4 business hours",
        metric_source="request_times",
        unit="percent",
        target=Decimal(90),
        measure={
            "source": crm,
            "calendar": office,
            "event": "resolution",
            "target": 240,
        },
    )
    with pytest.raises(ValidationError) as refused:
        signed(
            user=sales_lead,
            other_signer=marketing_lead,
            provider=sales,
            consumer=marketing,
            objectives=[row],
        )
    assert "A lead's clock stops at its first touch." in str(refused.value)
    row["measure"]["event"] = "first_response"
    with pytest.raises(ValidationError) as elsewhere:
        signed(
            user=service_lead,
            other_signer=sales_lead,
            provider=service,
            consumer=sales,
            objectives=[row],
        )
    assert "HubSpot (Marketing) is Marketing's feed" in str(elsewhere.value)
    assert "or leads Sales hands over" in str(elsewhere.value)


def test_the_evidence_csv_keeps_a_records_id_as_text(
    client, service_lead, sales_lead, service, sales, around_the_clock, status_page
):
    sent_while_open(
        source=status_page,
        rows=[
            {
                "external_id": "=HYPERLINK(1)",
                "impact": "major",
                "component": "+Portal",
                "started_at": at(3, 10),
                "ended_at": at(3, 11),
                "updated_at": at(3, 11),
            }
        ],
        user=service_lead,
    )
    agreement = signed(
        user=service_lead,
        other_signer=sales_lead,
        provider=service,
        consumer=sales,
        objectives=[uptime_row(source=status_page, calendar=around_the_clock)],
    )
    objective = agreement.objectives.get()
    url = reverse("reports:evidence_csv", args=[agreement.pk, objective.pk])
    lines = page(client, sales_lead, f"{url}?month=2026-06").content.decode()
    assert "'=HYPERLINK(1),major,'+Portal," in lines
