"""Leads from a CRM as records: sent in batches keyed by the CRM's id,
counted once for the team that handed them over, in the month they were
handed over, instead of the totals typed by hand for that month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from agreements.records.models import Lead, RecordSource
from agreements.records.rows import RecordsInvalid
from agreements.records.services import records_upsert
from reports.selectors import scorecard_for
from reports.tests.builders import JANUARY, leads_agreement, log_leads

pytestmark = pytest.mark.django_db

# 2 February 2026: January still closing, February running.
FEB_2 = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _february():
    with time_machine.travel(FEB_2, tick=False):
        yield


@pytest.fixture
def hubspot(marketing) -> RecordSource:
    return RecordSource.objects.create(
        team=marketing, name="HubSpot", kind=RecordSource.Kind.LEADS
    )


def lead(external_id: str, day: int = 12, **fields):
    return {
        "external_id": external_id,
        "started_at": f"2026-01-{day:02d}T10:00:00+01:00",
        "updated_at": f"2026-01-{day:02d}T10:00:00+01:00",
        "email": f"{external_id.lower()}@example.com",
        **fields,
    }


def test_leads_are_upserted_by_their_crm_id(hubspot, marketing, marketing_lead):
    rows = [
        lead("101", email="Ann@Example.COM", qualified="yes", stage="MQL"),
        lead("102", raw={"Record ID": "102", "Lifecycle Stage": "Lead"}),
    ]
    first = records_upsert(source=hubspot, rows=rows, user=marketing_lead)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    ann = Lead.objects.get(external_id="101")
    assert (ann.team, ann.email, ann.qualified, ann.month) == (
        marketing,
        "ann@example.com",
        True,
        JANUARY,
    )
    assert Lead.objects.get(external_id="102").raw["Lifecycle Stage"] == "Lead"
    assert ann.history.get().history_user == marketing_lead

    # The same batch again changes nothing; a later update wins.
    again = records_upsert(source=hubspot, rows=rows, user=marketing_lead)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    later = lead("102", status="Connected", updated_at="2026-01-20T09:00:00+01:00")
    report = records_upsert(source=hubspot, rows=[later], user=marketing_lead)
    assert report.updated == 1
    assert Lead.objects.get(external_id="102").status == "Connected"


def test_a_lead_is_in_the_month_it_was_handed_over_in_the_organisations_zone(
    hubspot, marketing_lead, settings
):
    settings.TIME_ZONE = "Europe/Berlin"
    late_evening = lead(
        "103",
        started_at="2026-01-31T23:30:00+00:00",
        updated_at="2026-01-31T23:30:00+00:00",
    )
    records_upsert(source=hubspot, rows=[late_evening], user=None)
    assert Lead.objects.get().month == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"first_touch_at": "2026-01-11T10:00:00+01:00"},
            "Row 1, first_touch_at: the lead is touched",
        ),
        ({"qualified": "maybe"}, "Row 1, qualified: “maybe” is not true or false."),
        ({"raw": ["a", "b"]}, "Row 1, raw: give the row as named values"),
        ({"raw": {"Notes": "a\x00b"}}, "Row 1, raw: the raw row holds a NUL"),
        ({"started_at": ""}, "Row 1, started_at: a lead needs one."),
        ({"team": "nobody"}, "Row 1, team: no team has the slug “nobody”."),
    ],
)
def test_a_bad_lead_is_a_row_problem_and_nothing_is_written(
    hubspot, marketing_lead, fields, problem
):
    with pytest.raises(RecordsInvalid) as refused:
        records_upsert(
            source=hubspot, rows=[lead("200"), lead("201", **fields)], user=None
        )
    assert any(
        m.startswith(problem.replace("Row 1", "Row 2")) for m in refused.value.messages
    )
    assert not Lead.objects.exists()


def test_the_crm_count_replaces_the_typed_totals_for_its_month(
    hubspot, marketing, sales, marketing_lead
):
    delivery = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 6), 120, 50)
    log_leads(marketing, dt.date(2026, 2, 3), 40, 10)
    records_upsert(
        source=hubspot,
        rows=[
            lead("1", qualified=True),
            lead("2", qualified=True),
            lead("3"),
        ],
        user=marketing_lead,
    )

    january = scorecard_for(delivery, JANUARY)
    delivered, qualified = (line.outcome.actual for line in january.lines)
    # The CRM's three leads, not the 120 typed: a month counts one or the other.
    assert (delivered, qualified) == (Decimal(3), Decimal(2))
    # February has no leads from the CRM: the typed totals count.
    february = scorecard_for(delivery, dt.date(2026, 2, 1))
    assert february.lines[0].outcome.actual == Decimal(40)


def test_a_lead_another_team_handed_over_first_is_flagged_not_counted(
    hubspot, marketing, sales, sales_lead, marketing_lead
):
    salesforce = RecordSource.objects.create(
        team=sales, name="Salesforce", kind=RecordSource.Kind.LEADS
    )
    delivery = leads_agreement(marketing, sales)
    records_upsert(source=hubspot, rows=[lead("1"), lead("2")], user=marketing_lead)
    # Sales's own CRM has the person of lead 1 under another id.
    records_upsert(
        source=salesforce,
        rows=[lead("SF-9", email="1@EXAMPLE.com"), lead("SF-10")],
        user=sales_lead,
    )
    flagged = Lead.objects.get(external_id="SF-9")
    assert flagged.duplicate_of == Lead.objects.get(external_id="1")
    assert Lead.objects.get(external_id="SF-10").duplicate_of is None
    assert scorecard_for(delivery, JANUARY).lines[0].outcome.actual == Decimal(2)


def test_leads_come_through_the_api(api_client, hubspot, marketing_lead):
    api_client.force_login(marketing_lead)
    url = reverse("api:v1:record-source-records", args=[hubspot.pk])
    response = api_client.post(
        url, {"records": [lead("301"), lead("302")]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    bad = api_client.post(
        url, {"records": [lead("303", qualified="perhaps")]}, format="json"
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["errors"][0]["field"] == "qualified"
    assert Lead.objects.count() == 2


def test_the_lead_log_says_which_months_the_crm_counts(
    client, hubspot, marketing, marketing_lead
):
    records_upsert(
        source=hubspot, rows=[lead("1", qualified=True), lead("2")], user=None
    )
    client.force_login(marketing_lead)
    page = client.get(
        reverse("figures:leads_list", args=[marketing.slug]), {"month": "2026-01"}
    )
    assert page.status_code == 200
    notice = page.content.decode()
    notice = notice[notice.index('data-testid="crm-months"') :]
    assert "January 2026 (2 leads, 1 qualified)" in notice
    assert "a month counts one or the other" in notice
    february = client.get(
        reverse("figures:leads_list", args=[marketing.slug]), {"month": "2026-02"}
    )
    assert 'data-testid="crm-months"' not in february.content.decode()


def test_a_leads_stage_and_status_read_as_hubspots_labels():
    internal = Lead(stage="marketingqualifiedlead", status="OPEN_DEAL")
    assert (internal.stage_label, internal.status_label) == (
        "Marketing Qualified Lead",
        "Open Deal",
    )
    labelled = Lead(stage="Customer", status="Bad Timing")
    assert (labelled.stage_label, labelled.status_label) == ("Customer", "Bad Timing")
    # Another CRM's values, and none, as they are.
    other = Lead(stage="", status="Closed - Not Converted")
    assert (other.stage_label, other.status_label) == ("", "Closed - Not Converted")
