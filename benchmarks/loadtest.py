"""A load test of the whole production stack: gunicorn, a Celery worker, beat
and an SMTP sink, each a process of its own, under a mix of people using the
portal while the month end sends its emails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slaportal make loadtest
    make loadtest LOADTEST_ARGS="--scale 0.1 --seconds 20"      # a quick run

Against the generated organisation of ``--scale`` (``benchmarks/org.py``; a
database of its own, ``<name>_load_bench_<teams>_<agreements>``), with
production settings on loopback (``SLA_LOOPBACK_WITHOUT_TLS``), a Redis
database of its own (``--redis-url``, database 12) and the API's per-user
throttle lifted. ``--users`` virtual users, each signed in as a generated person, send
requests back to back for ``--seconds`` (or ``--requests`` in all): team
leads log leads, sales managers file friction reports (each a form fetched
and posted with its CSRF token), executives and heads read the dashboard and
scorecards, API clients list agreements. Half-way through, the month close
is sent to the worker as beat sends it (``reports.tasks.month_close_due``)
and timed until every planned email is sent; the ledger is then checked
against what the sink received. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gzip
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import org  # noqa: E402
from benchmarks.load import production_env  # noqa: E402

HOST = "127.0.0.1"
TEAMS, AGREEMENTS = 200, 1000  # at scale 1
# The load test's own Redis database: never the default 0, nor the bench's 13.
REDIS_URL = f"redis://{HOST}:6379/12"
LOCK = "slaportal:loadtest:running"
MONTH_END_TIMEOUT = 600.0  # seconds
P95_TARGET = 0.5  # seconds, every route
# Who the virtual users are, in turn: of 20, 8 leads, 3 sales managers,
# 5 readers and 4 API clients.
ROLES = ("lead", "reader", "api", "lead", "manager") * 2 + (
    "lead",
    "reader",
    "api",
    "lead",
    "reader",
    "lead",
    "manager",
    "api",
    "lead",
    "reader",
)


@dataclass
class Sample:
    route: str
    seconds: float
    ok: bool
    status: int
    at: float  # when it was sent, seconds into the load
    user: str = ""  # who sent it


@dataclass
class Person:
    """A virtual user: who it is signed in as, and what it does."""

    role: str
    username: str
    headers: dict[str, str]
    team: str = ""  # the team whose leads it logs
    agreements: list[int] = field(default_factory=list)  # scorecards it reads
    cookies: dict[str, str] = field(default_factory=dict)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise SystemExit(
            "The load test needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/slaportal make "
            "loadtest. (Gunicorn, the worker and beat are separate processes, "
            "which cannot share a SQLite database safely.)"
        )
    teams = args.teams or max(2, round(TEAMS * args.scale))
    agreements = args.agreements or max(1, round(AGREEMENTS * args.scale))
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "slaportal"
    # A database of its own: the figures it writes stay out of the bench's.
    url = org.database_url(
        teams, agreements, base=urlunsplit(parts._replace(path=f"/{name}_load"))
    )
    port, smtp_port = _free_port(), _free_port()
    redis_url = args.redis_url
    env = {
        **production_env(url),
        "SLA_LOOPBACK_WITHOUT_TLS": "true",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://{HOST}:{smtp_port}",
        "SITE_URL": f"http://{HOST}:{port}",
    }
    # The server's secret (the sessions signed here must be valid there),
    # and its broker and cache.
    for key in ("DJANGO_SECRET_KEY", "REDIS_URL", "EMAIL_URL", "SITE_URL"):
        os.environ[key] = env[key]
    org.setup_django(url)
    import redis

    lock = redis.Redis.from_url(redis_url)
    if not lock.set(LOCK, os.getpid(), nx=True, ex=int(args.seconds) + 1800):
        raise SystemExit(
            f"Another load test is running on {redis_url} (key {LOCK}); wait "
            "for it, or pass another --redis-url."
        )
    try:
        result = _run(args, env, teams, agreements, port, smtp_port)
    finally:
        lock.delete(LOCK)
    lines = report_lines(result)
    print()
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    if args.write:
        write_section(Path(args.write), argv or sys.argv[1:], lines)
        print(f"\nResults written to {args.write}")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1: 1,000 agreements.")
    parser.add_argument("--teams", type=int, help="Instead of --scale.")
    parser.add_argument("--agreements", type=int, help="Instead of --scale.")
    parser.add_argument("--objectives", type=int, default=5)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--requests", type=int, default=0, help="At most (0: any).")
    parser.add_argument(
        "--think",
        type=float,
        default=2,
        help="Seconds each user pauses before a request, on average (each "
        "pause drawn between half and one and a half times it; default 2, as "
        "a person reads a page before the next click; 0: none, every user "
        "sends its next request as soon as it has an answer, the stack at "
        "saturation).",
    )
    parser.add_argument(
        "--close-at",
        type=float,
        help="Seconds into the load to start the month end (default: half-way).",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--web-threads",
        type=int,
        default=4,
        help="Threads per gunicorn worker (1: sync workers), as the Procfile.",
    )
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="The worker's niceness (0: the web's priority), as the Procfile.",
    )
    parser.add_argument(
        "--redis-url", default=REDIS_URL, help="Its broker and cache, its own."
    )
    parser.add_argument(
        "--out", help="Write the figures, and every request's, as JSON to this file."
    )
    parser.add_argument("--write", metavar="FILE", help="Rewrite its load test part.")
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0:
        parser.error("--users and --seconds must be positive")
    if args.think < 0:
        parser.error("--think cannot be negative")
    return args


def _run(args, env: dict, teams: int, agreements: int, port: int, smtp: int) -> dict:
    from agreements.models import FrictionReport, LeadLogEntry
    from reports.models import Delivery
    from slaportal.celery import app

    org.prepare(
        teams=teams,
        agreements=agreements,
        objectives=args.objectives,
        months=args.months,
    )
    month = _month_to_close()
    people, cleanup = _people(args.users, base_headers={"Host": f"{HOST}:{port}"})
    before = {
        model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (LeadLogEntry, FrictionReport)
    }
    app.control.purge()  # what a crashed run may have left in the queue
    tmp = Path(tempfile.mkdtemp(prefix="loadtest-"))
    sink_log = tmp / "sink.jsonl"
    sink_log.write_text("")
    processes: list[subprocess.Popen] = []
    started_at = datetime.datetime.now(tz=datetime.UTC)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=org.ROOT,
            env=env,
            check=True,
        )
        _start_stack(args, env, port, smtp, sink_log, tmp, processes)
        print(
            f"Loading {teams} teams, {agreements} agreements with {args.users} "
            f"users for {args.seconds:g} s; the month end of {month:%Y-%m} "
            "half-way ...",
            flush=True,
        )
        # What else the machine is doing weighs on the figures: noted.
        load_average = os.getloadavg()[0]
        load = Load(port, people, args.seconds, args.requests, think=args.think)
        close_at = args.seconds / 2 if args.close_at is None else args.close_at
        month_end = MonthEnd(month)
        load.start()
        while load.running() and load.elapsed() < close_at:
            time.sleep(0.05)
        month_end.start(load.elapsed())
        while load.running() or not month_end.finished:
            month_end.poll(load.elapsed(), processes)
            time.sleep(0.1)
        load.join()
        time.sleep(1)  # the sink writes each message after it answers
        end = month_end.summary()
        window = None
        if end["seconds"] is not None:
            window = (end["started_at"], end["started_at"] + end["seconds"])
        summary = {
            **load.summary(window),
            "load_average": load_average,
            "month_end": {**end, **_emails_check(started_at, sink_log)},
            # Every request, for a closer look (--out).
            "samples": [dataclasses.asdict(sample) for sample in load.samples],
        }
    finally:
        for process in reversed(processes):
            org.stop(process)
        cleanup()
        _remove_rows(before)
        Delivery.objects.filter(created_at__gte=started_at).delete()
        org.reset_month(month)
        for path in tmp.iterdir():
            path.unlink()
        tmp.rmdir()
    return {
        "teams": teams,
        "agreements": agreements,
        "users": args.users,
        "think": args.think,
        "web_workers": args.web_workers,
        "web_threads": args.web_threads,
        "worker_processes": args.worker_processes,
        "worker_nice": args.worker_nice,
        **summary,
    }


def _month_to_close() -> datetime.date:
    """The latest month whose close is due, with every month before it marked
    closed as the monthly job would have left them, so that the close (and
    beat's hourly reconcile) has that month alone to do."""
    from django.utils import timezone

    from agreements import periods
    from reports.models import MonthlyRun
    from reports.notifications import schedule
    from reports.notifications.jobs import first_month

    now = timezone.now()
    first = first_month()
    if first is None:
        raise SystemExit("The organisation has no signed agreement.")
    due = schedule.months_due_for_close(first, now)
    if not due:
        raise SystemExit("No month of the organisation is due for its close yet.")
    month = due[-1]
    org.reset_month(month)
    for earlier in periods.months_between(first, periods.previous_month(month)):
        MonthlyRun.objects.update_or_create(
            month=earlier,
            defaults={"finalised_at": now, "deliveries_planned_at": now},
        )
    return month


def _people(count: int, *, base_headers: dict) -> tuple[list[Person], object]:
    """``count`` virtual users, signed in as generated people (a session each,
    or an API token); and a function that signs them out again."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session
    from django.test import Client

    from agreements.models import Agreement, Membership, Team
    from agreements.rules import signed_partner_ids
    from api.models import ApiToken
    from api.services import api_token_create

    User = get_user_model()
    rng = random.Random(1)
    executive = User.objects.get(username="generated-executive")
    members = Membership.objects.select_related("user", "team").order_by("team__slug")
    leads = [m for m in members if m.role == Membership.Role.LEAD]
    heads = [m for m in members if m.role == Membership.Role.HEAD]
    # The generator makes no managers: each sales team with a signed
    # agreement gets one, as a sales organisation has.
    sales = [
        team
        for team in Team.objects.filter(kind=Team.Kind.SALES).order_by("slug")
        if signed_partner_ids({team.pk})
    ]
    managers = []
    for team in sales:
        user, _ = User.objects.get_or_create(
            username=f"{team.slug}-manager",
            defaults={"email": f"{team.slug}-manager@generated.example"},
        )
        Membership.objects.get_or_create(
            user=user, team=team, defaults={"role": Membership.Role.MANAGER}
        )
        managers.append((user, team))
    if not (leads and heads and managers):
        raise SystemExit("The organisation needs leads, heads and a sales team.")
    every_agreement = list(Agreement.objects.signed().values_list("pk", flat=True))
    sessions, tokens = [], []
    people = []
    for n in range(count):
        role = ROLES[n % len(ROLES)]
        if role == "api":
            token, raw = api_token_create(user=executive, name=f"load test {n}")
            tokens.append(token.pk)
            auth = {"Authorization": f"Bearer {raw}"}
            people.append(Person(role, executive.username, {**base_headers, **auth}))
            continue
        team = ""
        agreements = every_agreement
        if role == "lead":
            membership = leads[rng.randrange(len(leads))]
            user, team = membership.user, membership.team.slug
        elif role == "manager":
            user, _team = managers[n % len(managers)]
        elif n % 2:  # readers: the executive, and heads reading their own
            membership = heads[rng.randrange(len(heads))]
            user = membership.user
            agreements = (
                list(
                    Agreement.objects.signed()
                    .involving(membership.team)
                    .values_list("pk", flat=True)
                )
                or every_agreement
            )
        else:
            user = executive
        client = Client()
        client.force_login(user)
        key = client.cookies["sessionid"].value
        sessions.append(key)
        person = Person(role, user.username, dict(base_headers), team, agreements)
        person.cookies["sessionid"] = key
        people.append(person)

    def cleanup() -> None:
        Session.objects.filter(session_key__in=sessions).delete()
        ApiToken.objects.filter(pk__in=tokens).delete()

    return people, cleanup


def _start_stack(args, env, port, smtp, sink_log, tmp, processes: list) -> None:
    """The sink, gunicorn, a worker and beat, each ready before the next;
    added to ``processes`` as they start, for the caller to stop."""
    from slaportal.celery import app

    python = sys.executable
    celery = [python, "-m", "celery", "--quiet", "-A", "slaportal"]
    name = f"loadtest-{uuid.uuid4().hex[:8]}@{HOST}"
    web = [
        python, "-m", "gunicorn", "slaportal.wsgi", "--workers", str(args.web_workers),
        "--threads", str(args.web_threads),
        "--bind", f"{HOST}:{port}", "--log-level", "warning",
    ]  # fmt: skip
    worker = [
        "nice", "-n", str(args.worker_nice),
        *celery, "worker", "-c", str(args.worker_processes), "-n", name,
        "--without-gossip", "--without-mingle", "-l", "WARNING",
    ]  # fmt: skip
    beat = [*celery, "beat", "--schedule", str(tmp / "beat-schedule"), "-l", "WARNING"]

    def start(command: list[str], **kwargs) -> subprocess.Popen:
        # Our own command lines.
        process = subprocess.Popen(command, cwd=org.ROOT, env=env, **kwargs)  # noqa: S603
        processes.append(process)
        return process

    sink = start([python, str(HERE / "sink.py"), str(smtp), str(sink_log)],
                 stdout=subprocess.PIPE, text=True)  # fmt: skip
    if sink.stdout is None or sink.stdout.readline().strip() != "ready":
        raise SystemExit("The SMTP sink did not start.")
    _wait_for_web(port, start(web))
    start(worker)
    for _ in range(120):
        if processes[-1].poll() is not None:
            raise SystemExit(f"The Celery worker exited ({processes[-1].returncode}).")
        if app.control.ping(destination=[name], timeout=0.5):
            break
    else:
        raise SystemExit("The Celery worker did not answer within a minute.")
    start(beat)


def _wait_for_web(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            status, _headers, _body = _send(port, "GET", "/health/live/", {})
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /health/live/ within 30 s")


# --- The load -------------------------------------------------------------


class Load:
    """The virtual users, each a thread sending one request after another,
    after a pause of about ``think`` seconds (none when 0)."""

    def __init__(
        self,
        port: int,
        people: list[Person],
        seconds: float,
        cap: int,
        *,
        think: float = 0,
    ):
        self.port, self.people, self.seconds, self.cap = port, people, seconds, cap
        self.think = think
        # Each user's pauses, drawn from its own generator: the same run twice
        # pauses alike.
        self.pauses = {id(p): random.Random(1000 + n) for n, p in enumerate(people)}
        self.samples: list[Sample] = []
        self.errors: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.sent = 0
        self.threads = [
            threading.Thread(target=self._user, args=(p, n), daemon=True)
            for n, p in enumerate(people)
        ]

    def start(self) -> None:
        self.began = time.perf_counter()
        self.deadline = self.began + self.seconds
        for thread in self.threads:
            thread.start()

    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()

    def _may_send(self) -> bool:
        if time.perf_counter() >= self.deadline:
            return False
        with self.lock:
            if self.cap and self.sent >= self.cap:
                return False
            self.sent += 1
            return True

    def _user(self, person: Person, n: int) -> None:
        rng = random.Random(n)
        steps = {
            "lead": self._log_leads,
            "manager": self._file_friction,
            "reader": self._read,
            "api": self._list_agreements,
        }
        turn = 0
        try:
            while steps[person.role](person, rng, turn):
                turn += 1
        except _Stop:
            pass

    def _request(
        self,
        person: Person,
        route: str,
        method: str,
        path: str,
        form: dict | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, dict, str]:
        """One request as ``person``; raises ``_Stop`` once the load is over."""
        if self.think:
            pause = self.pauses[id(person)].uniform(0.5, 1.5) * self.think
            time.sleep(max(0.0, min(pause, self.deadline - time.perf_counter())))
        if not self._may_send():
            raise _Stop
        headers = {**person.headers, "Accept-Encoding": "gzip"}
        if person.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in person.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{headers['Host']}"
        started = time.perf_counter()
        try:
            status, response_headers, text = _send(
                self.port, method, path, headers, body
            )
        except OSError as exc:
            status, response_headers, text = 0, {}, str(exc)
        seconds = time.perf_counter() - started
        for cookie in response_headers.get("set-cookie", []):
            for key, morsel in SimpleCookie(cookie).items():
                person.cookies[key] = morsel.value
        ok = status in expect
        with self.lock:
            at = started - self.began
            self.samples.append(Sample(route, seconds, ok, status, at, person.username))
            if not ok:
                why = f"{status} {method} {path}" + (
                    " (the form came back with errors)" if status == 200 else ""
                )
                self.errors.setdefault(route, []).append(why)
        return status, response_headers, text

    def _log_leads(self, person: Person, rng: random.Random, turn: int) -> bool:
        path = f"/figures/{person.team}/leads/new/"
        status, _h, page = self._request(person, "lead log: form", "GET", path)
        if status != 200:
            return True
        delivered = rng.randint(1, 60)
        form = {
            **form_fields(page),
            "leads_delivered": str(delivered),
            "qualified_leads": str(rng.randint(0, delivered)),
            "source": "Load test",
        }
        status, headers, _ = self._request(
            person, "lead log: save", "POST", path, form, expect=(302,)
        )
        if status == 302:
            self._request(person, "lead log: list", "GET", _location(headers))
        return True

    def _file_friction(self, person: Person, rng: random.Random, turn: int) -> bool:
        path = "/friction/new/"
        status, _h, page = self._request(person, "friction: form", "GET", path)
        if status != 200:
            return True
        fields = form_fields(page)
        form = {
            **fields,
            "customer": f"Customer {rng.randint(1, 500)}",
            "category": rng.choice(form_choices(page, "category")),
            "description": "Onboarding calls are booked two weeks out.",
            "tags": "load test",
        }
        if not form.get("addressed_team"):
            form["addressed_team"] = form_choices(page, "addressed_team")[0]
        status, headers, _ = self._request(
            person, "friction: file", "POST", path, form, expect=(302,)
        )
        if status == 302:
            self._request(person, "friction: report", "GET", _location(headers))
        return True

    def _read(self, person: Person, rng: random.Random, turn: int) -> bool:
        if turn % 2 == 0:
            self._request(person, "dashboard", "GET", "/reports/dashboard/")
        else:
            pk = rng.choice(person.agreements)
            self._request(person, "scorecard", "GET", f"/reports/agreements/{pk}/")
        return True

    def _list_agreements(self, person: Person, rng: random.Random, turn: int) -> bool:
        self._request(person, "api: agreements", "GET", "/api/v1/agreements/")
        return True

    def summary(self, month_end: tuple[float, float] | None = None) -> dict:
        """Per route, over the time from the first request sent to the last
        answered; and the whole load inside and outside ``month_end`` (its
        start and end, seconds into the load)."""
        seconds = max(s.at + s.seconds for s in self.samples)
        routes = {}
        for route in sorted({s.route for s in self.samples}):
            mine = [s for s in self.samples if s.route == route]
            times = sorted(s.seconds for s in mine)
            routes[route] = {
                "requests": len(mine),
                "rate": len(mine) / seconds,
                "p50": statistics.median(times),
                "p95": percentile(times, 95),
                "p99": percentile(times, 99),
                "errors": sum(1 for s in mine if not s.ok),
                "examples": self.errors.get(route, [])[:3],
            }
        periods = {}
        if month_end is not None:
            start, end = month_end[0], min(month_end[1], seconds)
            inside = [s for s in self.samples if start <= s.at < end]
            outside = [s for s in self.samples if not start <= s.at < end]
            for name, mine, lasted in (
                ("during the month end", inside, end - start),
                ("outside it", outside, seconds - (end - start)),
            ):
                times = sorted(s.seconds for s in mine)
                periods[name] = {
                    "requests": len(mine),
                    "rate": len(mine) / lasted if lasted > 0 else 0.0,
                    "p50": statistics.median(times) if times else 0.0,
                    "p95": percentile(times, 95),
                }
        return {
            "seconds": seconds,
            "requests": len(self.samples),
            "rate": len(self.samples) / seconds,
            "errors": sum(1 for s in self.samples if not s.ok),
            "routes": routes,
            "periods": periods,
        }


class _Stop(Exception):
    """The load is over (its time or its requests)."""


def _send(
    port: int, method: str, path: str, headers: dict, body: str | None = None
) -> tuple[int, dict[str, list[str]], str]:
    """One request over a fresh connection (gunicorn's sync workers close
    each one): the status, the headers (lower-case names) and the text."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        received: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            received.setdefault(key.lower(), []).append(value)
        if received.get("content-encoding") == ["gzip"]:
            data = gzip.decompress(data)
        return response.status, received, data.decode("utf-8", "replace")
    finally:
        conn.close()


def _location(headers: dict[str, list[str]]) -> str:
    target = urlsplit(headers.get("location", ["/"])[0])
    return target.path + (f"?{target.query}" if target.query else "")


class _FormReader(HTMLParser):
    """The fields of a page's form, as a browser would send them untouched,
    and the options of its selects."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self.in_form = False
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            # The page's own form: it posts back to the page (the log-out
            # button in the menu is a form with an action elsewhere).
            self.in_form = not self.fields and not a.get("action")
        elif not self.in_form:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio", "submit") or "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a.get("name")
            self.options[self.select or ""] = []
        elif tag == "option" and self.select is not None:
            if a.get("value"):
                self.options[self.select].append(a["value"])
            if "selected" in a:
                self.fields[self.select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.fields[self.textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # As a browser reads it: without the newline after the tag.
            text = self.fields[self.textarea]
            self.fields[self.textarea] = text[1:] if text[:1] == "\n" else text
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.fields[self.textarea] += data


def _read_form(page: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(page)
    return reader


def form_fields(page: str) -> dict[str, str]:
    return _read_form(page).fields


def form_choices(page: str, name: str) -> list[str]:
    return _read_form(page).options.get(name, [])


# --- The month end --------------------------------------------------------


class MonthEnd:
    """The close as beat sends it, timed until its last planned email is
    sent (or failed, or skipped)."""

    def __init__(self, month: datetime.date) -> None:
        self.month = month
        self.finished = False
        self.planned_after: float | None = None
        self.done_after: float | None = None

    def start(self, at: float) -> None:
        from reports.notifications.tasks import month_close_due

        self.started = at
        month_close_due.apply_async()

    def poll(self, now: float, processes: list[subprocess.Popen]) -> None:
        from reports.models import Delivery, MonthlyRun
        from reports.notifications.jobs import MONTH_END_KINDS

        if self.finished:
            return
        for process in processes:
            if process.poll() is not None:
                command = " ".join(map(str, process.args[1:5]))
                raise SystemExit(f"{command} ... exited ({process.returncode}).")
        if now - self.started > MONTH_END_TIMEOUT:
            raise SystemExit("The month end did not finish in 10 minutes.")
        if self.planned_after is None:
            run = MonthlyRun.objects.filter(month=self.month).first()
            if run is None or run.deliveries_planned_at is None:
                return
            self.planned_after = now - self.started
        pending = Delivery.objects.filter(month=self.month, kind__in=MONTH_END_KINDS)
        if not pending.filter(
            status__in=(Delivery.Status.PENDING, Delivery.Status.SENDING)
        ).exists():
            self.done_after = now - self.started
            self.finished = True

    def summary(self) -> dict:
        from reports.models import Delivery
        from reports.notifications.jobs import MONTH_END_KINDS

        rows = Delivery.objects.filter(month=self.month, kind__in=MONTH_END_KINDS)
        return {
            "month": f"{self.month:%Y-%m}",
            "started_at": self.started,
            "close_seconds": self.planned_after,
            "seconds": self.done_after,
            "planned": rows.count(),
            **{
                status: rows.filter(status=status).count()
                for status in ("sent", "failed", "skipped")
            },
        }


def _emails_check(since: datetime.datetime, sink_log: Path) -> dict:
    """Every email the ledger marked sent during the run against what the
    sink received: lost, duplicated, or received without a ledger row."""
    from reports.models import Delivery

    ledger = set(
        Delivery.objects.filter(
            status=Delivery.Status.SENT, sent_at__gte=since
        ).values_list("email", "message_id")
    )
    received = [
        (record["rcpt"], record["id"])
        for record in map(json.loads, sink_log.read_text().splitlines())
    ]
    distinct = set(received)
    return {
        "ledger_sent": len(ledger),
        "received": len(received),
        "distinct": len(distinct),
        "lost": len(ledger - distinct),
        "duplicated": len(received) - len(distinct),
        "unknown": len(distinct - ledger),
    }


def _remove_rows(before: dict) -> None:
    """Take away the lead logs and friction reports the run added, with
    their history, so that every run starts from the same organisation."""
    for model, last in before.items():
        model.objects.filter(pk__gt=last).delete()
        model.history.filter(id__gt=last).delete()


# --- The report -----------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report_lines(result: dict) -> list[str]:
    end = result["month_end"]
    out = [
        f"{result['users']} users"
        + (
            f" pausing {result['think']:g} s on average before each request"
            if result.get("think")
            else ""
        )
        + f", {result['web_workers']} gunicorn workers"
        + (
            f" of {result['web_threads']} threads"
            if result.get("web_threads", 1) > 1
            else ""
        )
        + ", a "
        f"worker of {result['worker_processes']} processes"
        + (f" at niceness {result['worker_nice']}" if result.get("worker_nice") else "")
        + ", beat and an SMTP sink; "
        f"{result['teams']} teams, {result['agreements']:,} agreements; "
        f"{result['requests']:,} requests in {result['seconds']:.1f} s, "
        f"**{result['rate']:.1f} requests/s**, {result['errors']} errors "
        f"(the machine's load average before it: {result['load_average']:.1f}).",
        "",
        "| route | requests | per s | p50 | p95 | p99 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for route, r in result["routes"].items():
        out.append(
            f"| {route} | {r['requests']:,} | {r['rate']:.1f} | {_ms(r['p50'])} | "
            f"{_ms(r['p95'])} | {_ms(r['p99'])} | {r['errors']} |"
        )
    if result["periods"]:
        out.append("")
        out += [
            f"{name.capitalize()}: {p['requests']:,} requests, {p['rate']:.1f}/s, "
            f"p50 {_ms(p['p50'])}, p95 {_ms(p['p95'])}."
            for name, p in result["periods"].items()
        ]
    examples = [e for r in result["routes"].values() for e in r["examples"]]
    if examples:
        out += ["", "Errors, for example: " + "; ".join(examples[:5]) + "."]
    seconds = end["seconds"]
    over = seconds is not None and end["started_at"] + seconds > result["seconds"]
    out += [
        "",
        f"Month end of {end['month']}, started {end['started_at']:.1f} s in: "
        + (
            f"scorecards finalised and {end['planned']:,} emails planned in "
            f"{end['close_seconds']:.1f} s, all sent, failed or skipped in "
            f"**{seconds:.1f} s**"
            + (" (finishing after the load had ended)" if over else "")
            if seconds is not None
            else "**not finished**"
        )
        + f"; {end['sent']:,} sent, {end['failed']} failed, {end['skipped']} "
        "skipped.",
        f"Emails during the run: ledger {end['ledger_sent']:,} sent, sink "
        f"{end['received']:,} received ({end['distinct']:,} distinct): "
        f"{end['lost']} lost, {end['duplicated']} duplicated, {end['unknown']} "
        "not in the ledger.",
        "",
        "| target | result | met? |",
        "|---|---|---|",
        f"| 0 errors | {result['errors']} | {_met(result['errors'] == 0)} |",
        f"| 0 emails lost or duplicated | {end['lost']} lost, {end['duplicated']} "
        f"duplicated of {end['ledger_sent']:,} | "
        f"{_met(end['lost'] == end['duplicated'] == end['unknown'] == 0)} |",
    ]
    for route, r in result["routes"].items():
        out.append(
            f"| p95 of {route} < {_ms(P95_TARGET)} | {_ms(r['p95'])} | "
            f"{_met(r['p95'] < P95_TARGET)} |"
        )
    return out


START = "<!-- load test: written by make loadtest --write; do not edit below -->"
END = "<!-- end of the load test's results -->"


def write_section(path: Path, argv: list[str], body: list[str]) -> None:
    """Replace the text between the load test's markers of ``path`` (added
    before its "## Results" when missing)."""
    text = path.read_text(encoding="utf-8")
    command = (
        f'DATABASE_URL=postgres://... make loadtest LOADTEST_ARGS="{" ".join(argv)}"'
    )
    machine = (
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, PostgreSQL, {time.strftime('%Y-%m-%d')}"
    )
    section = (
        f"{START}\n\n`{command}`\n\n{machine}\n\n" + "\n".join(body) + f"\n\n{END}"
    )
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        head, marker, tail = text.partition("\n## Results\n")
        text = f"{head.rstrip()}\n\n{section}\n\n{marker.lstrip()}{tail}"
    path.write_text(text, encoding="utf-8")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
