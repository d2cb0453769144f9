"""Reading agreements through /api/v1/: the list (what each person sees,
filters, ordering, pages), one agreement, and query counts that do not grow
with rows. Who may call what is the permission matrix (api/tests)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.services import agreement_propose, agreement_sign
from agreements.tests.agreement_api import LIST, detail, error
from agreements.tests.builders import draft, objective_row, proposed
from agreements.tests.factories import MembershipFactory, TeamFactory
from slaportal import freshness

pytestmark = pytest.mark.django_db


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


def test_the_list_offers_each_row_what_its_detail_offers(
    marketing_lead, sales_lead, sales_manager, marketing, sales, service, api_client
):
    # One of each: a draft, a proposal half signed, an active agreement, and
    # one the sales manager may see but not sign (Sales already signed).
    draft(user=marketing_lead, provider=marketing, consumer=sales, title="Draft")
    half = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    agreement_sign(agreement=half, user=marketing_lead, team=marketing)
    signed = proposed(user=sales_lead, provider=sales, consumer=service, title="Sold")
    agreement_sign(agreement=signed, user=sales_lead, team=sales)
    api_client.force_login(sales_manager)
    rows = api_client.get(LIST).json()["results"]
    assert len(rows) == 3
    for row in rows:
        url = reverse("api:v1:agreement-detail", args=[row["id"]])
        assert row == api_client.get(url).json()
    offered = {row["title"]: row["actions"] for row in rows}
    assert offered["Leads for sales"]["sign_for"] == [sales.pk]
    assert offered["Sold"]["sign"] is False
    assert offered["Draft"]["change"] is True


# --- Query counts ---------------------------------------------------------


def _queries(client, url: str) -> int:
    freshness.bump()  # built, as after any write, not served as kept
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
    memory_cache,
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


# The token; the throttle's count in the database cache (read, then written
# back: a count of the cache's rows and a transaction of four); the executive
# permission (the person's own and their groups'); the teams the person leads;
# the page's count, the page, its objectives and its signatures.
LIST_QUERIES = 1 + (1 + 1 + 4) + 2 + 1 + 4


@pytest.mark.parametrize("persona", ["executive", "sales_manager"])
def test_agreement_list_queries_depend_on_neither_page_size_nor_organisation(
    persona,
    marketing_lead,
    sales_lead,
    marketing,
    sales,
    service,
    api_client,
    api_token,
    request,
    django_assert_max_num_queries,
    memory_cache,
):
    def add(provider, consumer, user, *, sign: bool) -> None:
        agreement = proposed(
            user=user,
            provider=provider,
            consumer=consumer,
            objectives=[objective_row("A"), objective_row("B")],
        )
        if sign:
            agreement_sign(agreement=agreement, user=user, team=provider)

    add(marketing, sales, marketing_lead, sign=True)
    add(sales, service, sales_lead, sign=False)
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {api_token(request.getfixturevalue(persona))}"
    }

    def queries(**params: Any) -> int:
        freshness.bump()  # built, as after any write, not served as kept
        with CaptureQueriesContext(connection) as captured:
            response = api_client.get(LIST, params, **headers)
        assert response.status_code == 200
        return len(captured)

    queries()  # the first request also marks the token used
    small = queries(page_size=1)
    for _ in range(4):
        add(marketing, sales, marketing_lead, sign=True)
        add(sales, service, sales_lead, sign=False)
    # The rest of the organisation: teams, people and agreements nobody here
    # is in.
    for _ in range(5):
        provider, consumer = TeamFactory(), TeamFactory()
        MembershipFactory(team=provider, role="lead")
        add(provider, consumer, provider.memberships.get().user, sign=True)

    assert queries(page_size=1) == small
    assert queries(page_size=25) == small
    with django_assert_max_num_queries(LIST_QUERIES):
        response = api_client.get(LIST, {"page_size": 25}, **headers)
    assert response.json()["count"] == (15 if persona == "executive" else 10)
