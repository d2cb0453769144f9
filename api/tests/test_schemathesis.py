"""Schemathesis against the OpenAPI schema: every operation under /api/v1/,
valid and invalid requests, through the WSGI application, as a team lead
with a bearer token. No request may crash the server, and every answer must
be one the schema documents, in the documented shape.

The schema is built at import (no fixture loads it: see the pitfalls of
schemathesis with pytest fixtures); ``fuzz`` below sets up the world. At the
end of the module a line says how many operations and examples ran, and how
many of them failed.
"""

from __future__ import annotations

import json
from collections import Counter
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
from agreements.models import Agreement, FrictionReport, Membership
from agreements.services import (
    closed_customer_create,
    friction_report_create,
    lead_log_entry_create,
    measurement_create,
)
from agreements.tests.builders import active, draft, objective_row, proposed
from agreements.tests.factories import PainPointFactory
from api.services import api_token_create
from conftest import SUMMARY_LINES, make_member
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

# Actions only a head may take: sent with a head's token, so that they are
# tried through to the service and not only refused.
HEAD_ACTIONS = ("/status/", "/comments/", "/merge/")

# What ran, for the summary line (failing examples include Hypothesis's
# replays of a failure while it shrinks it).
OPERATIONS: set[str] = set()
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    line = (
        f"schemathesis: {len(OPERATIONS)} operations, {TALLY['examples']} "
        f"examples, {TALLY['server_errors']} server errors, "
        f"{TALLY['failures']} failing examples"
    )
    request.config.stash.setdefault(SUMMARY_LINES, []).append(line)


@pytest.fixture
def fuzz(settings, marketing, sales, service, marketing_lead, sales_lead):
    """A token for the lead of Marketing (and one for a head of Sales, for the
    actions of heads), and agreements, figures, friction reports and pain
    points in each state for the generated ids to land on."""
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
    # Friction between Marketing and Sales, both ways; the head of Sales
    # handles the reports addressed to Sales and curates the pain points.
    sales_head = make_member("schemathesis-head", sales, Membership.Role.HEAD)
    pain_points = [
        PainPointFactory(title="Late invoices"),
        PainPointFactory(title="Exports time out"),
    ]
    pain_points.append(
        PainPointFactory(title="Invoices late", merged_into=pain_points[0])
    )
    reports = [
        friction_report_create(
            reporting_team=team,
            addressed_team=to,
            user=user,
            customer="Acme",
            category="billing",
            description="Invoices arrive late.",
        )
        for team, to, user in (
            (marketing, sales, marketing_lead),
            (marketing, sales, marketing_lead),
            (sales, marketing, sales_lead),
        )
    ]
    FrictionReport.objects.filter(pk=reports[0].pk).update(pain_point=pain_points[0])
    _, token = api_token_create(user=marketing_lead, name="schemathesis")
    _, head_token = api_token_create(user=sales_head, name="schemathesis")
    yield {
        "token": token,
        "head_token": head_token,
        "ids": [a.pk for a in agreements],
        "teams": [marketing.pk, sales.pk, service.pk],
        # Ids of other resources, by the start of their path.
        "pools": {
            "/api/v1/teams/": [marketing.pk, sales.pk, service.pk],
            "/api/v1/lead-log-entries/": [e.pk for e in entries],
            "/api/v1/closed-customers/": [c.pk for c in customers],
            "/api/v1/breaches/": [b.pk for b in breaches],
            "/api/v1/measurements/": [measurement.pk],
            "/api/v1/friction-reports/": [r.pk for r in reports],
            "/api/v1/pain-points/": [p.pk for p in pain_points],
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
        for name in (
            "provider",
            "consumer",
            "team",
            "reporting_team",
            "addressed_team",
        ):
            if name in case.body:
                case.body[name] = aimed(case.body[name], world["teams"])
        if "target" in case.body:
            case.body["target"] = aimed(
                case.body["target"], world["pools"]["/api/v1/pain-points/"]
            )
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
    token = fuzz["head_token" if case.path.endswith(HEAD_ACTIONS) else "token"]
    OPERATIONS.add(case.operation.label)
    TALLY["examples"] += 1
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    TALLY["server_errors"] += response.status_code >= 500
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException:
        TALLY["failures"] += 1
        raise
