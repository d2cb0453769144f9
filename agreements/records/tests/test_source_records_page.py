"""A source's records page: the records its tool sent, a month at a time,
searched and filtered, each with its history, and the same list as CSV, for
the people who may see the source."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from agreements.models import Membership
from agreements.records.models import RecordSource
from agreements.records.services import records_upsert
from agreements.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# 15 March 2026: March running, February locked since the 3rd.
MARCH_15 = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
# A page: the session, the user and their permissions and teams, the source,
# the count and the page's keys, then the rows and their history once per
# model listed (a lead's source; an incident and a maintenance window); a
# lead's source also reads the leads flagged as duplicates of those shown and
# counts the flagged ones; and the bell's unread count.
QUERIES_LEADS = 15
QUERIES_INCIDENTS = 15


@pytest.fixture(autouse=True)
def _utc_in_march(settings):
    """Months and the times shown in UTC, on a known day."""
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(MARCH_15, tick=False):
        yield


@pytest.fixture
def crm(marketing) -> RecordSource:
    return RecordSource.objects.create(
        team=marketing, name="HubSpot", kind=RecordSource.Kind.LEADS
    )


@pytest.fixture
def salesforce(sales) -> RecordSource:
    return RecordSource.objects.create(
        team=sales, name="Salesforce", kind=RecordSource.Kind.LEADS
    )


def lead(external_id: str, day: str = "2026-03-10", **fields):
    return {
        "external_id": external_id,
        "started_at": f"{day}T10:00:00Z",
        "updated_at": f"{day}T10:00:00Z",
        "email": f"{external_id.lower()}@example.com",
        **fields,
    }


def url(source: RecordSource, **query) -> str:
    base = reverse("records:records", args=[source.pk])
    if not query:
        return base
    return base + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def listed(response) -> list[str]:
    """The external ids of the rows shown, in order."""
    return [row.record.external_id for row in response.context["rows"]]


def csv_rows(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def leads(crm, marketing_lead):
    """March: 1 (qualified), 2, 3; February: 4 (qualified)."""
    records_upsert(
        source=crm,
        rows=[
            lead("1", "2026-03-02", qualified=True, name="Ann Lee", company="Acme"),
            lead("2", "2026-03-05", stage="lead"),
            lead("3", "2026-03-09", email="Bo@Example.com"),
            lead("4", "2026-02-20", qualified=True),
        ],
        user=marketing_lead,
        reason="",
        enforce_lock=False,
    )


# --- Who sees it ----------------------------------------------------------------


def test_an_outsider_and_another_team_get_a_404_and_no_csv(
    client, crm, leads, outsider, sales_member
):
    for user in (outsider, sales_member):
        client.force_login(user)
        assert client.get(url(crm)).status_code == 404
        assert client.get(url(crm, format="csv")).status_code == 404


def test_signing_in_is_needed(client, crm):
    response = client.get(url(crm))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_a_member_and_an_executive_see_the_records(
    client, crm, leads, marketing_member, executive
):
    for user in (marketing_member, executive):
        client.force_login(user)
        response = client.get(url(crm))
        assert response.status_code == 200
        assert listed(response) == ["3", "2", "1"]


def test_the_sources_page_links_to_each_sources_records(client, crm, marketing_lead):
    client.force_login(marketing_lead)
    page = client.get(reverse("records:sources")).content.decode()
    assert f'href="{url(crm)}"' in page


# --- Filters ----------------------------------------------------------------------


def test_the_current_month_is_shown_unless_another_or_all_are_asked_for(
    client, crm, leads, marketing_lead
):
    client.force_login(marketing_lead)
    response = client.get(url(crm))
    assert response.context["month"] == dt.date(2026, 3, 1)
    assert listed(response) == ["3", "2", "1"]
    assert listed(client.get(url(crm, month="2026-02"))) == ["4"]
    assert listed(client.get(url(crm, month="all"))) == ["3", "2", "1", "4"]
    assert "All months" in client.get(url(crm)).content.decode()


def test_qualified_only_and_a_search_by_id_or_email(client, crm, leads, marketing_lead):
    client.force_login(marketing_lead)
    assert listed(client.get(url(crm, month="all", qualified="on"))) == ["1", "4"]
    assert listed(client.get(url(crm, q="2"))) == ["2"]
    # The email is kept in lower case; the search ignores case.
    assert listed(client.get(url(crm, q="BO@example"))) == ["3"]
    empty = client.get(url(crm, q="nobody"))
    assert listed(empty) == []
    assert "No records in March 2026 matching “nobody”" in empty.content.decode()


def test_a_search_too_long_to_read_keeps_the_month(client, crm, leads, marketing_lead):
    client.force_login(marketing_lead)
    response = client.get(url(crm, q="x" * 300))
    assert response.status_code == 200
    assert response.context["month"] == dt.date(2026, 3, 1)


def test_a_request_source_has_no_lead_filters(client, helpdesk, service_lead):
    client.force_login(service_lead)
    page = client.get(url(helpdesk)).content.decode()
    assert "Qualified only" not in page
    assert "Search by id" in page


# --- Flagged duplicates ----------------------------------------------------------


@pytest.fixture
def flagged(crm, salesforce, leads, sales_lead):
    """Sales's CRM has lead 1's person as SF-9: flagged, and lead 1 counted."""
    records_upsert(
        source=salesforce,
        rows=[lead("SF-9", email="1@example.com"), lead("SF-10")],
        user=sales_lead,
    )


@pytest.fixture
def zendesk(service) -> RecordSource:
    return RecordSource.objects.create(
        team=service, name="Zendesk Sell", kind=RecordSource.Kind.LEADS
    )


def cell(response, external_id: str, label: str):
    """The cell of a row (by its id) under a column (by its label)."""
    labels = [column.label for column in response.context["records"].columns]
    (row,) = (
        r for r in response.context["rows"] if r.record.external_id == external_id
    )
    return row.cells[labels.index(label)]


def lines(response, external_id: str) -> list[str]:
    """What a lead's duplicate cell says, a line each."""
    return [part.text for part in cell(response, external_id, "Duplicate").parts]


def test_a_flagged_duplicate_names_the_lead_counted_for_who_may_see_its_source(
    client, salesforce, crm, flagged, executive
):
    client.force_login(executive)
    response = client.get(url(salesforce))
    assert cell(response, "SF-9", "Counted").text == "no"
    assert cell(response, "SF-10", "Counted").text == "yes"
    counted = cell(response, "SF-9", "Duplicate")
    assert counted.text == (
        "Also sent by Marketing as 1 (HubSpot, handed over 2 Mar 2026, 10:00), "
        "counted there"
    )
    assert counted.url == f"{url(crm)}?month=all&q=1"
    assert f'<a href="{url(crm)}?month=all&amp;q=1">Also sent by Marketing' in (
        response.content.decode()
    )
    assert lines(response, "SF-10") == [""]


def test_who_may_not_see_the_other_source_is_told_its_team_alone(
    client, salesforce, crm, flagged, sales_lead, marketing_lead
):
    client.force_login(sales_lead)
    response = client.get(url(salesforce))
    assert lines(response, "SF-9") == ["Also sent by Marketing, counted there"]
    page = response.content.decode()
    # Nothing Sales could not read on Marketing's pages: no id, source, time
    # nor link.
    assert "HubSpot" not in page
    assert "2 Mar 2026" not in page
    assert url(crm) not in page

    client.force_login(marketing_lead)
    response = client.get(url(crm))
    assert cell(response, "1", "Counted").text == "yes"
    assert lines(response, "1") == ["Also sent by Sales, not counted there"]
    assert "SF-9" not in response.content.decode()


def test_the_lead_counted_names_each_lead_flagged_as_its_duplicate(
    client, crm, salesforce, zendesk, flagged, service_lead, marketing_lead, sales
):
    records_upsert(
        source=zendesk,
        rows=[lead("ZD-3", "2026-03-12", email="1@example.com")],
        user=service_lead,
    )
    # In Sales too, the marketing lead sees Sales's source, not Service's.
    MembershipFactory(user=marketing_lead, team=sales, role=Membership.Role.MEMBER)
    client.force_login(marketing_lead)
    response = client.get(url(crm))
    assert lines(response, "1") == [
        "Also sent by Sales as SF-9 (Salesforce, handed over 10 Mar 2026, 10:00), "
        "not counted there",
        "Also sent by Customer Service, not counted there",
    ]
    parts = cell(response, "1", "Duplicate").parts
    assert [part.url for part in parts] == [f"{url(salesforce)}?month=all&q=SF-9", ""]
    assert "not counted there</a><br>Also sent by Customer Service" in (
        response.content.decode()
    )


def test_the_flagged_duplicates_filter_and_their_count(
    client, salesforce, crm, flagged, sales_lead, marketing_lead
):
    client.force_login(sales_lead)
    response = client.get(url(salesforce))
    assert listed(response) == ["SF-10", "SF-9"]
    page = response.content.decode()
    assert "Flagged duplicates only" in page
    assert '<a href="?duplicates=on" class="link-secondary" data-testid="tally">' in (
        page
    )
    assert "1 flagged duplicate</a>" in page
    assert listed(client.get(url(salesforce, duplicates="on"))) == ["SF-9"]
    # The count is of the rows the other filters keep.
    searched = client.get(url(salesforce, q="SF-10")).content.decode()
    assert "0 flagged duplicates</a>" in searched
    assert 'href="?q=SF-10&amp;duplicates=on"' in searched

    # The lead counted is not flagged.
    client.force_login(marketing_lead)
    response = client.get(url(crm, duplicates="on"))
    assert listed(response) == []
    assert "0 flagged duplicates</a>" in response.content.decode()


def test_a_request_source_counts_no_flagged_duplicates(client, helpdesk, service_lead):
    client.force_login(service_lead)
    response = client.get(url(helpdesk))
    assert response.context["tallies"] == []
    assert "flagged duplicate" not in response.content.decode()


# --- Stage and status -------------------------------------------------------------


def test_a_leads_stage_and_status_are_shown_by_their_labels(
    client, crm, marketing_lead
):
    records_upsert(
        source=crm,
        rows=[
            lead("1", stage="salesqualifiedlead", status="IN_PROGRESS"),
            lead("2", stage="Marketing Qualified Lead", status="ATTEMPTED_TO_CONTACT"),
            lead("3", stage="Nurture", status="Working - Contacted"),
        ],
        user=marketing_lead,
    )
    client.force_login(marketing_lead)
    response = client.get(url(crm))
    shown = {
        external_id: (
            cell(response, external_id, "Stage").text,
            cell(response, external_id, "Status").text,
        )
        for external_id in ("1", "2", "3")
    }
    assert shown == {
        "1": ("Sales Qualified Lead", "In Progress"),
        "2": ("Marketing Qualified Lead", "Attempted to Contact"),
        # Not HubSpot's: as sent.
        "3": ("Nurture", "Working - Contacted"),
    }
    rows = csv_rows(client.get(url(crm, format="csv")))
    assert [(r["stage"], r["status"]) for r in rows] == [
        ("Nurture", "Working - Contacted"),
        ("Marketing Qualified Lead", "Attempted to Contact"),
        ("Sales Qualified Lead", "In Progress"),
    ]


# --- What a row shows -------------------------------------------------------------


def test_a_rows_history_says_who_sent_it_when_and_why(
    client, crm, leads, marketing_lead
):
    marketing_lead.first_name, marketing_lead.last_name = "Mia", "Park"
    marketing_lead.save()
    client.force_login(marketing_lead)
    response = client.get(url(crm, q="1"))
    (row,) = response.context["rows"]
    assert [entry.history_user for entry in row.history] == [marketing_lead]
    page = response.content.decode()
    assert "15 Mar 2026, 12:00 · created by Mia Park" in page
    assert "received from HubSpot" in page


def test_requests_show_their_teams_and_pauses(
    client, helpdesk, service, sales, service_lead
):
    records_upsert(
        source=helpdesk,
        rows=[
            {
                "external_id": "T-1",
                "started_at": "2026-03-10T09:00:00Z",
                "first_response_at": "2026-03-10T09:30:00Z",
                "updated_at": "2026-03-10T09:30:00Z",
                "segment": "P1",
                "consumer": "sales",
                "pauses": [
                    {
                        "started_at": "2026-03-10T09:05Z",
                        "ended_at": "2026-03-10T09:10Z",
                    },
                    {
                        "started_at": "2026-03-10T09:15Z",
                        "ended_at": "2026-03-10T09:20Z",
                    },
                ],
            }
        ],
    )
    client.force_login(service_lead)
    response = client.get(url(helpdesk))
    (row,) = response.context["rows"]
    assert [cell.text for cell in row.cells] == [
        "T-1",
        "P1",
        "Customer Service",
        "Sales",
        "",
        "",
        "",
        "2",
    ]
    assert row.cells[5].moment == dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
    # Sent by the webhook: no person.
    assert "created by the source's webhook" in response.content.decode()


def test_incidents_and_maintenance_are_listed_together_in_time_order(
    client, status_page, service_lead
):
    records_upsert(
        source=status_page,
        rows=[
            {
                "external_id": "I-1",
                "impact": "major",
                "component": "API",
                "started_at": "2026-03-10T10:00Z",
                "ended_at": "2026-03-10T11:00Z",
                "updated_at": "2026-03-10T11:00Z",
            },
            {
                "type": "maintenance",
                "external_id": "M-1",
                "started_at": "2026-03-12T22:00Z",
                "ended_at": "2026-03-12T23:00Z",
                "reason": "Database upgrade",
                "updated_at": "2026-03-12T12:00Z",
            },
            {
                "external_id": "I-2",
                "impact": "partial",
                "started_at": "2026-03-01T09:00Z",
                "updated_at": "2026-03-01T09:00Z",
            },
        ],
        user=service_lead,
    )
    client.force_login(service_lead)
    response = client.get(url(status_page))
    assert listed(response) == ["M-1", "I-1", "I-2"]
    kinds = [(row.cells[1].text, row.cells[2].text) for row in response.context["rows"]]
    assert kinds == [
        ("Maintenance window", ""),
        ("Incident", "Major outage"),
        ("Incident", "Partial outage"),
    ]
    assert response.context["rows"][0].cells[6].text == "Database upgrade"
    assert response.context["rows"][2].cells[3].text == "whole service"
    assert [len(row.history) for row in response.context["rows"]] == [1, 1, 1]

    rows = csv_rows(client.get(url(status_page, format="csv")))
    assert [(r["external_id"], r["kind"]) for r in rows] == [
        ("M-1", "Maintenance window"),
        ("I-1", "Incident"),
        ("I-2", "Incident"),
    ]


# --- CSV --------------------------------------------------------------------------


def test_the_csv_holds_every_row_the_filters_keep(
    client, crm, salesforce, flagged, marketing_lead, sales_lead, settings
):
    client.force_login(marketing_lead)
    page = client.get(url(crm, qualified="on"))
    assert 'href="?qualified=on&amp;format=csv"' in page.content.decode()
    response = client.get(url(crm, qualified="on", format="csv"))
    assert response["Content-Disposition"] == (
        'attachment; filename="records-hubspot-2026-03.csv"'
    )
    (row,) = csv_rows(response)
    assert row == {
        "external_id": "1",
        "name": "Ann Lee",
        "email": "1@example.com",
        "company": "Acme",
        "team": "Marketing",
        "started_at": "2026-03-02T10:00:00+00:00",
        "stage": "",
        "status": "",
        "qualified": "yes",
        "first_touch_at": "",
        "counted": "yes",
        "duplicate": "Also sent by Sales, not counted there",
    }
    everything = csv_rows(client.get(url(crm, month="all", format="csv")))
    assert [r["external_id"] for r in everything] == ["3", "2", "1", "4"]

    client.force_login(sales_lead)
    flagged_rows = csv_rows(client.get(url(salesforce, duplicates="on", format="csv")))
    assert [(r["counted"], r["duplicate"]) for r in flagged_rows] == [
        ("no", "Also sent by Marketing, counted there")
    ]


def test_the_csv_names_the_other_lead_for_who_may_see_its_source(
    client, crm, salesforce, zendesk, flagged, service_lead, executive
):
    records_upsert(
        source=zendesk,
        rows=[lead("ZD-3", "2026-03-12", email="1@example.com")],
        user=service_lead,
    )
    client.force_login(executive)
    rows = {r["external_id"]: r for r in csv_rows(client.get(url(crm, format="csv")))}
    # Each lead flagged against lead 1, in one cell.
    assert rows["1"]["duplicate"] == (
        "Also sent by Sales as SF-9 (Salesforce, handed over 10 Mar 2026, 10:00), "
        "not counted there; Also sent by Customer Service as ZD-3 (Zendesk Sell, "
        "handed over 12 Mar 2026, 10:00), not counted there"
    )
    (row,) = csv_rows(client.get(url(salesforce, duplicates="on", format="csv")))
    assert (row["external_id"], row["counted"], row["duplicate"]) == (
        "SF-9",
        "no",
        "Also sent by Marketing as 1 (HubSpot, handed over 2 Mar 2026, 10:00), "
        "counted there",
    )


def test_a_csv_cell_a_spreadsheet_would_run_stays_text(client, crm, marketing_lead):
    records_upsert(
        source=crm, rows=[lead("=1+1", company="@SUM(A1)")], user=marketing_lead
    )
    client.force_login(marketing_lead)
    (row,) = csv_rows(client.get(url(crm, format="csv")))
    assert (row["external_id"], row["company"]) == ("'=1+1", "'@SUM(A1)")


# --- Queries ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 20])
@pytest.mark.parametrize(
    ("persona", "shown", "queries"),
    [
        # Every lead flagged, the other side hidden.
        ("sales_lead", "salesforce", QUERIES_LEADS),
        # Every lead counted, with two flagged against it, details shown; an
        # executive's sources are not narrowed to their teams (one query less).
        ("executive", "crm", QUERIES_LEADS - 1),
    ],
)
def test_a_page_of_leads_runs_the_same_queries_however_many_rows(
    client,
    request,
    crm,
    salesforce,
    zendesk,
    marketing_lead,
    sales_lead,
    service_lead,
    persona,
    shown,
    queries,
    count,
    django_assert_num_queries,
    memory_cache,
):
    # Every Sales and Service lead is the same person as one of Marketing's:
    # all flagged.
    for source, user, prefix in (
        (crm, marketing_lead, "M"),
        (salesforce, sales_lead, "S"),
        (zendesk, service_lead, "Z"),
    ):
        records_upsert(
            source=source,
            rows=[
                lead(f"{prefix}-{n}", email=f"p{n}@example.com") for n in range(count)
            ],
            user=user,
        )
    client.force_login(request.getfixturevalue(persona))
    with django_assert_num_queries(queries):
        response = client.get(url(request.getfixturevalue(shown)))
    assert len(response.context["rows"]) == count
    assert all(row.cells[-1].parts[0].text for row in response.context["rows"])


@pytest.mark.parametrize("count", [2, 20])
def test_a_page_of_incidents_and_maintenance_runs_the_same_queries(
    client, status_page, service_lead, count, django_assert_num_queries, memory_cache
):
    rows = []
    for n in range(count // 2):
        moment = f"2026-03-{n + 1:02d}T10:00Z"
        rows.append(
            {
                "external_id": f"I-{n}",
                "impact": "major",
                "started_at": moment,
                "updated_at": moment,
            }
        )
        rows.append(
            {
                "type": "maintenance",
                "external_id": f"M-{n}",
                "started_at": moment,
                "ended_at": moment,
                "reason": "Upgrade",
                "updated_at": moment,
            }
        )
    records_upsert(source=status_page, rows=rows, user=service_lead)
    client.force_login(service_lead)
    with django_assert_num_queries(QUERIES_INCIDENTS):
        response = client.get(url(status_page))
    assert len(response.context["rows"]) == count
