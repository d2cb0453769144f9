"""Fixtures shared by every app: personas, the chain of agreements the design
describes, and the test tiers' services.

Tiers: the default tier needs nothing. ``services`` needs PostgreSQL, Redis
and starts a real Celery worker; ``browser`` needs /usr/bin/chromium. Locally
a tier whose service is missing is skipped with the reason; with CI=true it
fails instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from agreements.models import Agreement, Membership, Objective, Team
from agreements.tests.factories import (
    AgreementFactory,
    MembershipFactory,
    ObjectiveFactory,
    TeamFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct-horse-battery"


def tier_unavailable(reason: str) -> None:
    """Skip locally, fail in CI: CI must run every tier it selects."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


# Lines a test module adds for the end of the run (e.g. what a fuzzing run
# covered), printed in the terminal summary.
SUMMARY_LINES = pytest.StashKey[list[str]]()
SESSION_NOW = pytest.StashKey[datetime]()


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--now",
        default=os.environ.get("SLA_TEST_NOW", ""),
        metavar="ISO-8601",
        help="Run the whole session as if it were this moment, e.g. "
        "2027-01-01T00:30+00:00 (a ticking clock from there; tests that "
        "freeze time still travel to their own moments). Also SLA_TEST_NOW.",
    )


def pytest_configure(config) -> None:
    text = config.getoption("--now")
    if not text:
        return
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise pytest.UsageError(f"--now {text!r} is not an ISO 8601 moment") from exc
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--now {text!r} needs an offset, e.g. +00:00")
    # Started before Django is set up and never stopped: every clock the
    # process reads (datetime, time, timezone.now) starts at ``moment``.
    time_machine.travel(moment, tick=True).start()
    config.stash[SESSION_NOW] = moment


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items) -> None:
    """Tests on a transactional database last, after every test that runs in
    a rolled-back transaction, as pytest-django orders them: each empties
    the tables when it ends, the working calendars that the migrations write
    included. pytest's grouping of the tests that share the browser's
    parameter runs after pytest-django's order and undoes it, which put the
    browser tests first in a run of every tier in one process."""

    def transactional(item) -> bool:
        marker = item.get_closest_marker("django_db")
        flagged = marker is not None and (
            marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
        )
        names = getattr(item, "fixturenames", ())
        return bool(flagged) or "transactional_db" in names or "live_server" in names

    items.sort(key=transactional)


def pytest_report_header(config) -> list[str]:
    moment = config.stash.get(SESSION_NOW, None)
    if moment is None:
        return []
    return [f"session clock: {moment.isoformat()} (--now), ticking"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    moment = config.stash.get(SESSION_NOW, None)
    if moment is not None:
        terminalreporter.write_line(f"session clock started at {moment.isoformat()}")
    for line in config.stash.get(SUMMARY_LINES, []):
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Personas -------------------------------------------------------------


@pytest.fixture
def marketing(db) -> Team:
    return TeamFactory(name="Marketing", slug="marketing", kind=Team.Kind.MARKETING)


@pytest.fixture
def sales(db) -> Team:
    return TeamFactory(name="Sales", slug="sales", kind=Team.Kind.SALES)


@pytest.fixture
def service(db) -> Team:
    return TeamFactory(
        name="Customer Service",
        slug="customer-service",
        kind=Team.Kind.CUSTOMER_SERVICE,
    )


def log_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    """Log in through the login page, as a person does, from a fresh
    session, and wait for the page it leads to."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def make_member(username: str, team: Team, role: str, **fields):
    """A user with one membership: the persona fixtures are built from it.
    ``fields`` go to the user (e.g. ``first_name``)."""
    user = UserFactory(username=username, **fields)
    MembershipFactory(user=user, team=team, role=role)
    return user


@pytest.fixture
def marketing_lead(marketing):
    return make_member("marketing-lead", marketing, Membership.Role.LEAD)


@pytest.fixture
def marketing_head(marketing):
    # A fixed first name (as the email tests had it): emails greet people by it.
    return make_member(
        "marketing-head", marketing, Membership.Role.HEAD, first_name="Hana"
    )


@pytest.fixture
def marketing_member(marketing):
    return make_member("marketing-member", marketing, Membership.Role.MEMBER)


@pytest.fixture
def sales_lead(sales):
    return make_member("sales-lead", sales, Membership.Role.LEAD)


@pytest.fixture
def sales_head(sales):
    return make_member("sales-head", sales, Membership.Role.HEAD)


@pytest.fixture
def sales_manager(sales):
    return make_member("sales-manager", sales, Membership.Role.MANAGER)


@pytest.fixture
def sales_member(sales):
    return make_member("sales-member", sales, Membership.Role.MEMBER)


@pytest.fixture
def service_lead(service):
    return make_member("service-lead", service, Membership.Role.LEAD)


@pytest.fixture
def service_head(service):
    return make_member("service-head", service, Membership.Role.HEAD)


# --- The chain of agreements the design describes -----------------------


@dataclass
class Chain:
    leads: Agreement  # marketing → sales
    handover: Agreement  # sales → service
    care: Agreement  # service → sales
    leads_delivered: Objective
    qualified_leads: Objective
    customers_closed: Objective
    friction_reports: Objective
    uptime: Objective  # manual, percent
    response_hours: Objective  # manual, hours


@pytest.fixture
def chain(marketing, sales, service) -> Chain:
    """The three signed agreements of the design: marketing delivers leads to
    sales, sales closes and hands over customers (and reports friction) to
    service, service keeps the customers happy."""
    leads = AgreementFactory(
        provider=marketing,
        consumer=sales,
        title="Leads for sales",
        effective_from=dt.date(2025, 1, 1),
    )
    handover = AgreementFactory(
        provider=sales,
        consumer=service,
        title="Customers for service",
        effective_from=dt.date(2025, 1, 1),
    )
    care = AgreementFactory(
        provider=service,
        consumer=sales,
        title="Care for customers",
        effective_from=dt.date(2025, 1, 1),
    )
    S, U = Objective.Source, Objective.Unit
    return Chain(
        leads=leads,
        handover=handover,
        care=care,
        leads_delivered=ObjectiveFactory(
            agreement=leads, name="Leads", metric_source=S.LEADS_DELIVERED
        ),
        qualified_leads=ObjectiveFactory(
            agreement=leads,
            name="Qualified leads",
            metric_source=S.QUALIFIED_LEADS,
            target=Decimal("40"),
        ),
        customers_closed=ObjectiveFactory(
            agreement=handover,
            name="Customers",
            metric_source=S.CUSTOMERS_CLOSED,
            target=Decimal("10"),
        ),
        friction_reports=ObjectiveFactory(
            agreement=handover,
            name="Friction reports",
            metric_source=S.FRICTION_REPORTS,
            target=Decimal("1"),
        ),
        uptime=ObjectiveFactory(
            agreement=care,
            name="Uptime",
            metric_source=S.MANUAL,
            unit=U.PERCENT,
            target=Decimal("99"),
        ),
        response_hours=ObjectiveFactory(
            agreement=care,
            name="Response time",
            metric_source=S.MANUAL,
            unit=U.HOURS,
            comparator=Objective.Comparator.AT_MOST,
            target=Decimal("3"),
        ),
    )


@pytest.fixture
def executive(db):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="executive")
    user.user_permissions.add(
        Permission.objects.get(
            codename="view_everything", content_type__app_label="agreements"
        )
    )
    return user


@pytest.fixture
def outsider(db):
    """Logged in, but in no team and with no special permission."""
    return UserFactory(username="outsider")


# --- Services tier --------------------------------------------------------


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        tier_unavailable("REDIS_URL is not set: the services tier needs Redis")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        tier_unavailable(f"Redis at {url} does not answer: {exc}")
    return url


def _shared_database_url() -> str:
    """A URL a worker process can use to reach the test database."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor != "postgresql":
        tier_unavailable(
            "the services tier needs PostgreSQL (set DATABASE_URL): a worker "
            "process cannot share an in-memory SQLite test database"
        )
    auth = s["USER"] or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return (
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


class WorkerProcess:
    """A real ``celery worker`` in its own process, consuming a private queue."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        log: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "True",
            # Follow-up tasks the worker queues come back to this worker.
            "SLA_TASK_QUEUE": self.queue,
            **(extra_env or {}),
        }
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, concurrency: int = 2) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        logfile = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "slaportal",
                "worker",
                "-Q",
                self.queue,
                "-c",
                str(concurrency),
                "--pool",
                "prefork",
                "-n",
                f"{self.queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        from slaportal.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log}")
            replies = app.control.ping(
                destination=[f"{self.queue}@{os.uname().nodename}"], timeout=1
            )
            if replies:
                return
        raise RuntimeError(f"worker did not answer within {timeout}s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown, no acks."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker_factory(transactional_db, request):
    """Start real Celery workers on real Redis, sharing the test database:
    ``start(extra_env={...}, concurrency=2)``. Stopped after the test."""
    database_url, redis_url = _shared_database_url(), _redis_url()
    workers: list[WorkerProcess] = []

    def start(
        extra_env: dict[str, str] | None = None, concurrency: int = 2
    ) -> WorkerProcess:
        worker = WorkerProcess(
            database_url=database_url,
            redis_url=redis_url,
            log=ARTIFACTS / "worker" / f"{request.node.name}-{len(workers)}.log",
            extra_env=extra_env,
        )
        workers.append(worker)
        worker.start(concurrency=concurrency)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker_process(celery_worker_factory):
    """Start a real Celery worker on real Redis, sharing the test database."""
    return celery_worker_factory()


# --- Browser tier ---------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        tier_unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    # Playwright's sync API runs an event loop in the test thread; the ORM
    # calls of live_server fixtures would otherwise refuse to run.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # A page round trip on a busy two-core machine can take longer than the
    # 5 s Playwright waits for an expectation by default.
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/screenshots/."""

    def take(name: str) -> Path:
        path = ARTIFACTS / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- API ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test gets its own cache key prefix: API throttle counters and
    cached values cannot leak between tests, nor between runs on Redis."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture
def memory_cache(settings):
    """A cache outside the database, as production's Redis is: the demo's
    cache is a table, whose reads would count among a page's queries."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def api_client():
    """An API client; ``api_client.force_login(user)`` signs in by session."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_token():
    """``api_token(user)``: a fresh personal API token for ``user``."""
    from api.services import api_token_create

    def make(user, name: str = "test script") -> str:
        return api_token_create(user=user, name=name)[1]

    return make
