"""Every API route × every persona, against an explicit table.

The routes come from the URL resolver, not from the table: a new endpoint
under /api/v1/ fails here until its row says who may use it. Each cell acts
on an object in the state its action needs (a draft to propose, a proposal
to sign, …), so that a refusal is about the person, never about the state.
The parties of every agreement here are Marketing (provider) and Sales
(consumer); the head of Customer Service is not a party.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from agreements import periods
from agreements.figures import kinds
from agreements.figures.measurements import measurement_create
from agreements.figures.services import figure_create
from agreements.friction.knowledge import pain_point_create
from agreements.friction.services import friction_report_create
from agreements.models import (
    Agreement,
    ClosedCustomer,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Objective,
    PainPoint,
    Signature,
    Team,
)
from agreements.records.models import RecordSource, ServiceRequest
from agreements.tests.builders import (
    active,
    draft,
    friction_counts,
    objective_row,
    proposed,
)
from api.testing import Route, api_routes
from conftest import PASSWORD
from reports.models import Breach
from reports.services import scorecards_finalise
from reports.tests.builders import JANUARY, leads_agreement

pytestmark = pytest.mark.django_db

PERSONAS = (
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
    "anonymous",
)


def row(ml: int, sl: int, sm: int, sh: int, ex: int, out: int) -> dict[str, int]:
    """Expected status per persona, in the order of PERSONAS; anonymous is
    always 401."""
    return dict(zip(PERSONAS, (ml, sl, sm, sh, ex, out, 401), strict=True))


@dataclass(frozen=True)
class Cell:
    expect: dict[str, int]
    # What the route's ``pk`` names: "team", or an agreement's state.
    subject: str | None = None
    # The request body, given the world and the acting user (or None).
    body: Callable[[dict[str, Any], Any], Any] | None = None
    # The query string, given the subject.
    query: Callable[[Any], dict[str, Any]] | None = None


def _team_led_by(world: dict[str, Any], user) -> Team:
    """The party team the person acts for; Marketing for non-parties."""
    if user is not None and user.memberships.filter(team=world["sales"]).exists():
        return world["sales"]
    return world["marketing"]


EVERYONE = row(200, 200, 200, 200, 200, 200)
PARTIES_SEE = row(200, 200, 200, 404, 200, 404)
PARTIES_ACT = row(200, 200, 200, 404, 403, 404)
PARTIES_CREATE = row(201, 201, 201, 404, 403, 404)
# Figures of Marketing (Sales is its signed partner) and of Sales (Customer
# Service is its signed partner, and takes over the customers Sales closes).
MARKETING_FIGURES_SEE = row(200, 200, 200, 404, 200, 404)
MARKETING_FIGURES_ACT = row(200, 403, 403, 404, 403, 404)
SALES_FIGURES_SEE = row(404, 200, 200, 200, 200, 404)
SALES_FIGURES_ACT = row(404, 200, 200, 403, 403, 404)
# A friction report Sales filed to Customer Service: both teams and executives
# read it; Sales' leads change it while new; Customer Service's head moves it,
# assigns it and sets its due date.
REPORT_SEE = row(404, 200, 200, 200, 200, 404)
REPORT_CHANGE = row(404, 200, 200, 403, 403, 404)
REPORT_HANDLE = row(404, 403, 403, 200, 403, 404)
# The knowledge base: members of any team and executives read it; the head
# of any team curates it. Others are refused, as on its pages.
KNOWLEDGE_SEE = row(200, 200, 200, 200, 200, 403)


# A record source of Sales: its members and executives see it; its lead and
# manager send its records (an executive may read, not send).
SOURCE_SEND = row(404, 200, 200, 404, 403, 404)


def _no_content(expect: dict[str, int]) -> dict[str, int]:
    return {k: 204 if v == 200 else v for k, v in expect.items()}


def _lead_row(world: dict[str, Any], user) -> dict[str, Any]:
    return {
        "team": world["marketing"].pk,
        "date": periods.today().isoformat(),
        "leads_delivered": 10,
        "qualified_leads": 4,
    }


def _customer_row(world: dict[str, Any], user) -> dict[str, Any]:
    return {
        "team": world["sales"].pk,
        "customer": "Acme",
        "closed_on": periods.today().isoformat(),
        "deal_value": "1200.00",
    }


def _records(world: dict[str, Any], user) -> dict[str, Any]:
    """One request of the running month, which is always open."""
    start = periods.month_start(periods.current_month()).isoformat()
    return {
        "records": [{"external_id": "R-1", "started_at": start, "updated_at": start}]
    }


MATRIX: dict[tuple[str, str], Cell] = {
    ("api:v1:me", "GET"): Cell(EVERYONE),
    ("api:v1:team-list", "GET"): Cell(EVERYONE),
    # Every team is readable: the pages offer every team in their forms.
    ("api:v1:team-detail", "GET"): Cell(EVERYONE, subject="team"),
    # Everyone may list; what they see is tested in test_agreement_api_reading.
    ("api:v1:agreement-list", "GET"): Cell(EVERYONE),
    # Leading some team allows drafting; the service then requires leading
    # a party. The head of Customer Service leads a team, but not a party.
    ("api:v1:agreement-list", "POST"): Cell(
        row(201, 201, 201, 403, 403, 403),
        body=lambda world, user: {
            "provider": world["marketing"].pk,
            "consumer": world["sales"].pk,
            "title": "Qualified leads for Sales",
            "effective_from": "2026-01-01",
            "compensation_clause": "Make up the shortfall next month.",
        },
    ),
    ("api:v1:agreement-detail", "GET"): Cell(PARTIES_SEE, subject="draft"),
    ("api:v1:agreement-detail", "PATCH"): Cell(
        PARTIES_ACT,
        subject="draft",
        body=lambda world, user: {"title": "Renamed", "edit_count": 0},
    ),
    ("api:v1:agreement-propose", "POST"): Cell(PARTIES_ACT, subject="draft"),
    ("api:v1:agreement-sign", "POST"): Cell(
        PARTIES_ACT,
        subject="proposed",
        body=lambda world, user: {"team": _team_led_by(world, user).pk},
    ),
    ("api:v1:agreement-request-changes", "POST"): Cell(
        PARTIES_ACT, subject="proposed", body=lambda world, user: {"note": "Too low"}
    ),
    ("api:v1:agreement-revise", "POST"): Cell(PARTIES_CREATE, subject="active"),
    ("api:v1:agreement-retire", "POST"): Cell(
        PARTIES_ACT, subject="active", body=lambda world, user: {"note": "Replaced"}
    ),
    ("api:v1:lead-log-entry-list", "GET"): Cell(EVERYONE),
    ("api:v1:lead-log-entry-list", "POST"): Cell(
        row(201, 403, 403, 403, 403, 403), body=_lead_row
    ),
    ("api:v1:lead-log-entry-bulk", "POST"): Cell(
        row(201, 403, 403, 403, 403, 403),
        body=lambda world, user: [_lead_row(world, user)] * 2,
    ),
    ("api:v1:lead-log-entry-detail", "GET"): Cell(
        MARKETING_FIGURES_SEE, subject="lead_log"
    ),
    ("api:v1:lead-log-entry-detail", "PATCH"): Cell(
        MARKETING_FIGURES_ACT,
        subject="lead_log",
        body=lambda world, user: {"leads_delivered": 11},
    ),
    ("api:v1:lead-log-entry-detail", "DELETE"): Cell(
        _no_content(MARKETING_FIGURES_ACT), subject="lead_log"
    ),
    ("api:v1:closed-customer-list", "GET"): Cell(EVERYONE),
    ("api:v1:closed-customer-list", "POST"): Cell(
        row(403, 201, 201, 403, 403, 403), body=_customer_row
    ),
    ("api:v1:closed-customer-bulk", "POST"): Cell(
        row(403, 201, 201, 403, 403, 403),
        body=lambda world, user: [_customer_row(world, user)],
    ),
    ("api:v1:closed-customer-detail", "GET"): Cell(
        SALES_FIGURES_SEE, subject="closed_customer"
    ),
    ("api:v1:closed-customer-detail", "PATCH"): Cell(
        SALES_FIGURES_ACT,
        subject="closed_customer",
        body=lambda world, user: {"customer": "Acme Ltd"},
    ),
    ("api:v1:closed-customer-detail", "DELETE"): Cell(
        _no_content(SALES_FIGURES_ACT), subject="closed_customer"
    ),
    # The team that takes the customers over acknowledges the handover.
    ("api:v1:closed-customer-acknowledge", "POST"): Cell(
        row(404, 403, 403, 200, 403, 404), subject="closed_customer"
    ),
    ("api:v1:measurement-list", "GET"): Cell(EVERYONE),
    # An objective one may not see is refused like one that does not exist.
    ("api:v1:measurement-list", "POST"): Cell(
        row(201, 403, 403, 422, 403, 422),
        subject="manual_objective",
        body=lambda world, user: {
            "objective": world["subject"].pk,
            "month": periods.format_month(periods.current_month()),
            "value": "99.5",
        },
    ),
    ("api:v1:measurement-detail", "GET"): Cell(PARTIES_SEE, subject="measurement"),
    ("api:v1:measurement-detail", "PATCH"): Cell(
        MARKETING_FIGURES_ACT,
        subject="measurement",
        body=lambda world, user: {"value": "98"},
    ),
    ("api:v1:measurement-detail", "DELETE"): Cell(
        _no_content(MARKETING_FIGURES_ACT), subject="measurement"
    ),
    ("api:v1:friction-report-list", "GET"): Cell(EVERYONE),
    # Filing for Sales, which has a signed agreement with Customer Service.
    ("api:v1:friction-report-list", "POST"): Cell(
        row(403, 201, 201, 403, 403, 403),
        subject="friction_partners",
        body=lambda world, user: {
            "reporting_team": world["sales"].pk,
            "customer": "Acme",
            "category": "billing",
            "description": "Invoices arrive late.",
        },
    ),
    ("api:v1:friction-report-detail", "GET"): Cell(
        REPORT_SEE, subject="friction_report"
    ),
    ("api:v1:friction-report-detail", "PATCH"): Cell(
        REPORT_CHANGE,
        subject="friction_report",
        body=lambda world, user: {"customer": "Acme Ltd"},
    ),
    ("api:v1:friction-report-detail", "DELETE"): Cell(
        _no_content(REPORT_CHANGE), subject="friction_report"
    ),
    ("api:v1:friction-report-status", "POST"): Cell(
        REPORT_HANDLE,
        subject="friction_report",
        body=lambda world, user: {"status": "acknowledged", "note": "On it"},
    ),
    # Both teams talk it through, in any role; executives read along.
    ("api:v1:friction-report-comments", "POST"): Cell(
        row(404, 201, 201, 201, 403, 404),
        subject="friction_report",
        body=lambda world, user: {"body": "Which invoices?"},
    ),
    ("api:v1:friction-report-assign", "POST"): Cell(
        REPORT_HANDLE,
        subject="friction_report",
        body=lambda world, user: {"assignee": world["service_head"].pk},
    ),
    ("api:v1:friction-report-due-date", "POST"): Cell(
        REPORT_HANDLE,
        subject="friction_report",
        body=lambda world, user: {"due_date": periods.today().isoformat()},
    ),
    ("api:v1:pain-point-list", "GET"): Cell(KNOWLEDGE_SEE),
    ("api:v1:pain-point-detail", "GET"): Cell(KNOWLEDGE_SEE, subject="pain_point"),
    ("api:v1:pain-point-merge", "POST"): Cell(
        # A head of every team its reports went to, or an executive.
        row(403, 403, 403, 200, 200, 403),
        subject="pain_point",
        body=lambda world, user: {"target": world["merge_target"].pk},
    ),
    # Everyone may list; what they see is tested in test_records_api.
    ("api:v1:record-source-list", "GET"): Cell(EVERYONE),
    ("api:v1:record-source-records", "POST"): Cell(
        SOURCE_SEND, subject="record_source", body=_records
    ),
    ("api:v1:scorecard", "GET"): Cell(
        PARTIES_SEE,
        subject="active",
        query=lambda agreement: {"agreement": agreement.pk, "month": "2026-01"},
    ),
    ("api:v1:breach-list", "GET"): Cell(EVERYONE),
    ("api:v1:breach-detail", "GET"): Cell(PARTIES_SEE, subject="breach"),
    ("api:v1:breach-acknowledge", "POST"): Cell(
        PARTIES_ACT, subject="breach", body=lambda world, user: {"note": "Seen"}
    ),
    ("api:v1:breach-resolve", "POST"): Cell(
        PARTIES_ACT,
        subject="breach",
        body=lambda world, user: {"note": "Made up in February"},
    ),
}

ROUTES = api_routes()


@pytest.fixture
def world(
    marketing,
    sales,
    service,
    marketing_lead,
    sales_lead,
    sales_manager,
    service_head,
    executive,
    outsider,
) -> dict[str, Any]:
    return {
        "marketing": marketing,
        "sales": sales,
        "service": service,
        "marketing_lead": marketing_lead,
        "sales_lead": sales_lead,
        "service_head": service_head,
    }


def _subject(kind: str | None, world: dict[str, Any]) -> Any:
    parties = {"provider": world["marketing"], "consumer": world["sales"]}
    lead = world["marketing_lead"]
    if kind is None:
        return None
    if kind == "team":
        return world["service"]
    if kind == "draft":
        return draft(user=lead, **parties)
    if kind == "proposed":
        return proposed(user=lead, **parties)
    if kind == "active":
        return active(user=lead, other_signer=world["sales_lead"], **parties)
    if kind == "lead_log":
        active(user=lead, other_signer=world["sales_lead"], **parties)
        return figure_create(
            kinds.LEADS,
            team=world["marketing"],
            user=lead,
            date=periods.today(),
            leads_delivered=10,
        )
    if kind == "closed_customer":
        active(
            user=world["sales_lead"],
            other_signer=world["service_head"],
            provider=world["sales"],
            consumer=world["service"],
            objectives=[objective_row("Customers", metric_source="customers_closed")],
        )
        return figure_create(
            kinds.CUSTOMERS,
            team=world["sales"],
            user=world["sales_lead"],
            customer="Acme",
            closed_on=periods.today(),
        )
    if kind in ("manual_objective", "measurement"):
        agreement = active(
            user=lead,
            other_signer=world["sales_lead"],
            objectives=[
                objective_row(
                    "Uptime", metric_source="manual", unit="percent", target=99
                )
            ],
            **parties,
        )
        objective = agreement.objectives.get()
        if kind == "manual_objective":
            return objective
        return measurement_create(
            objective=objective,
            user=lead,
            month=periods.current_month(),
            value="99",
        )
    if kind in ("friction_partners", "friction_report"):
        agreement = active(
            user=world["sales_lead"],
            other_signer=world["service_head"],
            provider=world["sales"],
            consumer=world["service"],
        )
        if kind == "friction_partners":
            return agreement
        return friction_report_create(
            reporting_team=world["sales"],
            user=world["sales_lead"],
            customer="Acme",
            category="billing",
            description="Invoices arrive late.",
        )
    if kind == "pain_point":
        world["merge_target"] = pain_point_create(
            user=world["service_head"], title="Late invoices", category="billing"
        )
        return pain_point_create(
            user=world["service_head"], title="Invoices are late", category="billing"
        )
    if kind == "record_source":
        return RecordSource.objects.create(
            team=world["sales"], name="CRM", kind=RecordSource.Kind.REQUESTS
        )
    if kind == "breach":
        # No figures at all in January: both objectives missed.
        agreement = leads_agreement(world["marketing"], world["sales"])
        scorecards_finalise(month=JANUARY)
        return Breach.objects.filter(agreement=agreement).first()
    raise AssertionError(f"unknown subject {kind!r}")


def _snapshot(subject: Any) -> tuple:
    state: tuple = (
        Agreement.objects.count(),
        Objective.objects.count(),
        Signature.objects.count(),
        Agreement.history.count(),
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
        Measurement.objects.count(),
        Measurement.history.count(),
        Breach.objects.count(),
        Breach.history.count(),
        ServiceRequest.objects.count(),
        ServiceRequest.history.count(),
        *friction_counts(),
    )
    if isinstance(subject, Breach):
        subject.refresh_from_db()
        state += (subject.status, subject.note)
    if isinstance(subject, Agreement):
        subject.refresh_from_db()
        state += (subject.status, subject.edit_count, subject.title)
    if isinstance(subject, FrictionReport):
        subject.refresh_from_db()
        state += (
            subject.status,
            subject.customer,
            subject.assigned_to_id,
            subject.due_date,
        )
    if isinstance(subject, PainPoint):
        subject.refresh_from_db()
        state += (subject.merged_into_id,)
    return state


def test_the_matrix_has_a_row_for_every_route():
    missing = [str(r) for r in ROUTES if r.key not in MATRIX]
    assert not missing, (
        f"API routes without a row in MATRIX: {missing}. Add who may use them."
    )


def test_the_matrix_has_no_row_for_a_route_that_is_gone():
    known = {r.key for r in ROUTES}
    assert not [key for key in MATRIX if key not in known]


def test_the_routes_are_found():
    # Guards the resolver walk itself: an empty list would pass everything.
    assert len(ROUTES) >= len(MATRIX) >= 12


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_permission(route: Route, persona: str, world, api_client, request, caplog):
    cell = MATRIX.get(route.key)
    if cell is None:
        pytest.fail(f"{route} ({route.pattern}) has no row in MATRIX")
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    subject = _subject(cell.subject, world)
    kwargs = dict.fromkeys(route.kwargs, getattr(subject, "pk", None))
    url = reverse(route.name, kwargs=kwargs)
    if cell.query:
        url += "?" + urlencode(cell.query(subject))
    body = cell.body({**world, "subject": subject}, user) if cell.body else None
    if user is not None:
        api_client.force_login(user)
    before = _snapshot(subject)

    response = api_client.generic(
        route.method,
        url,
        data="" if body is None else json.dumps(body),
        content_type="application/json",
    )

    expected = cell.expect[persona]
    assert response.status_code == expected, (
        f"{persona} {route.method} {url}: {response.status_code}, expected "
        f"{expected}: {response.content[:300]!r}"
    )
    if expected >= 400:
        assert response.json()["error"]["status"] == expected
        assert _snapshot(subject) == before, "a refused request wrote something"
    refusals = [
        r for r in caplog.records if getattr(r, "event", "") == "access_refused"
    ]
    if expected in (401, 403, 404):
        # One structured security line per refusal, saying who and what.
        assert [(r.status, r.path) for r in refusals] == [(expected, url.split("?")[0])]
        assert refusals[0].user_id == getattr(user, "pk", None)
    # No secret in any log line: the session id, a password.
    session = api_client.cookies.get("sessionid")
    secrets = [PASSWORD, *([session.value] if session and session.value else [])]
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert not any(secret in text for secret in secrets), record.getMessage()
