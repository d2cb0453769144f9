"""Faults on the production stack: gunicorn (two workers) with production
settings on its own PostgreSQL and Redis, started here so that they can be
stopped and restarted without touching the machine's shared services.

- Redis stopped: every page and form still answers, what is saved stays
  saved, and an email queued while the broker was away is sent once it is
  back, by the reconcile task.
- PostgreSQL restarted: requests meanwhile fail cleanly with 503 and
  Retry-After, then succeed again without a restart of gunicorn.
"""

from __future__ import annotations

import http.cookies
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from time_machine import escape_hatch

from conftest import tier_unavailable

from .test_settings import ROOT, clean_env

pytestmark = pytest.mark.services

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)

SEED = """
import json, django
django.setup()
from datetime import date
from agreements.models import Membership, Team
from agreements.tests.factories import AgreementFactory, ObjectiveFactory, UserFactory
from api.services import api_token_create

marketing = Team.objects.create(name="Marketing", slug="marketing", kind="marketing")
sales = Team.objects.create(name="Sales", slug="sales", kind="sales")
agreement = AgreementFactory(provider=marketing, consumer=sales, title="Leads",
                             effective_from=date(2026, 1, 1))
ObjectiveFactory(agreement=agreement, name="Leads", target=100)
lead = UserFactory(username="lead", email="lead@example.com",
                   password="a-strong-test-passphrase")
Membership.objects.create(user=lead, team=marketing, role="lead")
head = UserFactory(username="head", email="head@example.com")
Membership.objects.create(user=head, team=sales, role="head")
token = api_token_create(user=lead, name="t")[1]
print(json.dumps({"team": marketing.pk, "token": token}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, run as the postgres user."""

    def __init__(self) -> None:
        if PG_BIN is None or shutil.which("runuser") is None:
            tier_unavailable("PostgreSQL's server binaries or runuser are missing")
        # Not under pytest's tmp_path: the postgres user must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="slaportal-pg-"))
        self.root.chmod(0o777)
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres(
            PG_BIN / "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    def _as_postgres(self, *command) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, command)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        # -l: the server's output to a file, not to this test's pipes.
        self._as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.root / "postgres.log",
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"
        )

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str, *, template: str = "") -> None:
        sql = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        psql = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run(
            [*psql, "-q", "-c", sql],
            check=True,
            capture_output=True,
        )


class PrivateRedis:
    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            tier_unavailable("redis-server is missing")
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        assert _wait(lambda: _answers(self.port)), "redis did not start"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class Client:
    """HTTP against the stack, keeping cookies by hand (the production
    cookies are Secure; over loopback HTTP a cookie jar would drop them)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, *, data=None, json_body=None, headers=None
    ) -> tuple[int, dict, str]:
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.setdefault("Referer", self.base + path)
        request = urllib.request.Request(
            self.base + path, data=body, headers=headers, method=method
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=30)
            status, raw_headers, text = (
                response.status,
                response.headers,
                response.read(),
            )
        except urllib.error.HTTPError as exc:
            status, raw_headers, text = exc.code, exc.headers, exc.read()
        for value in raw_headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie(value)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return status, dict(raw_headers), text.decode(errors="replace")

    def log_in(self, username: str, password: str) -> int:
        _, _, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
            },
        )
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _manage(env: dict[str, str], *args: str, check: bool = True):
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check and done.returncode:
        raise AssertionError(f"{args[:2]} failed:\n{done.stderr[-3000:]}")
    return done


def _stack_env(database_url: str, redis_port: int) -> dict[str, str]:
    return clean_env(
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        DJANGO_SECURE_SSL_REDIRECT="False",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SESSION_COOKIE_SECURE="False",
        DJANGO_CSRF_COOKIE_SECURE="False",
        EMAIL_URL="consolemail://localhost",
        SLA_EMAIL_LEASE_SECONDS="1",
        SLA_TASK_QUEUE="",
    )


MIGRATED = "migrated"  # the cluster's migrated, empty database: each test's template


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the module, with a migrated database that each test
    copies (CREATE DATABASE ... TEMPLATE): the migrations run once."""
    postgres = PrivatePostgres()
    postgres.start()
    try:
        postgres.create_database(MIGRATED)
        env = _stack_env(postgres.url(MIGRATED), _free_port())
        _manage(env, "manage.py", "migrate", "--noinput", "-v0")
        _manage(env, "manage.py", "collectstatic", "--noinput", "-v0")
        yield postgres
    finally:
        postgres.stop()
        postgres.remove()


@pytest.fixture
def stack(tmp_path, cluster):
    postgres = cluster
    name = f"slaportal_{secrets.token_hex(4)}"
    postgres.create_database(name, template=MIGRATED)
    redis = PrivateRedis()
    redis.start()
    port = _free_port()
    env = _stack_env(postgres.url(name), redis.port)

    def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return _manage(env, *args, check=check)

    seeded = json.loads(manage("-c", SEED).stdout.strip().splitlines()[-1])
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "slaportal.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    assert _wait(lambda: _answers(port), 60), "gunicorn did not start"
    try:
        yield {
            "client": Client(f"http://127.0.0.1:{port}"),
            "postgres": postgres,
            "redis": redis,
            "manage": manage,
            "env": env,
            "tmp": tmp_path,
            **seeded,
        }
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        redis.stop()


def _lead_log(client: Client, token: str, team: int) -> int:
    status, _, _ = client.request(
        "POST",
        "/api/v1/lead-log-entries/",
        json_body={"team": team, "date": _today(), "leads_delivered": 4},
        headers={"Authorization": f"Bearer {token}"},
    )
    return status


def _today() -> str:
    """The stack keeps real time, whatever clock this session runs on."""
    if escape_hatch.is_travelling():
        return escape_hatch.datetime.date.today().isoformat()
    return date.today().isoformat()


def _count(stack, code: str) -> int:
    script = f"import django; django.setup()\n{code}\n"
    return int(stack["manage"]("-c", script).stdout.strip().splitlines()[-1])


def test_with_redis_down_every_page_and_form_answers_and_nothing_is_lost(stack):
    client, token, team = stack["client"], stack["token"], stack["team"]
    assert client.log_in("lead", "a-strong-test-passphrase") == 302
    assert _lead_log(client, token, team) == 201

    stack["redis"].stop()
    # Pages and forms, signed in and not.
    assert client.request("GET", "/")[0] == 200
    assert client.request("GET", "/agreements/")[0] == 200
    assert client.request("GET", "/figures/marketing/leads/")[0] == 200
    assert Client(client.base).request("GET", "/accounts/login/")[0] == 200
    assert Client(client.base).log_in("lead", "a-strong-test-passphrase") == 302
    _, _, form = client.request("GET", "/figures/marketing/leads/new/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    status, _, _ = client.request(
        "POST",
        "/figures/marketing/leads/new/",
        data={
            "date": _today(),
            "leads_delivered": "7",
            "qualified_leads": "2",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert status == 302, "the lead log form did not save with Redis down"
    assert _lead_log(client, token, team) == 201
    # The health check says what is wrong.
    status, _, body = client.request("GET", "/health/")
    assert status == 503 and json.loads(body)["cache"] == "error"
    # Emails planned while the broker is away stay in the ledger, pending.
    closed = stack["manage"](
        "-c",
        "import django; django.setup()\n"
        "from reports.notifications.jobs import months_close_due\n"
        "print(len(months_close_due()))",
    )
    assert "Could not queue delivery" in closed.stderr
    pending = _count(
        stack,
        "from reports.models import Delivery\n"
        "print(Delivery.objects.filter(status='pending').count())",
    )
    assert pending > 0
    assert (
        _count(
            stack,
            "from agreements.models import LeadLogEntry\n"
            "print(LeadLogEntry.objects.count())",
        )
        == 3
    )

    # Redis back: the reconcile pass queues them, a worker sends each once.
    stack["redis"].start()
    worker_log = stack["tmp"] / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "slaportal",
            "worker",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=stack["env"],
        stdout=worker_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(1.5)  # past the 1 s lease: the rows are nobody's now
        reconciled = stack["manage"](
            "-c",
            "import django; django.setup()\n"
            "from reports.notifications.jobs import reconcile\nprint(reconcile())",
        )
        # Every row of the ledger sent: those planned while Redis was down,
        # and whatever the reconcile pass planned itself (a reminder, say).
        unsent = (
            "from reports.models import Delivery\n"
            "print(Delivery.objects.exclude(status='sent').count())"
        )
        assert _wait(lambda: _count(stack, unsent) == 0, 60), (
            reconciled.stderr[-2000:],
            worker_log.read_text()[-3000:],
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert (
        _count(
            stack,
            "from reports.models import Delivery\n"
            "print(Delivery.objects.exclude(status='sent').count())",
        )
        == 0
    )


def test_a_postgresql_restart_is_a_clean_503_then_service_resumes(stack):
    client, token, team = stack["client"], stack["token"], stack["team"]
    me = {"Authorization": f"Bearer {token}"}
    assert client.request("GET", "/api/v1/me/", headers=me)[0] == 200
    assert client.log_in("lead", "a-strong-test-passphrase") == 302
    assert client.request("GET", "/")[0] == 200

    stack["postgres"].stop()
    status, headers, body = client.request("GET", "/api/v1/me/", headers=me)
    assert status == 503 and headers.get("Retry-After") == "30"
    assert json.loads(body)["error"]["code"] == "database_unavailable"
    status, headers, body = client.request("GET", "/")
    assert status == 503 and "cannot reach its database" in body
    assert _lead_log(client, token, team) == 503

    stack["postgres"].start()
    # The same gunicorn workers reconnect by themselves.
    assert _wait(lambda: client.request("GET", "/api/v1/me/", headers=me)[0] == 200)
    assert client.request("GET", "/")[0] == 200
    assert _lead_log(client, token, team) == 201
