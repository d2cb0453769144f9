"""The agreements API: the same rules and services as the pages, through
/api/v1/. Who may call what is the permission matrix (api/tests); this file
covers what each endpoint does, and refuses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import periods
from agreements.models import (
    Agreement,
    ClosedCustomer,
    LeadLogEntry,
    Measurement,
    Objective,
    PainPoint,
    Signature,
)
from agreements.services import (
    agreement_propose,
    agreement_sign,
    agreement_update,
    closed_customer_create,
    friction_report_change_status,
    friction_report_create,
    lead_log_entry_create,
    measurement_create,
    pain_point_create,
    pain_point_merge,
)
from agreements.tests.builders import (
    active,
    draft,
    friction_counts,
    objective_row,
    proposed,
)
from agreements.tests.factories import MembershipFactory, TeamFactory
from api.models import IdempotencyKey
from api.testing import api_routes, matches_schema
from reports.models import Breach
from reports.services import scorecards_finalise
from reports.tests.conftest import JANUARY, leads_agreement

pytestmark = pytest.mark.django_db

LIST = reverse("api:v1:agreement-list")


def detail(agreement: Agreement, action: str | None = None) -> str:
    name = "detail" if action is None else action
    return reverse(f"api:v1:agreement-{name}", args=[agreement.pk])


def new_agreement(provider, consumer, **fields: Any) -> dict[str, Any]:
    return {
        "provider": provider.pk,
        "consumer": consumer.pk,
        "title": "Qualified leads for Sales",
        "effective_from": "2026-01-01",
        "compensation_clause": "Make up the shortfall next month.",
        "objectives": [
            {
                "name": "Qualified leads",
                "metric_source": "qualified_leads",
                "target": "200",
            }
        ],
        **fields,
    }


def post(client, url: str, body: Any = None, **kwargs: Any):
    return client.post(url, body, format="json", **kwargs)


def error(response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    assert body["error"]["message"]
    return body["error"]


def database_state() -> tuple[int, ...]:
    """Row counts a write would change, history included."""
    return (
        Agreement.objects.count(),
        Objective.objects.count(),
        Signature.objects.count(),
        Agreement.history.count(),
        Objective.history.count(),
        Signature.history.count(),
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
        Measurement.objects.count(),
        Measurement.history.count(),
        Breach.history.count(),
        *friction_counts(),
        IdempotencyKey.objects.count(),
    )


@pytest.fixture
def as_marketing(api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    return api_client


# --- Lists ----------------------------------------------------------------


@pytest.fixture
def two_chains(marketing, sales, service, marketing_lead, sales_lead):
    """Marketing → Sales and Sales → Customer Service."""
    return (
        draft(user=marketing_lead, provider=marketing, consumer=sales, title="Leads"),
        draft(user=sales_lead, provider=sales, consumer=service, title="Customers"),
    )


@pytest.mark.parametrize(
    ("persona", "titles"),
    [
        ("marketing_lead", ["Leads"]),
        ("sales_manager", ["Customers", "Leads"]),
        ("service_head", ["Customers"]),
        ("executive", ["Customers", "Leads"]),
        ("outsider", []),
    ],
)
def test_the_list_holds_only_what_the_person_may_see(
    persona, titles, two_chains, api_client, request
):
    api_client.force_login(request.getfixturevalue(persona))
    response = api_client.get(LIST, {"ordering": "title"})
    assert response.status_code == 200
    assert [a["title"] for a in response.json()["results"]] == titles
    assert response.json()["count"] == len(titles)


def test_an_agreement_the_person_may_not_see_is_a_404(two_chains, api_client, outsider):
    api_client.force_login(outsider)
    response = api_client.get(detail(two_chains[0]))
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_the_list_filters_by_team_status_and_title(
    two_chains, sales_manager, api_client, marketing, service
):
    _leads, customers = two_chains
    agreement_propose(agreement=customers, user=customers.created_by)
    api_client.force_login(sales_manager)

    def titles(**params: Any) -> list[str]:
        response = api_client.get(LIST, params)
        assert response.status_code == 200, response.content
        return [a["title"] for a in response.json()["results"]]

    assert titles(team=marketing.pk) == ["Leads"]
    assert titles(team=service.pk) == ["Customers"]
    assert titles(status="proposed") == ["Customers"]
    assert titles(provider=marketing.pk) == ["Leads"]
    assert titles(consumer=marketing.pk) == []
    assert titles(title="CUST") == ["Customers"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "lost"}, "status"), ({"team": "sales"}, "team")],
)
def test_a_filter_that_is_not_valid_is_a_400(params, field, as_marketing):
    response = as_marketing.get(LIST, params)
    assert response.status_code == 400
    assert field in error(response)["fields"]


def test_pages_are_stable_when_rows_sort_equal(
    marketing_lead, marketing, sales, as_marketing
):
    # Seven agreements with one title: only the primary key tells them apart.
    ids = {
        draft(user=marketing_lead, provider=marketing, consumer=sales, title="Same").pk
        for _ in range(7)
    }
    seen: list[int] = []
    for page in (1, 2, 3):
        response = as_marketing.get(
            LIST, {"ordering": "title", "page_size": 3, "page": page}
        )
        assert response.status_code == 200
        seen += [a["id"] for a in response.json()["results"]]
    assert sorted(seen) == sorted(ids)
    assert seen == sorted(seen)  # title ties broken by id, ascending


def test_ordering_descending_and_an_unknown_field_is_a_400(
    marketing_lead, marketing, sales, as_marketing
):
    for title in ("B", "A", "C"):
        draft(user=marketing_lead, provider=marketing, consumer=sales, title=title)
    response = as_marketing.get(LIST, {"ordering": "-title"})
    assert [a["title"] for a in response.json()["results"]] == ["C", "B", "A"]
    # Not a field one may sort by, and never a way to probe other columns.
    response = as_marketing.get(LIST, {"ordering": "created_by__password"})
    assert response.status_code == 400
    assert "ordering" in error(response)["fields"]
    assert "created_by__password" in error(response)["fields"]["ordering"][0]


def test_page_size_beyond_the_cap_is_a_400(as_marketing):
    response = as_marketing.get(LIST, {"page_size": 100000})
    assert response.status_code == 400
    assert "page_size" in error(response)["fields"]
    assert as_marketing.get(LIST, {"page_size": 100}).status_code == 200


def test_a_page_past_the_end_is_a_404(as_marketing):
    response = as_marketing.get(LIST, {"page": 9})
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


# --- Reading one ----------------------------------------------------------


def test_detail_has_objectives_signatures_and_what_the_person_may_do(
    marketing_lead, sales_lead, marketing, sales, api_client
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    agreement_sign(agreement=agreement, user=marketing_lead, team=marketing)
    api_client.force_login(sales_lead)
    body = api_client.get(detail(agreement)).json()
    assert body["status"] == "proposed"
    assert body["provider"]["name"] == "Marketing"
    assert [o["name"] for o in body["objectives"]] == ["Qualified leads"]
    assert body["objectives"][0]["target"] == "200.00"
    assert [s["team"]["id"] for s in body["signatures"]] == [marketing.pk]
    assert body["signatures"][0]["signed_by"]["username"] == "marketing-lead"
    assert body["actions"] == {
        "change": False,
        "propose": False,
        "sign": True,
        "request_changes": True,
        "revise": False,
        "retire": False,
        "sign_for": [sales.pk],
    }


# --- Drafting and editing -------------------------------------------------


def test_create_drafts_through_the_service(
    as_marketing, marketing_lead, marketing, sales
):
    response = post(as_marketing, LIST, new_agreement(marketing, sales))
    assert response.status_code == 201, response.content
    agreement = Agreement.objects.get(pk=response.json()["id"])
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.created_by == marketing_lead
    assert [o.name for o in agreement.objectives.all()] == ["Qualified leads"]
    record = agreement.history.earliest("history_date")
    assert record.history_user == marketing_lead
    assert record.history_change_reason == "drafted"
    assert response.json()["actions"]["propose"] is True


def test_create_for_teams_the_person_does_not_lead_is_403(
    api_client, sales_lead, marketing, service
):
    api_client.force_login(sales_lead)
    before = database_state()
    response = post(api_client, LIST, new_agreement(marketing, service))
    assert response.status_code == 403
    assert "provider or the consumer" in error(response)["message"]
    assert database_state() == before


@pytest.fixture
def a_draft(marketing_lead, marketing, sales):
    return draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        objectives=[objective_row("Leads"), objective_row("Replies")],
    )


def test_edit_changes_terms_and_keeps_objectives_left_out(a_draft, as_marketing):
    response = as_marketing.patch(
        detail(a_draft), {"title": "Renamed", "edit_count": 0}, format="json"
    )
    assert response.status_code == 200, response.content
    a_draft.refresh_from_db()
    assert a_draft.title == "Renamed"
    assert a_draft.edit_count == 1
    assert [o.name for o in a_draft.objectives.all()] == ["Leads", "Replies"]
    assert response.json()["edit_count"] == 1


def test_edit_replaces_the_objectives_like_the_editor(a_draft, as_marketing):
    leads = a_draft.objectives.get(name="Leads")
    rows = [
        {
            "id": leads.pk,
            "name": "Leads",
            "metric_source": "leads_delivered",
            "target": "250",
        },
        {
            "name": "Uptime",
            "metric_source": "manual",
            "unit": "percent",
            "target": "99.5",
        },
    ]
    response = as_marketing.patch(
        detail(a_draft), {"objectives": rows, "edit_count": 0}, format="json"
    )
    assert response.status_code == 200, response.content
    objectives = list(a_draft.objectives.all())
    assert [o.name for o in objectives] == ["Leads", "Uptime"]
    assert objectives[0].pk == leads.pk
    assert objectives[0].target == Decimal("250")
    assert not Objective.objects.filter(name="Replies").exists()


def test_edit_based_on_an_outdated_read_is_409_and_saves_nothing(a_draft, as_marketing):
    agreement_update(
        agreement=a_draft,
        user=a_draft.created_by,
        expected_edit_count=0,
        objectives=[objective_row("Leads")],
        title="Saved by someone else",
    )
    before = database_state()
    response = as_marketing.patch(
        detail(a_draft), {"title": "Mine", "edit_count": 0}, format="json"
    )
    assert response.status_code == 409
    assert error(response)["code"] == "stale"
    assert database_state() == before
    a_draft.refresh_from_db()
    assert a_draft.title == "Saved by someone else"


def test_edit_of_a_proposal_is_409(marketing_lead, marketing, sales, as_marketing):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    response = as_marketing.patch(
        detail(agreement), {"title": "X", "edit_count": 0}, format="json"
    )
    assert response.status_code == 409
    assert error(response)["code"] == "invalid_state"
    assert "only a draft can be edited" in error(response)["message"]


# --- Lifecycle ------------------------------------------------------------


def test_propose_without_objectives_is_409_with_the_services_message(
    marketing_lead, marketing, sales, as_marketing
):
    agreement = draft(
        user=marketing_lead, provider=marketing, consumer=sales, objectives=[]
    )
    response = post(as_marketing, detail(agreement, "propose"))
    assert response.status_code == 409
    assert error(response)["message"] == "Add at least one objective before proposing."
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_propose_then_both_signatures_make_it_active(
    a_draft, as_marketing, api_client, sales_manager, marketing, sales
):
    assert post(as_marketing, detail(a_draft, "propose")).json()["status"] == "proposed"
    response = post(as_marketing, detail(a_draft, "sign"), {"team": marketing.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "proposed"
    api_client.force_login(sales_manager)
    response = post(api_client, detail(a_draft, "sign"), {"team": sales.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert Signature.objects.filter(agreement=a_draft).count() == 2


def test_signing_for_a_team_one_does_not_lead_is_422(
    marketing_lead, marketing, sales, as_marketing
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    response = post(as_marketing, detail(agreement, "sign"), {"team": sales.pk})
    assert response.status_code == 422
    assert "you do not lead Sales" in error(response)["message"]
    assert not Signature.objects.exists()


def test_signing_twice_is_409(marketing_lead, marketing, sales, as_marketing):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    post(as_marketing, detail(agreement, "sign"), {"team": marketing.pk})
    response = post(as_marketing, detail(agreement, "sign"), {"team": marketing.pk})
    assert response.status_code == 409
    assert "Marketing has already signed" in error(response)["message"]
    assert Signature.objects.count() == 1


def test_request_changes_sends_it_back_and_clears_signatures(
    marketing_lead, marketing, sales, as_marketing, api_client, sales_lead
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    post(as_marketing, detail(agreement, "sign"), {"team": marketing.pk})
    api_client.force_login(sales_lead)
    response = post(
        api_client, detail(agreement, "request-changes"), {"note": "Target too low"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    assert response.json()["signatures"] == []
    assert agreement.history.latest("history_date").history_change_reason == (
        "changes requested: Target too low"
    )


def test_revise_answers_the_new_version_and_a_second_revise_is_409(
    marketing_lead, sales_lead, marketing, sales, as_marketing
):
    agreement = active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )
    response = post(as_marketing, detail(agreement, "revise"))
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["supersedes"] == agreement.pk
    assert response.json()["status"] == "draft"
    again = post(as_marketing, detail(agreement, "revise"))
    assert again.status_code == 409
    assert "already being prepared" in error(again)["message"]
    assert Agreement.objects.filter(lineage=agreement.lineage).count() == 2


def test_retire_ends_an_active_agreement(
    marketing_lead, sales_lead, marketing, sales, as_marketing
):
    agreement = active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )
    response = post(as_marketing, detail(agreement, "retire"), {"note": "Replaced"})
    assert response.status_code == 200
    assert response.json()["status"] == "retired"
    again = post(as_marketing, detail(agreement, "retire"))
    assert again.status_code == 409
    assert error(again)["message"] == "Only an active agreement can be retired."


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
# Who moves reports to Sales along, and curates pain points: a head.
ACTS_AS = {
    "api:v1:friction-report-status": "sales_head",
    "api:v1:friction-report-comments": "sales_head",
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
        ("proposed", {"note": "x" * 81}, "note"),
        ("proposed", {"note": ["a list"]}, "note"),
    ],
    ("api:v1:agreement-revise", "POST"): [
        ("active", {"__key__": "x" * 256}, "Idempotency-Key"),
    ],
    ("api:v1:agreement-retire", "POST"): [
        ("active", {"note": "x" * 81}, "note"),
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
    ("api:v1:friction-report-comments", "POST"): [
        ("friction_report", {}, "body"),
        ("friction_report", {"body": ""}, "Write a comment."),
        ("friction_report", {"body": "   "}, "Write a comment."),
        ("friction_report", {"body": {"text": "Hello"}}, "body"),
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
        "lead_log": lambda: lead_log_entry_create(
            team=marketing, user=marketing_lead, date=today, leads_delivered=10
        ),
        "closed_customer": lambda: closed_customer_create(
            team=marketing, user=marketing_lead, customer="Acme", closed_on=today
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


# --- Query counts ---------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_agreement_list_queries_do_not_grow_with_rows(
    marketing_lead,
    sales_lead,
    marketing,
    sales,
    as_marketing,
    django_assert_num_queries,
):
    def add_one() -> None:
        agreement = proposed(
            user=marketing_lead,
            provider=marketing,
            consumer=sales,
            objectives=[objective_row("A"), objective_row("B")],
        )
        agreement_sign(agreement=agreement, user=marketing_lead, team=marketing)

    add_one()
    _queries(as_marketing, LIST)  # the first request also starts the throttle count
    one = _queries(as_marketing, LIST)
    for _ in range(6):
        add_one()
    with django_assert_num_queries(one):
        response = as_marketing.get(LIST)
    assert response.json()["count"] == 7


def test_team_list_and_me_queries_do_not_grow_with_rows(
    marketing_lead, as_marketing, django_assert_num_queries
):
    _queries(as_marketing, reverse("api:v1:team-list"))
    teams = _queries(as_marketing, reverse("api:v1:team-list"))
    me = _queries(as_marketing, reverse("api:v1:me"))
    for _ in range(5):
        MembershipFactory(user=marketing_lead, team=TeamFactory())
    with django_assert_num_queries(teams):
        assert as_marketing.get(reverse("api:v1:team-list")).json()["count"] == 6
    with django_assert_num_queries(me):
        assert len(as_marketing.get(reverse("api:v1:me")).json()["memberships"]) == 6
