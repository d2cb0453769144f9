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

import pytest
from django.urls import reverse

from agreements.models import Agreement, Objective, Signature, Team
from agreements.tests.builders import active, draft, proposed
from api.testing import Route, api_routes

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
    body: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None


def _team_led_by(world: dict[str, Any], user) -> Team:
    """The party team the person acts for; Marketing for non-parties."""
    if user is not None and user.memberships.filter(team=world["sales"]).exists():
        return world["sales"]
    return world["marketing"]


EVERYONE = row(200, 200, 200, 200, 200, 200)
PARTIES_SEE = row(200, 200, 200, 404, 200, 404)
PARTIES_ACT = row(200, 200, 200, 404, 403, 404)
PARTIES_CREATE = row(201, 201, 201, 404, 403, 404)

MATRIX: dict[tuple[str, str], Cell] = {
    ("api:v1:me", "GET"): Cell(EVERYONE),
    ("api:v1:team-list", "GET"): Cell(EVERYONE),
    # Every team is readable: the pages offer every team in their forms.
    ("api:v1:team-detail", "GET"): Cell(EVERYONE, subject="team"),
    # Everyone may list; what they see is tested in test_api_agreements.
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
    raise AssertionError(f"unknown subject {kind!r}")


def _snapshot(subject: Any) -> tuple:
    state: tuple = (
        Agreement.objects.count(),
        Objective.objects.count(),
        Signature.objects.count(),
        Agreement.history.count(),
    )
    if isinstance(subject, Agreement):
        subject.refresh_from_db()
        state += (subject.status, subject.edit_count, subject.title)
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
def test_permission(route: Route, persona: str, world, api_client, request):
    cell = MATRIX.get(route.key)
    if cell is None:
        pytest.fail(f"{route} ({route.pattern}) has no row in MATRIX")
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    subject = _subject(cell.subject, world)
    kwargs = dict.fromkeys(route.kwargs, getattr(subject, "pk", None))
    url = reverse(route.name, kwargs=kwargs)
    body = cell.body(world, user) if cell.body else None
    if user is not None:
        api_client.force_login(user)
    before = _snapshot(subject)

    response = api_client.generic(
        route.method,
        url,
        data=None if body is None else json.dumps(body),
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
