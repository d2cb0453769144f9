"""Schemathesis against the OpenAPI schema: every operation under /api/v1/,
valid and invalid requests, through the WSGI application, as a team lead
with a bearer token. No request may crash the server, and every answer must
be one the schema documents, in the documented shape.

The schema is built at import (no fixture loads it: see the pitfalls of
schemathesis with pytest fixtures); ``fuzz`` below sets up the world.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agreements import periods
from agreements.models import Agreement
from agreements.services import (
    closed_customer_create,
    lead_log_entry_create,
    measurement_create,
)
from agreements.tests.builders import active, draft, objective_row, proposed
from api.services import api_token_create
from reports.models import Breach
from reports.services import scorecards_finalise
from reports.tests.conftest import JANUARY, leads_agreement

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 100


def _document() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.openapi.from_dict(_document()).include(path_regex=r"^/api/v1/")
schema.app = WSGIHandler()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz(settings, marketing, sales, service, marketing_lead, sales_lead):
    """A token for the lead of Marketing, and agreements in each state for the
    generated ids to land on."""
    # Schemathesis sends Host: localhost.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"},
    }
    # Requests go through the real WSGI handler, whose request signals would
    # close the connection holding the test's transaction: as Django's own
    # test client does, keep it open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    parties = {"provider": marketing, "consumer": sales}
    agreements = [
        draft(user=marketing_lead, **parties),
        proposed(user=marketing_lead, **parties),
        active(user=marketing_lead, other_signer=sales_lead, **parties),
        draft(user=sales_lead, provider=sales, consumer=service),  # not visible
    ]
    today = periods.today()
    entries = [
        lead_log_entry_create(
            team=marketing, user=marketing_lead, date=today, leads_delivered=5
        ),
        lead_log_entry_create(
            team=sales, user=sales_lead, date=today, leads_delivered=5
        ),
    ]
    uptime = active(
        user=marketing_lead,
        other_signer=sales_lead,
        title="Uptime",
        objectives=[
            objective_row("Uptime", metric_source="manual", unit="percent", target=99)
        ],
        **parties,
    ).objectives.get()
    measurement = measurement_create(
        objective=uptime, user=marketing_lead, month=today.replace(day=1), value="99"
    )
    breach_agreement = leads_agreement(marketing, sales, title="Breached")
    scorecards_finalise(month=JANUARY)
    breaches = list(Breach.objects.filter(agreement=breach_agreement))
    customers = [
        closed_customer_create(team=team, user=user, customer="Acme", closed_on=today)
        for team, user in ((marketing, marketing_lead), (sales, sales_lead))
    ]
    _, token = api_token_create(user=marketing_lead, name="schemathesis")
    yield {
        "token": token,
        "ids": [a.pk for a in agreements],
        "teams": [marketing.pk, sales.pk, service.pk],
        # Ids of other resources, by the start of their path.
        "pools": {
            "/api/v1/teams/": [marketing.pk, sales.pk, service.pk],
            "/api/v1/lead-log-entries/": [e.pk for e in entries],
            "/api/v1/closed-customers/": [c.pk for c in customers],
            "/api/v1/breaches/": [b.pk for b in breaches],
            "/api/v1/measurements/": [measurement.pk],
        },
    }
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _aim(case, world: dict[str, Any]) -> None:
    """Random ids would almost never find a row: point three in four of the
    generated ids (in the path, and the teams in a body) at agreements and
    teams that exist, so that the writes succeed too, not only refuse."""

    def aimed(value: Any, pool: list[int]) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value % 4:
            # value % 4 chose whether to aim; value // 4 chooses the row.
            return pool[(value // 4) % len(pool)]
        return value

    params = case.path_parameters or {}
    if str(params.get("id", "")).isdigit():  # path parameters arrive as text
        pool = next(
            (
                ids
                for start, ids in world["pools"].items()
                if case.path.startswith(start)
            ),
            world["ids"],
        )
        params["id"] = str(aimed(int(params["id"]), pool))
    query = case.query or {}
    if "agreement" in query:
        query["agreement"] = aimed(query["agreement"], world["ids"])
    if isinstance(case.body, dict):
        for name in ("provider", "consumer", "team"):
            if name in case.body:
                case.body[name] = aimed(case.body[name], world["teams"])
        count = case.body.get("edit_count")
        if isinstance(count, int) and not isinstance(count, bool) and count % 2:
            # An edit based on the draft as it is now, not a stale one.
            case.body["edit_count"] = Agreement.objects.get(
                pk=world["ids"][0]
            ).edit_count


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_api_keeps_its_schema_and_never_fails(case, fuzz):
    _aim(case, fuzz)
    response = case.call(headers={"Authorization": f"Bearer {fuzz['token']}"})
    case.validate_response(response, checks=CHECKS)
