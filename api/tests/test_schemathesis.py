"""Schemathesis against the OpenAPI schema: every operation under /api/v1/,
valid and invalid requests, through the WSGI application, as a team lead
with a bearer token, with **all** of schemathesis's checks: no request may
crash the server; every answer is one the schema documents, in the
documented shape; a request the schema calls valid is not refused as
malformed (400), one it calls invalid is refused; authentication is
enforced; and, in the stateful phase, chains of calls (create, then read,
change and delete what was created) hold together.

The one setting: a request valid by the schema may be answered 422, the
documented answer when the portal's rules refuse it (a team that does not
exist, a month that has locked).

The schema is built at import (no fixture loads it: see the pitfalls of
schemathesis with pytest fixtures); ``fuzz`` below sets up the world. At the
end of the module a line says how many operations and examples ran, and how
many of them failed, by check.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from contextlib import contextmanager
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.apps import apps
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.color import no_style
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.config import SchemathesisConfig

from agreements import periods
from agreements.figures import kinds
from agreements.figures.measurements import measurement_create
from agreements.figures.services import figure_create
from agreements.friction.services import friction_report_create
from agreements.models import Agreement, FrictionReport, Membership
from agreements.records.models import RecordSource
from agreements.tests.builders import active, draft, objective_row, proposed
from agreements.tests.factories import PainPointFactory
from api.services import api_token_create
from conftest import SUMMARY_LINES, make_member
from reports.models import Breach
from reports.services import scorecards_finalise
from reports.tests.builders import JANUARY, leads_agreement

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# Hypothesis's examples per operation, and stateful scenarios (CI runs the
# suite at several frozen moments with fewer: SLA_FUZZ_EXAMPLES).
EXAMPLES_PER_OPERATION = int(os.environ.get("SLA_FUZZ_EXAMPLES", "100"))
STATEFUL_SCENARIOS = EXAMPLES_PER_OPERATION


def _document() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG).include(
    path_regex=r"^/api/v1/"
)
schema.app = WSGIHandler()

# The tokens of the world ``fuzz`` builds, for the auth provider below.
TOKENS: dict[str, str] = {}

# Actions only a head may take: sent with a head's token, so that they are
# tried through to the service and not only refused.
HEAD_ACTIONS = ("/status/", "/comments/", "/assign/", "/due-date/", "/merge/")

# What ran, for the summary line (failing examples include Hypothesis's
# replays of a failure while it shrinks it).
OPERATIONS: set[str] = set()
TALLY: Counter[str] = Counter()
FAILED_CHECKS: Counter[str] = Counter()


def _authorise(case) -> None:
    """The lead's token, or the head's for the actions of heads."""
    role = "head" if case.path.endswith(HEAD_ACTIONS) else "lead"
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Bearer {TOKENS[role]}",
        # The WSGI client does not decompress: check the schema on plain
        # bodies (compression has its own test).
        "Accept-Encoding": "identity",
    }


@schema.auth(refresh_interval=None)
class TokenAuth:
    """The schema's auth, so that schemathesis also tries each operation
    without it and with a wrong one (``ignored_auth``). Some cases are made
    before ``fuzz`` has made the tokens: the token is put in when the case
    is sent (``_authorise``)."""

    def get(self, case, context) -> str:
        return "pending"

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@contextmanager
def _tallied():
    """Count a failing example, and each check that failed in it."""
    try:
        yield
    except BaseException as exc:
        TALLY["failures"] += 1
        for failure in getattr(exc, "exceptions", [exc]):
            FAILED_CHECKS[type(failure).__name__] += 1
        raise


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    by_check = ", ".join(f"{n} {name}" for name, n in FAILED_CHECKS.items())
    line = (
        f"schemathesis (all checks): {len(OPERATIONS)} operations, "
        f"{TALLY['examples']} examples, {TALLY['steps']} stateful steps, "
        f"{TALLY['server_errors']} server errors, {TALLY['failures']} failing "
        f"examples{f' ({by_check})' if by_check else ''}"
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
        figure_create(
            kinds.LEADS,
            team=marketing,
            user=marketing_lead,
            date=today,
            leads_delivered=5,
        ),
        figure_create(
            kinds.LEADS, team=sales, user=sales_lead, date=today, leads_delivered=5
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
        figure_create(
            kinds.CUSTOMERS, team=team, user=user, customer="Acme", closed_on=today
        )
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
    # Marketing's feed, which its lead sends to, and one of Customer Service.
    sources = [
        RecordSource.objects.create(team=team, name=f"Feed of {kind}", kind=kind)
        for team, kind in (
            (marketing, RecordSource.Kind.REQUESTS),
            (marketing, RecordSource.Kind.INCIDENTS),
            (service, RecordSource.Kind.REQUESTS),
        )
    ]
    _, token = api_token_create(user=marketing_lead, name="schemathesis")
    _, head_token = api_token_create(user=sales_head, name="schemathesis")
    TOKENS.update(lead=token, head=head_token)
    yield {
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
            "/api/v1/record-sources/": [source.pk for source in sources],
        },
    }
    TOKENS.clear()
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
        if (
            isinstance(count, int)
            and not isinstance(count, bool)
            and count > 0
            and count % 2
        ):
            # An edit based on the draft as it is now, not a stale one (a
            # negative count is left as sent: invalid data must be refused).
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
    _authorise(case)
    OPERATIONS.add(case.operation.label)
    TALLY["examples"] += 1
    response = case.call()
    TALLY["server_errors"] += response.status_code >= 500
    with _tallied():
        case.validate_response(response)


def _restart_ids() -> None:
    """The next id of every table: one more than its highest (PostgreSQL;
    SQLite's counters roll back with the rows)."""
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Workflow(schema.as_state_machine()):
    """The stateful phase: sequences of calls joined by the links
    schemathesis infers from the schema (an id a POST answers with, fed to
    the operations on ``{id}``).

    Each scenario starts from the same database: what one scenario wrote is
    rolled back to a savepoint when it ends. Hypothesis replays the choices of
    earlier scenarios and expects the same answers to them; rows left by the
    scenario before made it take other paths ("inconsistent data
    generation"). PostgreSQL's id sequences ignore the rollback, so each
    scenario first sets them back to the rows' highest ids: otherwise an id a
    scenario draws names a row in one run and none in the next."""

    def setup(self) -> None:
        _restart_ids()
        self._savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    def before_call(self, case) -> None:
        _aim(case, WORLD)
        _authorise(case)

    def after_call(self, response, case) -> None:
        super().after_call(response, case)
        TALLY["steps"] += 1
        TALLY["server_errors"] += response.status_code >= 500

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        with _tallied():
            super().validate_response(response, case, additional_checks, **kwargs)


WORLD: dict[str, Any] = {}


def test_chains_of_calls_hold_together(fuzz):
    WORLD.update(fuzz)
    try:
        Workflow.run(
            settings=hypothesis.settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=8,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(hypothesis.HealthCheck),
            )
        )
    finally:
        WORLD.clear()
