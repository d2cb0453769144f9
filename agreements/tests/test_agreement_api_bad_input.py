"""Bad input on every writable endpoint of /api/v1/ (agreements, figures,
friction reports, pain points, breaches): a clear 400 or 422, and nothing
written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from agreements import periods
from agreements.figures import kinds
from agreements.figures.measurements import measurement_create
from agreements.figures.services import figure_create
from agreements.friction.knowledge import pain_point_create, pain_point_merge
from agreements.friction.services import (
    friction_report_change_status,
    friction_report_create,
)
from agreements.models import Agreement, Objective, PainPoint
from agreements.records.models import RecordSource
from agreements.tests.agreement_api import database_state, error, new_agreement
from agreements.tests.builders import active, draft, objective_row, proposed
from api.testing import api_routes, matches_schema
from reports.models import Breach
from reports.services import scorecards_finalise
from reports.tests.builders import JANUARY, leads_agreement

pytestmark = pytest.mark.django_db

# --- Bad input on every writable endpoint -----------------------------------
# (subject, body, expected field or message fragment). The body is JSON text
# when a str, so that malformed JSON can be sent too. Requests are made by the
# lead of Marketing, or by the persona ACTS_AS names for the route.

LEADS = {"team": "marketing", "date": "TODAY", "leads_delivered": 10}
CUSTOMER = {"team": "marketing", "customer": "Acme", "closed_on": "TODAY"}
MEASURE = {"objective": "OBJECTIVE", "month": "THIS_MONTH", "value": "99"}
MANY = [{"name": f"O{i}", "metric_source": "manual", "target": "1"} for i in range(31)]
# Marketing reports to Sales, its signed partner.
FRICTION = {
    "reporting_team": "marketing",
    "addressed_team": "sales",
    "customer": "Acme",
    "category": "billing",
    "description": "Invoices arrive late.",
}
# Requests sent to a Marketing source by its lead: one without its start,
# and one of a month locked long ago.
NO_START = {"external_id": "R-1", "updated_at": "2026-03-02T09:30:00+01:00"}
LOCKED_REQUEST = {
    "external_id": "R-2",
    "started_at": "2020-01-10T09:30:00+01:00",
    "updated_at": "2020-01-10T09:30:00+01:00",
}
# Who moves reports to Sales along, and curates pain points: a head.
ACTS_AS = {
    "api:v1:friction-report-status": "sales_head",
    "api:v1:friction-report-comments": "sales_head",
    "api:v1:friction-report-assign": "sales_head",
    "api:v1:friction-report-due-date": "sales_head",
    "api:v1:pain-point-merge": "sales_head",
}
BAD_INPUT: dict[tuple[str, str], list[tuple[str | None, Any, str]]] = {
    ("api:v1:agreement-list", "POST"): [
        (None, {}, "title"),
        (None, "{not json", "JSON parse error"),
        (None, "[]", "Expected a dictionary"),
        (None, {"title": "x" * 151}, "title"),
        (None, {"provider": 999999}, "provider"),
        (None, {"objectives": "many"}, "objectives"),
        (None, {"objectives": MANY}, "objectives"),
        (
            None,
            {"objectives": [{"name": "A", "metric_source": "x"}]},
            "objectives.0.metric_source",
        ),
        (
            None,
            {"objectives": [{"name": "A", "metric_source": "manual", "target": "-5"}]},
            "target must be above zero",
        ),
        (
            None,
            {
                "objectives": [
                    {"name": "A", "metric_source": "manual", "target": "5"},
                    {"name": "a", "metric_source": "manual", "target": "5"},
                ]
            },
            "cannot have the same name",
        ),
        (
            None,
            {
                "objectives": [
                    {"name": "Up", "metric_source": "availability", "target": "99"}
                ]
            },
            "Say how it is measured",
        ),
        (None, {"effective_to": "2025-12-31"}, "effective_to"),
        (None, {"remedy": "credit"}, "remedy_credit"),
        (None, {"title": "bad\x00byte"}, "title"),
    ],
    ("api:v1:agreement-detail", "PATCH"): [
        ("draft", {}, "edit_count"),
        ("draft", {"edit_count": -1}, "edit_count"),
        ("draft", {"edit_count": 0, "title": ""}, "title"),
        ("draft", {"edit_count": 0, "consumer": "marketing"}, "consumer"),
        (
            "draft",
            {
                "edit_count": 0,
                "objectives": [
                    {
                        "id": 999999,
                        "name": "A",
                        "metric_source": "manual",
                        "target": "1",
                    }
                ],
            },
            "does not belong to this agreement",
        ),
        ("draft", "{", "JSON parse error"),
    ],
    ("api:v1:agreement-propose", "POST"): [
        ("draft", {"__key__": "has spaces in it"}, "Idempotency-Key"),
    ],
    ("api:v1:agreement-sign", "POST"): [
        ("proposed", {}, "team"),
        ("proposed", {"team": "not-an-id"}, "team"),
        ("proposed", {"team": 999999}, "team"),
        ("proposed", {"team": "service"}, "is not a party"),
    ],
    ("api:v1:agreement-request-changes", "POST"): [
        ("proposed", {"note": "x" * 2001}, "note"),
        ("proposed", {"note": ["a list"]}, "note"),
    ],
    ("api:v1:agreement-revise", "POST"): [
        ("active", {"__key__": "x" * 256}, "Idempotency-Key"),
    ],
    ("api:v1:agreement-retire", "POST"): [
        ("active", {"note": "x" * 2001}, "note"),
    ],
    # "TODAY" stands for today's date, an open month's.
    ("api:v1:lead-log-entry-list", "POST"): [
        (None, {}, "team"),
        (None, "[]", "Expected a dictionary"),
        (None, {**LEADS, "leads_delivered": -1}, "leads_delivered"),
        (None, {**LEADS, "qualified_leads": 11}, "qualified_leads"),
        (None, {**LEADS, "date": "2999-01-01"}, "date"),
        (None, {**LEADS, "date": "yesterday"}, "date"),
        (None, {**LEADS, "team": 999999}, "team"),
        (None, {**LEADS, "client_token": "not-a-uuid"}, "client_token"),
        (None, {**LEADS, "source": "bad\x00byte"}, "source"),
    ],
    ("api:v1:lead-log-entry-bulk", "POST"): [
        (None, {**LEADS}, "JSON list"),
        (None, [], "1 to 500"),
        (None, [LEADS, {**LEADS, "leads_delivered": "many"}], "1.leads_delivered"),
        (
            None,
            [LEADS, LEADS, LEADS, {**LEADS, "qualified_leads": 11}],
            "3.qualified_leads",
        ),
        (None, [LEADS, {**LEADS, "date": "2999-01-01"}], "1.date"),
    ],
    ("api:v1:lead-log-entry-detail", "PATCH"): [
        ("lead_log", {"leads_delivered": -5}, "leads_delivered"),
        ("lead_log", {"qualified_leads": 11}, "qualified_leads"),
        ("lead_log", {"date": "2999-01-01"}, "date"),
        ("lead_log", "{", "JSON parse error"),
    ],
    ("api:v1:lead-log-entry-detail", "DELETE"): [
        ("lead_log", {"reason": "typo"}, "takes no body"),
    ],
    ("api:v1:closed-customer-list", "POST"): [
        (None, {}, "customer"),
        (None, {**CUSTOMER, "customer": "   "}, "customer"),
        (None, {**CUSTOMER, "deal_value": "-1"}, "deal_value"),
        (None, {**CUSTOMER, "closed_on": "2999-01-01"}, "closed_on"),
        (None, {**CUSTOMER, "customer": "x" * 201}, "customer"),
    ],
    ("api:v1:closed-customer-bulk", "POST"): [
        (None, "{}", "JSON list"),
        (None, [CUSTOMER, {**CUSTOMER, "deal_value": "-3"}], "1.deal_value"),
    ],
    ("api:v1:closed-customer-detail", "PATCH"): [
        ("closed_customer", {"deal_value": "lots"}, "deal_value"),
        ("closed_customer", {"closed_on": "2999-01-01"}, "closed_on"),
    ],
    ("api:v1:closed-customer-detail", "DELETE"): [
        ("closed_customer", {"reason": "typo"}, "takes no body"),
    ],
    # "OBJECTIVE" stands for the subject's id, "THIS_MONTH" for the month.
    ("api:v1:measurement-list", "POST"): [
        ("manual_objective", {}, "objective"),
        ("manual_objective", {**MEASURE, "month": "2026-3"}, "month"),
        ("manual_objective", {**MEASURE, "month": "2026-13"}, "month"),
        ("manual_objective", {**MEASURE, "month": "2999-01"}, "month"),
        ("manual_objective", {**MEASURE, "month": "9999-12"}, "2000-01 to 2100-12"),
        ("manual_objective", {**MEASURE, "value": "101"}, "value"),
        ("manual_objective", {**MEASURE, "value": "many"}, "value"),
        ("manual_objective", {**MEASURE, "objective": 999999}, "objective"),
    ],
    ("api:v1:measurement-detail", "PATCH"): [
        ("measurement", {"value": "abc"}, "value"),
        ("measurement", {"value": "150"}, "value"),
    ],
    ("api:v1:measurement-detail", "DELETE"): [
        ("measurement", {"reason": "typo"}, "takes no body"),
    ],
    ("api:v1:breach-acknowledge", "POST"): [
        ("breach", {"note": "x" * 2001}, "note"),
        ("breach", {"note": ["a list"]}, "note"),
        ("breach", {"__key__": ""}, "Idempotency-Key"),
    ],
    ("api:v1:breach-resolve", "POST"): [
        ("breach", {}, "note"),
        ("breach", {"note": "   "}, "note"),
        ("breach", {"note": "x" * 2001}, "note"),
    ],
    ("api:v1:closed-customer-acknowledge", "POST"): [
        ("closed_customer", {"__key__": "has spaces in it"}, "Idempotency-Key"),
    ],
    ("api:v1:friction-report-list", "POST"): [
        ("friction_partners", {}, "reporting_team"),
        ("friction_partners", "[]", "Expected a dictionary"),
        ("friction_partners", {**FRICTION, "category": "weather"}, "category"),
        ("friction_partners", {**FRICTION, "severity": "apocalyptic"}, "severity"),
        ("friction_partners", {**FRICTION, "description": "   "}, "description"),
        ("friction_partners", {**FRICTION, "customer": "x" * 201}, "customer"),
        ("friction_partners", {**FRICTION, "customer": "bad\x00byte"}, "customer"),
        ("friction_partners", {**FRICTION, "month": "2026-13"}, "month"),
        ("friction_partners", {**FRICTION, "month": "2999-01"}, "2000-01 to 2100-12"),
        ("friction_partners", {**FRICTION, "month": "2099-01"}, "has not begun"),
        ("friction_partners", {**FRICTION, "month": "9999-12"}, "2000-01 to 2100-12"),
        ("friction_partners", {**FRICTION, "month": "2020-01"}, "is locked"),
        ("friction_partners", {**FRICTION, "addressed_team": 999999}, "addressed_team"),
        (
            "friction_partners",
            {**FRICTION, "addressed_team": "service"},
            "has no signed agreement with Customer Service",
        ),
        ("friction_partners", {**FRICTION, "addressed_team": "marketing"}, "Marketing"),
        ("friction_partners", {**FRICTION, "tags": "billing"}, "tags"),
        ("friction_partners", {**FRICTION, "tags": ["x" * 41]}, "tags.0"),
        ("friction_partners", {**FRICTION, "client_token": "nope"}, "client_token"),
        ("friction_partners", {**FRICTION, "__key__": "has spaces"}, "Idempotency-Key"),
    ],
    ("api:v1:friction-report-detail", "PATCH"): [
        ("friction_report", {"category": "weather"}, "category"),
        ("friction_report", {"severity": ""}, "severity"),
        ("friction_report", {"customer": "   "}, "customer"),
        ("friction_report", {"tags": [["nested"]]}, "tags.0"),
        ("friction_report", "{", "JSON parse error"),
    ],
    ("api:v1:friction-report-detail", "DELETE"): [
        ("friction_report", {"reason": "typo"}, "takes no body"),
    ],
    ("api:v1:friction-report-status", "POST"): [
        ("friction_report", {}, "status"),
        ("friction_report", {"status": "closed"}, "status"),
        ("friction_report", {"status": ["acknowledged"]}, "status"),
        ("friction_report", {"status": "resolved"}, "can move to “acknowledged”"),
        ("acknowledged_report", {"status": "new"}, "status"),
        ("acknowledged_report", {"status": "wont_fix"}, "note"),
        ("acknowledged_report", {"status": "wont_fix", "note": "  "}, "note"),
        ("friction_report", {"__key__": "x" * 256}, "Idempotency-Key"),
    ],
    ("api:v1:friction-report-assign", "POST"): [
        ("friction_report", {}, "assignee"),
        ("friction_report", {"assignee": 999999}, "assignee"),
        ("friction_report", {"assignee": "Victor"}, "assignee"),
        ("friction_report", "[]", "Expected a dictionary"),
    ],
    ("api:v1:friction-report-due-date", "POST"): [
        ("friction_report", {}, "due_date"),
        ("friction_report", {"due_date": "2026-13-01"}, "due_date"),
        ("friction_report", {"due_date": "2020-01-01"}, "has passed"),
        ("friction_report", {"due_date": ["2030-01-01"]}, "due_date"),
    ],
    ("api:v1:friction-report-comments", "POST"): [
        ("friction_report", {}, "body"),
        ("friction_report", {"body": ""}, "Write a comment."),
        ("friction_report", {"body": "   "}, "Write a comment."),
        ("friction_report", {"body": {"text": "Hello"}}, "body"),
    ],
    ("api:v1:record-source-records", "POST"): [
        ("record_source", {}, "records"),
        ("record_source", "{not json", "JSON parse error"),
        ("record_source", "[]", "Expected a dictionary"),
        ("record_source", {"records": "many"}, "records"),
        ("record_source", {"records": {"external_id": "R-1"}}, "records"),
        ("record_source", {"records": ["R-1"]}, "records.0"),
        ("record_source", {"records": [{}] * 1001}, "no more than 1000"),
        ("record_source", {"records": [], "reason": ["a list"]}, "reason"),
        ("record_source", {"records": [], "reason": "bad\x00byte"}, "reason"),
        ("record_source", {"records": [NO_START]}, "records.0.started_at"),
        ("record_source", {"records": [{}, {"type": "weather"}]}, "records.1.type"),
        (
            "record_source",
            {"records": [NO_START, {**NO_START, "started_at": "soon"}]},
            "is not a date and time",
        ),
        ("record_source", {"records": [LOCKED_REQUEST]}, "January 2020 is locked"),
        (
            "record_source",
            {"records": [LOCKED_REQUEST], "reason": "Late export"},
            "a head of Marketing can send it",
        ),
        ("record_source", {"records": [], "__key__": "has spaces"}, "Idempotency-Key"),
    ],
    # "SELF" stands for the subject's id, "OTHER" for another current pain
    # point, "MERGED" for one merged into it.
    ("api:v1:pain-point-merge", "POST"): [
        ("pain_point", {}, "target"),
        ("pain_point", {"target": "SELF"}, "Choose another pain point"),
        ("pain_point", {"target": 999999}, "no pain point 999999"),
        ("pain_point", {"target": "MERGED"}, "or it was merged"),
        ("pain_point", {"target": "abc"}, "target"),
        ("pain_point", {"target": "OTHER", "__key__": ""}, "Idempotency-Key"),
    ],
}

WRITES = [r for r in api_routes() if r.method in {"POST", "PUT", "PATCH", "DELETE"}]


def test_every_writable_endpoint_has_bad_input_cases():
    missing = [str(r) for r in WRITES if not BAD_INPUT.get(r.key)]
    assert not missing, f"add bad-input cases for {missing}"


def _breach(provider, consumer) -> Breach:
    agreement = leads_agreement(provider, consumer)
    scorecards_finalise(month=JANUARY)
    return Breach.objects.filter(agreement=agreement).first()


def _uptime(lead, other_signer, parties) -> Objective:
    agreement = active(
        user=lead,
        other_signer=other_signer,
        objectives=[
            objective_row("Uptime", metric_source="manual", unit="percent", target=99)
        ],
        **parties,
    )
    return agreement.objectives.get()


def _friction_report(marketing_lead, sales_head, parties, *, acknowledged=False):
    active(user=marketing_lead, other_signer=sales_head, **parties)
    report = friction_report_create(
        reporting_team=parties["provider"],
        addressed_team=parties["consumer"],
        user=marketing_lead,
        customer="Acme",
        category="billing",
        description="Invoices arrive late.",
    )
    if acknowledged:
        report = friction_report_change_status(
            report=report, user=sales_head, status="acknowledged"
        )
    return report


def _pain_points(head) -> dict[str, PainPoint]:
    found = {
        name: pain_point_create(user=head, title=title, category="billing")
        for name, title in (
            ("SELF", "Late invoices"),
            ("OTHER", "Invoices in the wrong currency"),
            ("MERGED", "Invoices are late"),
        )
    }
    pain_point_merge(source=found["MERGED"], target=found["OTHER"], user=head)
    return found


def _bad_cases():
    for route in WRITES:
        for index, case in enumerate(BAD_INPUT.get(route.key, [])):
            yield pytest.param(route, *case, id=f"{route}-{index}")


@pytest.mark.parametrize(("route", "subject", "body", "expected"), list(_bad_cases()))
def test_bad_input_is_a_clear_400_or_422_and_writes_nothing(
    route,
    subject,
    body,
    expected,
    marketing_lead,
    sales_lead,
    marketing,
    sales,
    service,
    sales_head,
    as_marketing,
    request,
):
    parties = {"provider": marketing, "consumer": sales}
    today = periods.today()
    pain_points: dict[str, PainPoint] = {}
    agreement = {
        None: None,
        "draft": lambda: draft(user=marketing_lead, **parties),
        "proposed": lambda: proposed(user=marketing_lead, **parties),
        "active": lambda: active(
            user=marketing_lead, other_signer=sales_lead, **parties
        ),
        "lead_log": lambda: figure_create(
            kinds.LEADS,
            team=marketing,
            user=marketing_lead,
            date=today,
            leads_delivered=10,
        ),
        "closed_customer": lambda: figure_create(
            kinds.CUSTOMERS,
            team=marketing,
            user=marketing_lead,
            customer="Acme",
            closed_on=today,
        ),
        "breach": lambda: _breach(marketing, sales),
        "manual_objective": lambda: _uptime(marketing_lead, sales_lead, parties),
        "measurement": lambda: measurement_create(
            objective=_uptime(marketing_lead, sales_lead, parties),
            user=marketing_lead,
            month=periods.current_month(),
            value="99",
        ),
        "friction_partners": lambda: active(
            user=marketing_lead, other_signer=sales_head, **parties
        ),
        "friction_report": lambda: _friction_report(
            marketing_lead, sales_head, parties
        ),
        "acknowledged_report": lambda: _friction_report(
            marketing_lead, sales_head, parties, acknowledged=True
        ),
        "pain_point": lambda: (
            pain_points.update(_pain_points(sales_head)) or pain_points["SELF"]
        ),
        "record_source": lambda: RecordSource.objects.create(
            team=marketing, name="CRM", kind=RecordSource.Kind.REQUESTS
        ),
    }[subject]
    agreement = agreement() if agreement else None
    teams = {"marketing": marketing.pk, "sales": sales.pk, "service": service.pk}
    team_fields = ("team", "consumer", "reporting_team", "addressed_team")

    placeholders = {
        "TODAY": today.isoformat(),
        "THIS_MONTH": periods.format_month(today),
        "OBJECTIVE": getattr(agreement, "pk", None),
        **{name: p.pk for name, p in pain_points.items()},
    }

    def fill(row: dict[str, Any]) -> dict[str, Any]:
        return {
            k: placeholders[v]
            if isinstance(v, str) and v in placeholders
            else teams.get(v, v)
            if k in team_fields and isinstance(v, str)
            else v
            for k, v in row.items()
        }

    headers = {}
    if isinstance(body, dict):
        body = dict(body)
        headers = {"Idempotency-Key": body.pop("__key__")} if "__key__" in body else {}
        if route.key == ("api:v1:agreement-list", "POST") and body:
            body = {**new_agreement(marketing, sales), **body}
        body = json.dumps(fill(body))
    elif isinstance(body, list):
        body = json.dumps([fill(row) for row in body])
    url = reverse(
        route.name, kwargs=dict.fromkeys(route.kwargs, getattr(agreement, "pk", None))
    )
    if isinstance(agreement, Agreement):
        agreement.refresh_from_db()
        terms = (agreement.status, agreement.edit_count, agreement.updated_at)
    if route.name in ACTS_AS:
        as_marketing.force_login(request.getfixturevalue(ACTS_AS[route.name]))
    before = database_state()

    response = as_marketing.generic(
        route.method, url, body, content_type="application/json", headers=headers
    )

    # 400 when the request breaks the schema, 422 when it keeps it but the
    # portal's rules refuse it (an id that does not exist, a locked month).
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed, expected_status = None, 400
    else:
        expected_status = (
            422 if matches_schema(route.method, url, parsed, headers) else 400
        )
    assert response.status_code == expected_status, response.content
    problem = error(response)
    assert problem["code"] in {"invalid", "parse_error"}
    fields = problem.get("fields", {})
    said = [problem["message"], *(m for messages in fields.values() for m in messages)]
    assert expected in fields or any(expected in text for text in said), problem
    assert database_state() == before
    if isinstance(agreement, Agreement):
        agreement.refresh_from_db()
        assert (agreement.status, agreement.edit_count, agreement.updated_at) == terms
